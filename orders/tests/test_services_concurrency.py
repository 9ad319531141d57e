"""Two returns racing for the last unit of a sale, on PostgreSQL with real row locks: one wins."""

from collections import Counter
from decimal import Decimal

import pytest

from catalog.ledger import all_problems
from catalog.models import MovementKind, StockMovement
from catalog.tests.factories import MedicineFactory, receive
from conftest import requires_postgres
from conftest import run_at_once as run_together
from orders import exceptions, services
from orders.models import Return
from orders.tests.factories import open_shift, sell
from payments.models import Refund

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def run_at_once(jobs):
    """Each callable in its own thread (its own connection), released together; returns outcome names."""
    return [
        "too many"
        if isinstance(outcome, exceptions.ReturnTooMany)
        else f"{type(outcome).__name__}: {outcome}"
        if isinstance(outcome, Exception)
        else "ok"
        for outcome in run_together(jobs)
    ]


def test_two_cashiers_returning_the_last_unit_at_once_one_wins():
    medicine = MedicineFactory(price=Decimal("9000"))
    receive(medicine, 4)
    seller = open_shift()
    order = sell(seller, (medicine, 2))
    line = order.lines.get()
    services.order_return(
        order=order,
        items=[services.ReturnItem(line.pk, 1, resaleable=True)],
        reason="First box",
        shift=seller,
        user=seller.cashier,
    )
    # Two other cashiers, each in their own shift (no shared shift lock to queue them): only the line's does.
    shifts = [open_shift(), open_shift()]

    def give_back(shift):
        return lambda: services.order_return(
            order=order,
            items=[services.ReturnItem(line.pk, 1, resaleable=True)],
            reason="Second box",
            shift=shift,
            user=shift.cashier,
        )

    outcomes = run_at_once([give_back(shift) for shift in shifts])

    assert Counter(outcomes) == Counter({"ok": 1, "too many": 1}), outcomes
    line.refresh_from_db()
    assert line.returned_quantity == 2
    assert Return.objects.filter(order=order).count() == 2
    assert sum(Refund.objects.filter(return_doc__order=order).values_list("amount", flat=True)) == order.total
    assert StockMovement.objects.filter(kind=MovementKind.RETURN).count() == 2
    medicine.refresh_from_db()
    assert medicine.number_sold == 0
    assert [str(p) for p in all_problems()] == []
