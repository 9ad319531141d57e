import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import StaffFactory
from catalog import signals
from catalog.exceptions import (
    InsufficientStock,
    InvalidQuantity,
    LotExpired,
    LotMismatch,
    LotStatusError,
    ReasonRequired,
)
from catalog.ledger import all_problems
from catalog.models import Lot, LotStatus, MovementKind, StockMovement
from catalog.stock import (
    lot_quarantine,
    lot_recall,
    lot_receive,
    lot_release,
    lot_update_details,
    lots_expire,
    medicines_refresh_stock,
    stock_adjust,
    stock_dispense,
    stock_dispense_lines,
    stock_return,
    stock_write_off,
)

from .factories import MedicineFactory, days, receive

pytestmark = pytest.mark.django_db


def assert_ledger_balances():
    assert [str(p) for p in all_problems()] == []


# --- receipts -------------------------------------------------------------------


def test_receiving_creates_a_lot_with_a_receipt_movement_and_updates_the_medicine():
    medicine = MedicineFactory()
    user = StaffFactory()

    lot = lot_receive(
        medicine=medicine,
        lot_number="A1",
        expiry_date=days(200),
        quantity=30,
        purchase_price=Decimal("7000"),
        supplier="Grand Pharm",
        user=user,
        reference="INV-1",
    )

    lot.refresh_from_db()
    medicine.refresh_from_db()
    assert lot.quantity == 30 and lot.status == LotStatus.AVAILABLE
    movement = lot.movements.get()
    assert (movement.kind, movement.quantity, movement.balance_after, movement.user, movement.reference) == (
        MovementKind.RECEIPT,
        30,
        30,
        user,
        "INV-1",
    )
    assert medicine.sellable_quantity == 30
    assert medicine.nearest_expiry == days(200)
    assert lot.history.latest().history_user == user
    assert_ledger_balances()


def test_receiving_the_same_lot_number_again_adds_to_that_lot():
    medicine = MedicineFactory()
    receive(medicine, 10, lot_number="B7", expires_in_days=300)

    lot = receive(medicine, 5, lot_number="B7", expires_in_days=300)

    lot.refresh_from_db()
    assert Lot.objects.filter(medicine=medicine).count() == 1
    assert lot.quantity == 15
    assert list(lot.movements.order_by("pk").values_list("balance_after", flat=True)) == [10, 15]
    assert_ledger_balances()


def test_receiving_an_existing_lot_number_with_another_expiry_is_refused():
    medicine = MedicineFactory()
    receive(medicine, 10, lot_number="B7", expires_in_days=300)

    with pytest.raises(LotMismatch):
        receive(medicine, 5, lot_number="B7", expires_in_days=301)
    assert_ledger_balances()


def test_receiving_expired_goods_is_refused():
    medicine = MedicineFactory()
    with pytest.raises(LotExpired):
        receive(medicine, 5, expires_in_days=0)
    assert not Lot.objects.exists()


@pytest.mark.parametrize("quantity", [0, -3, 1.5, True])
def test_receiving_a_quantity_that_is_not_a_positive_whole_number_is_refused(quantity):
    with pytest.raises(InvalidQuantity):
        receive(MedicineFactory(), quantity)


# --- dispensing -------------------------------------------------------------------


def test_dispense_takes_the_lot_that_expires_first():
    medicine = MedicineFactory()
    late = receive(medicine, 10, expires_in_days=400)
    early = receive(medicine, 10, expires_in_days=30)
    middle = receive(medicine, 10, expires_in_days=100)

    movements = stock_dispense(medicine=medicine, quantity=15, reference="ORDER-1")

    assert [(m.lot_id, m.quantity, m.balance_after) for m in movements] == [(early.pk, -10, 0), (middle.pk, -5, 5)]
    for lot in (late, early, middle):
        lot.refresh_from_db()
    assert (early.quantity, middle.quantity, late.quantity) == (0, 5, 10)
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 15
    assert medicine.nearest_expiry == days(100)
    assert medicine.number_sold == 15
    assert set(StockMovement.objects.filter(kind=MovementKind.DISPENSE).values_list("reference", flat=True)) == {
        "ORDER-1"
    }
    assert_ledger_balances()


