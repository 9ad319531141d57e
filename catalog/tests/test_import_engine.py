"""The import flow when something goes wrong: a cell nobody can read, an error nobody expected."""

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role
from catalog.imports.engine import (
    import_job_check,
    import_job_confirm,
    import_job_create,
    import_job_start_check,
)
from catalog.models import ImportJob, ImportState
from catalog.tests.factories import MedicineFactory
from catalog.tests.import_helpers import as_read, csv_bytes, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_day")]

HEADER = ["sku", "barcode", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"]


def _job(user, rows):
    return import_job_create(
        kind="receipt", filename="a.csv", data=csv_bytes([HEADER, *rows]), user=user, language="en"
    )


def test_a_month_of_year_zero_uploaded_in_the_admin_is_a_cell_error_not_a_server_error(staff_client):
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")
    data = csv_bytes([HEADER, ["PARA-1", "", "L1", "01/0000", "5", "1", ""]])

    response = client.post(
        reverse("admin:catalog_importjob_upload"),
        {"kind": "receipt", "import_file": SimpleUploadedFile("delivery.csv", data)},
    )

    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == ImportState.INVALID and job.progress == 100
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, "expiry_date")]
    assert "01/0000" in job.errors[0]["message"]
    assert client.get(response["Location"]).status_code == 200


def test_an_unexpected_error_during_the_check_ends_the_job_as_failed_with_a_generic_message(inventory_user, caplog):
    MedicineFactory(sku="PARA-1")
    job = _job(inventory_user, [["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]])
    # The stored upload vanishes (a storage lifecycle rule, an operator): reading it raises.
    job.file.storage.delete(job.file.name)

    with caplog.at_level(logging.ERROR, logger="catalog.imports.engine"):
        job = import_job_start_check(job=job)

    job.refresh_from_db()
    assert job.state == ImportState.FAILED and job.progress == 100
    assert "unexpected error" in job.message and "nothing was written" in job.message
    assert job.file.name not in job.message  # nothing of the internals reaches the user
    assert any(record.exc_info for record in caplog.records), "the traceback is logged for engineers"


def test_an_unexpected_error_while_applying_fails_the_job_with_a_generic_message(inventory_user, caplog):
    MedicineFactory(sku="PARA-1")
    job = import_job_check(job_id=_job(inventory_user, [["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]]).pk)
    assert job.state == ImportState.READY
    job.file.storage.delete(job.file.name)
    before = snapshot()

    with caplog.at_level(logging.ERROR, logger="catalog.imports.engine"):
        job = import_job_confirm(job=job, user=inventory_user)

    job.refresh_from_db()
    assert job.state == ImportState.FAILED
    assert "unexpected error" in job.message and "nothing was written" in job.message
    assert "No such file" not in job.message and job.file.name not in job.message
    assert any(record.exc_info for record in caplog.records)
    assert snapshot() == before


def test_any_error_a_parser_lets_through_is_the_error_of_that_cell(inventory_user):
    from catalog.imports.base import Plan
    from catalog.imports.parsing import Table
    from catalog.imports.receipt import ReceiptImporter

    def overflowing(value):
        raise OverflowError("date value out of range")

    importer = ReceiptImporter(Table(header=HEADER, rows=[]))
    plan = Plan(total=1)

    value = importer.parse_cell(plan, 7, ["PARA-1", "", "L1", "99999-01-01"], "expiry_date", overflowing)

    assert value is None
    assert as_read(plan.errors) == [
        {"line": 7, "column": "expiry_date", "message": "“99999-01-01” cannot be read in this column."}
    ]
