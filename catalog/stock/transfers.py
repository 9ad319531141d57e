"""Transfers between places: draft → sent (the units leave the source into transit) → received.

Lots keep their identity: the same lot leaves the source, waits in the chain's
transit place and arrives at the destination, each step a pair of ledger
movements (out of one place, into the other) with the transfer's number as the
reference. On receipt a shortfall is never silently lost: it is written off at
transit or returned to the source, with a reason.

Locks: the transfer's row first (two clicks on "send" queue behind each other
and the second finds it sent), then the stock rows in the global order of
``catalog.stock.locks``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.exceptions import CatalogError, InsufficientStock, ReasonRequired, ShortageLine, TransferStateError
from catalog.models import (
    Discrepancy,
    Location,
    Lot,
    LotStock,
    Medicine,
    MovementKind,
    StockMovement,
    Transfer,
    TransferLine,
    TransferState,
)

from . import rules
from .locks import lock_medicines, lock_rows
from .places import check_works_at, holds_stock, transit_location
from .services import _save_lot, fefo_plan, lock_stock, movement, stock_moved


@dataclass(frozen=True)
class Proposal:
    """One lot and the units of it a transfer would send (FEFO)."""

    lot: Lot
    quantity: int
    available: int


def transfer_propose(
    *, source: Location, medicine: Medicine, quantity: int, today: datetime.date | None = None
) -> list[Proposal]:
    """What a transfer of ``quantity`` units of ``medicine`` from ``source`` would send, FEFO; reads only.

    Short of stock, it proposes what there is (the send refuses the rest).
    """
    rules.check_quantity(quantity)
    stocks = list(
        LotStock.objects.filter(rules.sellable_stock_q(today), location=source, lot__medicine=medicine).select_related(
            "lot"
        )
    )
    available = sum(stock.quantity for stock in stocks)
    plan = fefo_plan(stocks, min(quantity, available), medicine.parts_per_pack)
    return [Proposal(stock.lot, take, stock.quantity) for stock, take in plan]


def _check_places(source: Location, destination: Location) -> None:
    if source.pk == destination.pk:
        raise CatalogError(_("A transfer goes from one place to another."), code="transfer_same_place")
    for place in (source, destination):
        if not holds_stock(place):
            raise CatalogError(
                _("%(location)s cannot send or receive transfers."), code="transfer_place", location=place.name
            )


DraftLine = tuple[Medicine, int] | tuple[Medicine, int, Lot | None]


def check_line(medicine: Medicine, quantity: int, lot: Lot | None = None) -> None:
    """A line of a draft: a whole number of units above zero, and a lot, if named, of that medicine."""
    rules.check_quantity(quantity)
    if lot is not None and lot.medicine_id != medicine.pk:
        raise CatalogError(_("Lot %(lot)s is not a lot of this medicine."), code="transfer_lot", lot=lot.lot_number)


def _check_draft(source: Location, destination: Location, lines: Sequence[DraftLine], user) -> None:
    """Everything a draft must satisfy, checked before anything is written."""
    _check_places(source, destination)
    check_works_at(user, source)
    if not lines:
        raise CatalogError(_("A transfer needs at least one line."), code="transfer_empty")
    for medicine, quantity, *rest in lines:
        check_line(medicine, quantity, rest[0] if rest else None)


def _add_lines(transfer: Transfer, lines: Sequence[DraftLine]) -> None:
    TransferLine.objects.bulk_create(
        TransferLine(transfer=transfer, medicine=medicine, lot=rest[0] if rest else None, quantity=quantity)
        for medicine, quantity, *rest in lines
    )


@transaction.atomic
def transfer_create(
    *,
    source: Location,
    destination: Location,
    lines: Sequence[DraftLine],
    user=None,
    note: str = "",
) -> Transfer:
    """A draft transfer with its lines (a lot per line, or none: chosen FEFO when it is sent)."""
    _check_draft(source, destination, lines, user)
    transfer = Transfer(source=source, destination=destination, note=note[:500], created_by=user)
    transfer._history_user = user
    transfer.save()
    _add_lines(transfer, lines)
    return transfer


@transaction.atomic
def transfer_update_draft(
    *,
    transfer: Transfer,
    source: Location,
    destination: Location,
    lines: Sequence[DraftLine],
    user=None,
    note: str = "",
) -> Transfer:
    """Replace a draft's places, note and lines, all or nothing; nothing moves until it is sent.

    Under the transfer's lock, so an edit and a sending queue behind each
    other (the later finds the transfer sent: ``TransferStateError``). The
    member must work at the draft's source as it was and as it becomes.
    """
    locked = _lock_transfer(transfer, expected=TransferState.DRAFT)
    check_works_at(user, locked.source)
    _check_draft(source, destination, lines, user)
    locked.source, locked.destination, locked.note = source, destination, note[:500]
    locked._history_user = user
    locked.save(update_fields=["source", "destination", "note"])
    locked.lines.all().delete()
    _add_lines(locked, lines)
    return locked


def _lock_transfer(transfer: Transfer, *, expected: str) -> Transfer:
    locked = lock_rows(Transfer.objects.filter(pk=transfer.pk))[0]
    if locked.state != expected:
        raise TransferStateError(transfer=locked.number, state=locked.get_state_display())
    return locked


def _move(lot: Lot, source: LotStock, destination: LotStock, quantity: int, *, user, reason: str, reference: str):
    """Units of one lot from one place to another: two movements, the lot's total unchanged."""
    source.quantity -= quantity
    destination.quantity += quantity
    source.save(update_fields=["quantity"])
    destination.save(update_fields=["quantity"])
    return [
        movement(source, MovementKind.TRANSFER_OUT, -quantity, user=user, reason=reason, reference=reference, lot=lot),
        movement(
            destination, MovementKind.TRANSFER_IN, quantity, user=user, reason=reason, reference=reference, lot=lot
        ),
    ]


