"""Registering a completed sale, or a return's refund, with the fiscal module, and keeping its answer.

A task calls ``order_fiscalise`` / ``return_fiscalise`` after the document is committed. Both are
idempotent: a fiscalised document is never sent again, and the answer is written with a conditional
update (``fiscal_state`` not yet ``done``), so a retry racing a late answer never overwrites a fiscal
sign. The module itself is sent the document's number as an idempotency key (``orders/fiscal/http.py``):
a retry after a lost answer gets the first registration back, not a second receipt.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext

from orders.fiscal.base import (
    REFUND,
    SALE,
    FiscalLine,
    FiscalOriginal,
    FiscalReceipt,
    FiscalRefused,
    FiscalResult,
    backend,
)
from orders.models import FiscalState, Order, Return, ReturnLine
from orders.rules import CENT
from payments.models import Method, Refund

ZERO = Decimal("0")


def _cash_and_card(rows: Iterable[tuple[str, Decimal]]) -> tuple[Decimal, Decimal]:
    """The fiscal receipt knows cash and "card" (every non-cash method: card terminal, Payme, Click)."""
    cash = card = ZERO
    for method, amount in rows:
        if method == Method.CASH:
            cash += amount
        else:
            card += amount
    return cash, card


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
    cash, card = _cash_and_card(order.payments.values_list("method", "amount"))
    return FiscalReceipt(
        number=order.number,
        kind=SALE,
        time=order.completed_at,
        cashier=str(order.cashier or ""),
        lines=lines,
        cash=cash,
        card=card,
        total=order.total,
        vat_total=order.vat_total,
    )


def return_receipt(return_doc: Return) -> FiscalReceipt:
    """The refund receipt of ``return_doc``: per sale line the units and money back, against the sale's receipt.

    A line's VAT back is its share of the line's VAT (the Z-report's rule), its discount the share of
    the line's amount not refunded.
    """
    order = return_doc.order
    quantity: dict[int, int] = defaultdict(int)
    total: dict[int, Decimal] = defaultdict(lambda: ZERO)
    vat: dict[int, Decimal] = defaultdict(lambda: ZERO)
    sale_lines = {}
    for row in ReturnLine.objects.filter(return_doc=return_doc).select_related("line__medicine").order_by("pk"):
        line = row.line
        sale_lines[line.pk] = line
        quantity[line.pk] += row.quantity
        total[line.pk] += row.amount
        if line.total:
            vat[line.pk] += (line.vat_amount * row.amount / line.total).quantize(CENT)
    lines = []
    for line_id, line in sorted(sale_lines.items()):
        gross = (line.amount * quantity[line_id] / line.quantity).quantize(CENT)
        lines.append(
            FiscalLine(
                name=line.medicine.name,
                mxik_code=line.medicine.mxik_code,
                package_code=line.medicine.package_code,
                quantity=quantity[line_id],
                parts_per_pack=line.parts_per_pack,
                price=line.pack_price,
                discount=max(gross - total[line_id], ZERO),
                total=total[line_id],
                vat_percent=line.vat_rate,
                vat_amount=vat[line_id],
            )
        )
    cash, card = _cash_and_card(Refund.objects.filter(return_doc=return_doc).values_list("method", "amount"))
    original = None
    if order.fiscal_state == FiscalState.DONE:
        original = FiscalOriginal(
            terminal_id=order.fiscal_terminal,
            receipt_number=order.fiscal_receipt_number,
            fiscal_sign=order.fiscal_sign,
            time=order.fiscal_at,
        )
    return FiscalReceipt(
        number=return_doc.number,
        kind=REFUND,
        time=return_doc.created_at,
        cashier=str(return_doc.user),
        lines=tuple(lines),
        cash=cash,
        card=card,
        total=return_doc.amount,
        vat_total=sum((line.vat_amount for line in lines), ZERO),
        refund_of=original,
    )


def _keep(model: type[Model], pk: int, result: FiscalResult) -> None:
    model.objects.filter(pk=pk).exclude(fiscal_state=FiscalState.DONE).update(
        fiscal_state=FiscalState.DONE,
        fiscal_terminal=result.terminal_id,
        fiscal_receipt_number=result.receipt_number,
        fiscal_sign=result.fiscal_sign,
        fiscal_qr_url=result.qr_url,
        fiscal_at=result.time or timezone.now(),
        fiscal_error="",
    )


def _refuse(model: type[Model], pk: int, message: str) -> None:
    model.objects.filter(pk=pk).exclude(fiscal_state=FiscalState.DONE).update(
        fiscal_state=FiscalState.FAILED, fiscal_error=message[:500]
    )


def _register(model: type[Model], pk: int, receipt: FiscalReceipt) -> str:
    try:
        result = backend().register(receipt)
    except FiscalRefused as refusal:
        _refuse(model, pk, str(refusal))
        return FiscalState.FAILED
    if result is None:  # the console backend: nothing to keep
        return FiscalState.PENDING
    _keep(model, pk, result)
    return FiscalState.DONE


def order_fiscalise(*, order_id: int) -> str:
    """Send the sale's receipt unless it is fiscalised already; keep the sign and QR, or the module's refusal.

    ``FiscalUnavailable`` propagates (the task retries).
    """
    order = Order.objects.select_related("cashier").get(pk=order_id)
    if order.fiscal_state == FiscalState.DONE:
        return FiscalState.DONE
    return _register(Order, order.pk, order_receipt(order))


def return_fiscalise(*, return_id: int) -> str:
    """Send a return's refund receipt unless it is fiscalised already (as ``order_fiscalise``).

    A refund refers to the sale's fiscal receipt: while the sale waits for the module, the refund waits
    too (``FiscalUnavailable``, retried); a sale the module refused has no receipt to refund against.
    """
    return_doc = Return.objects.select_related("order", "user").get(pk=return_id)
    if return_doc.fiscal_state == FiscalState.DONE:
        return FiscalState.DONE
    if return_doc.order.fiscal_state == FiscalState.FAILED:
        _refuse(
            Return,
            return_doc.pk,
            gettext("The sale's receipt was refused by the fiscal module: there is no receipt to refund against."),
        )
        return FiscalState.FAILED
    return _register(Return, return_doc.pk, return_receipt(return_doc))
