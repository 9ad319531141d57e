"""The rules of selling, in one place: who may do what, what a prescription-only or controlled line needs,
where each channel may sell, and the arithmetic of a line (packs and parts, discount, VAT contained).

Pure functions raising the domain's errors; the counter sale uses them now, the order desk next. The
permissions are the codenames ``accounts/roles.py`` grants.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from catalog.stock import works_at
from orders import exceptions
from orders.models import Channel

CENT = Decimal("0.01")

# What each operation needs, as "app_label.codename" (granted by accounts/roles.py).
SELL = "orders.sell"
CONFIRM_CONTROLLED = "orders.confirm_controlled"
ACCEPT_RETURN = "orders.accept_return"
OPEN_SHIFT = "orders.add_shift"
CLOSE_SHIFT = "orders.change_shift"  # one's own
CLOSE_ANY_SHIFT = "orders.close_any_shift"  # another cashier's
VIEW_SHIFT = "orders.view_shift"

# Channels where the customer is not in front of a pharmacist.
ONLINE_CHANNELS = frozenset({Channel.PHONE, Channel.TELEGRAM, Channel.WEB})


def check_may(user, permission: str) -> None:
    """``NotAllowed`` unless ``user`` holds ``permission`` (no user: code acting for the system)."""
    if user is not None and not user.has_perm(permission):
        raise exceptions.NotAllowed()


def money(value) -> Decimal:
    """A non-negative amount in so'm with at most two decimals, else ``InvalidAmount``."""
    try:
        amount = Decimal(str(value))
    except Exception as error:  # noqa: BLE001 - any unreadable amount is the same refusal
        raise exceptions.InvalidAmount() from error
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise exceptions.InvalidAmount()
    return amount.quantize(CENT)


@dataclass(frozen=True)
class LineFigures:
    amount: Decimal
    total: Decimal
    vat_amount: Decimal


def line_figures(
    *,
    quantity: int,
    parts_per_pack: int,
    pack_price: Decimal,
    part_price: Decimal,
    discount: Decimal,
    vat_rate: Decimal,
) -> LineFigures:
    """Whole packs at the pack price and the loose parts at the part price; VAT contained in the total.

    Shelf prices include VAT: VAT = total × rate / (100 + rate), rounded to the tiyin.
    """
    if parts_per_pack > 1:
        amount = (quantity // parts_per_pack) * pack_price + (quantity % parts_per_pack) * part_price
    else:
        amount = quantity * pack_price
    amount = amount.quantize(CENT)
    total = amount - discount
    return LineFigures(amount=amount, total=total, vat_amount=vat_contained(total, vat_rate))


def vat_contained(total: Decimal, vat_rate: Decimal) -> Decimal:
    """The VAT inside a price that includes it: total × rate / (100 + rate), rounded to the tiyin."""
    return (total * vat_rate / (Decimal(100) + vat_rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def check_prescription_lines(medicines: Iterable, prescription) -> None:
    """Every prescription-only (and every controlled) medicine needs a prescription on the sale."""
    needing = sorted(m.name for m in medicines if m.is_prescription or m.is_controlled)
    if needing and prescription is None:
        raise exceptions.PrescriptionRequired(medicines=", ".join(needing))


def check_controlled_lines(medicines: Iterable, *, channel: str, confirmed_by, location=None) -> None:
    """A controlled medicine: in person only, and confirmed by a member who may confirm controlled drugs.

    The pharmacist confirming is a holder of the permission (a pharmacist role, never the operator) who
    works at the sale's place (``location``): when the cashier is that pharmacist they confirm their own sale.
    """
    controlled = sorted(m.name for m in medicines if m.is_controlled)
    if not controlled:
        return
    if channel in ONLINE_CHANNELS:
        raise exceptions.ControlledOnline(medicines=", ".join(controlled))
    if (
        confirmed_by is None
        or not confirmed_by.has_perm(CONFIRM_CONTROLLED)
        or (location is not None and not works_at(confirmed_by, location))
    ):
        raise exceptions.ControlledConfirmationRequired(medicines=", ".join(controlled))


def check_return_allowed(medicine, *, sold_at, now) -> None:
    """Within the return period; prescription-only and controlled returns follow the regulator's rule.

    Medicines sold to the public are, by default, not taken back once they have left the pharmacy when
    they are prescription-only or controlled (``ORDERS_RX_RETURNS_ALLOWED`` turns that off).
    """
    days = settings.ORDERS_RETURN_DAYS
    if now - sold_at >= datetime.timedelta(days=days):
        raise exceptions.ReturnPeriodOver(days=days)
    if (medicine.is_prescription or medicine.is_controlled) and not settings.ORDERS_RX_RETURNS_ALLOWED:
        raise exceptions.ReturnPrescriptionRefused(medicine=medicine.name)
