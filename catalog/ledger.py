"""Checks of the stock ledger's invariants, shared by ``check_stock_ledger`` and the tests.

1. A lot's quantity equals the sum of its movements.
2. Each movement's ``balance_after`` equals the previous movement's balance
   plus its own quantity (in the order they were written), and the last
   balance equals the lot's quantity.
3. Each medicine's ``sellable_quantity`` and ``nearest_expiry`` match its
   sellable lots today.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import F, IntegerField, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Lot, Medicine, StockMovement
from .selectors import sellable_lots_q


@dataclass(frozen=True)
class Problem:
    kind: str  # "lot_sum", "balance_chain", "derived"
    object_id: int
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] #{self.object_id}: {self.detail}"


def lot_sum_problems(lot_ids=None) -> list[Problem]:
    total = (
        StockMovement.objects.filter(lot_id=OuterRef("pk"))
        .order_by()
        .values("lot_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    lots = Lot.objects.annotate(ledger=Coalesce(Subquery(total, output_field=IntegerField()), Value(0)))
    if lot_ids is not None:
        lots = lots.filter(pk__in=lot_ids)
    bad = lots.exclude(quantity=F("ledger")).select_related("medicine").order_by("pk")
    return [
        Problem(
            "lot_sum",
            lot.pk,
            f"lot {lot.lot_number} of {lot.medicine}: quantity {lot.quantity}, movements sum to {lot.ledger}",
        )
        for lot in bad
    ]


def balance_chain_problems(lot_ids=None, chunk_size: int = 20000) -> list[Problem]:
    """Walk the movements of every lot in the order they were written (by id), streaming."""
    problems: list[Problem] = []
    movements = StockMovement.objects.order_by("lot_id", "pk").values_list("pk", "lot_id", "quantity", "balance_after")
    if lot_ids is not None:
        movements = movements.filter(lot_id__in=lot_ids)
    last_balance: dict[int, int] = {}
    current_lot, running = None, 0
    for pk, lot_id, quantity, balance_after in movements.iterator(chunk_size=chunk_size):
        if lot_id != current_lot:
            if current_lot is not None:
                last_balance[current_lot] = running
            current_lot, running = lot_id, 0
        running += quantity
        if balance_after != running:
            problems.append(
                Problem("balance_chain", lot_id, f"movement #{pk}: balance_after {balance_after}, expected {running}")
            )
            running = balance_after  # report each break once, not every later movement
    if current_lot is not None:
        last_balance[current_lot] = running
    quantities = Lot.objects.filter(pk__in=list(last_balance)) if len(last_balance) < 50000 else Lot.objects.all()
    for lot_id, quantity in quantities.values_list("pk", "quantity").iterator(chunk_size=chunk_size):
        if lot_id in last_balance and last_balance[lot_id] != quantity:
            problems.append(
                Problem("balance_chain", lot_id, f"last balance_after {last_balance[lot_id]}, lot quantity {quantity}")
            )
    return problems


def derived_problems(medicine_ids=None, today: datetime.date | None = None) -> list[Problem]:
    today = today or timezone.localdate()
    sellable = Q(sellable_lots_q(today, prefix="lots__"))
    medicines = Medicine.objects.annotate(
        expected_quantity=Coalesce(Sum("lots__quantity", filter=sellable), Value(0)),
        expected_expiry=Min("lots__expiry_date", filter=sellable),
    )
    if medicine_ids is not None:
        medicines = medicines.filter(pk__in=medicine_ids)
    problems = []
    for m in (
        medicines.order_by("pk")
        .values_list("pk", "name", "sellable_quantity", "expected_quantity", "nearest_expiry", "expected_expiry")
        .iterator(chunk_size=5000)
    ):
        pk, name, quantity, expected_quantity, expiry, expected_expiry = m
        if quantity != expected_quantity or expiry != expected_expiry:
            problems.append(
                Problem(
                    "derived",
                    pk,
                    f"{name}: sellable_quantity {quantity} (lots say {expected_quantity}), "
                    f"nearest_expiry {expiry} (lots say {expected_expiry})",
                )
            )
    return problems


def all_problems(today: datetime.date | None = None) -> list[Problem]:
    return lot_sum_problems() + balance_chain_problems() + derived_problems(today=today)
