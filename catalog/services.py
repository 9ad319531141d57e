"""Every write to stock and to the derived catalogue columns.

One way to change stock: admin actions, the API, imports, Celery tasks and
management commands all call these functions.

Locking. Every stock service runs in one transaction and locks the rows it
changes through ``lock_rows``, always in the same global order: first the
medicines (primary-key order), then their lots (primary-key order). Two
workers touching the same rows therefore queue behind each other instead of
deadlocking, and a quantity is read only after its row is locked, so two
concurrent dispenses never sell the same unit twice. Locks are
``FOR NO KEY UPDATE``: they do not block other tables inserting rows that
reference a medicine (order lines, for example).

Ledger. Each change of a lot's quantity writes one ``StockMovement`` with the
signed quantity and the lot's balance after it, so a lot's quantity always
equals the sum of its movements (``manage.py check_stock_ledger`` verifies it).

History. Lot changes are saved with the acting user and the reason
(django-simple-history's ``_history_user`` / ``_change_reason``). When no
user is passed, simple-history's middleware supplies the request's user.

Side effects (signals for alerts) are sent from ``transaction.on_commit``.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import TypeVar

from django.db import connection, models, transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from . import signals
from .exceptions import (
    CatalogError,
    InsufficientStock,
    InvalidQuantity,
    LotExpired,
    LotMismatch,
    LotStatusError,
    ReasonRequired,
    ShortageLine,
)
from .models import Lot, LotStatus, Medicine, MovementKind, StockMovement
from .selectors import SEARCH_TERM_TABLE, sellable_lots_q
from .transliteration import search_document

ModelT = TypeVar("ModelT", bound=models.Model)

REINDEX_BATCH_SIZE = 2000
# Lots no receipt may add stock to (lot_receive, the receipt import and the admin receive form check it).
CLOSED_TO_RECEIPTS = (LotStatus.RECALLED, LotStatus.EXPIRED)


def batched(items: Iterable, size: int):
    """``itertools.batched`` (Python 3.12) for 3.11."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- Locking ------------------------------------------------------------------


def lock_rows(queryset: models.QuerySet[ModelT]) -> list[ModelT]:
    """Lock the rows of ``queryset`` in primary-key order and return them, freshly read.

    The single place rows are locked (as Saleor's ``lock_objects``): a
    consistent order across all callers is what prevents deadlocks. Call it
    for medicines before lots. No ``select_related`` here: FOR UPDATE would
    lock the joined rows too. SQLite ignores row locks (its IMMEDIATE
    transactions lock the whole database).
    """
    return list(queryset.select_related(None).order_by("pk").select_for_update(no_key=True))


def lock_medicines(medicine_ids: Iterable[int]) -> None:
    """Lock the medicines in primary-key order (``lock_rows``), loading only their ids.

    Only the lock is wanted, not the rows: reading every column of 100,000
    medicines for an import cost more than the work it guarded. PostgreSQL
    takes any number of ids in one statement (an array); elsewhere they go in
    ordered chunks of 5,000, which keeps the primary-key order across chunks.
    """
    ids = sorted(set(medicine_ids))
    if not ids:
        return
    if connection.vendor == "postgresql":
        array = Medicine.objects.extra(where=[f"{Medicine._meta.db_table}.id = ANY(%s)"], params=[ids])
        lock_rows(array.only("pk"))
        return
    for chunk in batched(ids, 5000):
        lock_rows(Medicine.objects.filter(pk__in=chunk).only("pk"))


def _lock_lot(lot: Lot) -> Lot:
    """Lock ``lot``'s medicine then the lot itself; returns the locked, fresh lot."""
    lock_medicines([lot.medicine_id])
    locked = lock_rows(Lot.objects.filter(pk=lot.pk))
    if not locked:
        raise Lot.DoesNotExist(f"Lot {lot.pk} does not exist.")
    return locked[0]


# --- Small helpers --------------------------------------------------------------


def receive_into(lot: Lot, quantity: int, supplier: str) -> list[str]:
    """Add a receipt to an existing lot in memory; returns the fields it changed.

    The supplier is filled in only when the lot has none. Shared by
    ``lot_receive`` and the receipt import, which save the lot themselves.
    """
    lot.quantity += quantity
    fields = ["quantity"]
    if supplier and not lot.supplier:
        lot.supplier = supplier
        fields.append("supplier")
    return fields


