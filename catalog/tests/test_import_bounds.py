"""Numbers an import writes are checked in the dry run against what their database column can hold."""

from decimal import Decimal

import pytest
from django.db import connection

from catalog.models import ImportState, Lot, Medicine
from catalog.tests.factories import ActiveSubstanceFactory, CategoryFactory, MedicineFactory, receive
from catalog.tests.import_helpers import csv_bytes, run_import, snapshot
from conftest import requires_postgres

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("import_day")]

RECEIPT = ["sku", "barcode", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"]
PRICES = ["sku", "name", "price", "category", "manufacturer", "dosage_form", "pack_size", "substances"]


def integer_max(internal_type: str = "IntegerField") -> int:
    return connection.ops.integer_field_range(internal_type)[1]


def refused_in_the_dry_run(kind, rows, user, column, text):
    before = snapshot()
    job = run_import(kind, csv_bytes(rows), user)
    assert job.state == ImportState.INVALID, "passed the dry run"
    assert [(e["line"], e["column"]) for e in job.errors] == [(2, column)], job.errors
    assert text in job.errors[0]["message"], job.errors[0]["message"]
    assert snapshot() == before
    return job


@pytest.mark.parametrize("quantity", [10**20, "column max + 1"])
def test_a_received_quantity_beyond_the_column_is_refused_in_the_dry_run(inventory_user, quantity):
    MedicineFactory(sku="PARA-1")
    high = integer_max()
    quantity = high + 1 if quantity == "column max + 1" else quantity

    refused_in_the_dry_run(
        "receipt",
        [RECEIPT, ["PARA-1", "", "L1", "2027-03-31", str(quantity), "1", ""]],
        inventory_user,
        "quantity",
        f"{high}",
    )


@requires_postgres
def test_two_to_the_31_units_are_refused_on_postgresql_naming_the_allowed_range(inventory_user):
    MedicineFactory(sku="PARA-1")

    job = refused_in_the_dry_run(
        "receipt",
        [RECEIPT, ["PARA-1", "", "L1", "2027-03-31", str(2**31), "1", ""]],
        inventory_user,
        "quantity",
        "2147483647",
    )

    assert "1" in job.errors[0]["message"]


def test_the_largest_quantity_the_column_holds_is_received(inventory_user):
    MedicineFactory(sku="PARA-1")
    high = integer_max()

    job = run_import(
        "receipt", csv_bytes([RECEIPT, ["PARA-1", "", "L1", "2027-03-31", str(high), "1", ""]]), inventory_user
    )

    assert job.state == ImportState.DONE, job.errors or job.message
    assert Lot.objects.get().quantity == high


def test_a_receipt_that_would_overflow_its_lot_is_refused_in_the_dry_run(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    lot = receive(medicine, 10, lot_number="L1")
    high = integer_max()

    refused_in_the_dry_run(
        "receipt",
        [RECEIPT, ["PARA-1", "", "L1", lot.expiry_date.isoformat(), str(high - 5), "1", ""]],
        inventory_user,
        "quantity",
        f"{high}",
    )


def test_a_purchase_price_beyond_the_column_is_refused_in_the_dry_run(inventory_user):
    MedicineFactory(sku="PARA-1")

    refused_in_the_dry_run(
        "receipt",
        [RECEIPT, ["PARA-1", "", "L1", "2027-03-31", "1", "1 000 000 000 000", ""]],
        inventory_user,
        "purchase_price",
        "999999999999.99",
    )


def test_the_largest_purchase_price_the_column_holds_is_received(inventory_user):
    MedicineFactory(sku="PARA-1")

    job = run_import(
        "receipt",
        csv_bytes([RECEIPT, ["PARA-1", "", "L1", "2027-03-31", "1", "999 999 999 999,99", ""]]),
        inventory_user,
    )

    assert job.state == ImportState.DONE, job.errors or job.message
    assert Lot.objects.get().purchase_price == Decimal("999999999999.99")


def test_a_counted_quantity_beyond_the_column_is_refused_in_the_dry_run(inventory_user):
    receive(MedicineFactory(sku="PARA-1"), 10, lot_number="L1")
    high = integer_max()

    refused_in_the_dry_run(
        "stocktake",
        [["sku", "lot_number", "counted_quantity"], ["PARA-1", "L1", str(high + 1)]],
        inventory_user,
        "counted_quantity",
        f"{high}",
    )


@pytest.mark.parametrize(
    "column, value, text",
    [
        ("price", "1 000 000 000 000", "999999999999.99"),
        ("pack_size", "column max + 1", "column max"),
        ("substances", "Paracetamol 100000000 mg", "99999999.9999"),
        ("substances", "Paracetamol 5 mg/1000000 ml", "999999.99"),
    ],
)
def test_a_price_list_number_beyond_its_column_is_refused_in_the_dry_run(pharmacist, column, value, text):
    CategoryFactory(name="Pain", slug="pain")
    ActiveSubstanceFactory(inn_name="Paracetamol")
    high = integer_max("PositiveIntegerField")
    value = value.replace("column max + 1", str(high + 1))
    text = text.replace("column max", str(high))
    row = dict(zip(PRICES, ["NEW-1", "X", "100", "pain", "M", "tablet", "1", "Paracetamol 5 mg"], strict=True))
    row[column] = value

    refused_in_the_dry_run("pricelist", [PRICES, list(row.values())], pharmacist, column, text)
    assert not Medicine.objects.filter(sku="NEW-1").exists()


def test_a_receipt_that_would_overflow_a_medicines_sellable_stock_is_refused_in_the_dry_run(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    high = integer_max("PositiveIntegerField")
    receive(medicine, high - 5, lot_number="L1")

    refused_in_the_dry_run(
        "receipt", [RECEIPT, ["PARA-1", "", "L2", "2027-03-31", "10", "1", ""]], inventory_user, "quantity", f"{high}"
    )


def test_a_stocktake_that_would_overflow_a_medicines_sellable_stock_is_refused_in_the_dry_run(inventory_user):
    medicine = MedicineFactory(sku="PARA-1")
    high = integer_max("PositiveIntegerField")
    receive(medicine, high - 5, lot_number="L1")
    receive(medicine, 1, lot_number="L2")

    refused_in_the_dry_run(
        "stocktake",
        [["sku", "lot_number", "counted_quantity"], ["PARA-1", "L2", "10"]],
        inventory_user,
        "counted_quantity",
        f"{high}",
    )
