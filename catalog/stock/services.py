"""Every write to stock: receipts, sales, write-offs, counts, returns, lot status and corrections.

The only code that writes quantities (``LotStock``, ``Lot.quantity``), ledger
movements and the derived stock columns; admin actions, imports (through
``catalog.stock.bulk``), Celery tasks, management commands and the demo all
call these functions, and ``catalog/tests/test_stock_core_boundary.py`` fails
if anything else writes them.

Places. Every operation happens at a place (``Location``): named by the caller,
or the only place there is (``places.resolve_location``). A member acts only at
the places they work at (``places.check_works_at``; ``LocationForbidden``).

Locking. One transaction per call; ``locks.lock_rows`` takes the rows in one
global order: medicines, then lots, then the lots' stock at each place, each in
primary-key order.

Ledger. Each change of a lot's stock at a place writes one ``StockMovement``
with that place, the signed quantity and the balance there after it, so a
lot's stock at a place always equals the sum of its movements there
(``manage.py check_stock_ledger`` verifies it). ``Lot.quantity`` is the sum
over the places.

History. Lot changes are saved with the acting user and the reason
(django-simple-history's ``_history_user`` / ``_change_reason``).

Side effects (signals for alerts and caches) are sent from ``transaction.on_commit``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from catalog import signals
from catalog.exceptions import InsufficientStock, ShortageLine
from catalog.models import Location, Lot, LotStatus, LotStock, Medicine, MedicineStock, MovementKind, StockMovement

from . import derived, rules
from .locks import lock_medicines, lock_rows, lock_sellable_stock
from .pipeline import one_round_trip
from .places import check_works_at, lot_location, quarantine_location, resolve_location

# --- Small helpers --------------------------------------------------------------


def _save_lot(lot: Lot, *, user: User | None, reason: str, update_fields: list[str] | None = None) -> None:
    """Save a lot so its history row names who and why."""
    if user is not None:
        lot._history_user = user
    lot._change_reason = reason[:100] if reason else None
    lot.save(update_fields=update_fields)


def movement(
    stock: LotStock, kind: str, quantity: int, *, user: User | None, reason: str, reference: str, lot: Lot | None = None
) -> StockMovement:
    """The ledger row of a change of ``stock`` already applied in memory (its balance is ``stock.quantity``)."""
    return StockMovement(
        lot=lot or stock.lot,
        location_id=stock.location_id,
        kind=kind,
        quantity=quantity,
        balance_after=stock.quantity,
        user=user,
        reason=(reason or "")[:500],
        reference=(reference or "")[:120],
    )


def _copy_state(target: Lot, source: Lot) -> None:
    """Let the caller's instance see the values the service wrote."""
    if target is not source:
        target.quantity = source.quantity
        target.status = source.status
        target.status_reason = source.status_reason


def announce(
    flips: derived.Flips, medicine_ids: Iterable[int], reason: str, *, places: dict[int, bool] | None = None
) -> None:
    """After commit, say which medicines' stock changed and whether any went in or out of stock.

    The public API's cache, which shows stock only as "in stock" (for the
    chain or a public place), is invalidated only when something flipped
    there: a warehouse selling out of a medicine the branches still have
    changes no public answer. ``places`` (id -> is public), when the caller
    has the places at hand, saves reading them.
    """
    ids = sorted(set(medicine_ids))
    changed = bool(flips.chain)
    if not changed and flips.places:
        flipped = {location_id for _, location_id in flips.places}
        if places is not None and flipped <= places.keys():
            changed = any(places[pk] for pk in flipped)
        else:
            changed = Location.objects.filter(pk__in=flipped, is_public=True).exists()
    transaction.on_commit(
        lambda: signals.stock_changed.send(
            sender=Medicine, medicine_ids=ids, reason=reason, availability_changed=changed
        )
    )


