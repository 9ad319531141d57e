"""Checks of the stock ledger's invariants, shared by ``check_stock_ledger`` and the tests.

1. A lot's stock at a place equals the sum of its movements there, and a lot's
   quantity equals the sum of its stock over the places.
2. Each movement's ``balance_after`` equals the previous movement's balance at
   that place plus its own quantity (in the order they were written), and the
   last balance equals the lot's stock there.
3. Each medicine's derived stock at each place (``MedicineStock``) and for the
   chain (``Medicine``) matches its sellable stock today.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F, IntegerField, Min, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Lot, LotStock, Medicine, MedicineStock, StockMovement
from .stock.rules import sellable_stock_q


@dataclass(frozen=True)
class Problem:
    kind: str  # "lot_sum", "balance_chain", "derived"
    object_id: int
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] #{self.object_id}: {self.detail}"


def lot_sum_problems(lot_ids=None) -> list[Problem]:
    moved = (
        StockMovement.objects.filter(lot_id=OuterRef("lot_id"), location_id=OuterRef("location_id"))
        .order_by()
        .values("lot_id", "location_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    stocks = LotStock.objects.annotate(ledger=Coalesce(Subquery(moved, output_field=IntegerField()), Value(0)))
    held = (
        LotStock.objects.filter(lot_id=OuterRef("pk"))
        .order_by()
        .values("lot_id")
        .annotate(t=Sum("quantity"))
        .values("t")
    )
    lots = Lot.objects.annotate(held=Coalesce(Subquery(held, output_field=IntegerField()), Value(0)))
    unplaced = StockMovement.objects.exclude(
        lot_id__in=LotStock.objects.filter(location_id=OuterRef("location_id")).values("lot_id")
    )
    if lot_ids is not None:
        stocks, lots, unplaced = (
            stocks.filter(lot_id__in=lot_ids),
            lots.filter(pk__in=lot_ids),
            unplaced.filter(lot_id__in=lot_ids),
        )
    problems = [
        Problem(
            "lot_sum",
            stock.lot_id,
            f"lot {stock.lot.lot_number} of {stock.lot.medicine} at {stock.location}: "
            f"stock {stock.quantity}, movements there sum to {stock.ledger}",
        )
        for stock in stocks.exclude(quantity=F("ledger")).select_related("lot__medicine", "location").order_by("pk")
    ]
    problems += [
        Problem(
            "lot_sum",
            lot.pk,
            f"lot {lot.lot_number} of {lot.medicine}: quantity {lot.quantity}, places hold {lot.held}",
        )
        for lot in lots.exclude(quantity=F("held")).select_related("medicine").order_by("pk")
    ]
    problems += [
        Problem("lot_sum", lot_id, f"movement #{pk} at location #{location_id} has no stock row there")
        for pk, lot_id, location_id in unplaced.values_list("pk", "lot_id", "location_id").order_by("pk")[:1000]
    ]
    return problems


def balance_chain_problems(lot_ids=None, chunk_size: int = 20000) -> list[Problem]:
    """Walk the movements of every lot at every place in the order they were written (by id), streaming."""
    problems: list[Problem] = []
    movements = StockMovement.objects.order_by("lot_id", "location_id", "pk").values_list(
        "pk", "lot_id", "location_id", "quantity", "balance_after"
    )
    if lot_ids is not None:
        movements = movements.filter(lot_id__in=lot_ids)
    last_balance: dict[tuple[int, int], int] = {}
    current, running = None, 0
    for pk, lot_id, location_id, quantity, balance_after in movements.iterator(chunk_size=chunk_size):
        key = (lot_id, location_id)
        if key != current:
            if current is not None:
                last_balance[current] = running
            current, running = key, 0
        running += quantity
        if balance_after != running:
            problems.append(
                Problem("balance_chain", lot_id, f"movement #{pk}: balance_after {balance_after}, expected {running}")
            )
            running = balance_after  # report each break once, not every later movement
    if current is not None:
        last_balance[current] = running
    stocks = LotStock.objects.all()
    if lot_ids is not None:
        stocks = stocks.filter(lot_id__in=lot_ids)
    for lot_id, location_id, quantity in stocks.values_list("lot_id", "location_id", "quantity").iterator(
        chunk_size=chunk_size
    ):
        key = (lot_id, location_id)
        if key in last_balance and last_balance[key] != quantity:
            problems.append(
                Problem(
                    "balance_chain",
                    lot_id,
                    f"at location #{location_id}: last balance_after {last_balance[key]}, stock {quantity}",
                )
            )
    return problems


def derived_problems(medicine_ids=None, today: datetime.date | None = None) -> list[Problem]:
    today = today or timezone.localdate()
    sellable = LotStock.objects.filter(sellable_stock_q(today))
    if medicine_ids is not None:
        sellable = sellable.filter(lot__medicine_id__in=medicine_ids)
    expected: dict[tuple[int, int], tuple[int, datetime.date | None]] = {
        (medicine_id, location_id): (total, nearest)
        for medicine_id, location_id, total, nearest in sellable.values("lot__medicine_id", "location_id")
        .annotate(total=Sum("quantity"), nearest=Min("lot__expiry_date"))
        .values_list("lot__medicine_id", "location_id", "total", "nearest")
        .order_by()
    }
    problems = []
    rows = MedicineStock.objects.all()
    if medicine_ids is not None:
        rows = rows.filter(medicine_id__in=medicine_ids)
    seen = set()
    chain: dict[int, list] = defaultdict(lambda: [0, None])
    for medicine_id, location_id, quantity, expiry in rows.values_list(
        "medicine_id", "location_id", "sellable_quantity", "nearest_expiry"
    ).iterator(chunk_size=5000):
        seen.add((medicine_id, location_id))
        want = expected.get((medicine_id, location_id), (0, None))
        if (quantity, expiry) != want:
            problems.append(
                Problem(
                    "derived",
                    medicine_id,
                    f"at location #{location_id}: sellable {quantity} (lots say {want[0]}), "
                    f"nearest expiry {expiry} (lots say {want[1]})",
                )
            )
    for (medicine_id, location_id), (total, nearest) in expected.items():
        if (medicine_id, location_id) not in seen:
            problems.append(
                Problem("derived", medicine_id, f"at location #{location_id}: no stock row, lots say {total}")
            )
        totals = chain[medicine_id]
        totals[0] += total
        totals[1] = nearest if totals[1] is None else min(totals[1], nearest)
    medicines = Medicine.objects.all()
    if medicine_ids is not None:
        medicines = medicines.filter(pk__in=medicine_ids)
    for pk, name, quantity, expiry in (
        medicines.order_by("pk")
        .values_list("pk", "name", "sellable_quantity", "nearest_expiry")
        .iterator(chunk_size=5000)
    ):
        want = tuple(chain.get(pk, (0, None)))
        if (quantity, expiry) != want:
            problems.append(
                Problem(
                    "derived",
                    pk,
                    f"{name}: sellable_quantity {quantity} (lots say {want[0]}), "
                    f"nearest_expiry {expiry} (lots say {want[1]})",
                )
            )
    return problems


def all_problems(today: datetime.date | None = None) -> list[Problem]:
    return lot_sum_problems() + balance_chain_problems() + derived_problems(today=today)
