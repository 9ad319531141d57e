"""Stock and expiry reads the admin filters and the dashboards share.

"Today" is always ``timezone.localdate()`` (Asia/Tashkent). What is sellable is
the stock core's rule, ``catalog.stock.rules.sellable_stock_q``.
"""

from __future__ import annotations

import datetime

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ..models import Lot, LotStatus

# The expiry windows staff work in (the lots admin's filter, the dashboards' figures that link to it).
EXPIRY_WINDOWS_DAYS = (30, 90, 180)


def expiring_within_q(today: datetime.date, days: int) -> Q:
    """Lots whose expiry falls within ``days`` from today, today excluded (the admin filter's window)."""
    return Q(expiry_date__gt=today, expiry_date__lte=today + datetime.timedelta(days=days))


def out_of_stock_q() -> Q:
    """Medicines with no sellable stock (the medicines admin's "out of stock")."""
    return Q(sellable_quantity=0)


def low_stock_q() -> Q:
    """Medicines with some sellable stock, but no more than their reorder level (the admin's "low stock")."""
    return Q(sellable_quantity__gt=0, sellable_quantity__lte=F("reorder_level"))


def lots_expiring(
    *, within_days: int, today: datetime.date | None = None, include_expired: bool = False
) -> QuerySet[Lot]:
    """Available lots with stock whose expiry falls within ``within_days`` from today (today excluded).

    With ``include_expired`` also those already past their date that still hold
    stock (the daily sweep has not run yet, or it is about to write them off).
    """
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=within_days)
    queryset = Lot.objects.filter(status=LotStatus.AVAILABLE, quantity__gt=0, expiry_date__lte=horizon)
    if not include_expired:
        queryset = queryset.filter(expiry_date__gt=today)
    return queryset.select_related("medicine", "medicine__manufacturer").order_by("expiry_date", "pk")
