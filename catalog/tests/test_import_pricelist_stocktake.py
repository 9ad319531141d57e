from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import Role
from catalog.models import ImportState, Lot, Manufacturer, Medicine, MedicineSubstance, MovementKind, StockMovement
from catalog.tests.factories import (
    ActiveSubstanceFactory,
    CategoryFactory,
    MedicineFactory,
    medicine_with,
    receive,
)
from catalog.tests.import_helpers import csv_bytes, run_import, snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_day")]

PRICE_HEADER = [
    "sku",
    "name",
    "price",
    "barcode",
    "category",
    "manufacturer",
    "dosage_form",
    "pack_size",
    "is_prescription",
    "substances",
]


def test_a_price_list_creates_new_medicines_with_substances_and_updates_prices(pharmacist):
    CategoryFactory(name="Pain relief", slug="pain-relief")
    ActiveSubstanceFactory(inn_name="Paracetamol")
    ActiveSubstanceFactory(inn_name="Caffeine")
    existing = MedicineFactory(sku="IBU-1", price=Decimal("5000"))
    data = csv_bytes(
        [
            ["sku", "name", "price", "category", "manufacturer", "dosage_form", "pack_size", "rx", "substances"],
            [
                "PARA-1",
                "Paracetamol Extra",
                "12 500,50",
                "Pain relief",
                "Nika Pharm",
                "tablet",
                "20",
                "no",
                "Paracetamol 500 mg; Caffeine 50 mg",
            ],
            ["IBU-1", existing.name, "5 200", "", "", "", "", "", ""],
        ],
        delimiter=";",
    )

    job = run_import("pricelist", data, pharmacist)

    assert job.state == ImportState.DONE, job.errors
    assert (job.new_rows, job.updated_rows) == (1, 1)
    medicine = Medicine.objects.get(sku="PARA-1")
    assert (medicine.price, medicine.manufacturer.name, medicine.pack_size) == (Decimal("12500.50"), "Nika Pharm", 20)
    assert sorted((link.substance.inn_name, link.strength) for link in medicine.medicine_substances.all()) == [
        ("Caffeine", Decimal("50")),
        ("Paracetamol", Decimal("500")),
    ]
    assert "paracetamol" in medicine.search_text
    assert medicine.history.get().history_user == pharmacist
    assert Manufacturer.objects.get(name="Nika Pharm").history.get().history_user == pharmacist
    existing.refresh_from_db()
    assert existing.price == Decimal("5200")
    assert existing.history.first().history_user == pharmacist


@pytest.mark.parametrize(
    "row, column, message",
    [
        (["NEW-1", "", "100", "", "", "", "", "", "", ""], "name", "This cell is empty"),
        (["NEW-1", "X", "100", "", "nope", "M", "tablet", "1", "no", ""], "category", "Unknown category"),
        (["NEW-1", "X", "100", "", "pain", "M", "pill", "1", "no", ""], "dosage_form", "is not a dosage form"),
        (["NEW-1", "X", "100", "123", "pain", "M", "tablet", "1", "no", ""], "barcode", "barcode has 8, 12, 13 or 14"),
        (
            ["NEW-1", "X", "100", "", "pain", "M", "tablet", "1", "no", "Unobtainium 5 mg"],
            "substances",
            "Unknown active substance",
        ),
        (
            ["NEW-1", "X", "100", "", "pain", "M", "tablet", "1", "no", "Paracetamol lots"],
            "substances",
            "is not “Substance 500 mg”",
        ),
        (["NEW-1", "X", "-1", "", "pain", "M", "tablet", "1", "no", ""], "price", "cannot be negative"),
        (["NEW-1", "X", "100", "", "pain", "M", "tablet", "0", "no", ""], "pack_size", "at least one unit"),
        (["NEW-1", "X", "100", "", "pain", "M", "tablet", "1", "maybe", ""], "is_prescription", "not yes or no"),
        (["NEW-1", "X", "100", "", "", "M", "tablet", "1", "no", ""], "category", "needs its category"),
    ],
)
def test_a_bad_price_list_row_names_its_cell_and_writes_nothing(pharmacist, row, column, message):
    CategoryFactory(name="Pain", slug="pain")
    ActiveSubstanceFactory(inn_name="Paracetamol")
    before = snapshot()

    job = run_import("pricelist", csv_bytes([PRICE_HEADER, row]), pharmacist)

    assert job.state == ImportState.INVALID
    assert any(e["column"] == column and message in e["message"] for e in job.errors), job.errors
    assert snapshot() == before and Manufacturer.objects.filter(name="M").count() == 0