def test_dispense_never_takes_an_expired_quarantined_or_recalled_lot_nor_one_on_its_expiry_day():
    medicine = MedicineFactory()
    with time_machine.travel(timezone.now() - datetime.timedelta(days=20), tick=False):
        expired = receive(medicine, 10, expires_in_days=10)  # expired ten days ago
        expires_today = receive(medicine, 10, expires_in_days=20)
    quarantined = receive(medicine, 10, expires_in_days=5)
    recalled = receive(medicine, 10, expires_in_days=6)
    good = receive(medicine, 4, expires_in_days=300)
    lot_quarantine(lot=quarantined, reason="Colour looks wrong")
    lot_recall(lot=recalled, reason="Manufacturer recall 12/2026")
    medicines_refresh_stock(medicine_ids=[medicine.pk])

    movements = stock_dispense(medicine=medicine, quantity=4)

    assert [m.lot_id for m in movements] == [good.pk]
    for lot in (expired, expires_today, quarantined, recalled):
        lot.refresh_from_db()
        assert lot.quantity == 10
    assert_ledger_balances()


def test_a_sale_replayed_on_a_past_day_takes_the_lot_that_was_good_that_day():
    medicine = MedicineFactory()
    with time_machine.travel(timezone.now() - datetime.timedelta(days=20), tick=False):
        since_expired = receive(medicine, 10, expires_in_days=10)
    fresh = receive(medicine, 10, expires_in_days=300)

    movements = stock_dispense(medicine=medicine, quantity=4, today=days(-15))

    assert [(m.lot_id, m.quantity) for m in movements] == [(since_expired.pk, -4)]
    medicines_refresh_stock(medicine_ids=[medicine.pk])
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == fresh.quantity == 10
    assert_ledger_balances()


def test_dispensing_more_than_the_sellable_stock_raises_with_the_details_and_writes_nothing():
    medicine = MedicineFactory(name="Nurofen")
    lot = receive(medicine, 3, expires_in_days=90)
    blocked = receive(medicine, 50, expires_in_days=120)
    lot_quarantine(lot=blocked, reason="Temperature excursion")

    with pytest.raises(InsufficientStock) as caught:
        stock_dispense(medicine=medicine, quantity=5)

    [line] = caught.value.lines
    assert (line.medicine_id, line.requested, line.available, line.missing) == (medicine.pk, 5, 3, 2)
    assert caught.value.code == "insufficient_stock"
    assert "Nurofen" in caught.value.message
    lot.refresh_from_db()
    medicine.refresh_from_db()
    assert lot.quantity == 3
    assert medicine.number_sold == 0
    assert not StockMovement.objects.filter(kind=MovementKind.DISPENSE).exists()


def test_dispensing_an_order_checks_every_line_before_writing_any():
    enough = MedicineFactory(name="Enough")
    short_a = MedicineFactory(name="Short A")
    short_b = MedicineFactory(name="Short B")
    receive(enough, 10)
    receive(short_a, 1)

    with pytest.raises(InsufficientStock) as caught:
        stock_dispense_lines(lines=[(enough, 2), (short_a, 2), (short_b, 1)])

    assert sorted((line.medicine_name, line.available) for line in caught.value.lines) == [
        ("Short A", 1),
        ("Short B", 0),
    ]
    enough.refresh_from_db()
    assert enough.sellable_quantity == 10
    assert not StockMovement.objects.filter(kind=MovementKind.DISPENSE).exists()


