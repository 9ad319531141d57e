"""Factories for sales tests: shifts and sales go through the real services."""

from __future__ import annotations

from decimal import Decimal

from accounts.roles import Role
from accounts.tests.factories import StaffFactory
from catalog.tests.factories import main_location
from orders import services
from orders.rules import line_figures
from payments.services import PaymentIn


def cashier(**kwargs):
    """A pharmacist at the main location (unless told), who may sell."""
    kwargs.setdefault("role", Role.PHARMACIST)
    return StaffFactory(**kwargs)


def open_shift(user=None, *, location=None, opening_cash="100000"):
    user = user or cashier()
    return services.shift_open(location=location or main_location(), user=user, opening_cash=Decimal(opening_cash))


def cash(amount, tendered=None) -> PaymentIn:
    amount = Decimal(str(amount))
    return PaymentIn(method="cash", amount=amount, tendered=Decimal(str(tendered)) if tendered is not None else amount)


def card(amount, *, network="uzcard", reference="A12345") -> PaymentIn:
    return PaymentIn(method="card", amount=Decimal(str(amount)), card_network=network, reference=reference)


def sell(shift, *items, payments=None, **kwargs):
    """Sell ``(medicine, quantity)`` items in ``shift``, paid in cash unless told."""
    lines = [services.SaleLine(medicine_id=medicine.pk, quantity=quantity) for medicine, quantity in items]
    if payments is None:
        total = sum(
            line_figures(
                quantity=quantity,
                parts_per_pack=medicine.parts_per_pack,
                pack_price=medicine.price,
                part_price=medicine.unit_price,
                discount=Decimal("0"),
                vat_rate=medicine.vat_rate,
            ).total
            for medicine, quantity in items
        )
        payments = [cash(total)]
    return services.counter_sale_complete(
        shift=shift, lines=lines, payments_in=payments, user=kwargs.pop("user", shift.cashier), **kwargs
    )
