"""The stock core's set-based writes: receipts and counts of whole files, and an opening load.

What the services write for one lot, these write for 100,000 in a fixed
number of statements: the same rows (lots, their stock at the place, one
ledger movement per change with the balance there, history rows attributed to
the acting user with the reason), the same rules (``rules``; a refused line is
reported with every other refused line, ``LinesRefused``, and nothing is
written), the same locks (medicines, then lots, then lot stocks, each in
primary-key order: ``locks``), one derived refresh (``derived.refresh``; a receipt
moves the figures by what it added, ``derived.after_receipt``) and one
``stock_changed`` after commit. Inserts go through the one ``COPY`` writer on
PostgreSQL (``copy``), ``bulk_create`` elsewhere.

Callers (the receipt and stocktake imports, the synthetic catalogue) parse and
plan; they never write stock themselves.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from catalog.exceptions import CatalogError, LinesRefused, RefusedLine
from catalog.models import Location, Lot, LotStatus, LotStock, MovementKind, StockMovement

from . import copy, derived, rules
from .locks import batched, lock_medicines, lock_rows
from .places import check_holds_stock, check_works_at
from .services import announce, movement

# Rows written per round: bounds the memory of a 100,000-line file.
CHUNK = 5000
# SQLite's limit on a statement's parameters, with room for the rest of the query.
_SQLITE_IN = 900

Progress = Callable[[int], None]


def _no_progress(percent: int) -> None:
    return None


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _ids_filter(queryset, column: str, ids: list[int]):
    """``queryset`` restricted to ``column IN ids``: one array parameter on PostgreSQL, not 100,000."""
    table = queryset.model._meta.db_table
    return queryset.extra(where=[f"{connection.ops.quote_name(table)}.{column} = ANY(%s)"], params=[ids])


# --- Reads under the locks ------------------------------------------------------


def lots_by_number(wanted: Iterable[tuple[int, str]], *, lock: bool) -> dict[tuple[int, str], Lot]:
    """The lots named by ``(medicine_id, lot_number)``, locked in primary-key order when asked.

    Callers hold the medicines' locks first (``lock_medicines``), as every stock write does.
    """
    wanted = set(wanted)
    if not wanted:
        return {}
    if _is_postgres():
        medicine_ids, lot_numbers = zip(*wanted, strict=True)
        table = Lot._meta.db_table
        queryset = Lot.objects.extra(
            where=[f"({table}.medicine_id, {table}.lot_number) IN (SELECT * FROM unnest(%s::bigint[], %s::varchar[]))"],
            params=[list(medicine_ids), list(lot_numbers)],
        )
        lots = lock_rows(queryset) if lock else list(queryset.order_by())
    else:
        medicine_ids = sorted({medicine_id for medicine_id, _number in wanted})
        lots = []
        for chunk in batched(medicine_ids, _SQLITE_IN):
            lots += [
                lot
                for lot in Lot.objects.filter(medicine_id__in=chunk).order_by("pk")
                if (lot.medicine_id, lot.lot_number) in wanted
            ]
        # SQLite has no row locks (its IMMEDIATE transactions lock the whole database).
    return {(lot.medicine_id, lot.lot_number): lot for lot in lots}


def lots_by_id(lot_ids: Iterable[int], *, lock: bool) -> dict[int, Lot]:
    ids = sorted(set(lot_ids))
    if not ids:
        return {}
    if _is_postgres():
        queryset = _ids_filter(Lot.objects.all(), "id", ids)
        lots = lock_rows(queryset) if lock else list(queryset.order_by())
    else:
        lots = []
        for chunk in batched(ids, _SQLITE_IN):
            lots += list(Lot.objects.filter(pk__in=chunk).order_by("pk"))
    return {lot.pk: lot for lot in lots}


def lot_stocks(lot_ids: Iterable[int], location_ids: Iterable[int], *, lock: bool) -> dict[tuple[int, int], LotStock]:
    """The stock rows of the lots at the places, by ``(lot_id, location_id)``; locked (primary-key order) when asked.

    A lot that was never at a place has no row there: its stock there is 0.
    """
    ids, places = sorted(set(lot_ids)), sorted(set(location_ids))
    if not ids or not places:
        return {}
    base = LotStock.objects.filter(location_id__in=places)
    if _is_postgres():
        queryset = _ids_filter(base, "lot_id", ids)
        stocks = lock_rows(queryset) if lock else list(queryset.order_by())
    else:
        stocks = []
        for chunk in batched(ids, _SQLITE_IN):
            stocks += list(base.filter(lot_id__in=chunk).order_by("pk"))
    return {(stock.lot_id, stock.location_id): stock for stock in stocks}


def last_adjustments(lot_ids: Iterable[int], location_id: int) -> dict[int, int]:
    """The id of the latest adjustment movement of each lot at the place (lots with none are left out).

    One aggregate over the lots, not a query per lot.
    """
    from django.db.models import Max

    ids = sorted(set(lot_ids))
    if not ids:
        return {}
    movements = StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT, location_id=location_id).order_by()
    if _is_postgres():
        rows = list(_ids_filter(movements, "lot_id", ids).values("lot_id").annotate(last=Max("pk")))
    else:
        rows = []
        for chunk in batched(ids, _SQLITE_IN):
            rows += list(movements.filter(lot_id__in=chunk).values("lot_id").annotate(last=Max("pk")))
    return {row["lot_id"]: row["last"] for row in rows}


# --- Writing --------------------------------------------------------------------


def _bind(objs: Iterable) -> None:
    """Rows built beside a lot that had no primary key yet take it now that the lot is written."""
    for obj in objs:
        obj.lot_id = obj.lot.pk


def _insert_lots(lots: list[Lot], *, user, reason: str, now, history: bool) -> None:
    """New lots (their primary keys set) and, with ``history``, their "+" history rows naming who and why."""
    if not lots:
        return
    reason = reason[:100]  # the history's change reason column
    for lot in lots:
        lot.created_at = now
    if copy.enabled():
        copy.copy_insert(lots)
        if history:
            copy.copy_history_created(lots, user=user, reason=reason, when=now)
    elif history:
        bulk_create_with_history(lots, Lot, batch_size=1000, default_user=user, default_change_reason=reason)
    else:
        Lot.objects.bulk_create(lots, batch_size=1000)


def _update_lots(lots: list[Lot], fields: list[str], *, user, reason: str) -> None:
    if lots:
        bulk_update_with_history(
            lots, Lot, fields, batch_size=500, default_user=user, default_change_reason=reason[:100] or None
        )


def _write_stock(new_stocks: list[LotStock], changed_stocks: list[LotStock], movements: list[StockMovement], now):
    _bind(new_stocks)
    _bind(movements)
    copy.insert_objects(new_stocks)
    if changed_stocks:
        LotStock.objects.bulk_update(changed_stocks, ["quantity"], batch_size=1000)
    for row in movements:
        row.created_at = row.created_at or now
    copy.insert_objects(movements)


def _refuse(refused: list[RefusedLine]) -> None:
    if refused:
        raise LinesRefused(refused)


# --- Receipts -------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLine:
    """One delivered lot: ``quantity`` in units (parts for a medicine sold by the part); ``ref`` names it in errors."""

    medicine_id: int
    lot_number: str
    expiry_date: datetime.date
    quantity: int
    purchase_price: Decimal
    supplier: str = ""
    ref: Any = None


@transaction.atomic
def lots_receive_bulk(
    *,
    location: Location,
    lines: Sequence[ReceiptLine],
    user=None,
    reason: str = "receipt",
    reference: str = "",
    received_date: datetime.date | None = None,
    today: datetime.date | None = None,
    progress: Progress = _no_progress,
) -> derived.Flips:
    """Receive many lots at one place: new lots, or more stock into the medicine's lot with that number.

    Per line exactly what ``lot_receive`` writes: the same checks
    (``rules.check_receipt``, and ``rules.check_receipt_into`` for an existing
    lot: the same expiry, never a recalled or expired lot), the lot's stock at
    ``location`` raised, ``Lot.quantity`` with it, a history row attributed to
    ``user`` with ``reason``, one receipt movement with the balance there. A
    line naming a lot an earlier line of the same call created receives into
    it. Every line is checked before anything is written: first each line by
    itself, then, under the locks, against the lots in the books; the lines a
    step refuses are raised together (``LinesRefused``). A member receives
    only where they work (``LocationForbidden``). Returns what went in or out
    of stock, which is announced after commit.
    """
    today = today or timezone.localdate()
    received_date = received_date or today
    reason = reason or "receipt"
    check_holds_stock(location)
    check_works_at(user, location)

    refused: list[RefusedLine] = []
    groups: dict[tuple[int, str], list[ReceiptLine]] = {}
    for line in lines:
        try:
            rules.check_quantity(line.quantity)
            lot_number, price = rules.check_receipt(
                lot_number=line.lot_number,
                expiry_date=line.expiry_date,
                received_date=received_date,
                purchase_price=line.purchase_price,
                today=today,
            )
        except CatalogError as error:
            refused.append(RefusedLine(line.ref, error))
            continue
        line = replace(line, lot_number=lot_number, purchase_price=price, supplier=(line.supplier or "")[:200])
        groups.setdefault((line.medicine_id, lot_number), []).append(line)
    _refuse(refused)
    if not groups:
        return derived.Flips()
    progress(10)

    medicine_ids = sorted({medicine_id for medicine_id, _number in groups})
    lock_medicines(medicine_ids)
    existing = lots_by_number(groups, lock=True)
    held = lot_stocks([lot.pk for lot in existing.values()], [location.pk], lock=True)
    stocks = {lot_id: stock for (lot_id, _place), stock in held.items()}
    for key, group in groups.items():
        if key not in existing and len(group) == 1:
            continue  # a new lot, received once
        # The lot the lines receive into: the one in the books, else the one the first line creates.
        lot = existing.get(key) or Lot(lot_number=key[1], expiry_date=group[0].expiry_date, status=LotStatus.AVAILABLE)
        for line in group if key in existing else group[1:]:
            try:
                rules.check_receipt_into(lot, expiry_date=line.expiry_date)
            except CatalogError as error:
                refused.append(RefusedLine(line.ref, error))
    _refuse(refused)
    progress(30)

    now = timezone.now()
    done, total = 0, len(groups)
    received: list[tuple[Lot, LotStock, int]] = []
    for chunk in batched(groups.items(), CHUNK):
        new_lots, changed_lots, new_stocks, changed_stocks, movements = [], [], [], [], []
        for key, group in chunk:
            lot = existing.get(key)
            if lot is None:
                first = group[0]
                lot = Lot(
                    medicine_id=first.medicine_id,
                    lot_number=first.lot_number,
                    expiry_date=first.expiry_date,
                    received_date=received_date,
                    quantity=0,
                    purchase_price=first.purchase_price,
                    supplier=first.supplier,
                )
                new_lots.append(lot)
            else:
                changed_lots.append(lot)
            stock = stocks.get(lot.pk) if lot.pk else None
            if stock is None:
                stock = LotStock(lot=lot, location=location, quantity=0)
                new_stocks.append(stock)
            else:
                stock.lot = lot
                changed_stocks.append(stock)
            for line in group:
                if line.supplier and not lot.supplier:
                    lot.supplier = line.supplier
                lot.quantity += line.quantity
                stock.quantity += line.quantity
                movements.append(
                    movement(stock, MovementKind.RECEIPT, line.quantity, user=user, reason=reason, reference=reference)
                )
            received.append((lot, stock, sum(line.quantity for line in group)))
        _insert_lots(new_lots, user=user, reason=reason, now=now, history=True)
        _update_lots(changed_lots, ["quantity", "supplier"], user=user, reason=reason)
        _write_stock(new_stocks, changed_stocks, movements, now)
        done += len(chunk)
        progress(30 + 55 * done // total)

    flips = derived.after_receipt(
        location,
        [derived.Received(lot.pk, lot.medicine_id, lot.expiry_date, units) for lot, _stock, units in received],
        {lot.pk: stock.pk for lot, stock, _units in received},
        today,
    )
    announce(flips, medicine_ids, "receipt")
    progress(100)
    return flips


# --- Counts ---------------------------------------------------------------------


@dataclass(frozen=True)
class StockCount:
    """A lot counted at a place: units on the shelf, and what the count was taken against (``None``: now)."""

    lot_id: int
    counted_quantity: int
    basis: rules.CountBasis | None = None
    ref: Any = None


@transaction.atomic
def stock_count_bulk(
    *,
    location: Location,
    counts: Sequence[StockCount],
    user=None,
    reason: str = "",
    reference: str = "",
    today: datetime.date | None = None,
    progress: Progress = _no_progress,
) -> derived.Flips:
    """A stocktake at one place: each counted lot's stock there is set through one adjustment movement.

    ``rules.check_count`` decides each adjustment: a count of this moment
    makes the counted quantity the stock there; a count with its basis applies
    the difference from the book at the count to the stock as it is now, and
    is refused when the lot was counted again there since, or when later sales
    have overtaken it. A lot whose count matches gets no movement, as
    ``stock_adjust`` returns ``None``. Every count is checked under the locks
    before anything is written; the refused ones are raised together
    (``LinesRefused``). Stock elsewhere is untouched. Returns the flips,
    announced after commit.
    """
    today = today or timezone.localdate()
    reason = (reason or "").strip() or str(_("Stocktake"))
    check_holds_stock(location)
    check_works_at(user, location)

    refused: list[RefusedLine] = []
    seen: set[int] = set()
    for count in counts:
        try:
            rules.check_quantity(count.counted_quantity, allow_zero=True)
            if count.lot_id in seen:
                raise CatalogError(_("This lot is counted twice at this location."), code="count_repeated")
        except CatalogError as error:
            refused.append(RefusedLine(count.ref, error))
        seen.add(count.lot_id)
    _refuse(refused)
    if not counts:
        return derived.Flips()

    lot_ids = sorted(seen)
    # A lot's medicine never changes: read without a lock, then lock in the global order.
    medicine_ids = sorted({lot.medicine_id for lot in lots_by_id(lot_ids, lock=False).values()})
    lock_medicines(medicine_ids)
    lots = lots_by_id(lot_ids, lock=True)
    held = lot_stocks(lot_ids, [location.pk], lock=True)
    stocks = {lot_id: stock for (lot_id, _place), stock in held.items()}
    # Under the lots' locks: no other count can land on them until this commits.
    last = last_adjustments(lot_ids, location.pk)
    progress(30)

    planned: list[tuple[Lot, LotStock | None, int]] = []
    for count in counts:
        lot = lots.get(count.lot_id)
        if lot is None:
            refused.append(RefusedLine(count.ref, CatalogError(_("This lot does not exist."), code="lot_unknown")))
            continue
        stock = stocks.get(lot.pk)
        try:
            difference = rules.check_count(
                lot,
                counted_quantity=count.counted_quantity,
                stock_now=stock.quantity if stock else 0,
                basis=count.basis,
                last_adjustment_id=last.get(lot.pk),
            )
        except CatalogError as error:
            refused.append(RefusedLine(count.ref, error))
            continue
        if difference:
            planned.append((lot, stock, difference))
    _refuse(refused)
    if not planned:
        progress(100)
        return derived.Flips()

    now = timezone.now()
    done, total = 0, len(planned)
    for chunk in batched(planned, CHUNK):
        changed_lots, new_stocks, changed_stocks, movements = [], [], [], []
        for lot, stock, difference in chunk:
            if stock is None:
                stock = LotStock(lot=lot, location=location, quantity=0)
                new_stocks.append(stock)
            else:
                stock.lot = lot
                changed_stocks.append(stock)
            stock.quantity += difference
            lot.quantity += difference
            changed_lots.append(lot)
            movements.append(
                movement(stock, MovementKind.ADJUSTMENT, difference, user=user, reason=reason, reference=reference)
            )
        _update_lots(changed_lots, ["quantity"], user=user, reason=reason)
        _write_stock(new_stocks, changed_stocks, movements, now)
        done += len(chunk)
        progress(30 + 60 * done // total)

    ids = sorted({lot.medicine_id for lot, _stock, _difference in planned})
    flips = derived.refresh(ids, today, locations=[location.pk])
    announce(flips, ids, "adjustment")
    progress(100)
    return flips


# --- Opening load ---------------------------------------------------------------


@dataclass
class OpeningLot:
    """A lot as it stands when the books open: its paperwork, its status and its units at each place (by id)."""

    medicine_id: int
    lot_number: str
    expiry_date: datetime.date
    received_date: datetime.date
    purchase_price: Decimal
    stocks: dict[int, int]
    supplier: str = ""
    status: str = LotStatus.AVAILABLE
    status_reason: str = ""
    ref: Any = field(default=None, compare=False)


@transaction.atomic
def lots_load_bulk(
    *,
    lots: Sequence[OpeningLot],
    user=None,
    reason: str = "opening stock",
    reference: str = "",
    history: bool = True,
    receipt_time: datetime.time | None = None,
    today: datetime.date | None = None,
) -> derived.Flips:
    """Open the books: lots new to them, with their status and their stock at one or more places.

    For a chain starting on the system (what stands on each shelf, expired
    and held lots included) and for the benchmarks' synthetic catalogue. Each
    lot's stock at each place comes in as one receipt movement there (its
    balance: that stock); with ``receipt_time`` the movement is dated on the
    lot's received day at that time, as the receipt happened, else now. The
    rules of a receipt apply, but on the lot's own day: a number, a price, a
    received date not after ``today``, whole units above zero, and an
    available lot not past its expiry (an expired one loads as expired).
    Lot numbers must be new (the database's unique constraint refuses one
    already in the books). ``history=False`` skips the lots' history rows
    (synthetic data only). One derived refresh; returns the flips, announced
    after commit.
    """
    today = today or timezone.localdate()
    places = Location.objects.in_bulk({place for lot in lots for place in lot.stocks})
    check_works_at(user, *places.values())
    refused: list[RefusedLine] = []
    for lot in lots:
        try:
            rules.check_lot_number(lot.lot_number)
            rules.check_purchase_price(lot.purchase_price)
            rules.check_received_date(lot.received_date, today)
            if lot.status not in LotStatus.values:
                raise CatalogError(_("Unknown lot status."), code="lot_status_unknown")
            if lot.status == LotStatus.AVAILABLE:
                rules.check_not_expired(lot.lot_number, lot.expiry_date, today)
            if not lot.stocks:
                raise CatalogError(_("A lot needs stock at one place at least."), code="opening_without_stock")
            for place, quantity in lot.stocks.items():
                if place not in places:
                    raise Location.DoesNotExist(f"Location {place} does not exist.")
                rules.check_quantity(quantity)
        except CatalogError as error:
            refused.append(RefusedLine(lot.ref if lot.ref is not None else lot.lot_number, error))
    _refuse(refused)
    if not lots:
        return derived.Flips()

    medicine_ids = sorted({lot.medicine_id for lot in lots})
    lock_medicines(medicine_ids)
    now = timezone.now()
    dated: dict[datetime.date, datetime.datetime] = {}

    def received_at(day: datetime.date) -> datetime.datetime:
        if receipt_time is None:
            return now
        if day not in dated:
            dated[day] = timezone.make_aware(datetime.datetime.combine(day, receipt_time))
        return dated[day]

    for chunk in batched(lots, CHUNK):
        new_lots, new_stocks, movements = [], [], []
        for planned in chunk:
            lot = Lot(
                medicine_id=planned.medicine_id,
                lot_number=planned.lot_number.strip(),
                expiry_date=planned.expiry_date,
                received_date=planned.received_date,
                quantity=sum(planned.stocks.values()),
                purchase_price=planned.purchase_price,
                supplier=planned.supplier[:200],
                status=planned.status,
                status_reason=planned.status_reason[:500],
            )
            new_lots.append(lot)
            for place in sorted(planned.stocks):
                stock = LotStock(lot=lot, location=places[place], quantity=planned.stocks[place])
                new_stocks.append(stock)
                row = movement(
                    stock, MovementKind.RECEIPT, stock.quantity, user=user, reason=reason, reference=reference
                )
                row.created_at = received_at(planned.received_date)
                movements.append(row)
        intended = [row.created_at for row in movements]
        _insert_lots(new_lots, user=user, reason=reason, now=now, history=history)
        _write_stock(new_stocks, [], movements, now)
        if receipt_time is not None and not copy.enabled():
            # bulk_create stamps auto_now_add fields with the moment of the insert (COPY keeps what is set).
            for row, when in zip(movements, intended, strict=True):
                row.created_at = when
            StockMovement.objects.bulk_update(movements, ["created_at"], batch_size=1000)

    flips = derived.refresh(medicine_ids, today, locations=list(places))
    announce(flips, medicine_ids, "receipt")
    return flips
