"""Reads of the catalogue that more than one caller needs (admin, API, tasks, dashboards, benchmarks).

One module per subject, the names callers use re-exported here (``from catalog.selectors import
medicine_search``):

- ``search``: finding medicines by name, manufacturer, substance, SKU or barcode (``medicine_search``,
  ``search_plan``);
- ``alternatives``: what to offer instead of a medicine, the one ranking every caller uses
  (``medicine_alternatives``, ``alternative_ids``, ``alternatives_ranked`` for many medicines and places);
- ``stock``: stock and expiry (``lots_expiring``, the low / out of stock and expiry-window filters).

"Today" is always ``timezone.localdate()`` (Asia/Tashkent). What is sellable is
the stock core's rule, ``catalog.stock.rules.sellable_stock_q``.
"""

from .alternatives import (
    ALTERNATIVE_KINDS,
    ALTERNATIVES_SQL,
    RankedAlternative,
    alternative_ids,
    alternatives_ranked,
    medicine_alternatives,
)
from .search import SEARCH_MIN_QUERY_LENGTH, SEARCH_TERM_TABLE, SearchPlan, medicine_search, search_plan
from .stock import EXPIRY_WINDOWS_DAYS, expiring_within_q, lots_expiring, low_stock_q, out_of_stock_q

__all__ = [
    "ALTERNATIVES_SQL",
    "ALTERNATIVE_KINDS",
    "EXPIRY_WINDOWS_DAYS",
    "SEARCH_MIN_QUERY_LENGTH",
    "SEARCH_TERM_TABLE",
    "RankedAlternative",
    "SearchPlan",
    "alternative_ids",
    "alternatives_ranked",
    "expiring_within_q",
    "lots_expiring",
    "low_stock_q",
    "medicine_alternatives",
    "medicine_search",
    "out_of_stock_q",
    "search_plan",
]
