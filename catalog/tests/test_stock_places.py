"""Stock in places: per-place stock and ledger, divisible packs, transfers, members' places."""

from decimal import Decimal

import pytest

from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from catalog.exceptions import (
    CatalogError,
    InsufficientStock,
    LocationForbidden,
    LocationRequired,
    PartsPerPackLocked,
    ReasonRequired,
    TransferStateError,
)
from catalog.ledger import all_problems
from catalog.models import (
    Discrepancy,
    LotStatus,
    LotStock,
    Medicine,
    MedicineStock,
    MovementKind,
    StockMovement,
    TransferState,
)
from catalog.services import medicine_update
from catalog.stock import (
    Received,
    lot_quarantine,
    stock_adjust,
    stock_dispense,
    stock_write_off,
    transfer_cancel,
    transfer_create,
    transfer_propose,
    transfer_receive,
    transfer_send,
    transit_location,
)
from conftest import requires_postgres

from .factories import LocationFactory, MedicineFactory, main_location, receive

pytestmark = pytest.mark.django_db


def at(medicine, location) -> int:
    row = MedicineStock.objects.filter(medicine=medicine, location=location).first()
    return row.sellable_quantity if row else 0


def lot_at(lot, location) -> int:
    row = LotStock.objects.filter(lot=lot, location=location).first()
    return row.quantity if row else 0


@pytest.fixture
def places():
    return main_location(), LocationFactory(name="Yunusobod", code="yunusobod")


# --- Stock per place ---------------------------------------------------------------


def test_a_receipt_puts_stock_at_its_place_only_and_the_chain_sums_the_places(places):
    main, branch = places
    medicine = MedicineFactory()
    receive(medicine, 10, location=main)
    receive(medicine, 4, location=branch)

    medicine.refresh_from_db()
    assert (at(medicine, main), at(medicine, branch), medicine.sellable_quantity) == (10, 4, 14)
    assert set(StockMovement.objects.values_list("location__code", "quantity")) == {("main", 10), ("yunusobod", 4)}
    assert all_problems() == []


def test_a_sale_at_a_branch_takes_only_that_branchs_stock(places):
    main, branch = places
    medicine = MedicineFactory()
    early = receive(medicine, 5, location=main, expires_in_days=30)
    late = receive(medicine, 5, location=branch, expires_in_days=300)

    stock_dispense(medicine=medicine, quantity=3, location=branch)

    assert lot_at(early, main) == 5  # the earlier lot is at another place: FEFO is per place
    assert lot_at(late, branch) == 2
    with pytest.raises(InsufficientStock):
        stock_dispense(medicine=medicine, quantity=3, location=branch)
    assert all_problems() == []


def test_with_two_places_a_sale_must_say_where(places):
    medicine = MedicineFactory()
    receive(medicine, 5, location=places[0])
    with pytest.raises(LocationRequired):
        stock_dispense(medicine=medicine, quantity=1)


def test_a_quarantine_holds_the_lot_in_every_place_at_once(places):
    main, branch = places
    medicine = MedicineFactory()
    lot = receive(medicine, 5, location=main)
    receive(medicine, 5, location=branch, lot_number=lot.lot_number)

    lot_quarantine(lot=lot, reason="Broken seals reported")

    assert (at(medicine, main), at(medicine, branch)) == (0, 0)
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 0


def test_a_write_off_at_one_place_leaves_the_other(places):
    main, branch = places
    medicine = MedicineFactory()
    lot = receive(medicine, 5, location=main)
    receive(medicine, 5, location=branch, lot_number=lot.lot_number)

    with pytest.raises(LocationRequired):  # the lot is in two places
        stock_write_off(lot=lot, quantity=1, reason="Damaged box")
    stock_write_off(lot=lot, quantity=2, reason="Damaged box", location=branch)
    stock_adjust(lot=lot, counted_quantity=4, location=main)

    assert (lot_at(lot, main), lot_at(lot, branch)) == (4, 3)
    lot.refresh_from_db()
    assert lot.quantity == 7
    assert all_problems() == []