def stock_moved(
    medicine_ids: Iterable[int],
    reason: str,
    today: datetime.date | None = None,
    *,
    locations: Iterable[Location | int] | None = None,
    new_places: bool = True,
) -> derived.Flips:
    """Recompute the medicines' derived stock (at ``locations`` only, when the change touched only those), then
    announce the change after commit."""
    ids = sorted(set(medicine_ids))
    places = None if locations is None else [getattr(place, "pk", place) for place in locations]
    flips = derived.refresh(ids, today, locations=places, new_places=new_places)
    announce(flips, ids, reason)
    return flips


def _lock_lot(lot: Lot) -> Lot:
    """Lock ``lot``'s medicine then the lot itself; returns the locked, fresh lot."""
    lock_medicines([lot.medicine_id])
    locked = lock_rows(Lot.objects.filter(pk=lot.pk))
    if not locked:
        raise Lot.DoesNotExist(f"Lot {lot.pk} does not exist.")
    return locked[0]


def _lock_lot_at(lot: Lot, location: Location, user: User | None) -> tuple[Lot, LotStock]:
    """A change of one lot at one place by ``user``: their place checked, then the lot and its stock there locked."""
    check_works_at(user, location)
    locked = _lock_lot(lot)
    return locked, lock_stock(locked, location)


def lock_stock(lot: Lot, location: Location) -> LotStock:
    """The locked stock row of ``lot`` at ``location``, created empty when the lot was never there.

    Callers hold the medicine's lock, so the creation never races.
    """
    found = lock_rows(LotStock.objects.filter(lot_id=lot.pk, location_id=location.pk))
    if found:
        stock = found[0]
    else:
        stock = LotStock.objects.create(lot=lot, location=location, quantity=0)
    stock.lot = lot
    return stock


def _change(
    lot: Lot,
    stock: LotStock,
    kind: str,
    delta: int,
    *,
    user: User | None,
    reason: str,
    reference: str,
    history_reason: str = "",
) -> StockMovement:
    """Apply ``delta`` to a locked lot at a locked place: both rows, the history, the ledger row."""
    stock.quantity += delta
    stock.save(update_fields=["quantity"])
    lot.quantity += delta
    _save_lot(lot, user=user, reason=history_reason or reason, update_fields=["quantity"])
    row = movement(stock, kind, delta, user=user, reason=reason, reference=reference, lot=lot)
    row.save()
    return row


