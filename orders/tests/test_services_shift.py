"""Closing a shift: the cash the drawer should hold, the difference counted, a Z-report that is the sum of
the shift's own documents, and nothing sold or returned in a closed shift."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from catalog.tests.factories import MedicineFactory, receive
from orders import exceptions, services
from orders.models import Order, Return, ShiftState
from orders.selectors import shift_figures, shift_vat_by_rate
from orders.tests.factories import card, cash, open_shift, sell
from payments.models import Payment, Refund

pytestmark = pytest.mark.django_db


def _day(shift):
    """Three sales (cash, card, split) and two returns (cash back, card back) in ``shift``."""
    taxed = MedicineFactory(price=Decimal("11200"))
    exempt = MedicineFactory(price=Decimal("3000"), vat_rate=Decimal("0"))
    receive(taxed, 50)
    receive(exempt, 50)
    in_cash = sell(shift, (taxed, 2))  # 22 400
    by_card = sell(shift, (taxed, 1), (exempt, 2), payments=[card("17200")])
    split = services.counter_sale_complete(
        shift=shift,
        lines=[
            services.SaleLine(medicine_id=taxed.pk, quantity=3, discount=Decimal("600")),
            services.SaleLine(medicine_id=exempt.pk, quantity=1),
        ],
        payments_in=[card("20000"), cash("16000", tendered="20000")],  # 33 600 − 600 + 3 000
        user=shift.cashier,
    )
    for order, medicine, quantity in ((in_cash, taxed, 1), (by_card, exempt, 2)):
        services.order_return(
            order=order,
            items=[services.ReturnItem(order.lines.get(medicine=medicine).pk, quantity, resaleable=True)],
            reason="Not needed",
            shift=shift,
            user=shift.cashier,
        )
    return [in_cash, by_card, split]


def test_the_expected_cash_is_opening_plus_cash_sales_less_cash_refunds_and_the_difference_is_kept():
    shift = open_shift(opening_cash="50000")
    _day(shift)

    closed = services.shift_close(shift=shift, user=shift.cashier, counted_cash=Decimal("77000"))

    # 50 000 + 22 400 (cash sale) + 16 000 (cash part of the split) − 11 200 (cash back).
    assert closed.expected_cash == Decimal("77200.00")
    assert closed.counted_cash == Decimal("77000")
    assert closed.cash_difference == Decimal("-200.00")
    closed.refresh_from_db()
    assert closed.state == ShiftState.CLOSED
    assert closed.closed_by == shift.cashier
    assert closed.z_report["expected_cash"] == "77200.00"
    assert closed.z_report["cash_difference"] == "-200.00"


def test_the_z_report_is_the_sum_of_the_shifts_documents():
    shift = open_shift()
    other = open_shift()  # another cashier's sales are not in this shift's report
    _day(other)
    orders = _day(shift)

    services.shift_close(shift=shift, user=shift.cashier, counted_cash=Decimal("0"))
    shift.refresh_from_db()
    report = shift.z_report

    assert report["sales_count"] == len(orders) == 3
    sums = Order.objects.filter(shift=shift).aggregate(
        total=Sum("total"), vat=Sum("vat_total"), disc=Sum("discount_total")
    )
    assert Decimal(report["sales_total"]) == sums["total"] == Decimal("75600.00")
    assert Decimal(report["vat_total"]) == sums["vat"]
    assert Decimal(report["discounts"]) == sums["disc"] == Decimal("600.00")
    assert report["returns_count"] == Return.objects.filter(shift=shift).count() == 2
    assert Decimal(report["returns_total"]) == Return.objects.filter(shift=shift).aggregate(t=Sum("amount"))["t"]
    for method in ("cash", "card"):
        paid = Payment.objects.filter(shift=shift, method=method).aggregate(t=Sum("amount"))["t"]
        back = Refund.objects.filter(shift=shift, method=method).aggregate(t=Sum("amount"))["t"]
        assert Decimal(report["paid_by_method"][method]) == paid
        assert Decimal(report["refunded_by_method"][method]) == back
    by_rate = {row["rate"]: row for row in report["vat_by_rate"]}
    assert set(by_rate) == {"12.00", "0.00"}
    assert sum(Decimal(row["sales"]) for row in by_rate.values()) == sums["total"]
    assert sum(Decimal(row["sales_vat"]) for row in by_rate.values()) == sums["vat"]
    assert sum(Decimal(row["returns"]) for row in by_rate.values()) == Decimal(report["returns_total"])
    assert sum(Decimal(row["returns_vat"]) for row in by_rate.values()) == Decimal(report["returns_vat"])
    assert Decimal(by_rate["0.00"]["sales_vat"]) == 0


def test_the_live_figures_and_the_kept_report_agree():
    shift = open_shift()
    _day(shift)
    live = shift_figures(shift).as_json()
    rates = [rate.as_json() for rate in shift_vat_by_rate(shift)]

    services.shift_close(shift=shift, user=shift.cashier, counted_cash=Decimal("1"))
    shift.refresh_from_db()

    for key in ("sales_total", "returns_total", "vat_total", "returns_vat", "paid_by_method", "expected_cash"):
        assert shift.z_report[key] == live[key]
    assert shift.z_report["vat_by_rate"] == rates


def test_nothing_is_sold_or_returned_in_a_closed_shift_and_it_closes_once():
    medicine = MedicineFactory()
    receive(medicine, 5)
    shift = open_shift()
    order = sell(shift, (medicine, 1))
    services.shift_close(shift=shift, user=shift.cashier, counted_cash=Decimal("0"))

    with pytest.raises(exceptions.ShiftClosed):
        sell(shift, (medicine, 1))
    with pytest.raises(exceptions.ShiftClosed):
        services.order_return(
            order=order,
            items=[services.ReturnItem(order.lines.get().pk, 1, resaleable=True)],
            reason="x",
            shift=shift,
            user=shift.cashier,
        )
    with pytest.raises(exceptions.ShiftClosed):
        services.shift_close(shift=shift, user=shift.cashier, counted_cash=Decimal("0"))
    assert Order.objects.count() == 1


def test_another_cashiers_shift_is_closed_only_with_close_any_shift():
    shift = open_shift()
    colleague = StaffFactory(role=Role.PHARMACIST)
    with pytest.raises(exceptions.NotAllowed):
        services.shift_close(shift=shift, user=colleague, counted_cash=Decimal("0"))
    shift.refresh_from_db()
    assert shift.is_open

    owner = StaffFactory(role=Role.ADMIN)
    closed = services.shift_close(shift=shift, user=owner, counted_cash=Decimal("0"))
    assert closed.closed_by == owner


def test_a_negative_or_unreadable_count_is_refused():
    shift = open_shift()
    for bad in ("-1", "abc", "1.001"):
        with pytest.raises(exceptions.InvalidAmount):
            services.shift_close(shift=shift, user=shift.cashier, counted_cash=bad)
    shift.refresh_from_db()
    assert shift.is_open