def test_a_sale_is_recorded_in_the_ledger_with_the_user_reason_and_document_not_in_the_lots_history():
    medicine = MedicineFactory()
    user = StaffFactory()
    lot = receive(medicine, 10)
    versions = lot.history.count()

    stock_dispense(medicine=medicine, quantity=2, user=user, reason="Sold at counter", reference="POS-9")

    row = StockMovement.objects.get(kind=MovementKind.DISPENSE)
    assert (row.lot_id, row.quantity, row.balance_after) == (lot.pk, -2, 8)
    assert (row.user, row.reason, row.reference) == (user, "Sold at counter", "POS-9")
    # The lot itself did not change: its history (status, details, corrections) gets no row per sale.
    assert lot.history.count() == versions
    lot.refresh_from_db()
    assert lot.quantity == 8


# --- corrections -----------------------------------------------------------------


def test_write_off_needs_a_reason_and_cannot_exceed_the_lot():
    medicine = MedicineFactory()
    lot = receive(medicine, 5)

    with pytest.raises(ReasonRequired):
        stock_write_off(lot=lot, quantity=1, reason="  ")
    with pytest.raises(InsufficientStock) as caught:
        stock_write_off(lot=lot, quantity=6, reason="Broken")
    assert caught.value.lines[0].lot_id == lot.pk

    movement = stock_write_off(lot=lot, quantity=2, reason="Broken bottles")

    lot.refresh_from_db()
    medicine.refresh_from_db()
    assert (movement.kind, movement.quantity, movement.balance_after) == (MovementKind.WRITE_OFF, -2, 3)
    assert lot.quantity == 3 and medicine.sellable_quantity == 3
    assert lot.history.latest().history_change_reason == "Broken bottles"
    assert_ledger_balances()


def test_write_off_empties_a_recalled_lot():
    lot = receive(MedicineFactory(), 5)
    lot_recall(lot=lot, reason="Recall")

    stock_write_off(lot=lot, quantity=5, reason="Destroyed under act 17")

    lot.refresh_from_db()
    assert lot.quantity == 0 and lot.status == LotStatus.RECALLED
    assert_ledger_balances()


def test_writing_off_everything_takes_what_the_lot_holds_when_locked_not_what_was_read():
    medicine = MedicineFactory()
    lot = receive(medicine, 5)
    read_earlier = Lot.objects.get(pk=lot.pk)  # an operator's list page, before a sale
    stock_dispense(medicine=medicine, quantity=2)

    movement = stock_write_off(lot=read_earlier, quantity=None, reason="Flood damage")

    lot.refresh_from_db()
    assert movement.quantity == -3 and lot.quantity == 0
    assert read_earlier.quantity == 0
    with pytest.raises(InvalidQuantity):  # nothing left to write off
        stock_write_off(lot=lot, quantity=None, reason="Again")
    assert_ledger_balances()


def test_correcting_a_lots_paperwork_never_writes_back_a_stale_quantity(django_capture_on_commit_callbacks):
    medicine = MedicineFactory()
    lot = receive(medicine, 10, expires_in_days=300)
    form_loaded = Lot.objects.get(pk=lot.pk)  # the change form, read before a sale
    stock_dispense(medicine=medicine, quantity=4)
    sent = []
    signals.stock_changed.connect(lambda **kwargs: sent.append(kwargs["reason"]), weak=False, dispatch_uid="t-corr")

    try:
        with django_capture_on_commit_callbacks(execute=True):
            lot_update_details(
                lot=form_loaded, changes={"supplier": "Grand Pharm", "expiry_date": days(30)}, reason="Typo"
            )
    finally:
        signals.stock_changed.disconnect(dispatch_uid="t-corr")

    lot.refresh_from_db()
    medicine.refresh_from_db()
    assert lot.quantity == 6 and lot.supplier == "Grand Pharm" and lot.expiry_date == days(30)
    assert medicine.sellable_quantity == 6 and medicine.nearest_expiry == days(30)
    assert sent == ["correction"]
    assert lot.history.latest().history_change_reason == "Typo"
    assert_ledger_balances()
    with pytest.raises(ValueError):
        lot_update_details(lot=lot, changes={"quantity": 100})


