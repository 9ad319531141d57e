"""The stock core's bulk services write what the one-lot services write, refuse what they refuse, and say so once."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.roles import Role
from catalog import signals
from catalog.exceptions import (
    CountOvertaken,
    CountSuperseded,
    LinesRefused,
    LocationForbidden,
    LotExpired,
    LotStatusError,
)
from catalog.ledger import all_problems
from catalog.models import (
    ActiveSubstance,
    Lot,
    LotStatus,
    LotStock,
    Medicine,
    MedicineStock,
    MovementKind,
    StockMovement,
)
from catalog.stock import (
    CountBasis,
    OpeningLot,
    ReceiptLine,
    StockCount,
    lot_recall,
    lots_load_bulk,
    lots_receive_bulk,
    stock_count_bulk,
    stock_dispense,
)
from catalog.stock.bulk import last_adjustments
from catalog.tests.factories import (
    CategoryFactory,
    LocationFactory,
    ManufacturerFactory,
    MedicineFactory,
    days,
    main_location,
    receive,
)
from conftest import requires_postgres

pytestmark = pytest.mark.django_db


def line(medicine, lot_number="L1", quantity=5, expires_in=300, ref=None, **extra) -> ReceiptLine:
    return ReceiptLine(
        medicine_id=medicine.pk,
        lot_number=lot_number,
        expiry_date=days(expires_in),
        quantity=quantity,
        purchase_price=Decimal("1000"),
        ref=ref,
        **extra,
    )


def stock_at(lot, location) -> int:
    return LotStock.objects.filter(lot=lot, location=location).values_list("quantity", flat=True).first() or 0


# --- Receipts ----------------------------------------------------------------------------------------


def test_a_bulk_receipt_writes_lots_stock_there_history_and_one_movement_per_line(make_staff):
    user = make_staff(Role.INVENTORY)
    place = main_location()
    first, second = MedicineFactory(), MedicineFactory()
    existing = receive(first, 4, lot_number="OLD", expires_in_days=300)

    flips = lots_receive_bulk(
        location=place,
        lines=[line(first, "OLD", 6, ref=2), line(first, "NEW", 3, ref=3), line(second, "NEW", 7, ref=4)],
        user=user,
        reference="delivery-1",
    )

    existing.refresh_from_db()
    assert (existing.quantity, stock_at(existing, place)) == (10, 10)
    assert existing.history.first().history_user == user
    new = Lot.objects.get(medicine=second, lot_number="NEW")
    assert (new.quantity, stock_at(new, place), new.history.get().history_change_reason) == (7, 7, "receipt")
    rows = StockMovement.objects.filter(reference="delivery-1").order_by("pk")
    assert [(m.kind, m.quantity, m.balance_after, m.location_id) for m in rows][-1] == (
        MovementKind.RECEIPT,
        7,
        7,
        place.pk,
    )
    assert rows.count() == 3
    assert flips.chain == {second.pk}  # the first medicine was in stock already
    assert flips.places == {(second.pk, place.pk)}
    assert all_problems() == []


def test_every_refused_line_is_reported_together_and_nothing_is_written():
    medicine = MedicineFactory()
    lot_recall(lot=receive(medicine, 4, lot_number="GONE"), reason="recall notice")
    before = (Lot.objects.count(), StockMovement.objects.count())

    with pytest.raises(LinesRefused) as refused:
        lots_receive_bulk(
            location=main_location(),
            lines=[
                line(medicine, "OK", 5, ref=2),
                line(medicine, "OLD", 5, expires_in=-1, ref=3),
                line(medicine, "ZERO", 0, ref=4),
                line(medicine, "GONE", 1, expires_in=365, ref=5),
            ],
        )

    # Every line's own checks first (all of them); the lots in the books are read once those pass.
    assert [(r.ref, type(r.error).__name__) for r in refused.value.lines] == [
        (3, "LotExpired"),
        (4, "InvalidQuantity"),
    ]
    assert (Lot.objects.count(), StockMovement.objects.count()) == before


def test_a_receipt_into_a_recalled_lot_is_refused_with_the_services_error():
    medicine = MedicineFactory()
    lot = receive(medicine, 4, lot_number="GONE", expires_in_days=365)
    lot_recall(lot=lot, reason="recall notice")

    with pytest.raises(LinesRefused) as refused:
        lots_receive_bulk(location=main_location(), lines=[line(medicine, "GONE", 1, expires_in=365, ref=7)])

    assert [(r.ref, type(r.error)) for r in refused.value.lines] == [(7, LotStatusError)]


def test_a_member_receives_only_where_they_work(make_staff):
    elsewhere = LocationFactory()
    user = make_staff(Role.INVENTORY)  # the main pharmacy

    with pytest.raises(LocationForbidden):
        lots_receive_bulk(location=elsewhere, lines=[line(MedicineFactory())], user=user)
    assert not Lot.objects.exists()


def test_the_change_is_announced_once_after_commit(django_capture_on_commit_callbacks):
    medicine = MedicineFactory()
    heard = []

    def listen(sender, **kwargs):
        heard.append(kwargs)

    signals.stock_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            lots_receive_bulk(location=main_location(), lines=[line(medicine, "A"), line(medicine, "B")])
    finally:
        signals.stock_changed.disconnect(listen)

    assert [(h["medicine_ids"], h["reason"], h["availability_changed"]) for h in heard] == [
        ([medicine.pk], "receipt", True)
    ]


def test_a_receipt_at_one_place_recomputes_that_place_and_the_chain_only():
    here, there = main_location(), LocationFactory()
    medicine = MedicineFactory()
    receive(medicine, 5, lot_number="T", location=there)
    # A stale row elsewhere is not this receipt's business (the daily sweep and a full refresh repair it).
    MedicineStock.objects.filter(medicine=medicine, location=there).update(sellable_quantity=99)

    lots_receive_bulk(location=here, lines=[line(medicine, "H", 3)])

    assert MedicineStock.objects.get(medicine=medicine, location=here).sellable_quantity == 3
    assert MedicineStock.objects.get(medicine=medicine, location=there).sellable_quantity == 99
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 102  # the chain sums the places' rows


# --- Counts --------------------------------------------------------------------------------------------


def test_a_bulk_count_sets_the_stock_there_and_leaves_a_matching_lot_alone(make_staff):
    user = make_staff(Role.INVENTORY)
    place, other = main_location(), LocationFactory()
    medicine = MedicineFactory()
    short, exact = receive(medicine, 10, lot_number="S"), receive(medicine, 4, lot_number="E")
    receive(medicine, 3, lot_number="S", location=other)

    stock_count_bulk(
        location=place, counts=[StockCount(short.pk, 7), StockCount(exact.pk, 4)], user=user, reference="count-1"
    )

    short.refresh_from_db()
    assert (short.quantity, stock_at(short, place), stock_at(short, other)) == (10, 7, 3)
    adjustment = StockMovement.objects.get(kind=MovementKind.ADJUSTMENT)
    assert (adjustment.lot, adjustment.quantity, adjustment.balance_after, adjustment.user) == (short, -3, 7, user)
    assert short.history.first().history_user == user
    assert all_problems() == []


def test_a_count_with_its_basis_keeps_the_sales_since_and_refuses_a_recount_there():
    place = main_location()
    medicine = MedicineFactory()
    lot = receive(medicine, 20, lot_number="L1")
    basis = CountBasis(book_quantity=20, last_adjustment_id=last_adjustments([lot.pk], place.pk).get(lot.pk))
    stock_dispense(medicine=medicine, quantity=2, location=place)

    stock_count_bulk(location=place, counts=[StockCount(lot.pk, 18, basis)])  # 2 missing, 2 sold: 16 left

    assert stock_at(lot, place) == 16
    with pytest.raises(LinesRefused) as refused:
        stock_count_bulk(location=place, counts=[StockCount(lot.pk, 18, basis, ref="again")])
    assert [(r.ref, type(r.error)) for r in refused.value.lines] == [("again", CountSuperseded)]
    assert stock_at(lot, place) == 16


def test_a_count_overtaken_by_sales_is_refused():
    place = main_location()
    medicine = MedicineFactory()
    lot = receive(medicine, 10, lot_number="L1")
    stock_dispense(medicine=medicine, quantity=9, location=place)

    with pytest.raises(LinesRefused) as refused:
        stock_count_bulk(location=place, counts=[StockCount(lot.pk, 2, CountBasis(10, None))])

    assert isinstance(refused.value.lines[0].error, CountOvertaken)
    assert "held 10 when counted and holds 1 now" in refused.value.lines[0].error.message


def test_a_lot_counted_twice_in_one_go_is_refused():
    lot = receive(MedicineFactory(), 10)

    with pytest.raises(LinesRefused):
        stock_count_bulk(location=main_location(), counts=[StockCount(lot.pk, 2), StockCount(lot.pk, 3)])


# --- Opening load ----------------------------------------------------------------------------------------


def test_an_opening_load_puts_each_lot_at_its_places_with_its_status_and_dated_receipts():
    warehouse, branch = main_location(), LocationFactory()
    medicine = MedicineFactory()
    today = timezone.localdate()
    opened = [
        OpeningLot(
            medicine_id=medicine.pk,
            lot_number="A1",
            expiry_date=today + datetime.timedelta(days=200),
            received_date=today - datetime.timedelta(days=30),
            purchase_price=Decimal("900"),
            stocks={warehouse.pk: 40, branch.pk: 6},
        ),
        OpeningLot(
            medicine_id=medicine.pk,
            lot_number="X1",
            expiry_date=today - datetime.timedelta(days=3),
            received_date=today - datetime.timedelta(days=400),
            purchase_price=Decimal("900"),
            stocks={branch.pk: 2},
            status=LotStatus.EXPIRED,
            status_reason="on the shelf, awaiting write-off",
        ),
    ]

    flips = lots_load_bulk(lots=opened, receipt_time=datetime.time(10, 0))

    a1 = Lot.objects.get(lot_number="A1")
    assert (a1.quantity, stock_at(a1, warehouse), stock_at(a1, branch)) == (46, 40, 6)
    assert Lot.objects.get(lot_number="X1").status == LotStatus.EXPIRED
    assert StockMovement.objects.count() == 3
    first = StockMovement.objects.filter(lot=a1).first()
    assert timezone.localtime(first.created_at).date() == a1.received_date
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 46  # the expired lot is not sellable
    assert flips.chain == {medicine.pk}
    assert all_problems() == []


def test_an_opening_load_refuses_an_available_lot_past_its_expiry():
    medicine = MedicineFactory()
    today = timezone.localdate()
    stale = OpeningLot(
        medicine_id=medicine.pk,
        lot_number="OLD",
        expiry_date=today,
        received_date=today - datetime.timedelta(days=300),
        purchase_price=Decimal("1"),
        stocks={main_location().pk: 1},
    )

    with pytest.raises(LinesRefused) as refused:
        lots_load_bulk(lots=[stale])

    assert isinstance(refused.value.lines[0].error, LotExpired)
    assert not Lot.objects.exists()


# --- The one COPY writer ----------------------------------------------------------------------------------


@requires_postgres
def test_copy_prepares_each_value_as_bulk_create_does(monkeypatch):
    from catalog.stock import copy

    written = {}
    for name, use_copy in (("Copycillin", True), ("Ormicillin", False)):
        monkeypatch.setattr(copy, "USE_COPY", use_copy)
        substance = ActiveSubstance(inn_name=name, name_ru="Тест", atc_codes=["J01CA04", "J01CR02"])
        copy.insert_objects([substance])
        assert substance.pk is not None
        written[use_copy] = ActiveSubstance.objects.filter(pk=substance.pk).values("atc_codes", "name_ru").get()

    assert written[True] == written[False] == {"atc_codes": ["J01CA04", "J01CR02"], "name_ru": "Тест"}
    monkeypatch.setattr(copy, "USE_COPY", True)
    medicine = MedicineFactory.build(category=CategoryFactory(), manufacturer=ManufacturerFactory())
    medicine.price = Decimal("12500.50")
    copy.insert_objects([medicine])
    stored = Medicine.objects.get(pk=medicine.pk)
    assert (stored.price, stored.created_at is not None, stored.updated_at is not None) == (
        Decimal("12500.50"),
        True,
        True,
    )
