import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.roles import Role
from catalog.models import ImportJob, ImportState, Lot, Medicine
from catalog.tests.factories import MedicineFactory, receive
from catalog.tests.import_helpers import csv_bytes, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_day")]

HEADER = ["sku", "barcode", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"]


def upload(client, kind: str, data: bytes, name: str = "delivery.csv"):
    return client.post(
        reverse("admin:catalog_importjob_upload"), {"kind": kind, "import_file": SimpleUploadedFile(name, data)}
    )


def test_inventory_staff_upload_preview_and_confirm_a_receipt(staff_client):
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")

    response = upload(
        client, "receipt", csv_bytes([HEADER, ["PARA-1", "", "L1", "03/2027", "12", "12 500,50", "Grand"]])
    )

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:catalog_importjob_preview", args=[job.pk]
    )
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Apply the import" in page.content.decode()
    assert not Lot.objects.exists()

    response = client.post(reverse("admin:catalog_importjob_confirm", args=[job.pk]))

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == ImportState.DONE and job.applied_by == client.user
    assert Lot.objects.get().quantity == 12


def test_the_preview_shows_each_error_with_its_line_and_column(staff_client):
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")
    upload(client, "receipt", csv_bytes([HEADER, ["PARA-1", "", "L1", "2020-01-01", "-3", "1", ""]]))

    job = ImportJob.objects.get()
    page = client.get(reverse("admin:catalog_importjob_preview", args=[job.pk])).content.decode()

    assert job.state == ImportState.INVALID
    assert "expiry_date" in page and "expires on 2020-01-01" in page
    assert "greater than zero" in page
    assert "Apply the import" not in page


def test_the_preview_survives_a_request_landing_on_another_worker(staff_client, login_staff, make_staff):
    """The dry run's state lives in the database and the shared storage, not in one process's memory or temp dir."""
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")
    upload(client, "receipt", csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]]))
    job = ImportJob.objects.get()

    colleague = make_staff(Role.INVENTORY)
    other_worker = login_staff(colleague, Client())
    response = other_worker.post(reverse("admin:catalog_importjob_confirm", args=[job.pk]))

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == ImportState.DONE and job.applied_by == colleague
    assert Lot.objects.get().quantity == 5


@pytest.mark.parametrize(
    "url_name, args",
    [
        ("admin:catalog_importjob_upload", []),
        ("admin:catalog_importjob_template", ["receipt", "xlsx"]),
        ("admin:catalog_importjob_export", []),
        ("admin:catalog_importjob_export_file", ["lots", "csv"]),
    ],
)
def test_an_operator_may_neither_import_nor_export(staff_client, url_name, args):
    client = staff_client(Role.OPERATOR)
    assert client.get(reverse(url_name, args=args)).status_code == 403


