"""The demo's sales (``orders.demo``): made at each branch's till through the sales services.

``manage.py load_demo`` loads the catalogue and stock story and then sells; that runs once for this module
(inside a transaction rolled back at the end) and each test reads the result.
"""

import datetime
import io
from collections import defaultdict
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from accounts.roles import Role
from catalog.ledger import all_problems
from catalog.models import Location, LocationKind, Medicine, MovementKind, StockMovement
from orders.demo import demo_sales_replay
from orders.models import ControlledEntry, LineLot, Order, OrderLine, Prescription, Return, Shift, ShiftState
from payments.models import Method, Payment, Refund


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        with transaction.atomic():
            out = io.StringIO()
            call_command("load_demo", stdout=out, stderr=io.StringIO())
            yield out.getvalue()
            transaction.set_rollback(True)


def branches() -> list[Location]:
    return list(Location.objects.filter(kind=LocationKind.BRANCH).order_by("code"))


def test_each_branch_s_pharmacist_sells_at_their_own_till(demo, db):
    assert "Demo sales at the counter" in demo
    for branch in branches():
        shifts = list(Shift.objects.filter(location=branch).order_by("pk"))
        assert [s.state for s in shifts] == [ShiftState.CLOSED, ShiftState.OPEN]
        cashier = shifts[0].cashier
        assert cashier.role == Role.PHARMACIST and branch in cashier.locations.all()
        assert {s.cashier_id for s in shifts} == {cashier.pk}
        orders = Order.objects.filter(location=branch)
        assert orders.count() >= 50
        assert set(orders.values_list("cashier", flat=True)) == {cashier.pk}
        assert set(orders.values_list("shift__location", flat=True)) == {branch.pk}
    assert not Order.objects.filter(location__kind=LocationKind.WAREHOUSE).exists()


def test_every_sale_is_paid_exactly_and_its_stock_left_under_its_number(demo, db):
    paid = dict(Payment.objects.values("order").annotate(total=Sum("amount")).values_list("order", "total"))
    taken = defaultdict(int)
    for reference, quantity in StockMovement.objects.filter(kind=MovementKind.DISPENSE).values_list(
        "reference", "quantity"
    ):
        taken[reference] -= quantity
    sold = dict(
        OrderLine.objects.values("order__number").annotate(units=Sum("quantity")).values_list("order__number", "units")
    )
    from_lots = dict(
        LineLot.objects.values("line__order__number")
        .annotate(units=Sum("quantity"))
        .values_list("line__order__number", "units")
    )
    for order in Order.objects.all():
        assert paid[order.pk] == order.total
        assert taken[order.number] == sold[order.number] == from_lots[order.number]
    # Every unit that left through a sale left through an order.
    assert set(taken) == set(sold)


def test_the_receipts_mix_cash_card_split_parts_prescriptions_and_controlled_drugs(demo, db):
    methods = defaultdict(set)
    for order_id, method in Payment.objects.values_list("order", "method"):
        methods[order_id].add(method)
    kinds = defaultdict(int)
    for used in methods.values():
        kinds[frozenset(used)] += 1
    assert kinds[frozenset({Method.CASH})] > kinds[frozenset({Method.CARD})] > kinds[frozenset(Method.values[:2])] > 0
    cash = Payment.objects.filter(method=Method.CASH, tendered__isnull=False)
    assert all(p.tendered >= p.amount and p.tendered % 5000 == 0 for p in cash)

    by_the_part = OrderLine.objects.filter(parts_per_pack__gt=1)
    assert any(line.parts for line in by_the_part)

    rx = Prescription.objects.select_related("order")
    assert rx.exists()
    for prescription in rx:
        assert prescription.prescriber and prescription.patient_name and prescription.issued_on < timezone.localdate()
    rx_lines = OrderLine.objects.filter(medicine__is_prescription=True)
    assert rx_lines.exists()
    assert not rx_lines.filter(order__prescription__isnull=True).exists()

    controlled = ControlledEntry.objects.select_related("order")
    assert controlled.exists()
    for entry in controlled:
        assert entry.confirmed_by.has_perm("orders.confirm_controlled") and entry.prescription_id