def _set_quantities(model: type[Lot] | type[LotStock], rows: Sequence[tuple[int, int]]) -> None:
    """Write new quantities of locked rows: one ``UPDATE`` for all of them (a ``CASE`` when several)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(f"UPDATE {table} SET quantity = %s WHERE id = %s", [rows[0][1], rows[0][0]])
            return
        cases = " ".join(["WHEN %s THEN %s"] * len(rows))
        cursor.execute(
            f"UPDATE {table} SET quantity = CASE id {cases} END WHERE id IN ({', '.join(['%s'] * len(rows))})",
            [value for row in rows for value in row] + [pk for pk, _ in rows],
        )


def _insert_movements(movements: Sequence[StockMovement]) -> None:
    """Insert ledger rows in one statement and set their ids (what ``bulk_create`` writes, without its overhead)."""
    if not movements:
        return
    fields = [f for f in StockMovement._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    for row in movements:
        row.created_at = row.created_at or now
    quote = connection.ops.quote_name
    values = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(movements))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(StockMovement._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
            f"VALUES {values} RETURNING id",
            [f.get_db_prep_save(getattr(row, f.attname), connection) for row in movements for f in fields],
        )
        for row, (pk,) in zip(movements, cursor.fetchall(), strict=True):
            row.pk = pk


def _shortage(lot: Lot, requested: int, available: int) -> InsufficientStock:
    return InsufficientStock(
        [ShortageLine(lot.medicine_id, str(lot.medicine), requested, available, lot.pk, lot.lot_number)]
    )


# --- Derived columns ------------------------------------------------------------


@transaction.atomic
def medicines_refresh_stock(*, medicine_ids: Iterable[int], today: datetime.date | None = None) -> None:
    """Recompute the medicines' derived stock (per place and for the chain) from their lots.

    Locks the medicines (primary-key order) first, like every stock service, so
    a bulk refresh never deadlocks with a sale. A repair that puts a medicine
    in or out of stock is announced like any stock change ("refresh").
    """
    ids = sorted(set(medicine_ids))
    lock_medicines(ids)
    stock_moved(ids, "refresh", today)


# --- Receipts -------------------------------------------------------------------


@transaction.atomic
def lot_receive(
    *,
    medicine: Medicine,
    lot_number: str,
    expiry_date: datetime.date,
    quantity: int,
    purchase_price: Decimal,
    location: Location | int | None = None,
    supplier: str = "",
    received_date: datetime.date | None = None,
    user: User | None = None,
    reference: str = "",
    reason: str = "",
    today: datetime.date | None = None,
) -> Lot:
    """Receive ``quantity`` units at ``location``: a new lot, or more stock into the medicine's lot with that number.

    An existing lot must have the same expiry date (a different one is a
    different lot: ``LotMismatch``) and must not be recalled or expired. A
    quarantined lot stays quarantined. Expired goods are refused (``LotExpired``).
    ``today`` lets a story (the demo) be told on past dates.
    """
    rules.check_quantity(quantity)
    today = today or timezone.localdate()
    received_date = received_date or today
    lot_number, purchase_price = rules.check_receipt(
        lot_number=lot_number,
        expiry_date=expiry_date,
        received_date=received_date,
        purchase_price=purchase_price,
        today=today,
    )
    location = resolve_location(location)
    check_works_at(user, location)
    reason = reason or "receipt"

    lock_medicines([medicine.pk])
    existing = lock_rows(Lot.objects.filter(medicine_id=medicine.pk, lot_number=lot_number))
    if existing:
        lot = existing[0]
        rules.check_receipt_into(lot, expiry_date=expiry_date)
        lot.quantity += quantity
        fields = ["quantity"]
        if supplier and not lot.supplier:
            lot.supplier = supplier
            fields.append("supplier")
        _save_lot(lot, user=user, reason=reason, update_fields=fields)
    else:
        lot = Lot(
            medicine=medicine,
            lot_number=lot_number,
            expiry_date=expiry_date,
            received_date=received_date,
            quantity=quantity,
            purchase_price=purchase_price,
            supplier=supplier,
        )
        _save_lot(lot, user=user, reason=reason)
    stock = lock_stock(lot, location)
    stock.quantity += quantity
    stock.save(update_fields=["quantity"])
    movement(stock, MovementKind.RECEIPT, quantity, user=user, reason=reason, reference=reference, lot=lot).save()
    stock_moved([medicine.pk], "receipt", today, locations=[location])
    return lot


# --- Dispensing -------------------------------------------------------------------


def fefo_plan(stocks: Sequence[LotStock], quantity: int, parts_per_pack: int) -> list[tuple[LotStock, int]]:
    """Which stock rows a sale of ``quantity`` units takes from, and how many from each.

    First expiry, first out; for a medicine sold by the part, the loose part of
    the request (``quantity % parts_per_pack``) comes first from packs already
    opened (a row whose units are not whole packs), earliest expiry first, so a
    new pack is not opened while another lies open. Pure: ``stocks`` are the
    sellable rows, each with its ``lot`` loaded.
    """
    ordered = sorted(stocks, key=lambda s: (s.lot.expiry_date, s.lot_id, s.pk))
    taken: dict[int, int] = defaultdict(int)
    remaining = quantity
    loose = quantity % parts_per_pack if parts_per_pack > 1 else 0
    if loose:
        for stock in ordered:
            opened = stock.quantity % parts_per_pack
            if opened and loose:
                take = min(loose, opened)
                taken[stock.pk] += take
                loose -= take
                remaining -= take
    for stock in ordered:
        if remaining == 0:
            break
        take = min(remaining, stock.quantity - taken[stock.pk])
        if take > 0:
            taken[stock.pk] += take
            remaining -= take
    return [(stock, taken[stock.pk]) for stock in ordered if taken[stock.pk]]


@transaction.atomic
def stock_dispense_lines(
    *,
    lines: Sequence[tuple[Medicine, int]],
    location: Location | int | None = None,
    user: User | None = None,
    reference: str = "",
    reason: str = "",
    today: datetime.date | None = None,
) -> list[StockMovement]:
    """Dispense several medicines at once at ``location`` (an order): all lines or none.

    Every line is checked before anything is written; a shortage raises
    ``InsufficientStock`` listing every short line. Each medicine is taken by
    ``fefo_plan`` from its sellable stock at the place only: an available lot,
    ``expiry_date > today``; never an expired, quarantined or recalled lot, nor
    one on its expiry day. Quantities are units (parts for a medicine sold by
    the part). Increments ``number_sold``.
    """
    requested: dict[int, int] = defaultdict(int)
    medicines: dict[int, Medicine] = {}
    for medicine, quantity in lines:
        rules.check_quantity(quantity)
        requested[medicine.pk] += quantity
        medicines[medicine.pk] = medicine
    if not requested:
        return []
    today = today or timezone.localdate()
    location = resolve_location(location)
    check_works_at(user, location)

    # The medicines first (primary-key order); then, under their locks, their sellable stock at the place
    # with its lots, read fresh: every writer of these rows holds the same medicine locks.
    lock_medicines(requested)
    stocks_by_medicine: dict[int, list[LotStock]] = defaultdict(list)
    for stock in lock_sellable_stock(location.pk, list(requested), today):
        stocks_by_medicine[stock.lot.medicine_id].append(stock)

    shortages = []
    for medicine_id, quantity in sorted(requested.items()):
        available = sum(stock.quantity for stock in stocks_by_medicine[medicine_id])
        if available < quantity:
            shortages.append(ShortageLine(medicine_id, medicines[medicine_id].name, quantity, available))
    if shortages:
        raise InsufficientStock(shortages)

    movements: list[StockMovement] = []
    changed: list[LotStock] = []
    sold: list[derived.Sold] = []
    for medicine_id, quantity in sorted(requested.items()):
        parts = medicines[medicine_id].parts_per_pack or 1
        for stock, take in fefo_plan(stocks_by_medicine[medicine_id], quantity, parts):
            stock.quantity -= take
            stock.lot.quantity -= take
            changed.append(stock)
            movements.append(
                movement(stock, MovementKind.DISPENSE, -take, user=user, reason=reason, reference=reference)
            )
        remaining = [(stock.quantity, stock.lot.expiry_date) for stock in stocks_by_medicine[medicine_id]]
        sold.append(derived.Sold(medicine_id, quantity, remaining))
    # A sale's record is its ledger row (who, why, which document): the lot's history is for changes to the
    # lot itself, so a sale writes none.
    with one_round_trip():
        _set_quantities(LotStock, [(stock.pk, stock.quantity) for stock in changed])
        _set_quantities(Lot, [(stock.lot_id, stock.lot.quantity) for stock in changed])
        flips = derived.after_sale(location, sold)
        _insert_movements(movements)
    announce(flips, requested, "dispense", places={location.pk: location.is_public})
    return movements


def stock_dispense(
    *,
    medicine: Medicine,
    quantity: int,
    location: Location | int | None = None,
    user: User | None = None,
    reference: str = "",
    reason: str = "",
    today: datetime.date | None = None,
) -> list[StockMovement]:
    """Dispense ``quantity`` units of ``medicine`` FEFO at ``location``; see ``stock_dispense_lines``.

    Returns one dispense movement per lot touched, earliest expiry first.
    """
    return stock_dispense_lines(
        lines=[(medicine, quantity)], location=location, user=user, reference=reference, reason=reason, today=today
    )


# --- Corrections -------------------------------------------------------------------


@transaction.atomic
def stock_write_off(
    *,
    lot: Lot,
    quantity: int | None,
    reason: str,
    location: Location | int | None = None,
    user: User | None = None,
    reference: str = "",
) -> StockMovement:
    """Remove damaged, expired or recalled units of a lot at a place (any status). A reason is required.

    ``quantity=None`` writes off all the lot holds there when its lock is taken, not
    what the caller read earlier: a sale committed in between is not refused as a shortage.
    ``location`` may be left out when the lot is in one place only.
    """
    if quantity is not None:
        rules.check_quantity(quantity)
    reason = rules.require_reason(reason)
    location = lot_location(lot, location)
    locked, stock = _lock_lot_at(lot, location, user)
    if quantity is None:
        quantity = stock.quantity
        rules.check_quantity(quantity)  # an empty lot has nothing to write off
    if stock.quantity < quantity:
        raise _shortage(locked, quantity, stock.quantity)
    row = _change(locked, stock, MovementKind.WRITE_OFF, -quantity, user=user, reason=reason, reference=reference)
    stock_moved([locked.medicine_id], "write_off", locations=[location], new_places=False)
    _copy_state(lot, locked)
    return row


# What a correction of a lot's paperwork may change; quantity and status change
# only through the stock services.
LOT_DETAIL_FIELDS = ("lot_number", "expiry_date", "received_date", "purchase_price", "supplier")


@transaction.atomic
def lot_update_details(*, lot: Lot, changes: dict, user: User | None = None, reason: str = "") -> Lot:
    """Correct a lot's number, dates, purchase price or supplier, under its lock.

    Only the changed fields are written, so a sale committed since the caller
    read the lot is never overwritten. An expiry correction changes what may be
    sold: the medicine's derived stock is recomputed and the change announced.
    A correction of the lot number or expiry date without a reason is refused
    (``ReasonRequired``). The correction is recorded in the lot's history (who,
    why, old and new values), not in the stock ledger, which records quantities
    and moves none here. A lot is one batch wherever its packs are: any member
    who may change lots may correct its paperwork.
    """
    unknown = set(changes) - set(LOT_DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"Not a lot detail: {', '.join(sorted(unknown))}")
    locked = _lock_lot(lot)
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    reason = (reason or "").strip()
    rules.LOT_CORRECTION_REASON.require(changed, reason)
    for name in changed:
        setattr(locked, name, changes[name])
    if changed:
        _save_lot(locked, user=user, reason=reason, update_fields=changed)
    if "expiry_date" in changed:
        stock_moved([locked.medicine_id], "correction")
    for name in LOT_DETAIL_FIELDS:
        setattr(lot, name, getattr(locked, name))
    _copy_state(lot, locked)
    return locked


@transaction.atomic
def stock_adjust(
    *,
    lot: Lot,
    counted_quantity: int,
    location: Location | int | None = None,
    user: User | None = None,
    reason: str = "",
    reference: str = "",
) -> StockMovement | None:
    """A stocktake at a place: the counted quantity becomes the lot's stock there through one adjustment.

    Returns ``None`` (and writes nothing) when the count matches the books. A
    count is made somewhere: with more than one place, ``location`` is required.
    """
    rules.check_quantity(counted_quantity, allow_zero=True)
    reason = (reason or "").strip() or str(_("Stocktake"))
    location = resolve_location(location)
    locked, stock = _lock_lot_at(lot, location, user)
    delta = counted_quantity - stock.quantity
    if delta == 0:
        _copy_state(lot, locked)
        return None
    row = _change(locked, stock, MovementKind.ADJUSTMENT, delta, user=user, reason=reason, reference=reference)
    stock_moved([locked.medicine_id], "adjustment", locations=[location])
    _copy_state(lot, locked)
    return row


@transaction.atomic
def stock_return(
    *,
    lot: Lot,
    quantity: int,
    location: Location | int | None = None,
    user: User | None = None,
    reason: str = "",
    reference: str = "",
    quarantine: bool = False,
) -> StockMovement:
    """Units a customer brings back go back into their lot at a place (whatever its status) and out of ``number_sold``.

    Whether the lot may be sold again is its status's business: a return into
    a recalled lot stays unsellable. With more than one place, ``location`` (where
    the customer brings it) is required. ``quarantine``: the units are unfit for
    sale and go into that place's quarantine instead (``quarantine_location``),
    set aside from its shelf and never sold; the lot itself keeps its status, so
    its good units stay on sale everywhere.
    """
    rules.check_quantity(quantity)
    reason = (reason or "").strip() or "return"
    location = resolve_location(location)
    if quarantine:  # created on first use; refused below (and rolled back) for a member of another place
        location = quarantine_location(location)
    locked, stock = _lock_lot_at(lot, location, user)
    row = _change(locked, stock, MovementKind.RETURN, quantity, user=user, reason=reason, reference=reference)
    Medicine.objects.filter(pk=locked.medicine_id).update(number_sold=Greatest(F("number_sold") - quantity, 0))
    stock_moved([locked.medicine_id], "return", locations=[location])
    _copy_state(lot, locked)
    return row


# --- Lot status ---------------------------------------------------------------------
# A lot is one batch wherever its packs are: a hold or a recall holds it in every place at once.


def _set_status(lot: Lot, *, change: str, to: str, reason: str, user: User | None) -> Lot:
    """``to``: the new status, or a function of the locked lot giving it (decided on what the lock read)."""
    locked = _lock_lot(lot)
    rules.check_status(locked, rules.STATUS_CHANGES[change])
    locked.status = to(locked) if callable(to) else to
    locked.status_reason = reason[:500]
    _save_lot(locked, user=user, reason=reason, update_fields=["status", "status_reason"])
    stock_moved([locked.medicine_id], change)
    _copy_state(lot, locked)
    return locked


@transaction.atomic
def lot_quarantine(*, lot: Lot, reason: str, user: User | None = None) -> Lot:
    """Hold an available lot (suspected quality problem) in every place: it stops being sellable until released."""
    reason = rules.require_reason(reason)
    return _set_status(lot, change="quarantine", to=LotStatus.QUARANTINED, reason=reason, user=user)


@transaction.atomic
def lot_release(*, lot: Lot, reason: str, user: User | None = None) -> Lot:
    """Release a quarantined lot; one that expired meanwhile becomes expired instead of available."""
    reason = rules.require_reason(reason)
    today = timezone.localdate()

    def target(locked: Lot) -> str:  # the expiry under the lock: a correction committed meanwhile counts
        return LotStatus.EXPIRED if locked.expiry_date <= today else LotStatus.AVAILABLE

    return _set_status(lot, change="release", to=target, reason=reason, user=user)


@dataclass
class RecallReport:
    """Where a recalled lot's stock went: on hand now (and where), and every dispense with its reference."""

    lot: Lot
    on_hand: int
    received: int
    dispensed: list[StockMovement] = field(default_factory=list)
    dispensed_quantity: int = 0
    returned_quantity: int = 0
    written_off_quantity: int = 0
    adjusted_quantity: int = 0
    already_recalled: bool = False
    on_hand_by_location: dict[str, int] = field(default_factory=dict)

    @property
    def references(self) -> list[str]:
        """The orders or sales the lot's units left in (customers to contact)."""
        return sorted({m.reference for m in self.dispensed if m.reference})

    @property
    def outstanding(self) -> int:
        """Units that reached customers and have not come back."""
        return self.dispensed_quantity - self.returned_quantity