def test_an_operator_cannot_confirm_an_import(staff_client, make_staff):
    from catalog.imports.engine import import_job_check, import_job_create

    MedicineFactory(sku="PARA-1")
    job = import_job_create(
        kind="receipt",
        filename="a.csv",
        user=make_staff(Role.INVENTORY),
        data=csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]]),
    )
    import_job_check(job_id=job.pk)
    client = staff_client(Role.OPERATOR)
    before = snapshot()

    assert client.post(reverse("admin:catalog_importjob_confirm", args=[job.pk])).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["receipt", "pricelist", "stocktake"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_templates_download_with_example_rows(staff_client, kind, file_format):
    client = staff_client(Role.ADMIN)
    response = client.get(reverse("admin:catalog_importjob_template", args=[kind, file_format]))
    assert response.status_code == 200
    if file_format == "xlsx":
        workbook = openpyxl.load_workbook(io.BytesIO(response.content))
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        assert len(rows) == 3 and "sku" in rows[0]
        assert len(workbook.worksheets) == 2  # the column guide
    else:
        assert response.content.startswith(b"\xef\xbb\xbf") and b"sku" in response.content


def test_exports_neutralise_spreadsheet_formulas(staff_client):
    client = staff_client(Role.INVENTORY)
    medicine = MedicineFactory(sku="PARA-1")
    receive(medicine, 3, lot_number='=HYPERLINK("http://x")')
    Lot.objects.update(supplier="@SUM(A1)")

    csv_text = b"".join(
        client.get(reverse("admin:catalog_importjob_export_file", args=["lots", "csv"])).streaming_content
    ).decode("utf-8-sig")
    xlsx = client.get(reverse("admin:catalog_importjob_export_file", args=["lots", "xlsx"])).content
    cells = [
        c for row in openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets[0].iter_rows(values_only=True) for c in row
    ]

    assert "'=HYPERLINK" in csv_text and "'@SUM(A1)" in csv_text
    assert '\'=HYPERLINK("http://x")' in cells and "'@SUM(A1)" in cells
    assert not any(isinstance(c, str) and c.startswith(("=", "@", "+", "-")) for c in cells)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_every_formula_prefix_gets_an_apostrophe(value):
    from catalog.exports import neutralise

    assert neutralise(value) == "'" + value
    assert neutralise(-1) == -1


@pytest.mark.parametrize("dataset", ["medicines", "lots", "stock", "expiry"])
def test_every_export_downloads_in_both_formats(staff_client, dataset):
    client = staff_client(Role.INVENTORY)
    receive(MedicineFactory(), 2, expires_in_days=30)
    for file_format in ("csv", "xlsx"):
        response = client.get(reverse("admin:catalog_importjob_export_file", args=[dataset, file_format]))
        assert response.status_code == 200


def test_the_import_log_lists_who_when_and_counts(staff_client, django_assert_max_num_queries):
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")
    for n in range(3):
        upload(
            client,
            "receipt",
            csv_bytes([HEADER, ["PARA-1", "", f"L{n}", "2027-03-31", "5", "1", ""]]),
            name=f"d{n}.csv",
        )

    with django_assert_max_num_queries(15):
        response = client.get(reverse("admin:catalog_importjob_changelist"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "d2.csv" in page and str(client.user.phone)[-4:] in page.replace(" ", "")


def test_the_status_endpoint_reports_progress_as_json(staff_client):
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")
    upload(client, "receipt", csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]]))
    job = ImportJob.objects.get()

    data = client.get(reverse("admin:catalog_importjob_status", args=[job.pk])).json()

    assert data["state"] == "ready" and data["progress"] == 100 and data["finished"] is True
    assert data["counts"]["new"] == 1


@pytest.mark.parametrize("model, kind, dataset", [("lot", "receipt", "lots"), ("medicine", "pricelist", "medicines")])
def test_lot_and_medicine_lists_lead_to_import_and_export(staff_client, model, kind, dataset):
    client = staff_client(Role.ADMIN)
    page = client.get(reverse(f"admin:catalog_{model}_changelist")).content.decode()
    assert reverse(f"admin:catalog_{model}_import_data") in page
    assert reverse(f"admin:catalog_{model}_export_data") in page

    response = client.get(reverse(f"admin:catalog_{model}_import_data"))
    assert response["Location"] == f"{reverse('admin:catalog_importjob_upload')}?kind={kind}"
    response = client.get(reverse(f"admin:catalog_{model}_export_data"))
    assert response["Location"] == f"{reverse('admin:catalog_importjob_export')}?dataset={dataset}"


@pytest.mark.parametrize("model", ["lot", "medicine"])
def test_an_operator_sees_no_import_or_export_button(staff_client, model):
    client = staff_client(Role.OPERATOR)
    page = client.get(reverse(f"admin:catalog_{model}_changelist")).content.decode()
    assert reverse(f"admin:catalog_{model}_import_data") not in page
    assert client.get(reverse(f"admin:catalog_{model}_import_data")).status_code == 403