def _check_quantity(quantity: int, *, allow_zero: bool = False) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity()
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise InvalidQuantity()


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    return reason


def _save_lot(lot: Lot, *, user, reason: str, update_fields: list[str] | None = None) -> None:
    """Save a lot so its history row names who and why."""
    if user is not None:
        lot._history_user = user
    lot._change_reason = reason[:100] if reason else None
    lot.save(update_fields=update_fields)


def _movement(lot: Lot, kind: str, quantity: int, *, user, reason: str, reference: str) -> StockMovement:
    return StockMovement(
        lot=lot,
        kind=kind,
        quantity=quantity,
        balance_after=lot.quantity,
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


def _after_commit_stock_changed(medicine_ids: Iterable[int], reason: str, *, availability_changed: bool) -> None:
    ids = sorted(set(medicine_ids))
    transaction.on_commit(
        lambda: signals.stock_changed.send(
            sender=Medicine, medicine_ids=ids, reason=reason, availability_changed=availability_changed
        )
    )


def _stock_moved(medicine_ids: Iterable[int], reason: str, today: datetime.date | None = None) -> None:
    """Recompute the medicines' derived stock, then say after commit what changed and why.

    The signal tells whether any of them went in or out of stock: the public
    API's cache, which shows stock only as "in stock", is invalidated only then.
    """
    flipped = _refresh_stock(medicine_ids, today)
    _after_commit_stock_changed(medicine_ids, reason, availability_changed=bool(flipped))


# --- Derived columns -----------------------------------------------------------


def _refresh_stock(medicine_ids: Iterable[int], today: datetime.date | None = None) -> set[int]:
    """Recompute ``sellable_quantity`` and ``nearest_expiry``; returns the ids that went in or out of stock."""
    ids = sorted(set(medicine_ids))
    if not ids:
        return set()
    today = today or timezone.localdate()
    sellable = Lot.objects.filter(sellable_lots_q(today), medicine_id=OuterRef("pk"))
    total = sellable.order_by().values("medicine_id").annotate(total=Sum("quantity")).values("total")
    nearest = sellable.order_by("expiry_date").values("expiry_date")[:1]
    flipped: set[int] = set()
    for chunk in batched(ids, 5000):
        in_stock = Medicine.objects.filter(pk__in=chunk, sellable_quantity__gt=0).values_list("pk", flat=True)
        before = set(in_stock)
        Medicine.objects.filter(pk__in=chunk).update(
            sellable_quantity=Coalesce(Subquery(total), 0),
            nearest_expiry=Subquery(nearest),
        )
        flipped |= before ^ set(in_stock.all())  # .all(): a fresh read, not the first one's cache
    return flipped


@transaction.atomic
def medicines_refresh_stock(*, medicine_ids: Iterable[int], today: datetime.date | None = None) -> None:
    """Recompute ``sellable_quantity`` and ``nearest_expiry`` from the lots, in set-based UPDATEs.

    Locks the medicines (primary-key order) first, like the stock services, so
    a bulk refresh never deadlocks with a dispense. A repair that puts a
    medicine in or out of stock is announced like any stock change ("refresh").
    """
    ids = sorted(set(medicine_ids))
    lock_medicines(ids)
    _stock_moved(ids, "refresh", today)


def substance_keys(links: Iterable[tuple], dosage_form: str) -> tuple[str, str]:
    """``(substance_key, generic_key)`` from ``(substance_id, strength, unit, per_volume_ml)`` links.

    Two medicines are the same generic when their generic keys are equal: the
    same substances at the same strengths and units (per the same volume) in
    the same dosage form. Their substance keys are equal when only the set of
    substances is the same. Empty strings for a medicine without substances.
    """
    links = sorted(links, key=lambda link: link[0])
    if not links:
        return "", ""

    def number(value) -> str:
        return f"{Decimal(value).normalize():f}"

    substance_key = "+".join(str(link[0]) for link in links)
    strengths = "|".join(
        f"{substance_id}:{number(strength)}{unit}" + (f"/{number(per_volume)}ml" if per_volume else "")
        for substance_id, strength, unit, per_volume in links
    )
    return substance_key, f"{dosage_form}|{strengths}"


@transaction.atomic
def medicine_reindex_search(*, medicine_ids: Iterable[int]) -> None:
    """Rebuild ``search_text`` (case-folded name, manufacturer, substance INN and uz/ru names, each
    with its Latin and Cyrillic spellings) and the alternatives keys (``substance_key``,
    ``generic_key``, see ``substance_keys``) for the given medicines.

    When it runs: ``catalog.receivers`` calls it on every save of a medicine,
    manufacturer, active substance or medicine-substance link (so admin edits
    and imports keep the column current), except for raw fixture loads and
    bulk_create/update(), whose callers (``load_demo``, ``generate_catalog``)
    call it themselves.
    """
    ids = sorted(set(medicine_ids))
    for chunk in batched(ids, REINDEX_BATCH_SIZE):
        lock_medicines(chunk)
        medicines = (
            Medicine.objects.filter(pk__in=chunk)
            .select_related("manufacturer")
            .prefetch_related("medicine_substances__substance")
            .only("pk", "name", "dosage_form", "search_text", "substance_key", "generic_key", "manufacturer__name")
        )
        changed = []
        for medicine in medicines:
            parts = [medicine.name, medicine.manufacturer.name]
            links = list(medicine.medicine_substances.all())
            for link in links:
                parts += [link.substance.inn_name, link.substance.name_uz, link.substance.name_ru]
            values = (
                search_document(parts),
                *substance_keys(
                    [(link.substance_id, link.strength, link.unit, link.per_volume_ml) for link in links],
                    medicine.dosage_form,
                ),
            )
            if values != (medicine.search_text, medicine.substance_key, medicine.generic_key):
                medicine.search_text, medicine.substance_key, medicine.generic_key = values
                changed.append(medicine)
        if changed:
            Medicine.objects.bulk_update(changed, ["search_text", "substance_key", "generic_key"], batch_size=500)
            search_terms_add(m.search_text for m in changed)


def search_terms_add(texts: Iterable[str]) -> None:
    """Add the words of search texts to the search vocabulary (PostgreSQL; no-op elsewhere).

    The vocabulary only grows: a word no medicine uses any more costs one
    useless correction candidate, never a wrong result.
    """
    if connection.vendor != "postgresql":
        return
    words = sorted(
        {word for text in texts for word in text.split(" ") if len(word) >= 3 and not any(c.isdigit() for c in word)}
    )
    if not words:
        return
    with connection.cursor() as cursor:
        for chunk in batched(words, 5000):
            cursor.execute(
                f"INSERT INTO {SEARCH_TERM_TABLE} (term) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", [chunk]
            )


def search_terms_rebuild() -> None:
    """Refill the search vocabulary from every medicine's search_text, and refresh the planner's statistics.

    Run after bulk loads that skip the services (``generate_catalog``, fixtures).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SEARCH_TERM_TABLE} (term) "
            "SELECT DISTINCT w FROM catalog_medicine, regexp_split_to_table(search_text, ' ') AS w "
            "WHERE length(w) >= 3 AND w !~ '[0-9]' ON CONFLICT DO NOTHING"
        )
        cursor.execute("ANALYZE catalog_medicine")
        cursor.execute(f"ANALYZE {SEARCH_TERM_TABLE}")


# --- Receipts -------------------------------------------------------------------


@transaction.atomic
def lot_receive(
    *,
    medicine: Medicine,
    lot_number: str,
    expiry_date: datetime.date,
    quantity: int,
    purchase_price: Decimal,
    supplier: str = "",
    received_date: datetime.date | None = None,
    user=None,
    reference: str = "",
    reason: str = "",
) -> Lot:
    """Receive ``quantity`` units: a new lot, or more stock into the medicine's lot with that number.

    An existing lot must have the same expiry date (a different one is a
    different lot: ``LotMismatch``) and must not be recalled or expired. A
    quarantined lot stays quarantined. Expired goods are refused (``LotExpired``).
    """
    _check_quantity(quantity)
    today = timezone.localdate()
    received_date = received_date or today
    lot_number = (lot_number or "").strip()
    if not lot_number:
        raise CatalogError(_("A lot number is required."), code="lot_number_required")
    if received_date > today:
        raise CatalogError(_("The receipt date cannot be in the future."), code="received_in_future")
    if expiry_date <= today:
        raise LotExpired(lot_number=lot_number, expiry_date=expiry_date.isoformat())
    purchase_price = Decimal(purchase_price)
    if purchase_price < 0:
        raise CatalogError(_("The purchase price cannot be negative."), code="negative_price")
    reason = reason or "receipt"

    lock_medicines([medicine.pk])
    existing = lock_rows(Lot.objects.filter(medicine_id=medicine.pk, lot_number=lot_number))
    if existing:
        lot = existing[0]
        if lot.expiry_date != expiry_date:
            raise LotMismatch(lot_number=lot_number, expiry_date=lot.expiry_date.isoformat())
        if lot.status in CLOSED_TO_RECEIPTS:
            raise LotStatusError(lot=lot_number, status=lot.get_status_display())
        _save_lot(lot, user=user, reason=reason, update_fields=receive_into(lot, quantity, supplier))
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
    _movement(lot, MovementKind.RECEIPT, quantity, user=user, reason=reason, reference=reference).save()
    _stock_moved([medicine.pk], "receipt", today)
    return lot


# --- Dispensing -------------------------------------------------------------------


@transaction.atomic
def stock_dispense_lines(
    *, lines: Sequence[tuple[Medicine, int]], user=None, reference: str = "", reason: str = ""
) -> list[StockMovement]:
    """Dispense several medicines at once (an order): all lines or none.

    Every line is checked before anything is written; a shortage raises
    ``InsufficientStock`` listing every short line. Each medicine is taken FEFO
    (first expiry, first out) from its sellable lots only: available, holding
    stock and ``expiry_date > today``. Never an expired, quarantined or
    recalled lot, nor one on its expiry day. Increments ``number_sold``.
    """
    requested: dict[int, int] = defaultdict(int)
    names: dict[int, str] = {}
    for medicine, quantity in lines:
        _check_quantity(quantity)
        requested[medicine.pk] += quantity
        names[medicine.pk] = medicine.name
    if not requested:
        return []
    today = timezone.localdate()

    # Medicines first, then their sellable lots, each in primary-key order.
    lock_medicines(requested)
    lots_by_medicine: dict[int, list[Lot]] = defaultdict(list)
    for lot in lock_rows(Lot.objects.filter(sellable_lots_q(today), medicine_id__in=list(requested))):
        lots_by_medicine[lot.medicine_id].append(lot)

    shortages = []
    for medicine_id, quantity in sorted(requested.items()):
        available = sum(lot.quantity for lot in lots_by_medicine[medicine_id])
        if available < quantity:
            shortages.append(ShortageLine(medicine_id, names[medicine_id], quantity, available))
    if shortages:
        raise InsufficientStock(shortages)

    movements: list[StockMovement] = []
    for medicine_id, quantity in sorted(requested.items()):
        remaining = quantity
        for lot in sorted(lots_by_medicine[medicine_id], key=lambda lot: (lot.expiry_date, lot.pk)):
            if remaining == 0:
                break
            take = min(remaining, lot.quantity)
            lot.quantity -= take
            remaining -= take
            _save_lot(lot, user=user, reason=reason or "dispense", update_fields=["quantity"])
            movements.append(
                _movement(lot, MovementKind.DISPENSE, -take, user=user, reason=reason, reference=reference)
            )
        Medicine.objects.filter(pk=medicine_id).update(number_sold=F("number_sold") + quantity)
    StockMovement.objects.bulk_create(movements)
    _stock_moved(requested, "dispense", today)
    return movements


def stock_dispense(
    *, medicine: Medicine, quantity: int, user=None, reference: str = "", reason: str = ""
) -> list[StockMovement]:
    """Dispense ``quantity`` units of ``medicine`` FEFO; see ``stock_dispense_lines``.

    Returns one dispense movement per lot touched, earliest expiry first.
    """
    return stock_dispense_lines(lines=[(medicine, quantity)], user=user, reference=reference, reason=reason)


# --- Corrections -------------------------------------------------------------------


@transaction.atomic
def stock_write_off(*, lot: Lot, quantity: int | None, reason: str, user=None, reference: str = "") -> StockMovement:
    """Remove damaged, expired or recalled units from a lot (any status). A reason is required.

    ``quantity=None`` writes off all the lot holds when its lock is taken, not what
    the caller read earlier: a sale committed in between is not refused as a shortage.
    """
    if quantity is not None:
        _check_quantity(quantity)
    reason = _require_reason(reason)
    locked = _lock_lot(lot)
    if quantity is None:
        quantity = locked.quantity
        _check_quantity(quantity)  # an empty lot has nothing to write off
    if locked.quantity < quantity:
        raise InsufficientStock(
            [
                ShortageLine(
                    locked.medicine_id, str(locked.medicine), quantity, locked.quantity, locked.pk, locked.lot_number
                )
            ]
        )
    locked.quantity -= quantity
    _save_lot(locked, user=user, reason=reason, update_fields=["quantity"])
    movement = _movement(locked, MovementKind.WRITE_OFF, -quantity, user=user, reason=reason, reference=reference)
    movement.save()
    _stock_moved([locked.medicine_id], "write_off")
    _copy_state(lot, locked)
    return movement


# What a correction of a lot's paperwork may change; quantity and status change
# only through the stock services above.
LOT_DETAIL_FIELDS = ("lot_number", "expiry_date", "received_date", "purchase_price", "supplier")


# What identifies the batch on the box and decides until when it may be sold:
# correcting either is recorded with the reason (a supplier's letter, a misprint).
@dataclass(frozen=True)
class ReasonRule:
    """Fields whose change must carry a reason, and the one wording of the refusal.

    The services enforce it (``require``); the admin forms ask for the reason
    with the same rule and the same words (``needed``, ``message``).
    """

    fields: tuple[str, ...]
    message: str
    code: str

    def needed(self, changed: Iterable[str]) -> list[str]:
        """The fields among ``changed`` that need a reason."""
        changed = set(changed)
        return [name for name in self.fields if name in changed]

    def require(self, changed: Iterable[str], reason: str) -> None:
        if self.needed(changed) and not reason:
            raise ReasonRequired(self.message, code=self.code)


LOT_CORRECTION_REASON = ReasonRule(
    ("lot_number", "expiry_date"), _("Say why the lot number or expiry date is corrected."), "lot_reason_required"
)


@transaction.atomic
def lot_update_details(*, lot: Lot, changes: dict, user=None, reason: str = "") -> Lot:
    """Correct a lot's number, dates, purchase price or supplier, under its lock.

    Only the changed fields are written, so a sale committed since the caller
    read the lot is never overwritten. An expiry correction changes what may be
    sold: the medicine's derived stock is recomputed and the change announced.
    A correction of the lot number or expiry date without a reason is refused
    (``ReasonRequired``). The correction is recorded in the lot's history (who,
    why, old and new values), not in the stock ledger, which records quantities
    and moves none here.
    """
    unknown = set(changes) - set(LOT_DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"Not a lot detail: {', '.join(sorted(unknown))}")
    locked = _lock_lot(lot)
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    reason = (reason or "").strip()
    LOT_CORRECTION_REASON.require(changed, reason)
    for name in changed:
        setattr(locked, name, changes[name])
    if changed:
        _save_lot(locked, user=user, reason=reason, update_fields=changed)
    if "expiry_date" in changed:
        _stock_moved([locked.medicine_id], "correction")
    for name in LOT_DETAIL_FIELDS:
        setattr(lot, name, getattr(locked, name))
    _copy_state(lot, locked)
    return locked


@transaction.atomic
def stock_adjust(
    *, lot: Lot, counted_quantity: int, user=None, reason: str = "", reference: str = ""
) -> StockMovement | None:
    """A stocktake: the counted quantity becomes the lot's quantity through one adjustment movement.

    Returns ``None`` (and writes nothing) when the count matches the books.
    """
    _check_quantity(counted_quantity, allow_zero=True)
    reason = (reason or "").strip() or str(_("Stocktake"))
    locked = _lock_lot(lot)
    delta = counted_quantity - locked.quantity
    if delta == 0:
        _copy_state(lot, locked)
        return None
    locked.quantity = counted_quantity
    _save_lot(locked, user=user, reason=reason, update_fields=["quantity"])
    movement = _movement(locked, MovementKind.ADJUSTMENT, delta, user=user, reason=reason, reference=reference)
    movement.save()
    _stock_moved([locked.medicine_id], "adjustment")
    _copy_state(lot, locked)
    return movement


@transaction.atomic
def stock_return(*, lot: Lot, quantity: int, user=None, reason: str = "", reference: str = "") -> StockMovement:
    """Units a customer brings back go back into their lot (whatever its status) and out of ``number_sold``.

    Whether the lot may be sold again is its status's business: a return into
    a recalled lot stays unsellable.
    """
    _check_quantity(quantity)
    reason = (reason or "").strip() or "return"
    locked = _lock_lot(lot)
    locked.quantity += quantity
    _save_lot(locked, user=user, reason=reason, update_fields=["quantity"])
    movement = _movement(locked, MovementKind.RETURN, quantity, user=user, reason=reason, reference=reference)
    movement.save()
    Medicine.objects.filter(pk=locked.medicine_id).update(number_sold=Greatest(F("number_sold") - quantity, 0))
    _stock_moved([locked.medicine_id], "return")
    _copy_state(lot, locked)
    return movement


# --- Medicine details ------------------------------------------------------------------

# What a person edits on a medicine. Stock, sales and search columns are the services' own.
MEDICINE_DETAIL_FIELDS = (
    "name", "slug", "sku", "barcode", "manufacturer", "category", "dosage_form", "pack_size",
    "price", "reorder_level", "is_prescription", "is_controlled", "is_active", "description", "usage", "image",
)  # fmt: skip
# A change of these is what a customer pays or whether they may buy: it is recorded with a reason.
MEDICINE_CHANGE_REASON = ReasonRule(
    ("price", "is_prescription", "is_controlled"),
    _("Say why the price or the dispensing rules change."),
    "medicine_reason_required",
)


@transaction.atomic
def medicine_update(*, medicine: Medicine, changes: dict, user=None, reason: str = "") -> Medicine:
    """Write a medicine's edited details under its lock, only the fields that differ, recorded with who and why.

    ``changes`` maps a field of ``MEDICINE_DETAIL_FIELDS`` (or a foreign key's
    attname, ``manufacturer_id``) to its new value. Stock, ``number_sold`` and
    the search columns are never written here, so a sale committed while the
    form was open is not put back. A change of price or of the prescription or
    controlled flag without a reason is refused (``ReasonRequired``); a call
    that changes nothing writes nothing, not even a history row.
    """
    names = {field.attname: field.name for field in Medicine._meta.concrete_fields}
    unknown = {names.get(key, key) for key in changes} - set(MEDICINE_DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"Not a medicine detail: {', '.join(sorted(unknown))}")
    lock_medicines([medicine.pk])
    locked = Medicine.objects.get(pk=medicine.pk)
    changed = []
    for key, value in changes.items():
        field = Medicine._meta.get_field(names.get(key, key))
        current = getattr(locked, key)
        if field.is_relation and key == field.name:
            current, value = getattr(locked, field.attname), getattr(value, "pk", value)
            key = field.attname
        if current != value:
            setattr(locked, key, value)
            changed.append(key)
    if not changed:
        return locked
    reason = (reason or "").strip()
    MEDICINE_CHANGE_REASON.require((names.get(key, key) for key in changed), reason)
    if user is not None:
        locked._history_user = user
    locked._change_reason = reason[:100] or None
    locked.save(update_fields=[*changed, "updated_at"])
    return locked


# --- Lot status ---------------------------------------------------------------------


def _set_status(lot: Lot, *, allowed_from: set[str], to: str, reason: str, user, change: str) -> Lot:
    locked = _lock_lot(lot)
    if locked.status not in allowed_from:
        raise LotStatusError(lot=locked.lot_number, status=locked.get_status_display())
    locked.status = to
    locked.status_reason = reason[:500]
    _save_lot(locked, user=user, reason=reason, update_fields=["status", "status_reason"])
    _stock_moved([locked.medicine_id], change)
    _copy_state(lot, locked)
    return locked


@transaction.atomic
def lot_quarantine(*, lot: Lot, reason: str, user=None) -> Lot:
    """Hold an available lot (suspected quality problem): it stops being sellable until released."""
    reason = _require_reason(reason)
    return _set_status(
        lot, allowed_from={LotStatus.AVAILABLE}, to=LotStatus.QUARANTINED, reason=reason, user=user, change="quarantine"
    )


@transaction.atomic
def lot_release(*, lot: Lot, reason: str, user=None) -> Lot:
    """Release a quarantined lot; one that expired meanwhile becomes expired instead of available."""
    reason = _require_reason(reason)
    target = LotStatus.EXPIRED if lot.expiry_date <= timezone.localdate() else LotStatus.AVAILABLE
    return _set_status(lot, allowed_from={LotStatus.QUARANTINED}, to=target, reason=reason, user=user, change="release")


@dataclass
class RecallReport:
    """Where a recalled lot's stock went: on hand now, and every dispense with its reference."""

    lot: Lot
    on_hand: int
    received: int
    dispensed: list[StockMovement] = field(default_factory=list)
    dispensed_quantity: int = 0
    returned_quantity: int = 0
    written_off_quantity: int = 0
    adjusted_quantity: int = 0
    already_recalled: bool = False

    @property
    def references(self) -> list[str]:
        """The orders or sales the lot's units left in (customers to contact)."""
        return sorted({m.reference for m in self.dispensed if m.reference})

    @property
    def outstanding(self) -> int:
        """Units that reached customers and have not come back."""
        return self.dispensed_quantity - self.returned_quantity


