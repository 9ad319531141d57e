"""The fiscal module every sale's receipt is registered with (Uzbekistan: an online fiscal module or the
virtual cash desk; Cabinet of Ministers resolution No. 943).

A backend takes a ``FiscalReceipt`` and returns a ``FiscalResult`` (terminal id, receipt number, time,
fiscal sign, QR URL) or raises ``FiscalRefused`` (the module answered no: the receipt stays unfiscalised
with the answer kept) or ``FiscalUnavailable`` (no answer: the task retries). ``FISCAL_MODULE`` chooses it:

- ``console``: writes the receipt to the log and signs nothing (development and the demo);
- ``http``: an online fiscal module's REST API (``orders/fiscal/http.py``).

``orders/services.py`` never calls a backend: the sale enqueues ``orders.fiscalize`` after commit, and the
task calls ``order_fiscalise`` here, so a slow or absent module never holds up the till.
"""

from __future__ import annotations

from .base import (
    REFUND,
    SALE,
    FiscalBackend,
    FiscalLine,
    FiscalOriginal,
    FiscalReceipt,
    FiscalRefused,
    FiscalResult,
    FiscalUnavailable,
    backend,
)

__all__ = [
    "REFUND",
    "SALE",
    "FiscalBackend",
    "FiscalLine",
    "FiscalOriginal",
    "FiscalReceipt",
    "FiscalRefused",
    "FiscalResult",
    "FiscalUnavailable",
    "backend",
]
