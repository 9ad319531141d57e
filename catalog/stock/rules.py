"""The stock rules, as pure checks: what may be received, counted, moved, sold and written off.

Each rule raises the domain's error (``catalog.exceptions``) with its data and
its one wording. The services call them under their locks; the receipt import's
dry run and the admin forms call the same functions on what they read, so a
preview, a form and the write refuse the same things in the same words.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.exceptions import (
    CatalogError,
    CountOvertaken,
    CountSuperseded,
    InvalidQuantity,
    LotExpired,
    LotMismatch,
    LotStatusError,
    ReasonRequired,
)
from catalog.models import NOT_SELLING_KINDS, LotStatus

# Lots no receipt may add stock to.
CLOSED_TO_RECEIPTS = (LotStatus.RECALLED, LotStatus.EXPIRED)


def sellable_stock_q(today: datetime.date | None = None, *, lot: str = "lot__", stock: str = "") -> Q:
    """The one definition of sellable stock, on ``LotStock`` (prefixes let other models apply it).

    A lot's units at a place may be sold today when the lot is available, the
    place holds some (and is not transit nor a quarantine), and ``expiry_date > today``: a lot
    is never sold on its expiry day.
    """
    today = today or timezone.localdate()
    return Q(**{f"{lot}status": LotStatus.AVAILABLE, f"{lot}expiry_date__gt": today, f"{stock}quantity__gt": 0}) & ~Q(
        **{f"{stock}location__kind__in": NOT_SELLING_KINDS}
    )


def check_quantity(quantity, *, allow_zero: bool = False) -> int:
    """A whole number of units, above zero (or zero when counting)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity()
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise InvalidQuantity()
    return quantity


def require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    return reason


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


# What identifies the batch on the box and decides until when it may be sold:
# correcting either is recorded with the reason (a supplier's letter, a misprint).
LOT_CORRECTION_REASON = ReasonRule(
    ("lot_number", "expiry_date"), _("Say why the lot number or expiry date is corrected."), "lot_reason_required"
)


def check_lot_number(lot_number: str) -> str:
    lot_number = (lot_number or "").strip()
    if not lot_number:
        raise CatalogError(_("A lot number is required."), code="lot_number_required")
    return lot_number


def check_received_date(received_date: datetime.date, today: datetime.date) -> None:
    if received_date > today:
        raise CatalogError(_("The receipt date cannot be in the future."), code="received_in_future")


def check_not_expired(lot_number: str, expiry_date: datetime.date, today: datetime.date) -> None:
    if expiry_date <= today:
        raise LotExpired(lot_number=lot_number, expiry_date=expiry_date.isoformat())


def check_purchase_price(price) -> Decimal:
    try:
        price = Decimal(price)
    except (InvalidOperation, TypeError, ValueError):
        raise CatalogError(_("The purchase price is not a number."), code="invalid_price") from None
    if price < 0:
        raise CatalogError(_("The purchase price cannot be negative."), code="negative_price")
    return price


def check_receipt_into(lot, *, expiry_date: datetime.date) -> None:
    """May a receipt with this expiry add stock to the existing ``lot``?

    A different expiry date is a different batch (``LotMismatch``); a recalled
    or expired lot takes no more stock (``LotStatusError``). A quarantined lot
    does, and stays quarantined.
    """
    if lot.expiry_date != expiry_date:
        raise LotMismatch(lot_number=lot.lot_number, expiry_date=lot.expiry_date.isoformat())
    if lot.status in CLOSED_TO_RECEIPTS:
        raise LotStatusError(lot=lot.lot_number, status=lot.get_status_display())


def check_receipt(
    *, lot_number: str, expiry_date: datetime.date, received_date: datetime.date, purchase_price, today: datetime.date
) -> tuple[str, Decimal]:
    """Everything a receipt line must satisfy before any lot is read; returns the cleaned number and price."""
    lot_number = check_lot_number(lot_number)
    check_received_date(received_date, today)
    check_not_expired(lot_number, expiry_date, today)
    return lot_number, check_purchase_price(purchase_price)


@dataclass(frozen=True)
class CountBasis:
    """What a count was taken against: the lot's stock at the place then, and the id of its last adjustment there.

    A stocktake file is checked, then confirmed later; sales and receipts in
    between stay in the books beside the count, another count does not.
    """

    book_quantity: int
    last_adjustment_id: int | None


def counted_since(last_now: int | None, last_at_count: int | None) -> bool:
    """Whether a lot has an adjustment at the place newer than the one it had when counted.

    Ids only grow, and every adjustment of a lot is written under the lot's
    lock, so for one lot at one place a greater id is a later count.
    """
    return last_now is not None and (last_at_count is None or last_now > last_at_count)


def check_count(
    lot,
    *,
    counted_quantity: int,
    stock_now: int,
    basis: CountBasis | None = None,
    last_adjustment_id: int | None = None,
) -> int:
    """The adjustment a count makes to a lot's stock at a place (``stock_now``); 0 when the count matches.

    Without a basis the count is of this moment: the counted quantity becomes
    the stock. With one, the difference from the book at the count is applied
    to the stock as it is now, so a sale since the count is not put back; a
    lot counted again since (``last_adjustment_id``, the latest adjustment
    there now) is refused (``CountSuperseded``): the same units would be found
    missing twice; and so is a difference later sales have overtaken
    (``CountOvertaken``): it would leave the lot below zero there.
    """
    check_quantity(counted_quantity, allow_zero=True)
    if basis is None:
        return counted_quantity - stock_now
    if counted_since(last_adjustment_id, basis.last_adjustment_id):
        raise CountSuperseded(lot=lot.lot_number)
    difference = counted_quantity - basis.book_quantity
    if stock_now + difference < 0:
        raise CountOvertaken(lot=lot.lot_number, book=basis.book_quantity, now=stock_now, difference=difference)
    return difference


def check_status(lot, allowed_from: Iterable[str]) -> None:
    if lot.status not in set(allowed_from):
        raise LotStatusError(lot=lot.lot_number, status=lot.get_status_display())


# What each status change may start from: the admin offers only the actions a lot's status allows.
STATUS_CHANGES: dict[str, tuple[str, ...]] = {
    "quarantine": (LotStatus.AVAILABLE,),
    "release": (LotStatus.QUARANTINED,),
    "recall": (LotStatus.AVAILABLE, LotStatus.QUARANTINED, LotStatus.EXPIRED, LotStatus.RECALLED),
}


def allowed_status_changes(lot) -> list[str]:
    return [name for name, allowed in STATUS_CHANGES.items() if lot.status in allowed]