@transaction.atomic
def lot_recall(*, lot: Lot, reason: str, user=None) -> RecallReport:
    """Block a lot for good (a manufacturer's or regulator's recall) and report where its stock went.

    Recalling an already recalled lot changes nothing and returns the report again.
    Receivers of ``catalog.signals.lot_recalled`` are called after commit.
    """
    reason = _require_reason(reason)
    locked = _lock_lot(lot)
    already = locked.status == LotStatus.RECALLED
    if not already:
        locked.status = LotStatus.RECALLED
        locked.status_reason = reason[:500]
        _save_lot(locked, user=user, reason=reason, update_fields=["status", "status_reason"])
        _stock_moved([locked.medicine_id], "recall")
    _copy_state(lot, locked)

    report = RecallReport(lot=locked, on_hand=locked.quantity, received=0, already_recalled=already)
    for movement in StockMovement.objects.filter(lot=locked).select_related("user").order_by("created_at", "pk"):
        if movement.kind == MovementKind.RECEIPT:
            report.received += movement.quantity
        elif movement.kind == MovementKind.DISPENSE:
            report.dispensed.append(movement)
            report.dispensed_quantity += -movement.quantity
        elif movement.kind == MovementKind.RETURN:
            report.returned_quantity += movement.quantity
        elif movement.kind == MovementKind.WRITE_OFF:
            report.written_off_quantity += -movement.quantity
        elif movement.kind == MovementKind.ADJUSTMENT:
            report.adjusted_quantity += movement.quantity
    if not already:
        transaction.on_commit(lambda: signals.lot_recalled.send(sender=Lot, lot=locked, report=report, user=user))
    return report


@transaction.atomic
def lots_expire(*, today: datetime.date | None = None, user=None) -> int:
    """The daily sweep: available lots with ``expiry_date <= today`` become expired. Returns how many.

    Idempotent (a second run finds nothing). Quarantined lots keep their hold
    (``lot_release`` expires them); recalled lots stay recalled. Also refreshes
    the derived columns of every medicine whose nearest expiry has passed, since
    a lot stops being sellable on its expiry day whatever its status says.
    """
    today = today or timezone.localdate()
    due = Lot.objects.filter(status=LotStatus.AVAILABLE, expiry_date__lte=today)
    medicine_ids = set(due.values_list("medicine_id", flat=True).distinct())
    medicine_ids |= set(Medicine.objects.filter(nearest_expiry__lte=today).values_list("pk", flat=True))
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
            lots, Lot, ["status", "status_reason"], batch_size=500, default_user=user, default_change_reason="expiry"
        )
    _stock_moved(medicine_ids, "expiry", today)
    return len(lots)