@transaction.atomic
def transfer_send(*, transfer: Transfer, user=None, today: datetime.date | None = None) -> Transfer:
    """Send a draft: its units leave the source into transit (all lines or none).

    A line without a lot is split FEFO over the source's sellable lots; a line
    naming a lot sends that lot whatever its status (a recalled lot going back
    to the warehouse). A shortage refuses the whole transfer, listing every short line.
    """
    locked = _lock_transfer(transfer, expected=TransferState.DRAFT)
    source, transit = locked.source, transit_location()
    check_works_at(user, source)
    lines = list(locked.lines.select_related("medicine"))
    lock_medicines(line.medicine_id for line in lines)
    sellable = rules.sellable_stock_q(today)
    medicine_ids = [line.medicine_id for line in lines]
    candidate_lots = Lot.objects.filter(medicine_id__in=medicine_ids, stocks__location=source, stocks__quantity__gt=0)
    lots = {lot.pk: lot for lot in lock_rows(Lot.objects.filter(pk__in=candidate_lots.values("pk")))}
    stocks: dict[int, LotStock] = {}
    for stock in lock_rows(LotStock.objects.filter(location=source, lot_id__in=list(lots))):
        stock.lot = lots[stock.lot_id]
        stocks[stock.lot_id] = stock
    sellable_ids = set(
        LotStock.objects.filter(sellable, location=source, lot_id__in=list(lots)).values_list("lot_id", flat=True)
    )

    taken: dict[int, int] = defaultdict(int)  # lot id -> units this transfer takes
    plan: list[tuple[TransferLine, Lot, int]] = []
    shortages = []
    for line in lines:
        if line.lot_id is not None:
            stock = stocks.get(line.lot_id)
            available = (stock.quantity if stock else 0) - taken[line.lot_id]
            if available < line.quantity:
                lot = lots.get(line.lot_id) or line.lot
                shortages.append(
                    ShortageLine(line.medicine_id, line.medicine.name, line.quantity, available, lot.pk, lot.lot_number)
                )
                continue
            taken[line.lot_id] += line.quantity
            plan.append((line, stock.lot, line.quantity))
            continue
        rows = [
            _Remaining(stock, stock.quantity - taken[lot_id])
            for lot_id, stock in stocks.items()
            if lot_id in sellable_ids and stock.lot.medicine_id == line.medicine_id and stock.quantity > taken[lot_id]
        ]
        available = sum(row.quantity for row in rows)
        if available < line.quantity:
            shortages.append(ShortageLine(line.medicine_id, line.medicine.name, line.quantity, available))
            continue
        for row, take in fefo_plan(rows, line.quantity, line.medicine.parts_per_pack):
            taken[row.lot_id] += take
            plan.append((line, row.lot, take))
    if shortages:
        raise InsufficientStock(shortages)

    reason, reference = str(_("Transfer to %(place)s") % {"place": locked.destination.name}), locked.number
    movements: list[StockMovement] = []
    split: set[int] = set()  # lines without a lot, once given their first lot
    for line, lot, quantity in plan:
        movements += _move(
            lot, stocks[lot.pk], lock_stock(lot, transit), quantity, user=user, reason=reason, reference=reference
        )
        if line.lot_id is not None and line.pk not in split:
            continue  # the line named its lot
        if line.pk not in split:
            split.add(line.pk)
            line.lot, line.quantity = lot, quantity
            line.save(update_fields=["lot", "quantity"])
        else:
            TransferLine.objects.create(transfer=locked, medicine_id=line.medicine_id, lot=lot, quantity=quantity)
    StockMovement.objects.bulk_create(movements)
    locked.state, locked.sent_by, locked.sent_at = TransferState.SENT, user, timezone.now()
    locked._history_user = user
    locked.save(update_fields=["state", "sent_by", "sent_at"])
    stock_moved(medicine_ids, "transfer", today, locations=[source])
    return locked


