"""An online fiscal module's REST API (``FISCAL_MODULE = "http"``).

The virtual cash desk of Uzbekistan (Cabinet of Ministers resolution No. 943) registers each receipt with
the tax authority and answers with the receipt's fiscal data. This backend speaks the module's JSON over
HTTPS with ``requests`` (already a dependency: the SMS gateways use it the same way, from tasks, with a
timeout on every call).

The request, ``POST {FISCAL_MODULE_URL}/receipts`` with ``Authorization: Bearer {FISCAL_MODULE_TOKEN}``
and ``Idempotency-Key: {receipt number}`` (a retry after a lost answer gets the first registration back,
never a second receipt)::

    {"receipt_type": "sale" | "refund", "number": "S12-0003", "time": "2026-12-02T14:03:00+05:00",
     "cashier": "...",
     "items": [{"name": "...", "mxik": "06404001001000000", "package_code": "1520282",
                "quantity": 3, "unit": "pack" | "part", "parts_per_pack": 1,
                "price": 1200000, "amount": 3600000, "discount": 0, "total": 3600000,
                "vat_percent": "12.00", "vat": 385714}],
     "payments": {"cash": 3600000, "card": 0},
     "total": 3600000, "vat_total": 385714,
     "refund_of": {"terminal_id": "...", "receipt_number": "...", "fiscal_sign": "...", "time": "..."}}

Money is in tiyin (so'm × 100, integers), as the module counts it; ``refund_of`` only on a refund.

The answer, ``200``/``201``: ``{"terminal_id", "receipt_number", "fiscal_sign", "time", "qr_url"}`` (``time``
ISO 8601 or ``YYYYMMDDhhmmss``; without ``qr_url`` the tax authority's check URL is built from the rest).
``409`` with the same body: the module already holds this receipt number, and that registration stands.

Errors: a ``4xx`` answer with ``{"error": {"code", "message"}}`` is the module refusing the receipt as it
is (``FiscalRefused``: kept on the document, not retried; resending the same receipt would be refused
again). Timeouts, connection errors, ``5xx``, and the answers that say nothing about the receipt (``401``/
``403``: our token; ``408``, ``429``; a ``4xx`` without an error body, a success that is not the fiscal
data) are ``FiscalUnavailable``: the task retries, and the receipt waits.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .base import REFUND, FiscalBackend, FiscalReceipt, FiscalRefused, FiscalResult, FiscalUnavailable

logger = logging.getLogger("orders.fiscal")

# The tax authority's receipt check page (the QR on every fiscal receipt points there).
QR_CHECK_URL = "https://ofd.soliq.uz/epi"
# 4xx answers that are about us or the moment, not about the receipt: wait and send it again.
RETRY_STATUSES = frozenset({401, 403, 408, 429})


def tiyin(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def receipt_payload(receipt: FiscalReceipt) -> dict:
    """The module's request body for ``receipt`` (see the module docstring)."""
    body = {
        "receipt_type": receipt.kind,
        "number": receipt.number,
        "time": timezone.localtime(receipt.time).isoformat(timespec="seconds"),
        "cashier": receipt.cashier,
        "items": [
            {
                "name": line.name,
                "mxik": line.mxik_code,
                "package_code": line.package_code,
                "quantity": line.quantity,
                "unit": "part" if line.parts_per_pack > 1 else "pack",
                "parts_per_pack": line.parts_per_pack,
                "price": tiyin(line.price),
                "amount": tiyin(line.total + line.discount),
                "discount": tiyin(line.discount),
                "total": tiyin(line.total),
                "vat_percent": str(line.vat_percent),
                "vat": tiyin(line.vat_amount),
            }
            for line in receipt.lines
        ],
        "payments": {"cash": tiyin(receipt.cash), "card": tiyin(receipt.card)},
        "total": tiyin(receipt.total),
        "vat_total": tiyin(receipt.vat_total),
    }
    if receipt.refund_of is not None:
        original = receipt.refund_of
        body["refund_of"] = {
            "terminal_id": original.terminal_id,
            "receipt_number": original.receipt_number,
            "fiscal_sign": original.fiscal_sign,
            "time": timezone.localtime(original.time).isoformat(timespec="seconds"),
        }
    return body