@pytest.mark.parametrize("changes", [{"expiry_date": days(500)}, {"lot_number": "NEW-1"}], ids=["expiry", "number"])
def test_a_lots_expiry_or_number_is_not_corrected_without_a_reason(changes):
    lot = receive(MedicineFactory(), 10, expires_in_days=300)
    before = Lot.objects.values("lot_number", "expiry_date").get(pk=lot.pk)

    with pytest.raises(ReasonRequired):
        lot_update_details(lot=lot, changes=changes, reason="  ")

    assert Lot.objects.values("lot_number", "expiry_date").get(pk=lot.pk) == before


def test_a_stocktake_count_becomes_one_adjustment_movement():
    medicine = MedicineFactory()
    lot = receive(medicine, 10)

    down = stock_adjust(lot=lot, counted_quantity=7, reason="Count 2026-11")
    same = stock_adjust(lot=lot, counted_quantity=7)
    up = stock_adjust(lot=lot, counted_quantity=9)

    lot.refresh_from_db()
    medicine.refresh_from_db()
    assert (down.quantity, down.balance_after) == (-3, 7)
    assert same is None
    assert (up.quantity, up.balance_after, up.reason) == (2, 9, "Stocktake")
    assert lot.quantity == 9 and medicine.sellable_quantity == 9
    assert_ledger_balances()


def test_a_stocktake_cannot_count_below_zero():
    with pytest.raises(InvalidQuantity):
        stock_adjust(lot=receive(MedicineFactory(), 1), counted_quantity=-1)


def test_a_return_goes_back_into_its_lot_and_out_of_number_sold():
    medicine = MedicineFactory()
    lot = receive(medicine, 10)
    stock_dispense(medicine=medicine, quantity=4)

    movement = stock_return(lot=lot, quantity=1, reference="ORDER-5", reason="Wrong item")

    lot.refresh_from_db()
    medicine.refresh_from_db()
    assert (movement.kind, movement.quantity, movement.balance_after) == (MovementKind.RETURN, 1, 7)
    assert medicine.number_sold == 3 and medicine.sellable_quantity == 7
    assert_ledger_balances()


# --- lot status -------------------------------------------------------------------


def test_quarantine_hides_the_stock_and_release_brings_it_back():
    medicine = MedicineFactory()
    user = StaffFactory()
    lot = receive(medicine, 10)

    lot_quarantine(lot=lot, reason="Suspected counterfeit", user=user)
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 0 and medicine.nearest_expiry is None
    lot.refresh_from_db()
    assert lot.status == LotStatus.QUARANTINED and lot.status_reason == "Suspected counterfeit"
    assert lot.history.latest().history_user == user

    lot_release(lot=lot, reason="Lab says genuine")
    medicine.refresh_from_db()
    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE and medicine.sellable_quantity == 10
    assert_ledger_balances()


def test_a_quarantined_lot_that_expired_meanwhile_is_released_as_expired():
    lot = receive(MedicineFactory(), 10, expires_in_days=5)
    lot_quarantine(lot=lot, reason="Check")

    with time_machine.travel(timezone.now() + datetime.timedelta(days=6), tick=False):
        lot_release(lot=lot, reason="Checked")

    lot.refresh_from_db()
    assert lot.status == LotStatus.EXPIRED


def test_only_an_available_lot_can_be_quarantined_and_only_a_quarantined_one_released():
    lot = receive(MedicineFactory(), 10)
    with pytest.raises(LotStatusError):
        lot_release(lot=lot, reason="Nothing to release")
    lot_recall(lot=lot, reason="Recall")
    with pytest.raises(LotStatusError):
        lot_quarantine(lot=lot, reason="Too late")
    with pytest.raises(ReasonRequired):
        lot_recall(lot=lot, reason="")


