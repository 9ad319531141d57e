"""Every write of payments and refunds. The counter's cash and card now; Payme and Click join here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext

from orders import exceptions
from orders.models import Order, Return, Shift
from orders.rules import money
from payments.models import CardNetwork, Method, Payment, PaymentState, Refund

COUNTER_METHODS = frozenset({Method.CASH, Method.CARD})


@dataclass(frozen=True)
class PaymentIn:
    """One payment of a sale as the till sends it. Cash: ``tendered`` is what was handed over."""

    method: str
    amount: Decimal
    tendered: Decimal | None = None
    card_network: str = ""
    reference: str = ""


def check_counter_payments(payments_in: Sequence[PaymentIn], *, total: Decimal) -> None:
    """The payments of a counter sale cover its total exactly; cash handed over covers the cash part."""
    paid = Decimal("0")
    for payment in payments_in:
        if payment.method not in COUNTER_METHODS:
            raise exceptions.PaymentInvalid(detail=gettext("only cash or card at the counter"))
        amount = money(payment.amount)
        if amount <= 0:
            raise exceptions.PaymentInvalid(detail=gettext("an amount above zero"))
        if payment.method == Method.CASH:
            tendered = money(payment.tendered if payment.tendered is not None else amount)
            if tendered < amount:
                raise exceptions.PaymentInvalid(detail=gettext("the cash handed over is less than its part"))
        else:
            if payment.card_network not in CardNetwork.values:
                raise exceptions.PaymentInvalid(detail=gettext("which card (Uzcard, Humo, Visa, ...)"))
            if not payment.reference.strip():
                raise exceptions.PaymentInvalid(detail=gettext("the terminal's approval code"))
        paid += amount
    if paid != total:
        raise exceptions.PaymentShort(paid=paid, total=total)


def payments_record(*, order: Order, shift: Shift, payments_in: Sequence[PaymentIn]) -> list[Payment]:
    """Record the (already checked) payments of a sale; called inside the sale's transaction."""
    return Payment.objects.bulk_create(
        [
            Payment(
                order=order,
                shift=shift,
                method=payment.method,
                amount=money(payment.amount),
                tendered=money(payment.tendered)
                if payment.method == Method.CASH and payment.tendered is not None
                else None,
                card_network=payment.card_network if payment.method == Method.CARD else "",
                reference=payment.reference.strip(),
            )
            for payment in payments_in
        ]
    )


@transaction.atomic
def refunds_record(*, order: Order, return_doc: Return, shift: Shift, amount: Decimal) -> list[Refund]:
    """Money back by the methods the order was paid by: the last payment first, each up to what it still holds."""
    if amount <= 0:
        return []
    paid = list(Payment.objects.filter(order=order, state=PaymentState.PAID).order_by("-pk"))
    refunded = dict(
        Refund.objects.filter(payment__in=paid)
        .values("payment_id")
        .annotate(total=Sum("amount"))
        .values_list("payment_id", "total")
    )
    refunds = []
    left = amount
    for payment in paid:
        room = payment.amount - (refunded.get(payment.pk) or Decimal("0"))
        take = min(room, left)
        if take > 0:
            refunds.append(
                Refund(payment=payment, return_doc=return_doc, shift=shift, method=payment.method, amount=take)
            )
            left -= take
        if left == 0:
            break
    if left > 0:
        raise exceptions.ReturnOverPaid()
    return Refund.objects.bulk_create(refunds)
