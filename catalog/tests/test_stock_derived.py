"""The derived stock columns a sale and a bulk receipt write by their short ways equal a full recomputation.

A sale writes the place's figures from the rows it locked and a receipt moves
them by what it added (``catalog.stock.derived.after_sale`` / ``after_receipt``);
``derived.refresh`` recomputes them from the lots. After any mix of the two,
recomputing must change nothing: the medicine rows, every place's row, and
what was announced as going in or out of stock.
"""

import pytest

from catalog.models import LotStatus, Medicine, MedicineStock
from catalog.stock import ReceiptLine, lot_quarantine, lots_receive_bulk, stock_dispense
from catalog.stock.derived import refresh
from catalog.tests.factories import LocationFactory, MedicineFactory, days, main_location, receive

pytestmark = pytest.mark.django_db


def figures(medicines):
    ids = [m.pk for m in medicines]
    chain = list(
        Medicine.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "sellable_quantity", "nearest_expiry")
    )
    places = list(
        MedicineStock.objects.filter(medicine_id__in=ids)
        .order_by("medicine_id", "location_id")
        .values_list("medicine_id", "location_id", "sellable_quantity", "nearest_expiry")
    )
    return chain, places


def assert_recomputing_changes_nothing(medicines):
    before = figures(medicines)
    flips = refresh([m.pk for m in medicines])
    assert not flips
    assert figures(medicines) == before


def receipt(place, *lines):
    return lots_receive_bulk(
        location=place,
        lines=[
            ReceiptLine(
                medicine_id=m.pk, lot_number=number, expiry_date=days(expires), quantity=units, purchase_price=1000
            )
            for m, number, units, expires in lines
        ],
    )


def test_sales_down_to_nothing_at_one_place_of_two_agree_with_a_recomputation():
    here, there = main_location(), LocationFactory()
    medicine = MedicineFactory()
    receive(medicine, 3, lot_number="SOON", expires_in_days=40, location=here)
    receive(medicine, 4, lot_number="LATE", expires_in_days=400, location=here)
    receive(medicine, 2, lot_number="ELSEWHERE", expires_in_days=90, location=there)

    stock_dispense(medicine=medicine, quantity=3, location=here)  # the soon lot sells out: nearest moves later
    assert_recomputing_changes_nothing([medicine])
    stock_dispense(medicine=medicine, quantity=4, location=here)  # nothing left here, some there
    assert_recomputing_changes_nothing([medicine])
    row = MedicineStock.objects.get(medicine=medicine, location=here)
    assert (row.sellable_quantity, row.nearest_expiry) == (0, None)
    medicine.refresh_from_db()
    assert (medicine.sellable_quantity, medicine.nearest_expiry, medicine.number_sold) == (2, days(90), 7)


def test_receipts_into_new_available_and_quarantined_lots_agree_with_a_recomputation():
    here, there = main_location(), LocationFactory()
    fresh, restocked, blocked, elsewhere = MedicineFactory.create_batch(4)
    receive(restocked, 5, lot_number="OLD", expires_in_days=200, location=here)
    quarantined = receive(blocked, 5, lot_number="Q", expires_in_days=200, location=here)
    lot_quarantine(lot=quarantined, reason="Damaged boxes")
    receive(elsewhere, 6, lot_number="E", expires_in_days=300, location=there)

    flips = receipt(
        here,
        (fresh, "N1", 10, 500),  # a medicine new to the place and to the chain
        (restocked, "OLD", 2, 200),  # more into the lot already here
        (restocked, "EARLY", 1, 30),  # an earlier expiry than what is here
        (blocked, "Q", 3, 200),  # into a quarantined lot: not sellable, nothing moves
        (elsewhere, "E2", 4, 100),  # a medicine held only at another place so far
    )

    assert_recomputing_changes_nothing([fresh, restocked, blocked, elsewhere])
    assert flips.chain == {fresh.pk}
    assert flips.places == {(fresh.pk, here.pk), (elsewhere.pk, here.pk)}
    assert MedicineStock.objects.get(medicine=blocked, location=here).sellable_quantity == 0
    restocked.refresh_from_db()
    assert (restocked.sellable_quantity, restocked.nearest_expiry) == (8, days(30))
    quarantined.refresh_from_db()
    assert (quarantined.status, quarantined.quantity) == (LotStatus.QUARANTINED, 8)


def test_a_receipt_then_sales_by_the_part_agree_with_a_recomputation():
    place = main_location()
    medicine = MedicineFactory(parts_per_pack=10, part_name="blister")
    receipt(place, (medicine, "P1", 20, 120), (medicine, "P2", 20, 240))
    stock_dispense(medicine=medicine, quantity=3, location=place)
    stock_dispense(medicine=medicine, quantity=25, location=place)
    assert_recomputing_changes_nothing([medicine])
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 12


def test_a_one_line_sale_at_a_branch_runs_a_fixed_number_of_statements(django_assert_num_queries):
    place = main_location()
    medicines = MedicineFactory.create_batch(2)
    for medicine in medicines:
        receive(medicine, 5, location=place)
    stock_dispense(medicine=medicines[0], quantity=1, location=place)  # the sale's read is compiled once

    # Savepoint, medicine lock, sellable stock with its lots, stock row, lot, place's row, chain's row and
    # number sold, ledger row, release: nothing per lot beyond the lots the sale takes from.
    with django_assert_num_queries(9):
        stock_dispense(medicine=medicines[1], quantity=2, location=place)