def test_one_return_per_branch_goes_back_to_its_lot_and_its_money_back_by_the_same_method(demo, db):
    returns = list(Return.objects.select_related("order", "shift__location"))
    assert sorted(r.shift.location.code for r in returns) == [b.code for b in branches()]
    places = []
    for document in returns:
        assert document.shift.state == ShiftState.CLOSED and document.order.shift_id == document.shift_id
        back = StockMovement.objects.filter(reference=document.number)
        assert list(back.values_list("kind", "quantity")) == [(MovementKind.RETURN, 1)]
        resaleable = document.lines.get().resaleable
        place = back.get().location
        assert place == (document.shift.location if resaleable else document.shift.location.quarantine)
        places.append(place.kind)
        [refund] = Refund.objects.filter(return_doc=document)
        assert refund.amount == document.amount > 0
        assert refund.method == refund.payment.method
    assert sorted(places) == ["branch", "quarantine"]  # one on the shelf again, one damaged box set aside


def test_the_closed_shift_s_z_report_equals_its_sales(demo, db):
    for shift in Shift.objects.filter(state=ShiftState.CLOSED):
        report = shift.z_report
        orders = Order.objects.filter(shift=shift)
        assert report["sales_count"] == orders.count() > 0
        assert Decimal(report["sales_total"]) == orders.aggregate(total=Sum("total"))["total"]
        assert Decimal(report["vat_total"]) == orders.aggregate(total=Sum("vat_total"))["total"]
        assert report["returns_count"] == 1
        assert Decimal(report["returns_total"]) == shift.returns.get().amount
        paid = Payment.objects.filter(shift=shift).aggregate(total=Sum("amount"))["total"]
        assert sum(Decimal(v) for v in report["paid_by_method"].values()) == paid
        assert shift.counted_cash == shift.expected_cash and shift.cash_difference == 0


def test_stock_stays_consistent_and_number_sold_follows_the_sales(demo, db):
    assert all_problems() == []
    out = io.StringIO()
    call_command("check_stock_ledger", stdout=out)
    assert "balances" in out.getvalue()
    net = defaultdict(int)
    for medicine_id, quantity, returned in OrderLine.objects.values_list("medicine", "quantity", "returned_quantity"):
        net[medicine_id] += quantity - returned
    assert dict(Medicine.objects.filter(number_sold__gt=0).values_list("pk", "number_sold")) == {
        pk: units for pk, units in net.items() if units
    }


def test_the_sale_is_stamped_by_the_service_on_the_day_it_is_made(demo, db):
    today = timezone.localdate()
    assert {timezone.localtime(t).date() for t in Order.objects.values_list("completed_at", flat=True)} == {today}


def test_loading_again_the_same_day_sells_nothing(demo, db):
    before = (Order.objects.count(), Shift.objects.count(), StockMovement.objects.count())
    result = demo_sales_replay()
    assert not result.created_anything
    assert (Order.objects.count(), Shift.objects.count(), StockMovement.objects.count()) == before


def test_on_a_later_day_the_shift_left_open_is_closed_and_that_day_is_sold_in_a_new_one(demo, db):
    with transaction.atomic():
        left_open = set(Shift.objects.filter(state=ShiftState.OPEN).values_list("pk", flat=True))
        with time_machine.travel(timezone.now() + datetime.timedelta(days=1), tick=False):
            result = demo_sales_replay()
            assert result.shifts_closed == len(left_open) == len(branches())
            assert result.shifts_opened == len(branches()) and result.sales > 0 and result.returns == 0
            closed = Shift.objects.filter(pk__in=left_open)
            assert all(s.state == ShiftState.CLOSED and s.z_report["sales_count"] > 0 for s in closed)
            assert Shift.objects.filter(state=ShiftState.OPEN).count() == len(branches())
        transaction.set_rollback(True)