@dataclass
class _Remaining:
    """A source stock row seen with what this transfer has not yet taken of it (for ``fefo_plan``)."""

    stock: LotStock
    quantity: int

    @property
    def pk(self):
        return self.stock.pk

    @property
    def lot(self):
        return self.stock.lot

    @property
    def lot_id(self):
        return self.stock.lot_id


@dataclass(frozen=True)
class Received:
    """What arrived of one line, and what happens to a shortfall."""

    quantity: int
    discrepancy: str = ""  # Discrepancy.WRITTEN_OFF or RETURNED when quantity < sent
    reason: str = ""


@transaction.atomic
def transfer_receive(
    *, transfer: Transfer, received: dict[int, Received] | None = None, user=None, today: datetime.date | None = None
) -> Transfer:
    """Receive a sent transfer at its destination; ``received`` maps a line's id to what arrived.

    A line left out arrived whole. A shortfall must say what happens to the
    missing units and why: written off at transit, or returned to the source.
    """
    received = received or {}
    locked = _lock_transfer(transfer, expected=TransferState.SENT)
    check_works_at(user, locked.destination)
    lines = list(locked.lines.select_related("lot", "medicine"))
    unknown = set(received) - {line.pk for line in lines}
    if unknown:
        raise CatalogError(_("A received line is not a line of this transfer."), code="transfer_line_unknown")
    for line in lines:
        got = received.get(line.pk, Received(line.quantity))
        rules.check_quantity(got.quantity, allow_zero=True)
        if got.quantity > line.quantity:
            raise CatalogError(
                _("%(medicine)s: %(received)s received, but %(sent)s were sent."),
                code="transfer_received_more",
                medicine=line.medicine.name,
                received=got.quantity,
                sent=line.quantity,
            )
        if got.quantity < line.quantity:
            if got.discrepancy not in (Discrepancy.WRITTEN_OFF, Discrepancy.RETURNED):
                raise CatalogError(
                    _("%(medicine)s: say whether the missing units are written off or returned."),
                    code="transfer_shortfall_unresolved",
                    medicine=line.medicine.name,
                )
            if not (got.reason or "").strip():
                raise ReasonRequired(_("Say why units of %(medicine)s are missing."), medicine=line.medicine.name)

    transit = transit_location()
    lock_medicines(line.medicine_id for line in lines)
    lots = {lot.pk: lot for lot in lock_rows(Lot.objects.filter(pk__in=[line.lot_id for line in lines]))}
    reference = locked.number
    movements: list[StockMovement] = []
    for line in sorted(lines, key=lambda line: line.lot_id):
        lot = lots[line.lot_id]
        got = received.get(line.pk, Received(line.quantity))
        in_transit = lock_stock(lot, transit)
        if got.quantity:
            arrived = str(_("Transfer from %(place)s") % {"place": locked.source.name})
            movements += _move(
                lot,
                in_transit,
                lock_stock(lot, locked.destination),
                got.quantity,
                user=user,
                reason=arrived,
                reference=reference,
            )
        missing = line.quantity - got.quantity
        if missing:
            reason = got.reason.strip()
            if got.discrepancy == Discrepancy.RETURNED:
                movements += _move(
                    lot,
                    in_transit,
                    lock_stock(lot, locked.source),
                    missing,
                    user=user,
                    reason=reason,
                    reference=reference,
                )
            else:
                in_transit.quantity -= missing
                in_transit.save(update_fields=["quantity"])
                lot.quantity -= missing
                _save_lot(lot, user=user, reason=reason, update_fields=["quantity"])
                movements.append(
                    movement(
                        in_transit,
                        MovementKind.WRITE_OFF,
                        -missing,
                        user=user,
                        reason=reason,
                        reference=reference,
                        lot=lot,
                    )
                )
        line.received_quantity = got.quantity
        line.discrepancy = got.discrepancy if missing else ""
        line.discrepancy_reason = (got.reason or "").strip()[:500] if missing else ""
        line.save(update_fields=["received_quantity", "discrepancy", "discrepancy_reason"])
    StockMovement.objects.bulk_create(movements)
    locked.state, locked.received_by, locked.received_at = TransferState.RECEIVED, user, timezone.now()
    locked._history_user = user
    locked.save(update_fields=["state", "received_by", "received_at"])
    stock_moved([line.medicine_id for line in lines], "transfer", today, locations=[locked.source, locked.destination])
    return locked


@transaction.atomic
def transfer_cancel(*, transfer: Transfer, user=None) -> Transfer:
    """Cancel a draft (nothing has moved). A sent transfer is received, with its shortfall returned."""
    locked = _lock_transfer(transfer, expected=TransferState.DRAFT)
    check_works_at(user, locked.source)
    locked.state = TransferState.CANCELLED
    locked._history_user = user
    locked.save(update_fields=["state"])
    return locked
