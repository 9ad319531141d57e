"""The fiscal module's interface and the console backend; see the package docstring."""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import asdict, dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from orders.exceptions import OrdersError

logger = logging.getLogger("orders.fiscal")


class FiscalRefused(OrdersError):
    """The module answered and refused the receipt: its message, in the module's own words, is kept on the
    order. Raised and handled inside the fiscal task; it never reaches a request."""

    code = "fiscal_refused"
    default_message = _("The fiscal module refused the receipt.")


SALE = "sale"
REFUND = "refund"


class FiscalUnavailable(Exception):
    """No answer from the module (timeout, connection refused, 5xx): try again later.

    An infrastructure failure, not a domain error: nothing was refused, the task retries."""


@dataclass(frozen=True)
class FiscalLine:
    name: str
    mxik_code: str
    package_code: str
    quantity: int
    parts_per_pack: int
    price: Decimal
    discount: Decimal
    total: Decimal
    vat_percent: Decimal
    vat_amount: Decimal


@dataclass(frozen=True)
class FiscalOriginal:
    """The fiscalised sale a refund receipt refers to, as its module signed it."""

    terminal_id: str
    receipt_number: str
    fiscal_sign: str
    time: datetime.datetime


@dataclass(frozen=True)
class FiscalReceipt:
    number: str
    kind: str  # "sale" or "refund"
    time: datetime.datetime
    cashier: str
    lines: tuple[FiscalLine, ...]
    cash: Decimal
    card: Decimal
    total: Decimal
    vat_total: Decimal
    # A refund: the sale's fiscal receipt (None until the sale itself is fiscalised).
    refund_of: FiscalOriginal | None = None

    def as_json(self) -> dict:
        def plain(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, datetime.datetime):
                return value.isoformat()
            if isinstance(value, list | tuple):
                return [plain(item) for item in value]
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()}
            return value

        return plain(asdict(self))


@dataclass(frozen=True)
class FiscalResult:
    terminal_id: str
    receipt_number: str
    fiscal_sign: str
    time: datetime.datetime
    qr_url: str


class FiscalBackend:
    def register(self, receipt: FiscalReceipt) -> FiscalResult | None:
        """Register ``receipt``; ``None`` when this backend signs nothing (the console)."""
        raise NotImplementedError


class ConsoleBackend(FiscalBackend):
    """Development and the demo: the receipt goes to the log, nothing is signed."""

    def register(self, receipt: FiscalReceipt) -> None:
        logger.info("fiscal receipt (console, not fiscalised): %s", json.dumps(receipt.as_json(), ensure_ascii=False))
        return None


BACKENDS = {"console": "orders.fiscal.base.ConsoleBackend", "http": "orders.fiscal.http.HttpBackend"}


def backend() -> FiscalBackend:
    name = settings.FISCAL_MODULE
    return import_string(BACKENDS.get(name, name))()
