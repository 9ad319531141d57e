"""The numbers behind the admin dashboards: a fixed number of set-based queries each.

Every function here runs the same number of SQL statements whatever the size
of the catalogue and the number of places (aggregates with ``FILTER``
clauses, ``GROUP BY``, bounded lists), so a dashboard costs the same on 200
medicines at one pharmacy and on 100,000 at ten places. Stock figures are per
place (``stock``: ``places`` is a set of place ids taken together, or ``None``
for the whole chain); the activity figures (``activity``) are the ledger's,
the import log's and the audited history's; the sales figures (``sales``) are the orders'.

The results are plain values (numbers, dates, small lists of rows); turning
them into links and formatted text is ``backoffice.dashboard``'s job.
"""

from .activity import imports_today_count, latest_changes, recent_imports, units_dispensed_by_day
from .sales import SALES_DAYS, PlaceSales, SalesFigures, SalesProfile, sales_profile, shift_sales
from .stock import (
    EXPIRY_WINDOWS,
    PLACE_TABLE_EXPIRY_DAYS,
    CategoryValue,
    LotActionCounts,
    MedicineSummary,
    MissingLine,
    PlaceLine,
    Places,
    PlacesTable,
    PlaceValue,
    ReorderLine,
    StockValueProfile,
    expiring_lots_count,
    keep_stock_value,
    kept_stock_value,
    lot_action_counts,
    medicine_summary,
    out_of_stock_with_alternatives,
    places_side_by_side,
    reorder_suggestions,
    retail_value_by_category,
    rx_out_of_stock,
    stock_to_act_on,
    stock_value_profile,
)

__all__ = [
    "EXPIRY_WINDOWS",
    "PLACE_TABLE_EXPIRY_DAYS",
    "SALES_DAYS",
    "CategoryValue",
    "LotActionCounts",
    "MedicineSummary",
    "MissingLine",
    "PlaceLine",
    "PlaceSales",
    "PlaceValue",
    "Places",
    "PlacesTable",
    "ReorderLine",
    "SalesFigures",
    "SalesProfile",
    "StockValueProfile",
    "expiring_lots_count",
    "imports_today_count",
    "keep_stock_value",
    "kept_stock_value",
    "latest_changes",
    "lot_action_counts",
    "medicine_summary",
    "out_of_stock_with_alternatives",
    "places_side_by_side",
    "recent_imports",
    "reorder_suggestions",
    "retail_value_by_category",
    "rx_out_of_stock",
    "sales_profile",
    "shift_sales",
    "stock_to_act_on",
    "stock_value_profile",
    "units_dispensed_by_day",
]
