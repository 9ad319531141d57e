"""Registering a completed sale with the fiscal module, and keeping its answer on the order."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from orders.fiscal.base import FiscalLine, FiscalReceipt, FiscalRefused, backend
from orders.models import FiscalState, Order
from payments.models import Method


def order_receipt(order: Order) -> FiscalReceipt:
    """What the fiscal module is sent for ``order`` (lines with MXIK and package codes, VAT, payments)."""
    lines = tuple(
        FiscalLine(
            name=line.medicine.name,
            mxik_code=line.medicine.mxik_code,
            package_code=line.medicine.package_code,
            quantity=line.quantity,
            parts_per_pack=line.parts_per_pack,
            price=line.pack_price,
            discount=line.discount,
            total=line.total,
            vat_percent=line.vat_rate,
            vat_amount=line.vat_amount,
        )
        for line in order.lines.select_related("medicine")
    )
    paid = {Method.CASH: Decimal("0"), Method.CARD: Decimal("0")}
    for payment in order.payments.all():
        paid[Method.CASH if payment.method == Method.CASH else Method.CARD] += payment.amount
    return FiscalReceipt(
        number=order.number,
        kind="sale",
        time=order.completed_at,
        cashier=str(order.cashier or ""),
        lines=lines,
        cash=paid[Method.CASH],
        card=paid[Method.CARD],
        total=order.total,
        vat_total=order.vat_total,
    )


def order_fiscalise(*, order_id: int) -> str:
    """Send the receipt unless it is fiscalised already; keep the sign and QR, or the module's refusal.

    ``FiscalUnavailable`` propagates (the task retries). The result is written with a conditional update,
    so a retry racing a late answer never overwrites a fiscal sign.
    """
    order = Order.objects.select_related("cashier").get(pk=order_id)
    if order.fiscal_state == FiscalState.DONE:
        return FiscalState.DONE
    try:
        result = backend().register(order_receipt(order))
    except FiscalRefused as refusal:
        Order.objects.filter(pk=order.pk).exclude(fiscal_state=FiscalState.DONE).update(
            fiscal_state=FiscalState.FAILED, fiscal_error=str(refusal)[:500]
        )
        return FiscalState.FAILED
    if result is None:  # the console backend: nothing to keep
        return FiscalState.PENDING
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).exclude(fiscal_state=FiscalState.DONE).update(
            fiscal_state=FiscalState.DONE,
            fiscal_terminal=result.terminal_id,
            fiscal_receipt_number=result.receipt_number,
            fiscal_sign=result.fiscal_sign,
            fiscal_qr_url=result.qr_url,
            fiscal_at=result.time or timezone.now(),
            fiscal_error="",
        )
    return FiscalState.DONE
