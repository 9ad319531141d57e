"""Reading uploads: every row of a sheet or a CSV is read and counted, whatever its metadata or line ends say."""

import datetime

import pytest
import time_machine

from accounts.roles import Role
from catalog.imports.parsing import read_table
from catalog.models import ImportState, Lot
from catalog.tests.factories import MedicineFactory
from catalog.tests.import_helpers import run_import, xlsx_declaring

pytestmark = pytest.mark.django_db

HEADER = ["sku", "barcode", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC), tick=False):
        yield


@pytest.fixture
def inventory_user(make_staff):
    return make_staff(Role.INVENTORY)


def receipt_rows(count: int) -> list[list]:
    return [["PARA-1", None, f"L{n}", "2027-03-31", 5, 1.5, "Grand"] for n in range(count)]


@pytest.mark.parametrize("dimension", ["A1:F2", None], ids=["understated", "missing"])
def test_every_row_of_a_sheet_is_read_whatever_its_dimension_claims(dimension):
    data = xlsx_declaring([HEADER, *receipt_rows(300)], dimension)

    table = read_table(data, "delivery.xlsx")

    assert len(table.rows) == 300
    assert table.rows[-1][0] == 301
    # The columns past the stated F are read too: G is the supplier.
    assert table.rows[-1][1][6] == "Grand"


def test_a_sheet_understating_its_size_previews_and_applies_every_row(inventory_user):
    MedicineFactory(sku="PARA-1")
    data = xlsx_declaring([HEADER, *receipt_rows(300)], "A1:F2")

    job = run_import("receipt", data, inventory_user, filename="delivery.xlsx")

    assert job.state == ImportState.DONE, job.errors
    assert (job.total_rows, job.new_rows) == (300, 300)
    assert Lot.objects.count() == 300
    assert set(Lot.objects.values_list("supplier", flat=True)) == {"Grand"}