# --- Members' places ---------------------------------------------------------------


def test_a_member_cannot_move_or_sell_stock_of_a_place_they_do_not_work_at(places):
    main, branch = places
    medicine = MedicineFactory()
    lot = receive(medicine, 5, location=main)
    at_branch_only = StaffFactory(role=Role.INVENTORY, locations=[branch])
    before = list(StockMovement.objects.values_list("pk", flat=True))

    for attempt in (
        lambda: stock_dispense(medicine=medicine, quantity=1, location=main, user=at_branch_only),
        lambda: stock_write_off(lot=lot, quantity=1, reason="Damaged", location=main, user=at_branch_only),
        lambda: stock_adjust(lot=lot, counted_quantity=1, location=main, user=at_branch_only),
        lambda: receive(medicine, 3, location=main, user=at_branch_only),
        lambda: transfer_create(source=main, destination=branch, lines=[(medicine, 1)], user=at_branch_only),
    ):
        with pytest.raises(LocationForbidden):
            attempt()
    assert list(StockMovement.objects.values_list("pk", flat=True)) == before
    assert lot_at(lot, main) == 5


def test_a_member_without_any_place_moves_nothing_and_the_administrator_moves_anywhere(places):
    main, _branch = places
    medicine = MedicineFactory()
    receive(medicine, 5, location=main)
    nowhere = StaffFactory(role=Role.PHARMACIST, locations=[])
    owner = StaffFactory(role=Role.ADMIN, locations=[])

    with pytest.raises(LocationForbidden):
        stock_dispense(medicine=medicine, quantity=1, location=main, user=nowhere)
    stock_dispense(medicine=medicine, quantity=1, location=main, user=owner)
    assert at(medicine, main) == 4


# --- Divisible packs -----------------------------------------------------------------


def test_selling_one_blister_of_a_two_blister_pack_leaves_one_blister():
    medicine = MedicineFactory(parts_per_pack=2, part_name="blister")
    lot = receive(medicine, 2)  # one box of two blisters, counted in blisters

    stock_dispense(medicine=medicine, quantity=1)

    assert lot_at(lot, main_location()) == 1
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 1
    assert medicine.number_sold == 1


def test_fefo_takes_the_loose_blister_from_an_opened_pack_first():
    medicine = MedicineFactory(parts_per_pack=2, part_name="blister")
    earlier = receive(medicine, 4, expires_in_days=60)  # two whole boxes
    opened = receive(medicine, 3, expires_in_days=300)  # one box and an opened one

    stock_dispense(medicine=medicine, quantity=1)
    assert (lot_at(earlier, main_location()), lot_at(opened, main_location())) == (4, 2)

    # Whole packs still go first expiry, first out.
    stock_dispense(medicine=medicine, quantity=2)
    assert (lot_at(earlier, main_location()), lot_at(opened, main_location())) == (2, 2)


def test_a_part_costs_the_pack_price_divided_unless_set():
    medicine = MedicineFactory(parts_per_pack=3, price=Decimal("10000.00"))
    assert medicine.unit_price == Decimal("3333.33")
    medicine.part_price = Decimal("3500.00")
    assert medicine.unit_price == Decimal("3500.00")
    assert MedicineFactory(price=Decimal("8000.00")).unit_price == Decimal("8000.00")


def test_the_parts_of_a_pack_cannot_change_once_stock_has_moved():
    medicine = MedicineFactory(parts_per_pack=2)
    assert medicine_update(medicine=medicine, changes={"parts_per_pack": 10}).parts_per_pack == 10
    receive(medicine, 10)
    with pytest.raises(PartsPerPackLocked):
        medicine_update(medicine=medicine, changes={"parts_per_pack": 2})
    assert Medicine.objects.get(pk=medicine.pk).parts_per_pack == 10


# --- Transfers -------------------------------------------------------------------------