def qr_url(*, terminal_id: str, receipt_number: str, time: datetime.datetime, fiscal_sign: str) -> str:
    """The tax authority's check URL of a receipt: ``…/epi?t=TERMINAL&r=RECEIPT&c=YYYYMMDDhhmmss&s=SIGN``."""
    stamp = timezone.localtime(time).strftime("%Y%m%d%H%M%S")
    query = urlencode({"t": terminal_id, "r": receipt_number, "c": stamp, "s": fiscal_sign})
    return f"{QR_CHECK_URL}?{query}"


def _parse_time(value) -> datetime.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    if len(value) == 14 and value.isdigit():
        parsed = datetime.datetime.strptime(value, "%Y%m%d%H%M%S")
    else:
        try:
            parsed = parse_datetime(value)
        except ValueError:
            return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def parse_result(data) -> FiscalResult | None:
    """The fiscal data of a success answer, or ``None`` when it is not that."""
    if not isinstance(data, dict):
        return None
    fields = {name: data.get(name) for name in ("terminal_id", "receipt_number", "fiscal_sign")}
    if not all(isinstance(value, str | int) and str(value).strip() for value in fields.values()):
        return None
    terminal_id, receipt_number, fiscal_sign = (str(fields[name]).strip() for name in fields)
    time = _parse_time(data.get("time"))
    if time is None:
        return None
    url = data.get("qr_url")
    if not (isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= 500):
        url = qr_url(terminal_id=terminal_id, receipt_number=receipt_number, time=time, fiscal_sign=fiscal_sign)
    return FiscalResult(
        terminal_id=terminal_id[:40],
        receipt_number=receipt_number[:40],
        fiscal_sign=fiscal_sign[:64],
        time=time,
        qr_url=url,
    )


def _refusal(data) -> str | None:
    """The module's words from ``{"error": {"code", "message"}}``, or ``None`` when the body is not an error."""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None
    code, message = str(error.get("code") or "").strip(), str(error.get("message") or "").strip()
    if not (code or message):
        return None
    return f"{code}: {message}" if code and message else code or message


class HttpBackend(FiscalBackend):
    def __init__(self) -> None:
        if not settings.FISCAL_MODULE_URL:
            raise ImproperlyConfigured("FISCAL_MODULE=http needs FISCAL_MODULE_URL.")
        self.url = settings.FISCAL_MODULE_URL.rstrip("/") + "/receipts"
        self.timeout = settings.FISCAL_MODULE_TIMEOUT
        self.session = requests.Session()
        if settings.FISCAL_MODULE_TOKEN:
            self.session.headers["Authorization"] = f"Bearer {settings.FISCAL_MODULE_TOKEN}"

    def register(self, receipt: FiscalReceipt) -> FiscalResult:
        if receipt.kind == REFUND and receipt.refund_of is None:
            # The module refunds a receipt it signed: the sale's own registration comes first.
            raise FiscalUnavailable(f"{receipt.number}: the sale's receipt is not fiscalised yet")
        try:
            response = self.session.post(
                self.url,
                json=receipt_payload(receipt),
                headers={"Idempotency-Key": receipt.number},
                timeout=self.timeout,
            )
        except requests.RequestException as error:  # timeout, refused connection, TLS, a broken answer
            raise FiscalUnavailable(f"{receipt.number}: {type(error).__name__}: {error}") from error
        try:
            data = response.json()
        except ValueError:
            data = None
        status = response.status_code
        if status in (200, 201, 409):
            result = parse_result(data)
            if result is not None:
                return result
            if status != 409:
                logger.error("fiscal module answered %s for %s without fiscal data", status, receipt.number)
                raise FiscalUnavailable(f"{receipt.number}: HTTP {status} without fiscal data")
        if 400 <= status < 500 and status not in RETRY_STATUSES:
            refusal = _refusal(data)
            if refusal is not None:
                raise FiscalRefused(refusal)
        raise FiscalUnavailable(f"{receipt.number}: HTTP {status}")
