"""Returns: units back on the shelf (resaleable) or into the place's quarantine, money back by the way it came, in the
returning cashier's open shift; the period, the prescription rule and the quantities hold."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.exceptions import InsufficientStock
from catalog.ledger import all_problems
from catalog.models import LocationKind, LotStatus, LotStock, MovementKind, StockMovement
from catalog.stock import stock_write_off
from catalog.tests.factories import MedicineFactory, main_location, receive
from orders import exceptions, services
from orders.models import LineLot, Return, ReturnLine
from orders.tests.factories import card, cash, cashier, open_shift, sell
from payments.models import Refund

pytestmark = pytest.mark.django_db


def _return(order, shift, *items, reason="Customer changed their mind", now=None):
    return services.order_return(
        order=order,
        items=[
            services.ReturnItem(line_id=order.lines.get(medicine=medicine).pk, quantity=quantity, resaleable=resaleable)
            for medicine, quantity, resaleable in items
        ],
        reason=reason,
        shift=shift,
        user=shift.cashier,
        now=now,
    )


def _at_main(lot) -> int:
    return LotStock.objects.get(lot=lot, location=main_location()).quantity


def test_resaleable_units_go_back_to_their_lot_and_money_back_by_the_original_method_in_todays_shift():
    medicine = MedicineFactory(price=Decimal("8000"))
    lot = receive(medicine, 10)
    monday = open_shift()
    order = sell(monday, (medicine, 3), payments=[card("24000")])
    services.shift_close(shift=monday, user=monday.cashier, counted_cash=Decimal("100000"))
    tuesday = open_shift(monday.cashier)

    return_doc = _return(order, tuesday, (medicine, 2, True))

    assert return_doc.shift == tuesday
    assert return_doc.amount == Decimal("16000.00")
    assert _at_main(lot) == 9
    lot.refresh_from_db()
    assert lot.quantity == 9
    medicine.refresh_from_db()
    assert medicine.number_sold == 1
    assert medicine.sellable_quantity == 9
    [movement] = StockMovement.objects.filter(reference=return_doc.number)
    assert (movement.kind, movement.lot_id, movement.quantity) == (MovementKind.RETURN, lot.pk, 2)
    [refund] = Refund.objects.filter(return_doc=return_doc)
    assert (refund.method, refund.amount, refund.shift) == ("card", Decimal("16000.00"), tuesday)
    assert LineLot.objects.get(line__order=order).returned_quantity == 2
    assert order.lines.get().returned_quantity == 2
    assert [str(p) for p in all_problems()] == []


def test_units_not_resaleable_go_into_the_places_quarantine_never_on_sale_and_the_lot_stays_available():
    medicine = MedicineFactory(price=Decimal("8000"))
    lot = receive(medicine, 10)
    shift = open_shift()
    order = sell(shift, (medicine, 3))

    return_doc = _return(order, shift, (medicine, 1, False), reason="Box crushed")

    [movement] = StockMovement.objects.filter(reference=return_doc.number).select_related("location")
    quarantine = main_location().quarantine
    assert (movement.kind, movement.quantity, movement.location) == (MovementKind.RETURN, 1, quarantine)
    assert quarantine.kind == LocationKind.QUARANTINE and not quarantine.is_public
    assert "Box crushed" in movement.reason
    assert _at_main(lot) == 7  # never on the shelf again
    assert LotStock.objects.get(lot=lot, location=quarantine).quantity == 1
    lot.refresh_from_db()
    assert lot.quantity == 8 and lot.status == LotStatus.AVAILABLE  # the batch's other units still sell
    medicine.refresh_from_db()
    assert medicine.number_sold == 2
    assert medicine.sellable_quantity == 7
    assert ReturnLine.objects.get(return_doc=return_doc).resaleable is False
    [refund] = Refund.objects.filter(return_doc=return_doc)
    assert (refund.method, refund.amount) == ("cash", Decimal("8000.00"))
    assert [str(p) for p in all_problems()] == []

    # What is set aside is sold nowhere: the next sale of all that is on the shelf leaves it there.
    sell(shift, (medicine, 7))
    with pytest.raises(InsufficientStock):
        sell(shift, (medicine, 1))
    assert LotStock.objects.get(lot=lot, location=quarantine).quantity == 1

    # From the quarantine it is written off, by the stock core, like any stock at a place.
    stock_write_off(lot=lot, quantity=1, location=quarantine, user=shift.cashier, reason="Destroyed")
    assert LotStock.objects.get(lot=lot, location=quarantine).quantity == 0
    assert [str(p) for p in all_problems()] == []


def test_a_split_sale_is_refunded_last_payment_first_and_a_full_return_refunds_exactly_the_total():
    medicine = MedicineFactory(price=Decimal("10000"))
    receive(medicine, 10)
    shift = open_shift()
    order = services.counter_sale_complete(
        shift=shift,
        lines=[services.SaleLine(medicine_id=medicine.pk, quantity=3, discount=Decimal("1000"))],
        payments_in=[card("20000"), cash("9000")],
        user=shift.cashier,
    )

    first = _return(order, shift, (medicine, 1, True))
    second = _return(order, shift, (medicine, 2, True))

    assert first.amount == Decimal("9666.67")
    assert first.amount + second.amount == order.total == Decimal("29000.00")
    refunds = {(r.return_doc_id, r.method): r.amount for r in Refund.objects.all()}
    assert refunds == {
        (first.pk, "cash"): Decimal("9000.00"),
        (first.pk, "card"): Decimal("666.67"),
        (second.pk, "card"): Decimal("19333.33"),
    }


def test_a_return_after_the_period_is_refused_and_writes_nothing(settings):
    settings.ORDERS_RETURN_DAYS = 14
    medicine = MedicineFactory()
    receive(medicine, 5)
    shift = open_shift()
    order = sell(shift, (medicine, 1))

    with pytest.raises(exceptions.ReturnPeriodOver):
        _return(order, shift, (medicine, 1, True), now=order.completed_at + datetime.timedelta(days=14))
    assert not Return.objects.exists()
    assert not StockMovement.objects.filter(kind=MovementKind.RETURN).exists()

    within = _return(order, shift, (medicine, 1, True), now=order.completed_at + datetime.timedelta(days=13))
    assert within.amount == order.total


@pytest.mark.parametrize("kind", ["is_prescription", "is_controlled"])
def test_a_prescription_or_controlled_return_is_refused_unless_the_setting_allows_it(settings, kind):
    medicine = MedicineFactory(price=Decimal("4000"), **{kind: True})
    plain = MedicineFactory(price=Decimal("1000"))
    receive(medicine, 5)
    receive(plain, 5)
    pharmacist = cashier()
    shift = open_shift(pharmacist)
    prescription = services.PrescriptionIn("Dr Rahimova", "RX-7", timezone.localdate(), "B. Tursunov")
    order = sell(shift, (medicine, 1), (plain, 1), prescription=prescription, controlled_confirmed_by=pharmacist)

    settings.ORDERS_RX_RETURNS_ALLOWED = False
    with pytest.raises(exceptions.ReturnPrescriptionRefused):
        _return(order, shift, (plain, 1, True), (medicine, 1, True))
    assert not Return.objects.exists()

    settings.ORDERS_RX_RETURNS_ALLOWED = True
    return_doc = _return(order, shift, (medicine, 1, True))
    assert return_doc.amount == Decimal("4000.00")


def test_returning_more_than_was_sold_is_refused():
    medicine = MedicineFactory()
    receive(medicine, 5)
    shift = open_shift()
    order = sell(shift, (medicine, 3))

    with pytest.raises(exceptions.ReturnTooMany):
        _return(order, shift, (medicine, 4, True))
    _return(order, shift, (medicine, 2, True))
    with pytest.raises(exceptions.ReturnTooMany) as refused:
        _return(order, shift, (medicine, 2, True))
    assert refused.value.params["returnable"] == "1 pack"
    assert refused.value.message == f"Only 1 pack of {medicine.name} can still be returned from this sale."
    assert Return.objects.count() == 1


def test_a_return_needs_an_open_shift_at_the_place_of_the_sale_and_a_reason():
    medicine = MedicineFactory()
    receive(medicine, 5)
    shift = open_shift()
    order = sell(shift, (medicine, 2))

    with pytest.raises(exceptions.ReturnReasonRequired):
        _return(order, shift, (medicine, 1, True), reason="  ")
    services.shift_close(shift=shift, user=shift.cashier, counted_cash=Decimal("0"))
    with pytest.raises(exceptions.ShiftClosed):
        _return(order, shift, (medicine, 1, True))
    assert not Return.objects.exists()
