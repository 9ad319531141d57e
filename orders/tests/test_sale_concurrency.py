"""Counter sales racing for the last units, on PostgreSQL: real row locks, one connection per cashier.

Each cashier's thread has its own database connection and its own open shift at the same branch; a
barrier releases them together so their sales overlap (see ``catalog/tests/test_concurrency.py``).
"""

import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from catalog.exceptions import InsufficientStock
from catalog.ledger import all_problems
from catalog.models import LotStock, MovementKind, StockMovement
from catalog.services import medicine_update
from catalog.tests.factories import MedicineFactory, main_location, receive
from conftest import requires_postgres, run_at_once
from orders.exceptions import PricesChanged
from orders.models import LineLot, Order, OrderLine
from orders.selectors import shift_figures
from orders.services import SaleLine, counter_sale_complete
from orders.tests.factories import cash, cashier, open_shift, sell

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

CASHIERS = 8


def test_eight_cashiers_selling_the_last_five_units_sell_exactly_five_and_refuse_the_rest():
    branch = main_location()
    last = MedicineFactory(price=Decimal("15000"))
    plenty = MedicineFactory(price=Decimal("4000"))
    last_lots = [
        receive(last, 3, expires_in_days=60, location=branch),
        receive(last, 2, expires_in_days=90, location=branch),
    ]
    plenty_lot = receive(plenty, 50, location=branch)
    shifts = [open_shift(cashier(locations=[branch]), location=branch) for _ in range(CASHIERS)]

    # Every sale takes the scarce medicine with another one, half of them scanned in the other order: the
    # service locks by primary key whatever the till's order, so crossing sales queue instead of deadlocking.
    def job(n):
        items = [(last, 1), (plenty, 1)] if n % 2 else [(plenty, 1), (last, 1)]
        return lambda: sell(shifts[n], *items)

    outcomes = run_at_once([job(n) for n in range(CASHIERS)])

    sold = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, InsufficientStock)]
    assert len(sold) + len(refused) == CASHIERS, Counter(type(o).__name__ + f": {o}" for o in outcomes)
    assert len(sold) == 5 and len(refused) == 3
    for shortage in refused:  # the shortage names the scarce line only, with nothing left
        assert [(s.medicine_id, s.requested, s.available) for s in shortage.lines] == [(last.pk, 1, 0)]

    # Nothing oversold, and a refused sale wrote nothing: not even the other line's stock.
    for lot in last_lots:
        lot.refresh_from_db()
        assert lot.quantity == 0
    plenty_lot.refresh_from_db()
    assert plenty_lot.quantity == 50 - 5
    assert not LotStock.objects.filter(quantity__lt=0).exists()
    assert Order.objects.count() == 5
    assert OrderLine.objects.filter(medicine=last).aggregate(total=Sum("quantity"))["total"] == 5
    assert LineLot.objects.filter(line__medicine=last).aggregate(total=Sum("quantity"))["total"] == 5
    assert (
        -StockMovement.objects.filter(kind=MovementKind.DISPENSE, lot__medicine=last).aggregate(total=Sum("quantity"))[
            "total"
        ]
        == 5
    )
    last.refresh_from_db()
    assert last.number_sold == 5 and last.sellable_quantity == 0
    assert [str(problem) for problem in all_problems()] == []

    # Each shift's figures are its own sales: a refused sale took no receipt number and no money.
    for shift in shifts:
        shift.refresh_from_db()
        own = [order for order in sold if order.shift_id == shift.pk]
        figures = shift_figures(shift)
        assert figures.sales_count == len(own) == shift.documents
        assert figures.sales_total == sum((order.total for order in own), Decimal("0"))
        assert figures.paid_by_method.get("cash", Decimal("0")) == figures.sales_total
        assert figures.expected_cash == shift.opening_cash + figures.sales_total


def _sale_while_medicine_is_edited(medicine, shift, changes, *, expected_amount):
    """The medicine edited in a transaction held open 1 s; the sale starts meanwhile and queues on its lock."""
    editor = cashier(locations=[shift.location])
    editing = threading.Event()
    outcome: list[object] = []

    def edit():
        try:
            with transaction.atomic():
                medicine_update(medicine=medicine, changes=changes, user=editor, reason="new supplier price")
                editing.set()
                time.sleep(1.0)
        finally:
            connection.close()

    def sale():
        editing.wait(10)
        try:
            line = SaleLine(medicine_id=medicine.pk, quantity=1, expected_amount=expected_amount)
            outcome.append(
                counter_sale_complete(shift=shift, lines=[line], payments_in=[cash(18000)], user=shift.cashier)
            )
        except Exception as error:
            outcome.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit), threading.Thread(target=sale)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcome) == 1, outcome
    return outcome[0]


def test_a_price_changed_while_a_till_that_sent_no_expected_amount_waits_refuses_the_sale_with_the_new_price():
    branch = main_location()
    medicine = MedicineFactory(price=Decimal("18000"))
    receive(medicine, 10, location=branch)
    shift = open_shift(cashier(locations=[branch]), location=branch)

    outcome = _sale_while_medicine_is_edited(medicine, shift, {"price": Decimal("19000")}, expected_amount=None)

    assert isinstance(outcome, PricesChanged), outcome
    assert [(c.expected, c.current) for c in outcome.changes] == [("18000.00", "19000.00")]
    assert not Order.objects.filter(shift=shift).exists()
    assert LotStock.objects.filter(lot__medicine=medicine).aggregate(s=Sum("quantity"))["s"] == 10


def test_an_edit_that_changes_nothing_the_sale_reads_lets_the_waiting_sale_through():
    branch = main_location()
    medicine = MedicineFactory(price=Decimal("18000"))
    receive(medicine, 10, location=branch)
    shift = open_shift(cashier(locations=[branch]), location=branch)

    outcome = _sale_while_medicine_is_edited(
        medicine, shift, {"description": "Take after meals."}, expected_amount=Decimal("18000")
    )

    assert isinstance(outcome, Order), outcome
    assert outcome.total == Decimal("18000")
    assert LotStock.objects.filter(lot__medicine=medicine).aggregate(s=Sum("quantity"))["s"] == 9


def test_a_price_and_controlled_flag_changed_while_the_sale_waits_refuse_the_sale():
    """The sale confirms what it read once it holds the medicines' locks: a change committed while it waited
    refuses it (the price first: the cashier sees the new one), and nothing it wrote before the lock stays."""
    branch = main_location()
    medicine = MedicineFactory(price=Decimal("18000"))
    receive(medicine, 10, location=branch)
    shift = open_shift(cashier(locations=[branch]), location=branch)

    # What the till showed: one pack at 18 000.
    outcome = _sale_while_medicine_is_edited(
        medicine, shift, {"price": Decimal("19000"), "is_controlled": True}, expected_amount=Decimal("18000")
    )

    assert isinstance(outcome, PricesChanged), outcome
    assert not Order.objects.filter(shift=shift).exists()
    assert LotStock.objects.filter(lot__medicine=medicine).aggregate(s=Sum("quantity"))["s"] == 10