def test_a_duplicate_sku_in_a_price_list_is_an_error(pharmacist):
    MedicineFactory(sku="A")
    job = run_import("pricelist", csv_bytes([["sku", "price"], ["A", "1"], ["A", "2"]]), pharmacist)
    assert job.state == ImportState.INVALID
    assert "already on line 2" in job.errors[0]["message"]


@pytest.mark.parametrize("language", ["uz", "ru", "en"])
@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_medicines_export_imported_back_as_a_price_list_reports_every_row_unchanged(
    staff_client, language, file_format
):
    client = staff_client(Role.ADMIN)
    client.cookies["django_language"] = language  # the export writes yes/no in it; the import reads them all
    paracetamol = ActiveSubstanceFactory(inn_name="Paracetamol")
    amoxicillin = ActiveSubstanceFactory(inn_name="Amoxicillin")
    medicine_with([(paracetamol, "500")], is_prescription=True, name="=cmd|' /C calc'!A0")
    medicine_with([(amoxicillin, "250", "mg", Decimal("5"))], barcode=None, price=Decimal("12500.50"))
    MedicineFactory(price=Decimal("7"))
    response = client.get(reverse("admin:catalog_importjob_export_file", args=["medicines", file_format]))
    exported = b"".join(response.streaming_content) if response.streaming else response.content
    before = snapshot()

    job = run_import("pricelist", exported, client.user, filename=f"medicines.{file_format}")

    assert job.errors == []
    assert (job.unchanged_rows, job.new_rows, job.updated_rows) == (3, 0, 0)
    assert snapshot() == before


def test_a_stocktake_adjusts_lots_through_adjustment_movements(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    short = receive(medicine, 10, lot_number="L1")
    exact = receive(medicine, 4, lot_number="L2")
    data = csv_bytes([["sku", "lot_number", "counted_quantity"], ["PARA-1", "L1", "7"], ["PARA-1", "L2", "4"]])

    job = run_import("stocktake", data, inventory_user)

    assert job.state == ImportState.DONE, job.errors
    assert (job.updated_rows, job.unchanged_rows) == (1, 1)
    short.refresh_from_db()
    exact.refresh_from_db()
    assert (short.quantity, exact.quantity) == (7, 4)
    movement = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert (movement.lot, movement.quantity, movement.balance_after, movement.user) == (short, -3, 7, inventory_user)
    assert short.history.first().history_user == inventory_user
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 11


@pytest.mark.parametrize(
    "row, message",
    [
        (["PARA-1", "L1", "-1"], "cannot be negative"),
        (["PARA-1", "NOPE", "1"], "has no lot NOPE"),
        (["NOPE", "L1", "1"], "Unknown SKU"),
        (["PARA-1", "L1", "x"], "is not a number"),
    ],
)
def test_a_bad_stocktake_row_writes_nothing(inventory_user, row, message):
    receive(MedicineFactory(sku="PARA-1"), 10, lot_number="L1")
    before = snapshot()

    job = run_import("stocktake", csv_bytes([["sku", "lot_number", "counted_quantity"], row]), inventory_user)

    assert job.state == ImportState.INVALID
    assert message in job.errors[0]["message"]
    assert snapshot() == before


def test_lots_export_imported_back_as_a_stocktake_reports_every_row_unchanged(staff_client):
    client = staff_client(Role.INVENTORY)
    for n in range(3):
        receive(MedicineFactory(), 5 + n)
    exported = b"".join(
        client.get(reverse("admin:catalog_importjob_export_file", args=["lots", "csv"])).streaming_content
    )
    before = snapshot()

    job = run_import("stocktake", exported, client.user)

    assert job.errors == []
    assert (job.unchanged_rows, job.updated_rows) == (3, 0)
    assert snapshot() == before
    assert not StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).exists()


def test_receipt_then_lots_export_round_trip_keeps_quantities(inventory_user):
    receive(MedicineFactory(sku="A"), 3, lot_number="L1")
    assert Lot.objects.get().quantity == 3
    assert MedicineSubstance.objects.count() == 0


def test_a_price_list_import_is_seen_at_once_by_the_cached_public_api(pharmacist, settings):
    from django.test import Client

    from catalog.versioning import catalog_cache_bump

    settings.CATALOG_API_THROTTLE_RATE = "100000/min"
    catalog_cache_bump()
    medicine = MedicineFactory(sku="IBU-1", slug="ibu-1", price=Decimal("5000"))
    api = Client()
    assert api.get("/api/v1/catalog/medicines/ibu-1/").json()["price"] == "5000.00"  # now cached

    price_list = csv_bytes([["sku", "name", "price"], ["IBU-1", medicine.name, "5 900"]])
    job = run_import("pricelist", price_list, pharmacist)

    assert job.state == ImportState.DONE, job.errors
    assert api.get("/api/v1/catalog/medicines/ibu-1/").json()["price"] == "5900.00"