def test_recall_blocks_the_lot_and_reports_where_its_stock_went():
    medicine = MedicineFactory()
    lot = receive(medicine, 20, expires_in_days=50)
    other = receive(medicine, 20, expires_in_days=300)
    stock_dispense(medicine=medicine, quantity=5, reference="ORDER-1")
    stock_dispense(medicine=medicine, quantity=3, reference="ORDER-2")
    stock_return(lot=lot, quantity=1, reference="ORDER-2")
    stock_write_off(lot=lot, quantity=2, reason="Damaged")

    report = lot_recall(lot=lot, reason="Manufacturer recall notice 44")

    lot.refresh_from_db()
    medicine.refresh_from_db()
    assert lot.status == LotStatus.RECALLED
    assert medicine.sellable_quantity == other.quantity == 20
    assert report.received == 20
    assert report.dispensed_quantity == 8 and report.returned_quantity == 1 and report.outstanding == 7
    assert report.written_off_quantity == 2
    assert report.on_hand == 11
    assert report.references == ["ORDER-1", "ORDER-2"]
    assert [m.quantity for m in report.dispensed] == [-5, -3]
    assert not report.already_recalled
    assert lot_recall(lot=lot, reason="Again").already_recalled
    assert_ledger_balances()


def test_recall_signal_is_sent_only_after_commit(django_capture_on_commit_callbacks):
    lot = receive(MedicineFactory(), 5)
    received = []

    def receiver(sender, lot, report, **kwargs):
        received.append((lot.pk, report.on_hand))

    signals.lot_recalled.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            lot_recall(lot=lot, reason="Recall")
        assert received == []
        for callback in callbacks:
            callback()
        assert received == [(lot.pk, 5)]
    finally:
        signals.lot_recalled.disconnect(receiver)


def test_a_failed_service_rolls_back_everything_it_wrote():
    medicine = MedicineFactory()
    receive(medicine, 2)
    with pytest.raises(InsufficientStock), transaction.atomic():
        stock_dispense(medicine=medicine, quantity=1)
        stock_dispense(medicine=medicine, quantity=5)
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 2 and medicine.number_sold == 0


# --- the daily sweep -----------------------------------------------------------------


def test_the_expiry_sweep_marks_lots_on_their_expiry_day_and_refreshes_the_medicine():
    medicine = MedicineFactory()
    soon = receive(medicine, 10, expires_in_days=3)
    later = receive(medicine, 5, expires_in_days=30)
    recalled = receive(medicine, 5, expires_in_days=2)
    lot_recall(lot=recalled, reason="Recall")

    with time_machine.travel(timezone.now() + datetime.timedelta(days=3), tick=False):
        assert lots_expire() == 1
        assert lots_expire() == 0
        assert_ledger_balances()

    soon.refresh_from_db()
    recalled.refresh_from_db()
    later.refresh_from_db()
    medicine.refresh_from_db()
    assert soon.status == LotStatus.EXPIRED and soon.quantity == 10
    assert recalled.status == LotStatus.RECALLED
    assert later.status == LotStatus.AVAILABLE
    assert medicine.sellable_quantity == 5 and medicine.nearest_expiry == days(30)
    assert soon.history.latest().history_change_reason == "expiry"


def test_stock_changed_says_whether_a_medicine_went_in_or_out_of_stock(django_capture_on_commit_callbacks):
    medicine = MedicineFactory()
    said = []

    def listen(sender, medicine_ids, reason, availability_changed, **kwargs):
        said.append((reason, availability_changed))

    signals.stock_changed.connect(listen, weak=False, dispatch_uid="t-availability")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            lot = receive(medicine, 5)  # 0 -> 5
        with django_capture_on_commit_callbacks(execute=True):
            stock_dispense(medicine=medicine, quantity=2)  # 5 -> 3
        with django_capture_on_commit_callbacks(execute=True):
            lot_quarantine(lot=lot, reason="Check")  # 3 -> 0 sellable
        with django_capture_on_commit_callbacks(execute=True):
            stock_write_off(lot=lot, quantity=1, reason="Broken")  # quarantined: still 0 sellable
    finally:
        signals.stock_changed.disconnect(dispatch_uid="t-availability")

    assert said == [("receipt", True), ("dispense", False), ("quarantine", True), ("write_off", False)]