def test_a_transfer_moves_the_same_lots_fefo_through_transit_and_the_ledger_balances(places):
    main, branch = places
    medicine = MedicineFactory()
    early = receive(medicine, 3, location=main, expires_in_days=40)
    late = receive(medicine, 10, location=main, expires_in_days=400)

    proposal = transfer_propose(source=main, medicine=medicine, quantity=5)
    assert [(p.lot.pk, p.quantity) for p in proposal] == [(early.pk, 3), (late.pk, 2)]

    transfer = transfer_create(source=main, destination=branch, lines=[(medicine, 5)])
    transfer_send(transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.state == TransferState.SENT
    assert sorted((line.lot_id, line.quantity) for line in transfer.lines.all()) == sorted(
        [(early.pk, 3), (late.pk, 2)]
    )
    transit = transit_location()
    assert (at(medicine, main), at(medicine, branch), lot_at(late, transit)) == (8, 0, 2)
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 8  # in transit is not sellable anywhere
    early.refresh_from_db()
    assert early.quantity == 3  # the lot's total counts what travels

    transfer_receive(transfer=transfer)
    assert (at(medicine, main), at(medicine, branch), lot_at(late, transit)) == (8, 5, 0)
    kinds = StockMovement.objects.filter(reference=transfer.number).values_list("kind", flat=True)
    assert sorted(set(kinds)) == [MovementKind.TRANSFER_IN, MovementKind.TRANSFER_OUT]
    assert all_problems() == []


def test_a_shortfall_on_receipt_is_written_off_or_returned_with_a_reason_never_lost(places):
    main, branch = places
    medicine = MedicineFactory()
    lot = receive(medicine, 10, location=main)
    transfer = transfer_create(source=main, destination=branch, lines=[(medicine, 6, lot)])
    transfer_send(transfer=transfer)
    line = transfer.lines.get()

    with pytest.raises(CatalogError):  # a shortfall must say what happens to it
        transfer_receive(transfer=transfer, received={line.pk: Received(4)})
    with pytest.raises(ReasonRequired):
        transfer_receive(transfer=transfer, received={line.pk: Received(4, Discrepancy.RETURNED)})
    transfer_receive(
        transfer=transfer, received={line.pk: Received(4, Discrepancy.RETURNED, "Two boxes left on the shelf")}
    )

    assert (lot_at(lot, main), lot_at(lot, branch), lot_at(lot, transit_location())) == (6, 4, 0)
    line.refresh_from_db()
    assert (line.received_quantity, line.discrepancy) == (4, Discrepancy.RETURNED)
    assert all_problems() == []


def test_a_written_off_shortfall_leaves_the_books(places):
    main, branch = places
    medicine = MedicineFactory()
    lot = receive(medicine, 10, location=main)
    transfer = transfer_create(source=main, destination=branch, lines=[(medicine, 6, lot)])
    transfer_send(transfer=transfer)
    line = transfer.lines.get()
    transfer_receive(
        transfer=transfer, received={line.pk: Received(5, Discrepancy.WRITTEN_OFF, "One box crushed in the van")}
    )
    lot.refresh_from_db()
    assert (lot.quantity, lot_at(lot, main), lot_at(lot, branch)) == (9, 4, 5)
    assert all_problems() == []


def test_a_transfer_is_sent_once_and_refused_whole_when_short(places):
    main, branch = places
    medicine, other = MedicineFactory(), MedicineFactory()
    receive(medicine, 2, location=main)
    receive(other, 9, location=main)
    short = transfer_create(source=main, destination=branch, lines=[(medicine, 5), (other, 3)])
    with pytest.raises(InsufficientStock) as caught:
        transfer_send(transfer=short)
    assert [line.medicine_id for line in caught.value.lines] == [medicine.pk]
    assert at(other, main) == 9  # all lines or none

    ok = transfer_create(source=main, destination=branch, lines=[(other, 3)])
    transfer_send(transfer=ok)
    with pytest.raises(TransferStateError):
        transfer_send(transfer=ok)
    with pytest.raises(TransferStateError):
        transfer_cancel(transfer=ok)
    assert at(other, main) == 6


def test_a_recalled_lot_can_travel_back_when_named_but_is_never_picked_fefo(places):
    main, branch = places
    medicine = MedicineFactory()
    lot = receive(medicine, 4, location=branch)
    lot_quarantine(lot=lot, reason="Recall notice expected")
    fefo = transfer_create(source=branch, destination=main, lines=[(medicine, 4)])
    with pytest.raises(InsufficientStock):
        transfer_send(transfer=fefo)
    named = transfer_create(source=branch, destination=main, lines=[(medicine, 4, lot)])
    transfer_send(transfer=named)
    transfer_receive(transfer=named)
    lot.refresh_from_db()
    assert (lot.status, lot_at(lot, main), lot_at(lot, branch)) == (LotStatus.QUARANTINED, 4, 0)


def test_a_member_receives_only_at_their_place(places):
    main, branch = places
    medicine = MedicineFactory()
    receive(medicine, 5, location=main)
    transfer = transfer_create(source=main, destination=branch, lines=[(medicine, 2)])
    transfer_send(transfer=transfer)
    at_main = StaffFactory(role=Role.INVENTORY, locations=[main])
    with pytest.raises(LocationForbidden):
        transfer_receive(transfer=transfer, user=at_main)
    at_branch = StaffFactory(role=Role.INVENTORY, locations=[branch])
    transfer_receive(transfer=transfer, user=at_branch)
    assert at(medicine, branch) == 2


@requires_postgres
def test_a_sale_rewrites_its_places_rows_in_place_touching_no_index():
    """HOT updates: no index holds LotStock.quantity, MedicineStock's or the medicine's derived columns (PostgreSQL).

    A sale also moves ``number_sold``, which the popularity order's index holds, so only a receipt or a count
    rewrites the medicine row in place."""
    from django.db import connection

    medicine = MedicineFactory()
    receive(medicine, 10)

    def hot_updates() -> dict[str, tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                "WHERE relname IN ('catalog_lotstock', 'catalog_medicinestock', 'catalog_medicine')"
            )
            return {name: (updated, hot) for name, updated, hot in cursor.fetchall()}

    def assert_hot(before, after, tables):
        for table in tables:
            updated = after[table][0] - before.get(table, (0, 0))[0]
            hot = after[table][1] - before.get(table, (0, 0))[1]
            assert updated >= 1 and hot == updated, (table, updated, hot)

    before = hot_updates()
    stock_dispense(medicine=medicine, quantity=1)
    assert_hot(before, hot_updates(), ("catalog_lotstock", "catalog_medicinestock"))

    # A receipt moves the chain's figures on the wide medicine row: unindexed, they are rewritten in place too.
    before = hot_updates()
    receive(medicine, 5, expires_in_days=30)
    assert_hot(before, hot_updates(), ("catalog_medicine",))


def test_only_a_flip_the_public_can_see_is_announced_as_a_change_of_availability(
    places, django_capture_on_commit_callbacks
):
    from catalog import signals

    main, branch = places
    warehouse = LocationFactory(name="Ombor", code="ombor", kind="warehouse", is_public=False)
    medicine = MedicineFactory()
    receive(medicine, 5, location=main)
    heard = []

    def listener(**kwargs):
        heard.append(kwargs["availability_changed"])

    signals.stock_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            receive(medicine, 5, location=warehouse)  # the chain was in stock already; nobody sees the warehouse
        with django_capture_on_commit_callbacks(execute=True):
            receive(medicine, 5, location=branch)  # a public branch now has it
    finally:
        signals.stock_changed.disconnect(listener)
    assert heard == [False, True]


def test_no_stock_goes_straight_into_transit_or_a_closed_place(places):
    main, branch = places
    medicine = MedicineFactory()
    receive(medicine, 5, location=main)
    branch.is_active = False
    branch.save()
    for place in (transit_location(), branch):
        with pytest.raises(LocationRequired, match="holds no stock"):
            receive(medicine, 3, location=place)
        with pytest.raises(LocationRequired, match="holds no stock"):
            stock_dispense(medicine=medicine, quantity=1, location=place)
    assert not LotStock.objects.filter(location__in=[transit_location(), branch]).exists()
