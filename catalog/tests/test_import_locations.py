"""Receipts and stocktakes at a place: the job's location, a row's own location, who may act there, packs and parts."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import Role
from catalog.imports.engine import import_job_check, import_job_confirm, import_job_create
from catalog.ledger import all_problems
from catalog.models import ImportJob, ImportState, Lot, LotStock, MedicineStock, MovementKind, StockMovement
from catalog.stock import stock_adjust, stock_dispense
from catalog.tests.factories import LocationFactory, MedicineFactory, main_location, receive
from catalog.tests.import_helpers import as_read, csv_bytes, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_day")]

RECEIPT = ["sku", "barcode", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"]
STOCKTAKE = ["sku", "lot_number", "counted_quantity"]


@pytest.fixture
def branches():
    """Two branches besides the main pharmacy."""
    main_location()
    return LocationFactory(code="chilonzor", name="Chilonzor pharmacy"), LocationFactory(
        code="yunusobod", name="Yunusobod pharmacy"
    )


def checked(kind, rows, user, *, location=None, header=None):
    header = header or (RECEIPT if kind == "receipt" else STOCKTAKE)
    job = import_job_create(
        kind=kind, filename=f"{kind}.csv", data=csv_bytes([header, *rows]), user=user, language="en", location=location
    )
    return import_job_check(job_id=job.pk)


def stock_at(lot, location) -> int:
    return LotStock.objects.filter(lot=lot, location=location).values_list("quantity", flat=True).first() or 0


# --- Receipts ----------------------------------------------------------------------------------------


def test_a_receipt_into_the_chosen_location_puts_the_stock_there_only(make_staff, branches):
    chilonzor, yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor, yunusobod])
    medicine = MedicineFactory(sku="PARA-1")

    job = checked("receipt", [["PARA-1", "", "L1", "2027-03-31", "12", "1500", ""]], user, location=chilonzor)
    job = import_job_confirm(job=job, user=user)

    assert job.state == ImportState.DONE, job.errors or job.message
    lot = Lot.objects.get(lot_number="L1")
    assert (lot.quantity, stock_at(lot, chilonzor), stock_at(lot, yunusobod), stock_at(lot, main_location())) == (
        12,
        12,
        0,
        0,
    )
    movement = StockMovement.objects.get(lot=lot)
    assert (movement.location, movement.kind, movement.balance_after) == (chilonzor, MovementKind.RECEIPT, 12)
    assert MedicineStock.objects.get(medicine=medicine, location=chilonzor).sellable_quantity == 12
    assert not MedicineStock.objects.filter(medicine=medicine, location=yunusobod).exists()
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 12
    assert job.location == chilonzor
    assert all_problems() == []


def test_a_receipt_into_a_lot_held_elsewhere_adds_stock_at_this_place_with_its_own_balance(make_staff, branches):
    chilonzor, _yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor])
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 10, lot_number="L1", expires_in_days=300)  # at the main pharmacy

    row = ["PARA-1", "", "L1", lot.expiry_date.isoformat(), "4", "1", ""]
    job = checked("receipt", [row], user, location=chilonzor)
    job = import_job_confirm(job=job, user=user)

    assert job.state == ImportState.DONE, job.errors or job.message
    assert job.updated_rows == 1
    lot.refresh_from_db()
    assert (lot.quantity, stock_at(lot, main_location()), stock_at(lot, chilonzor)) == (14, 10, 4)
    assert StockMovement.objects.filter(lot=lot).latest("pk").balance_after == 4  # the balance there, not the lot's
    assert all_problems() == []


def test_a_member_who_does_not_work_at_the_location_is_refused_at_the_preview(make_staff, branches):
    chilonzor, yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor])
    MedicineFactory(sku="PARA-1")

    job = checked("receipt", [["PARA-1", "", "L1", "2027-03-31", "12", "1", ""]], user, location=yunusobod)

    assert job.state == ImportState.INVALID
    assert as_read(job.errors) == [
        {
            "line": 0,
            "column": "location",
            "message": "You do not work at Yunusobod pharmacy: its stock is not yours to change.",
        }
    ]
    assert not Lot.objects.exists()


def test_a_member_who_does_not_work_at_the_location_is_refused_at_the_confirmation(make_staff, branches):
    chilonzor, _yunusobod = branches
    uploader = make_staff(Role.INVENTORY, locations=[chilonzor])
    elsewhere = make_staff(Role.INVENTORY, locations=[main_location()])
    MedicineFactory(sku="PARA-1")
    job = checked("receipt", [["PARA-1", "", "L1", "2027-03-31", "12", "1", ""]], uploader, location=chilonzor)
    assert job.state == ImportState.READY
    before = snapshot()

    job = import_job_confirm(job=job, user=elsewhere)

    assert job.state == ImportState.INVALID
    assert "You do not work at Chilonzor pharmacy" in job.errors[0]["message"]
    assert snapshot() == before


def test_the_uploader_who_no_longer_works_there_is_refused_at_the_confirmation(make_staff, branches):
    chilonzor, _yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor])
    MedicineFactory(sku="PARA-1")
    job = checked("receipt", [["PARA-1", "", "L1", "2027-03-31", "12", "1", ""]], user, location=chilonzor)
    user.locations.set([main_location()])
    user.refresh_from_db()

    job = import_job_confirm(job=job, user=user)

    assert job.state == ImportState.INVALID
    assert not Lot.objects.exists()


def test_a_row_may_name_another_place_the_member_works_at_by_code_or_name(make_staff, branches):
    chilonzor, yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor, yunusobod])
    MedicineFactory(sku="PARA-1")
    header = [*RECEIPT, "location"]
    rows = [
        ["PARA-1", "", "L1", "2027-03-31", "5", "1", "", ""],
        ["PARA-1", "", "L1", "2027-03-31", "3", "1", "", "yunusobod"],
        ["PARA-1", "", "L2", "2027-03-31", "2", "1", "", "Yunusobod Pharmacy"],
    ]

    job = checked("receipt", rows, user, location=chilonzor, header=header)
    job = import_job_confirm(job=job, user=user)

    assert job.state == ImportState.DONE, job.errors or job.message
    assert (job.new_rows, job.updated_rows) == (2, 1)  # lot L1 is created once and received at two places
    l1, l2 = Lot.objects.get(lot_number="L1"), Lot.objects.get(lot_number="L2")
    assert (l1.quantity, stock_at(l1, chilonzor), stock_at(l1, yunusobod)) == (8, 5, 3)
    assert (stock_at(l2, chilonzor), stock_at(l2, yunusobod)) == (0, 2)
    assert all_problems() == []


def test_a_row_naming_an_unknown_place_is_a_cell_error(make_staff, branches):
    chilonzor, _yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor])
    MedicineFactory(sku="PARA-1")
    rows = [
        ["PARA-1", "", "L1", "2027-03-31", "5", "1", "", ""],
        ["PARA-1", "", "L2", "2027-03-31", "5", "1", "", "Mars branch"],
    ]

    job = checked("receipt", rows, user, location=chilonzor, header=[*RECEIPT, "location"])

    assert job.state == ImportState.INVALID
    assert as_read(job.errors) == [
        {"line": 3, "column": "location", "message": "Unknown location “Mars branch”: give its code or name."}
    ]
    assert (job.new_rows, job.error_rows) == (1, 1)


def test_a_row_naming_a_place_the_member_does_not_work_at_is_a_cell_error(make_staff, branches):
    chilonzor, yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor])
    MedicineFactory(sku="PARA-1")

    job = checked(
        "receipt",
        [["PARA-1", "", "L1", "2027-03-31", "5", "1", "", "yunusobod"]],
        user,
        location=chilonzor,
        header=[*RECEIPT, "location"],
    )

    assert job.state == ImportState.INVALID
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, "location")]
    assert "You do not work at Yunusobod pharmacy" in job.errors[0]["message"]


def test_the_same_lot_twice_at_the_same_place_is_refused_as_before(make_staff, branches):
    chilonzor, _yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor])
    MedicineFactory(sku="PARA-1")
    rows = [
        ["PARA-1", "", "L1", "2027-03-31", "5", "1", "", ""],
        ["PARA-1", "", "L1", "2027-03-31", "5", "1", "", "chilonzor"],
    ]

    job = checked("receipt", rows, user, location=chilonzor, header=[*RECEIPT, "location"])

    assert job.state == ImportState.INVALID
    assert "already on line 2" in job.errors[0]["message"]


def test_without_a_chosen_place_and_with_several_places_each_row_must_name_one(make_staff, branches):
    user = make_staff(Role.ADMIN)  # the administrator works everywhere
    MedicineFactory(sku="PARA-1")
    rows = [
        ["PARA-1", "", "L1", "2027-03-31", "5", "1", "", ""],
        ["PARA-1", "", "L2", "2027-03-31", "5", "1", "", "chilonzor"],
    ]

    job = checked("receipt", rows, user, header=[*RECEIPT, "location"])

    assert job.state == ImportState.INVALID
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, "location")]
    assert "Say at which location" in job.errors[0]["message"]


def test_a_divisible_medicine_is_received_in_packs_and_stocked_in_parts(make_staff):
    user = make_staff(Role.INVENTORY)
    medicine = MedicineFactory(sku="AMP-1", parts_per_pack=10, part_name="ampoule")

    job = checked("receipt", [["AMP-1", "", "L1", "2027-03-31", "3", "45 000", ""]], user)

    assert job.preview["rows"][0]["values"][5] == "3 packs"
    job = import_job_confirm(job=job, user=user)
    assert job.state == ImportState.DONE, job.errors or job.message
    lot = Lot.objects.get()
    assert (lot.quantity, stock_at(lot, main_location())) == (30, 30)
    assert StockMovement.objects.get().quantity == 30
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 30
    assert all_problems() == []


# --- Stocktakes --------------------------------------------------------------------------------------


def test_a_stocktake_at_one_place_leaves_another_place_untouched(make_staff, branches):
    chilonzor, yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor, yunusobod])
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 10, lot_number="L1", location=chilonzor)
    receive(medicine, 6, lot_number="L1", location=yunusobod)

    job = checked("stocktake", [["PARA-1", "L1", "7"]], user, location=chilonzor)
    assert job.preview["rows"][0]["values"][3:] == ["chilonzor", "10 packs", "7 packs"]
    job = import_job_confirm(job=job, user=user)

    assert job.state == ImportState.DONE, job.errors or job.message
    lot.refresh_from_db()
    assert (lot.quantity, stock_at(lot, chilonzor), stock_at(lot, yunusobod)) == (13, 7, 6)
    adjustment = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert (adjustment.location, adjustment.quantity, adjustment.balance_after) == (chilonzor, -3, 7)
    assert MedicineStock.objects.get(medicine=medicine, location=yunusobod).sellable_quantity == 6
    assert all_problems() == []


def test_a_count_found_at_a_place_the_books_never_had_it_adds_it_there(make_staff, branches):
    chilonzor, _yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor])
    lot = receive(MedicineFactory(sku="PARA-1"), 10, lot_number="L1")  # at the main pharmacy only

    job = checked("stocktake", [["PARA-1", "L1", "2"]], user, location=chilonzor)
    job = import_job_confirm(job=job, user=user)

    assert job.state == ImportState.DONE, job.errors or job.message
    lot.refresh_from_db()
    assert (lot.quantity, stock_at(lot, chilonzor), stock_at(lot, main_location())) == (12, 2, 10)
    assert all_problems() == []


def test_a_count_elsewhere_since_the_check_does_not_refuse_this_places_count(make_staff, branches):
    chilonzor, yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor, yunusobod])
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 10, lot_number="L1", location=chilonzor)
    receive(medicine, 6, lot_number="L1", location=yunusobod)
    job = checked("stocktake", [["PARA-1", "L1", "8"]], user, location=chilonzor)
    stock_adjust(lot=lot, counted_quantity=5, location=yunusobod, user=user, reason="shelf recount")

    job = import_job_confirm(job=job, user=user)

    assert job.state == ImportState.DONE, job.errors or job.message
    assert (stock_at(lot, chilonzor), stock_at(lot, yunusobod)) == (8, 5)
    assert all_problems() == []


def test_a_count_at_the_same_place_since_the_check_refuses_the_file(make_staff, branches):
    chilonzor, yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor, yunusobod])
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 10, lot_number="L1", location=chilonzor)
    receive(medicine, 6, lot_number="L1", location=yunusobod)
    job = checked("stocktake", [["PARA-1", "L1", "8"]], user, location=chilonzor)
    stock_adjust(lot=lot, counted_quantity=9, location=chilonzor, user=user, reason="shelf recount")
    before = snapshot()

    job = import_job_confirm(job=job, user=user)

    assert job.state == ImportState.INVALID
    assert as_read(job.errors) == [
        {
            "line": 2,
            "column": "counted_quantity",
            "message": "Lot L1 was counted again since this file was checked: upload the file again.",
        }
    ]
    assert snapshot() == before
    assert (stock_at(lot, chilonzor), stock_at(lot, yunusobod)) == (9, 6)


def test_the_book_at_the_count_is_the_places_not_the_lots(make_staff, branches):
    chilonzor, yunusobod = branches
    user = make_staff(Role.INVENTORY, locations=[chilonzor, yunusobod])
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 10, lot_number="L1", location=chilonzor)
    receive(medicine, 6, lot_number="L1", location=yunusobod)
    job = checked("stocktake", [["PARA-1", "L1", "10"]], user, location=chilonzor)  # matches the book there
    assert job.unchanged_rows == 1
    stock_dispense(medicine=medicine, quantity=4, location=chilonzor, user=user)  # sold there since

    job = import_job_confirm(job=job, user=user)

    assert job.state == ImportState.DONE, job.errors or job.message
    assert (stock_at(lot, chilonzor), stock_at(lot, yunusobod)) == (6, 6)  # the sale stays; no adjustment
    assert not StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).exists()


def test_a_stocktake_counts_whole_packs_and_loose_parts(make_staff):
    user = make_staff(Role.INVENTORY)
    medicine = MedicineFactory(sku="BLI-1", parts_per_pack=2, part_name="blister")
    lot = receive(medicine, 12, lot_number="L1")  # 6 packs

    job = checked("stocktake", [["BLI-1", "L1", "5", "1"]], user, header=[*STOCKTAKE, "parts"])
    assert job.preview["rows"][0]["values"][4:] == ["6 packs", "5 packs + 1 blister"]
    job = import_job_confirm(job=job, user=user)

    assert job.state == ImportState.DONE, job.errors or job.message
    lot.refresh_from_db()
    assert lot.quantity == 11
    assert StockMovement.objects.get(kind=MovementKind.ADJUSTMENT).quantity == -1


def test_loose_parts_of_a_medicine_sold_whole_are_a_cell_error(make_staff):
    user = make_staff(Role.INVENTORY)
    receive(MedicineFactory(sku="PARA-1"), 10, lot_number="L1")

    job = checked("stocktake", [["PARA-1", "L1", "5", "1"]], user, header=[*STOCKTAKE, "parts"])

    assert job.state == ImportState.INVALID
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, "parts")]


def test_the_lots_export_of_a_place_imported_back_as_its_stocktake_is_unchanged(staff_client, branches):
    chilonzor, yunusobod = branches
    client = staff_client(Role.INVENTORY, locations=[chilonzor, yunusobod])
    medicine = MedicineFactory(sku="BLI-1", parts_per_pack=2, part_name="blister")
    receive(medicine, 7, lot_number="L1", location=chilonzor)
    receive(medicine, 4, lot_number="L1", location=yunusobod)
    receive(MedicineFactory(sku="PARA-1"), 3, lot_number="P1", location=chilonzor)
    url = reverse("admin:catalog_importjob_export_file", args=["lots", "csv"])
    exported = b"".join(client.get(f"{url}?location={chilonzor.pk}").streaming_content)
    before = snapshot()

    job = import_job_create(
        kind="stocktake", filename="lots.csv", data=exported, user=client.user, language="en", location=chilonzor
    )
    job = import_job_check(job_id=job.pk)

    assert job.errors == []
    assert (job.unchanged_rows, job.updated_rows) == (2, 0)
    assert [row["values"][4] for row in job.preview["rows"]] == ["3 packs + 1 blister", "3 packs"]
    assert snapshot() == before


# --- The upload page -------------------------------------------------------------------------------


def upload(client, data: bytes, **fields):
    return client.post(
        reverse("admin:catalog_importjob_upload"),
        {"kind": "receipt", "import_file": SimpleUploadedFile("d.csv", data), **fields},
    )


def test_the_upload_form_offers_only_the_places_the_member_works_at(staff_client, branches):
    chilonzor, yunusobod = branches
    client = staff_client(Role.INVENTORY, locations=[chilonzor])

    page = client.get(reverse("admin:catalog_importjob_upload")).content.decode()

    assert "Chilonzor pharmacy" in page and "Yunusobod pharmacy" not in page and "Main pharmacy" not in page
    assert f'value="{chilonzor.pk}" selected' in page  # their one place, chosen already


def test_an_upload_to_a_place_the_member_does_not_work_at_is_refused_by_the_form(staff_client, branches):
    chilonzor, yunusobod = branches
    client = staff_client(Role.INVENTORY, locations=[chilonzor])
    MedicineFactory(sku="PARA-1")

    data = csv_bytes([RECEIPT, ["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]])
    response = upload(client, data, location=yunusobod.pk)

    assert response.status_code == 200  # the form again, with its error
    assert not ImportJob.objects.exists()


def test_a_member_of_several_places_chooses_one(staff_client, branches):
    chilonzor, yunusobod = branches
    client = staff_client(Role.INVENTORY, locations=[chilonzor, yunusobod])
    MedicineFactory(sku="PARA-1")
    data = csv_bytes([RECEIPT, ["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]])

    assert "Choose where the stock is received or counted." in upload(client, data).content.decode()
    response = upload(client, data, location=yunusobod.pk)

    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.location == yunusobod
    page = client.get(response["Location"]).content.decode()
    assert "Yunusobod pharmacy" in page


def test_the_confirm_button_is_not_offered_to_someone_who_does_not_work_there(staff_client, make_staff, branches):
    chilonzor, _yunusobod = branches
    uploader = make_staff(Role.INVENTORY, locations=[chilonzor])
    MedicineFactory(sku="PARA-1")
    job = checked("receipt", [["PARA-1", "", "L1", "2027-03-31", "5", "1", ""]], uploader, location=chilonzor)
    client = staff_client(Role.INVENTORY)  # works at the main pharmacy

    page = client.get(reverse("admin:catalog_importjob_preview", args=[job.pk])).content.decode()

    assert "Apply the import" not in page
