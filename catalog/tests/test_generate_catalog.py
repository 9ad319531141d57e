"""``manage.py generate_catalog`` builds a consistent synthetic catalogue for the benchmarks."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from catalog.ledger import all_problems, balance_chain_problems, derived_problems, lot_sum_problems
from catalog.models import (
    Location,
    LocationKind,
    Lot,
    LotStock,
    Medicine,
    MedicineStock,
    MedicineSubstance,
    MovementKind,
    StockMovement,
    validate_gtin,
)
from catalog.selectors import medicine_alternatives
from catalog.services import medicine_reindex_search

pytestmark = pytest.mark.django_db


def generate(**options) -> str:
    out = io.StringIO()
    call_command("generate_catalog", no_progress=True, stdout=out, **options)
    return out.getvalue()


def test_generates_medicines_with_lots_and_one_receipt_each():
    output = generate(medicines=200, lots_per_medicine=3, seed=7)

    assert Medicine.objects.count() == 200
    assert Lot.objects.count() == 600
    assert StockMovement.objects.count() == 600
    assert set(StockMovement.objects.values_list("kind", flat=True)) == {MovementKind.RECEIPT}
    assert not Medicine.objects.annotate(n=Count("medicine_substances")).filter(n=0).exists()
    assert "Generated 200 medicines" in output


def test_lots_stand_at_every_location_with_one_receipt_there_and_the_ledger_holds():
    output = generate(medicines=60, lots_per_medicine=2, locations=4, seed=11)

    places = list(Location.objects.order_by("pk"))
    assert [place.kind for place in places] == [LocationKind.WAREHOUSE] + [LocationKind.BRANCH] * 3
    assert len({place.district for place in places[1:]}) == 3  # branches in different districts
    assert Lot.objects.count() == 120
    assert LotStock.objects.count() == StockMovement.objects.count() == 120 * 4
    assert not StockMovement.objects.exclude(kind=MovementKind.RECEIPT).exists()
    assert set(MedicineStock.objects.values_list("location_id", flat=True)) == {place.pk for place in places}
    assert all_problems() == []  # written by the stock core: stock per place, balances, derived columns
    assert "at 4 locations" in output


def test_a_second_run_adds_to_the_same_locations():
    generate(medicines=20, lots_per_medicine=1, locations=3)
    generate(medicines=10, lots_per_medicine=1, locations=3)

    assert Location.objects.count() == 3
    assert LotStock.objects.count() == 30 * 3
    assert all_problems() == []


def test_generated_stock_passes_the_ledger_check():
    generate(medicines=200, lots_per_medicine=3, seed=7)

    assert lot_sum_problems() == []
    assert balance_chain_problems() == []
    assert derived_problems() == []  # sellable stock and nearest expiry agree with the lots
    assert Medicine.objects.filter(sellable_quantity__gt=0).count() > 100


def test_generated_search_column_is_what_the_service_computes():
    generate(medicines=200, lots_per_medicine=1, seed=3)
    before = dict(Medicine.objects.values_list("pk", "search_text"))

    medicine_reindex_search(medicine_ids=list(before))

    assert dict(Medicine.objects.values_list("pk", "search_text")) == before
    assert all(before.values())


def test_generated_barcodes_are_valid_and_unique():
    generate(medicines=200, lots_per_medicine=1)
    barcodes = list(Medicine.objects.values_list("barcode", flat=True))
    assert len(set(barcodes)) == 200
    for barcode in barcodes:
        validate_gtin(barcode)


def test_medicines_share_substances_so_alternatives_exist():
    generate(medicines=200, lots_per_medicine=3, seed=5)
    shared = MedicineSubstance.objects.values("substance").annotate(n=Count("medicine")).filter(n__gte=2).count()
    assert shared >= 10
    with_stock = Medicine.objects.filter(is_active=True, sellable_quantity__gt=0)
    assert any(medicine_alternatives(medicine=m) for m in with_stock[:50])


def test_reset_replaces_the_catalogue():
    generate(medicines=50, lots_per_medicine=2)
    generate(medicines=30, lots_per_medicine=1, reset=True)

    assert Medicine.objects.count() == 30
    assert Lot.objects.count() == 30
    assert StockMovement.objects.count() == 30


def test_receipts_are_dated_on_the_lots_received_date():
    generate(medicines=50, lots_per_medicine=2)

    for movement in StockMovement.objects.select_related("lot"):
        assert timezone.localtime(movement.created_at).date() == movement.lot.received_date