@transaction.atomic
def lot_recall(*, lot: Lot, reason: str, user: User | None = None) -> RecallReport:
    """Block a lot for good in every place (a manufacturer's or regulator's recall) and report where its stock went.

    Recalling an already recalled lot changes nothing and returns the report again.
    Receivers of ``catalog.signals.lot_recalled`` are called after commit.
    """
    reason = rules.require_reason(reason)
    locked = _lock_lot(lot)
    already = locked.status == LotStatus.RECALLED
    if not already:
        locked.status = LotStatus.RECALLED
        locked.status_reason = reason[:500]
        _save_lot(locked, user=user, reason=reason, update_fields=["status", "status_reason"])
        stock_moved([locked.medicine_id], "recall")
    _copy_state(lot, locked)

    report = RecallReport(lot=locked, on_hand=locked.quantity, received=0, already_recalled=already)
    report.on_hand_by_location = {
        name: quantity
        for name, quantity in LotStock.objects.filter(lot=locked, quantity__gt=0)
        .order_by("location__name")
        .values_list("location__name", "quantity")
    }
    for row in StockMovement.objects.filter(lot=locked).select_related("user").order_by("created_at", "pk"):
        if row.kind == MovementKind.RECEIPT:
            report.received += row.quantity
        elif row.kind == MovementKind.DISPENSE:
            report.dispensed.append(row)
            report.dispensed_quantity += -row.quantity
        elif row.kind == MovementKind.RETURN:
            report.returned_quantity += row.quantity
        elif row.kind == MovementKind.WRITE_OFF:
            report.written_off_quantity += -row.quantity
        elif row.kind == MovementKind.ADJUSTMENT:
            report.adjusted_quantity += row.quantity
    if not already:
        transaction.on_commit(lambda: signals.lot_recalled.send(sender=Lot, lot=locked, report=report, user=user))
    return report


