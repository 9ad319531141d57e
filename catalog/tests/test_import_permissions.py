"""Each import kind needs the permission of what it changes: a price list changes medicines, a stocktake
adjusts stock, a receipt adds lots. Refused before anything is stored, at every step of the flow."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role
from catalog.imports.engine import import_job_apply, import_job_check, import_job_confirm, import_job_create
from catalog.imports.permissions import ImportForbidden, import_kinds_allowed
from catalog.models import ImportJob, ImportState, Medicine
from catalog.tests.factories import MedicineFactory, receive
from catalog.tests.import_helpers import csv_bytes, snapshot

pytestmark = pytest.mark.django_db

FILES = {
    "pricelist": lambda: csv_bytes([["sku", "price", "is_prescription"], ["PARA-1", "1", "no"]]),
    "receipt": lambda: csv_bytes(
        [
            ["sku", "lot_number", "expiry_date", "quantity", "purchase_price"],
            ["PARA-1", "NEW-1", "2027-03-31", "5", "1"],
        ]
    ),
    "stocktake": lambda: csv_bytes([["sku", "lot_number", "counted_quantity"], ["PARA-1", "L-1", "1"]]),
}
# What accounts/roles.py grants: who may run which import.
ALLOWED = {
    Role.ADMIN: {"receipt", "pricelist", "stocktake"},
    Role.PHARMACIST: {"pricelist"},
    Role.INVENTORY: {"receipt", "stocktake"},
    Role.OPERATOR: set(),
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def paracetamol(db):
    medicine = MedicineFactory(sku="PARA-1", price=Decimal("55000"), is_prescription=True)
    receive(medicine, 10, lot_number="L-1")
    return medicine


def upload(client, kind: str):
    return client.post(
        reverse("admin:catalog_importjob_upload"),
        {"kind": kind, "import_file": SimpleUploadedFile("f.csv", FILES[kind]())},
    )


def test_inventory_staff_cannot_change_prices_with_a_price_list_and_nothing_is_stored(staff_client, paracetamol):
    client = staff_client(Role.INVENTORY)
    before = snapshot()

    response = upload(client, "pricelist")

    assert response.status_code == 200
    assert "Your role may not run this import" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert snapshot() == before
    paracetamol.refresh_from_db()
    assert (paracetamol.price, paracetamol.is_prescription) == (Decimal("55000"), True)


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("kind", list(FILES))
def test_an_upload_is_accepted_exactly_when_the_role_may_change_what_the_import_writes(
    staff_client, paracetamol, role, kind
):
    client = staff_client(role)

    response = upload(client, kind)

    if kind in ALLOWED[role]:
        job = ImportJob.objects.get()
        assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/preview/")
    else:
        assert response.status_code in (200, 403)
        assert not ImportJob.objects.exists()


@pytest.mark.parametrize("role", list(ALLOWED))
def test_the_upload_page_templates_and_buttons_offer_only_the_kinds_the_role_may_run(staff_client, role):
    client = staff_client(role)
    allowed = ALLOWED[role]

    page = client.get(reverse("admin:catalog_importjob_upload"))
    templates = {kind: client.get(reverse("admin:catalog_importjob_template", args=[kind, "csv"])).status_code
                 for kind in FILES}  # fmt: skip
    medicines = client.get(reverse("admin:catalog_medicine_changelist")).content.decode()
    lots = client.get(reverse("admin:catalog_lot_changelist")).content.decode()

    if not allowed:
        assert page.status_code == 403
    else:
        assert page.status_code == 200
        offered = {value for value, _label in page.context["form"].fields["kind"].widget.choices}
        assert offered == allowed
    assert {kind for kind, status in templates.items() if status == 200} == allowed
    assert (reverse("admin:catalog_medicine_import_data") in medicines) == ("pricelist" in allowed)
    assert (reverse("admin:catalog_lot_import_data") in lots) == ("receipt" in allowed)


def test_the_inventory_dashboard_offers_only_the_imports_inventory_staff_may_run(staff_client):
    client = staff_client(Role.INVENTORY)

    shortcuts = client.get(reverse("admin:index")).context["shortcuts"]

    assert {shortcut["kind"] for shortcut in shortcuts} == {"receipt", "stocktake"}


def test_a_price_list_checked_by_a_pharmacist_cannot_be_confirmed_by_inventory_staff(
    staff_client, make_staff, paracetamol
):
    pharmacist = make_staff(Role.PHARMACIST)
    job = import_job_create(kind="pricelist", filename="p.csv", data=FILES["pricelist"](), user=pharmacist)
    job = import_job_check(job_id=job.pk)
    assert job.state == ImportState.READY
    client = staff_client(Role.INVENTORY)

    response = client.post(reverse("admin:catalog_importjob_confirm", args=[job.pk]))

    assert response.status_code == 403
    job.refresh_from_db()
    assert job.state == ImportState.READY
    assert Medicine.objects.get(pk=paracetamol.pk).price == Decimal("55000")


def test_the_import_services_refuse_a_user_without_the_permission_before_storing_anything(make_staff, paracetamol):
    inventory = make_staff(Role.INVENTORY)

    with pytest.raises(ImportForbidden):
        import_job_create(kind="pricelist", filename="p.csv", data=FILES["pricelist"](), user=inventory)

    assert not ImportJob.objects.exists()


def test_a_confirmation_by_a_user_without_the_permission_is_refused_by_the_service(make_staff, paracetamol):
    job = import_job_create(kind="pricelist", filename="p.csv", data=FILES["pricelist"](), user=make_staff(Role.ADMIN))
    job = import_job_check(job_id=job.pk)

    with pytest.raises(ImportForbidden):
        import_job_confirm(job=job, user=make_staff(Role.INVENTORY))

    job.refresh_from_db()
    assert job.state == ImportState.READY


def test_the_worker_does_not_apply_a_job_whose_confirmer_may_not_run_it(make_staff, paracetamol):
    """A job claimed for applying (by a confirmation that lost its permission since) is not applied by the task."""
    job = import_job_create(kind="pricelist", filename="p.csv", data=FILES["pricelist"](), user=make_staff(Role.ADMIN))
    import_job_check(job_id=job.pk)
    ImportJob.objects.filter(pk=job.pk).update(state=ImportState.APPLYING, applied_by=make_staff(Role.INVENTORY))
    before = snapshot()

    job = import_job_apply(job_id=job.pk)

    assert job.state == ImportState.FAILED
    assert "may not run this import" in job.message
    assert snapshot() == before


@pytest.mark.parametrize("role", list(ALLOWED))
def test_the_kinds_a_user_may_run_follow_the_role_table(make_staff, role):
    assert set(import_kinds_allowed(make_staff(role))) == ALLOWED[role]