def test_a_large_file_goes_through_the_task_and_still_works_in_eager_mode(staff_client, settings):
    settings.IMPORT_ASYNC_ROWS = 1
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")
    rows = [["PARA-1", "", f"L{n}", "2027-03-31", "5", "1", ""] for n in range(3)]
    upload(client, "receipt", csv_bytes([HEADER, *rows]))
    job = ImportJob.objects.get()
    assert job.state == ImportState.READY and job.task_id

    client.post(reverse("admin:catalog_importjob_confirm", args=[job.pk]))

    job.refresh_from_db()
    assert job.state == ImportState.DONE
    assert Lot.objects.count() == 3


def test_a_running_import_shows_a_progress_bar_that_polls_the_status(staff_client):
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")
    upload(client, "receipt", csv_bytes([HEADER, ["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]]))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.APPLYING, progress=40)

    page = client.get(reverse("admin:catalog_importjob_preview", args=[job.pk])).content.decode()

    assert reverse("admin:catalog_importjob_status", args=[job.pk]) in page
    assert "width: 40%" in page
    assert client.get(reverse("admin:catalog_importjob_status", args=[job.pk])).json()["finished"] is False


@pytest.fixture
def broker_down():
    """Tasks are sent for real, to a broker on a closed port."""
    from backoffice import celery_app

    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = "redis://127.0.0.1:1/0", False
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    yield
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_a_large_import_whose_task_cannot_be_queued_is_refused_and_can_be_retried(staff_client, settings, broker_down):
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")
    rows = [["PARA-1", "", f"L{n}", "2027-03-31", "5", "1", ""] for n in range(3)]
    upload(client, "receipt", csv_bytes([HEADER, *rows]))  # checked in the request: under the threshold
    job = ImportJob.objects.get()
    assert job.state == ImportState.READY
    settings.IMPORT_ASYNC_ROWS = 1

    response = client.post(reverse("admin:catalog_importjob_confirm", args=[job.pk]), follow=True)

    job.refresh_from_db()
    assert job.state == ImportState.READY and job.applied_by is None  # the claim is released
    assert "task queue cannot be reached" in response.content.decode()
    assert not Lot.objects.exists()


def test_a_large_upload_whose_check_cannot_be_queued_says_so_and_ends(staff_client, settings, broker_down):
    settings.IMPORT_ASYNC_ROWS = 1
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")
    rows = [["PARA-1", "", f"L{n}", "2027-03-31", "5", "1", ""] for n in range(3)]

    response = upload(client, "receipt", csv_bytes([HEADER, *rows]))

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.state == ImportState.FAILED and "task queue cannot be reached" in job.message
    page = client.get(response["Location"]).content.decode()
    assert "task queue cannot be reached" in page
    assert reverse("admin:catalog_importjob_status", args=[job.pk]) not in page  # no progress bar left polling


def test_the_preview_names_the_medicine_each_code_matched(staff_client):
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1", name="Paracetamol 500 mg No. 20")
    MedicineFactory(sku="IBU-1", barcode="4780000000024", name="Ibuprofen 200 mg No. 10")

    upload(
        client,
        "receipt",
        csv_bytes(
            [
                HEADER,
                ["PARA-1", "", "L1", "03/2027", "12", "12500", ""],
                ["", "4780000000024", "L2", "03/2027", "5", "9000", ""],
            ]
        ),
    )

    job = ImportJob.objects.get()
    assert [row["values"][:2] for row in job.preview["rows"]] == [
        ["PARA-1", "Paracetamol 500 mg No. 20"],
        ["4780000000024", "Ibuprofen 200 mg No. 10"],
    ]
    page = client.get(reverse("admin:catalog_importjob_preview", args=[job.pk])).content.decode()
    assert "Ibuprofen 200 mg No. 10" in page and "medicine" in page
    assert "31.03.2027" in page and "12\u00a0500\u00a0so" in page


def template_file(client, kind: str, file_format: str) -> bytes:
    response = client.get(reverse("admin:catalog_importjob_template", args=[kind, file_format]))
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize("kind", ["receipt", "pricelist", "stocktake"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_template_uploaded_as_downloaded_is_checked_without_errors_and_writes_nothing(
    staff_client, kind, file_format
):
    client = staff_client(Role.ADMIN)
    receive(MedicineFactory(), 5)  # a place with stock, and a catalogue the examples are not part of
    before = snapshot()

    upload(client, kind, template_file(client, kind, file_format), name=f"template.{file_format}")

    job = ImportJob.objects.get()
    assert job.state == ImportState.READY, (job.errors, job.message)
    assert [row["status"] for row in job.preview["rows"]] == ["example", "example"]
    page = client.get(reverse("admin:catalog_importjob_preview", args=[job.pk])).content.decode()
    assert "template example, skipped" in page
    client.post(reverse("admin:catalog_importjob_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportState.DONE, (job.errors, job.message)
    assert snapshot() == before


def test_rows_added_below_the_templates_examples_are_imported_and_the_examples_are_not(staff_client):
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1")
    template = template_file(client, "receipt", "csv").decode("utf-8-sig").rstrip("\r\n")
    header = template.splitlines()[0].split(",")
    own_row = dict.fromkeys(header, "") | {"sku": "PARA-1", "lot_number": "L1", "expiry_date": "03/2027"}
    own_row |= {"quantity": "12", "purchase_price": "8400"}
    data = (template + "\r\n" + ",".join(own_row[name] for name in header) + "\r\n").encode()

    upload(client, "receipt", data)

    job = ImportJob.objects.get()
    assert job.state == ImportState.READY, job.errors
    assert [row["status"] for row in job.preview["rows"]] == ["example", "example", "new"]
    client.post(reverse("admin:catalog_importjob_confirm", args=[job.pk]))
    assert [(lot.medicine.sku, lot.lot_number, lot.quantity) for lot in Lot.objects.all()] == [("PARA-1", "L1", 12)]


def test_the_preview_names_its_columns_and_results_in_the_readers_language(staff_client):
    client = staff_client(Role.INVENTORY)
    MedicineFactory(sku="PARA-1", name="Paracetamol 500 mg No. 20")
    upload(client, "receipt", csv_bytes([HEADER, ["PARA-1", "", "L1", "03/2027", "12", "12500", ""]]))
    client.cookies["django_language"] = "ru"

    page = client.get(reverse("admin:catalog_importjob_preview", args=[ImportJob.objects.get().pk])).content.decode()

    assert "препарат" in page and "серия" in page and "новая" in page
    assert "lot_number" not in page and not re.search(r">\s*new\s*<", page)


def test_a_price_list_preview_names_the_changed_fields_as_the_medicine_page_does():
    from catalog.admin.imports import preview_changes

    with translation.override("ru"):
        shown = preview_changes("price, category_id, substances")
        names = [str(Medicine._meta.get_field(name).verbose_name) for name in ("price", "category", "substances")]

    assert shown == ", ".join(names)
    assert "price" not in shown and "category_id" not in shown


def test_import_errors_are_read_in_the_readers_language_not_the_uploaders(staff_client, make_staff, login_staff):
    clerk = staff_client(Role.INVENTORY)
    clerk.cookies["django_language"] = "uz"
    MedicineFactory(sku="PARA-1")
    upload(
        clerk,
        "receipt",
        csv_bytes(
            [
                HEADER,
                ["NOPE-1", "", "L1", "03/2027", "12", "12500", ""],
                ["PARA-1", "", "L2", "2020-01-01", "", "1", ""],
            ]
        ),
    )
    job = ImportJob.objects.get()
    assert job.state == ImportState.INVALID
    colleague = login_staff(make_staff(Role.INVENTORY), Client())
    colleague.cookies["django_language"] = "ru"

    page = colleague.get(reverse("admin:catalog_importjob_preview", args=[job.pk])).content.decode()

    assert "Неизвестный SKU «NOPE-1»." in page  # a cell the file got wrong
    assert "Ячейка пуста." in page  # a parser's message
    assert "просроченный" in page  # a stock rule's refusal, with its lot and date
    assert "Nomaʼlum SKU" not in page
    clerk_page = clerk.get(reverse("admin:catalog_importjob_preview", args=[job.pk])).content.decode()
    assert "Nomaʼlum SKU: “NOPE-1”." in clerk_page