# The history's reason on the lots the daily sweep expires (the owner's dashboard words it).
EXPIRY_SWEEP_REASON = "expiry"


@transaction.atomic
def lots_expire(*, today: datetime.date | None = None, user: User | None = None) -> int:
    """The daily sweep: available lots with ``expiry_date <= today`` become expired. Returns how many.

    Idempotent (a second run finds nothing). Quarantined lots keep their hold
    (``lot_release`` expires them); recalled lots stay recalled. Also refreshes
    the derived columns of every medicine whose nearest expiry (anywhere) has
    passed, since a lot stops being sellable on its expiry day whatever its status says.
    """
    today = today or timezone.localdate()
    due = Lot.objects.filter(status=LotStatus.AVAILABLE, expiry_date__lte=today)
    medicine_ids = set(due.values_list("medicine_id", flat=True).distinct())
    medicine_ids |= set(Medicine.objects.filter(nearest_expiry__lte=today).values_list("pk", flat=True))
    medicine_ids |= set(
        MedicineStock.objects.filter(nearest_expiry__lte=today).values_list("medicine_id", flat=True).distinct()
    )
    if not medicine_ids:
        return 0
    lock_medicines(medicine_ids)
    lots = lock_rows(due)
    note = str(_("Expired on %(date)s") % {"date": today.isoformat()})
    for lot in lots:
        lot.status = LotStatus.EXPIRED
        lot.status_reason = note
    if lots:
        bulk_update_with_history(
            lots,
            Lot,
            ["status", "status_reason"],
            batch_size=500,
            default_user=user,
            default_change_reason=EXPIRY_SWEEP_REASON,
        )
    stock_moved(medicine_ids, "expiry", today)
    return len(lots)


# --- Stories on past dates -------------------------------------------------------------


@transaction.atomic
def ledger_backdate(
    *, when: datetime.datetime, movements: models.QuerySet | None = None, lots: models.QuerySet | None = None
) -> None:
    """Date ledger rows (and lots) at ``when``: for a story told on past dates (the demo), never for real stock.

    The services stamp what they write with the moment they run; a story
    replayed in one go says afterwards when each step happened. Only the
    timestamps change: quantities, balances and the derived columns do not.
    """
    if movements is not None:
        StockMovement.objects.filter(pk__in=movements.values("pk")).update(created_at=when)
    if lots is not None:
        Lot.objects.filter(pk__in=lots.values("pk")).update(created_at=when)
