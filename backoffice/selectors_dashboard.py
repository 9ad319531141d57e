"""The numbers behind the admin dashboards: a fixed number of set-based queries each.

Every function here runs the same number of SQL statements whatever the size
of the catalogue (aggregates with ``FILTER`` clauses, ``GROUP BY``, bounded
lists), so a dashboard costs the same on 200 medicines and on 100,000.
Medicine-level figures read the derived columns ``sellable_quantity`` and
``nearest_expiry`` (kept by ``catalog.services``) instead of aggregating lots;
lot-level figures are one pass over the lots table.

The results are plain values (numbers, dates, small lists of rows); turning
them into links and formatted text is ``backoffice.dashboard``'s job.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections
from django.db.models import (
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Concat, RowNumber, TruncDate
from django.utils import timezone

from catalog.models import (
    ActiveSubstance,
    Category,
    ImportJob,
    Lot,
    LotStatus,
    Manufacturer,
    Medicine,
    MovementKind,
    StockMovement,
)
from catalog.selectors import (
    EXPIRY_WINDOWS_DAYS,
    expiring_within_q,
    lots_expiring,
    low_stock_q,
    medicines_low_stock,
    out_of_stock_q,
)

# The lots admin's expiry filter windows: the figures link to them.
EXPIRY_WINDOWS = EXPIRY_WINDOWS_DAYS
MONEY_FIELD = DecimalField(max_digits=20, decimal_places=2)
ZERO = Decimal("0")


def _lot_value():
    return ExpressionWrapper(F("quantity") * F("purchase_price"), output_field=MONEY_FIELD)


def _retail_value():
    return ExpressionWrapper(F("sellable_quantity") * F("price"), output_field=MONEY_FIELD)


# --- lots -----------------------------------------------------------------------
@dataclass(frozen=True)
class StockValueProfile:
    """Purchase value of available lots holding stock, and when it expires."""

    value_at_cost: Decimal
    value_expiring: dict[int, Decimal]  # window (days) -> value expiring within it (today excluded)
    value_by_month: list[tuple[datetime.date, Decimal]]  # the next 12 months, this one first


def stock_value_profile(*, today: datetime.date | None = None, months: int = 12) -> StockValueProfile:
    """One ``GROUP BY expiry_date`` pass over available lots with stock (one statement).

    A few hundred distinct dates come back; the total, the expiry windows and
    the months are summed from them in Python, so the lots table is read once
    for all three figures instead of once each.
    """
    today = today or timezone.localdate()
    rows = (
        Lot.objects.filter(status=LotStatus.AVAILABLE, quantity__gt=0)
        .values("expiry_date")
        .annotate(value=Sum(_lot_value()))
        .order_by()
        .values_list("expiry_date", "value")
    )
    first = today.replace(day=1)
    month_starts = [_add_months(first, n) for n in range(months)]
    end = _add_months(first, months)
    total = ZERO
    windows = {days: ZERO for days in EXPIRY_WINDOWS}
    by_month = {month: ZERO for month in month_starts}
    for expiry_date, value in rows:
        value = value or ZERO
        total += value
        if expiry_date <= today:
            continue
        for days in EXPIRY_WINDOWS:
            if expiry_date <= today + datetime.timedelta(days=days):
                windows[days] += value
        if expiry_date < end:
            by_month[expiry_date.replace(day=1)] += value
    return StockValueProfile(total, windows, [(month, by_month[month]) for month in month_starts])


@dataclass(frozen=True)
class LotActionCounts:
    """Lots someone has to act on. Windows match the lots admin's expiry filter (status available, with stock)."""

    lots_expired: int  # past their date, still available with stock (the sweep has not run yet)
    lots_expiring: dict[int, int]  # window (days) -> available lots with stock expiring within it
    lots_quarantined: int
    lots_recalled: int


def lot_action_counts(
    *, today: datetime.date | None = None, windows: tuple[int, ...] = EXPIRY_WINDOWS
) -> LotActionCounts:
    """Two statements, both ranges of the (status, expiry_date) index: the expiry windows, the lots set aside.

    The first reads only the lots up to the widest of ``windows``: ask for ``(30,)`` when that is all you show.
    """
    today = today or timezone.localdate()
    aggregates = {"lots_expired": Count("pk", filter=Q(expiry_date__lte=today))}
    for days in windows:
        aggregates[f"lots_{days}"] = Count("pk", filter=expiring_within_q(today, days))
    row = Lot.objects.filter(
        status=LotStatus.AVAILABLE,
        quantity__gt=0,
        expiry_date__lte=today + datetime.timedelta(days=max(windows)),
    ).aggregate(**aggregates)
    set_aside = dict(
        Lot.objects.filter(status__in=[LotStatus.QUARANTINED, LotStatus.RECALLED])
        .values("status")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("status", "n")
    )
    return LotActionCounts(
        lots_expired=row["lots_expired"],
        lots_expiring={days: row[f"lots_{days}"] for days in windows},
        lots_quarantined=set_aside.get(LotStatus.QUARANTINED, 0),
        lots_recalled=set_aside.get(LotStatus.RECALLED, 0),
    )


def expiring_lots_count(*, within_days: int = 30, today: datetime.date | None = None) -> int:
    """Available lots with stock expired or expiring within ``within_days`` (the sidebar badge; one statement)."""
    return lots_expiring(within_days=within_days, today=today, include_expired=True).count()


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.month - 1 + months
    return day.replace(year=day.year + index // 12, month=index % 12 + 1, day=1)


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def lots_to_act_on(*, within_days: int = 90, limit: int = 10) -> list[Lot]:
    """Available lots with stock already expired or expiring within ``within_days``, soonest first (one query)."""
    return list(lots_expiring(within_days=within_days, include_expired=True)[:limit])


def lots_expiring_soon(*, within_days: int = 30, limit: int = 10) -> list[Lot]:
    return list(lots_expiring(within_days=within_days)[:limit])


# --- medicines ------------------------------------------------------------------
@dataclass(frozen=True)
class MedicineSummary:
    """Active medicines, from their derived stock columns. States match the medicines admin's stock filter."""

    value_at_retail: Decimal
    out_of_stock: int
    low_stock: int


@dataclass(frozen=True)
class CategoryValue:
    category_id: int
    name: str
    value: Decimal


def medicine_summary_by_category(*, limit: int = 10) -> tuple[MedicineSummary, list[CategoryValue]]:
    """The medicine summary and the retail value of sellable stock per top-level category (two statements).

    One ``GROUP BY category`` pass over active medicines gives both (the totals
    are the sums of the groups); the groups are rolled up to the top of the
    category tree in Python (categories are a few hundred rows at most).
    Categories are ranked by value, largest first, ``limit`` of them.
    """
    rows = list(
        Medicine.objects.filter(is_active=True)
        .values("category_id")
        .annotate(
            value=Sum(_retail_value()),
            out_of_stock=Count("pk", filter=out_of_stock_q()),
            low_stock=Count("pk", filter=low_stock_q()),
        )
        .order_by()
    )
    summary = MedicineSummary(
        value_at_retail=sum((row["value"] or ZERO for row in rows), ZERO),
        out_of_stock=sum(row["out_of_stock"] for row in rows),
        low_stock=sum(row["low_stock"] for row in rows),
    )
    categories = {c["pk"]: c for c in Category.objects.values("pk", "parent_id", "name")}
    totals: dict[int, Decimal] = {}
    for row in rows:
        top = row["category_id"]
        seen = set()
        while categories.get(top, {}).get("parent_id") and top not in seen:
            seen.add(top)
            top = categories[top]["parent_id"]
        totals[top] = totals.get(top, ZERO) + (row["value"] or ZERO)
    ranked = sorted(
        ((pk, value) for pk, value in totals.items() if value),
        key=lambda item: (-item[1], categories.get(item[0], {}).get("name", "")),
    )
    return summary, [CategoryValue(pk, categories.get(pk, {}).get("name", "?"), value) for pk, value in ranked[:limit]]


def medicine_summary_out_of_stock_count() -> int:
    """Active medicines with no sellable stock (the (is_active, sellable_quantity) index; one statement)."""
    return Medicine.objects.filter(out_of_stock_q(), is_active=True).count()


def medicine_summary_low_stock_count() -> int:
    """Active medicines with some stock, at or below their reorder level (one statement)."""
    return Medicine.objects.filter(low_stock_q(), is_active=True).count()


def rx_out_of_stock_count() -> int:
    """Active prescription medicines with no sellable stock (the (is_active, sellable_quantity) index)."""
    return Medicine.objects.filter(is_active=True, sellable_quantity=0, is_prescription=True).count()


def rx_out_of_stock(*, limit: int = 10) -> list[Medicine]:
    """Active prescription medicines with no sellable stock, best sellers first (one statement)."""
    return list(
        Medicine.objects.filter(is_active=True, is_prescription=True, sellable_quantity=0)
        .select_related("manufacturer")
        .only("pk", "name", "sku", "number_sold", "manufacturer__name")
        .order_by("-number_sold", "name", "pk")[:limit]
    )


def out_of_stock_with_alternatives(*, limit: int = 10, per_medicine: int = 3) -> list[tuple[Medicine, list[Medicine]]]:
    """Out-of-stock active medicines, best sellers first, each with its cheapest in-stock alternatives.

    Two statements whatever ``limit``: the medicines, then every alternative at
    once (same set of active substances, ``ROW_NUMBER()`` per substance set,
    exact generics first, then cheapest). Each alternative has
    ``.alternative_kind`` ("exact" or "same_substances") as in
    ``catalog.selectors.medicine_alternatives``.
    """
    missing = list(
        Medicine.objects.filter(is_active=True, sellable_quantity=0)
        .only("pk", "name", "sku", "number_sold", "substance_key", "generic_key", "is_prescription")
        .order_by("-number_sold", "name", "pk")[:limit]
    )
    keys = {m.substance_key for m in missing if m.substance_key}
    if not keys:
        return [(m, []) for m in missing]
    candidates = (
        Medicine.objects.filter(is_active=True, sellable_quantity__gt=0, substance_key__in=keys)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("substance_key")], order_by=[F("price").asc(), F("pk").asc()])
        )
        # Enough per substance set for the exact generics of each missing medicine to come first below.
        .filter(rank__lte=per_medicine * 4)
        .only("pk", "name", "price", "sellable_quantity", "substance_key", "generic_key")
        .order_by("substance_key", "rank")
    )
    by_key: dict[str, list[Medicine]] = {}
    for candidate in candidates:
        by_key.setdefault(candidate.substance_key, []).append(candidate)
    result = []
    for medicine in missing:
        pool = by_key.get(medicine.substance_key, []) if medicine.substance_key else []
        exact = [m for m in pool if m.generic_key == medicine.generic_key]
        others = [m for m in pool if m.generic_key != medicine.generic_key]
        chosen = []
        for alternative in (exact + others)[:per_medicine]:
            copy = Medicine(**{f: getattr(alternative, f) for f in ("id", "name", "price", "sellable_quantity")})
            copy.alternative_kind = "exact" if alternative.generic_key == medicine.generic_key else "same_substances"
            chosen.append(copy)
        result.append((medicine, chosen))
    return result


@dataclass(frozen=True)
class ReorderLine:
    medicine: Medicine
    dispensed_30_days: int
    suggested: int


def reorder_suggestions(*, limit: int = 12, today: datetime.date | None = None) -> list[ReorderLine]:
    """Low and out-of-stock medicines (``medicines_low_stock``) with a suggested order quantity (two statements).

    The suggestion covers the next 30 days at the rate of the last 30 days'
    dispensing, keeps the reorder level on the shelf as safety stock, and is
    never less than what brings the medicine to twice its reorder level::

        suggested = max(dispensed_last_30_days + reorder_level, 2 * reorder_level) - sellable_quantity

    (A medicine that sold nothing lately is refilled to twice its reorder
    level; a fast seller gets a month of its sales on top of the safety stock.)
    """
    now = timezone.now()
    medicines = list(medicines_low_stock()[:limit])
    dispensed: dict[int, int] = {}
    if medicines:
        rows = (
            StockMovement.objects.filter(
                kind=MovementKind.DISPENSE,
                created_at__gte=now - datetime.timedelta(days=30),
                lot__medicine_id__in=[m.pk for m in medicines],
            )
            .values("lot__medicine_id")
            .annotate(units=Sum("quantity"))
            .order_by()
        )
        dispensed = {row["lot__medicine_id"]: -(row["units"] or 0) for row in rows}
    lines = []
    for medicine in medicines:
        sold = max(0, dispensed.get(medicine.pk, 0))
        target = max(sold + medicine.reorder_level, 2 * medicine.reorder_level)
        lines.append(ReorderLine(medicine, sold, max(0, target - medicine.sellable_quantity)))
    return lines


# --- ledger, imports, history ---------------------------------------------------------
def units_dispensed_by_day(*, days: int = 30) -> list[tuple[datetime.date, int]]:
    """Units dispensed on each of the last ``days`` days (today included), Tashkent days (one statement).

    Served by the (kind, created_at) index on the ledger; days without sales are zero.
    """
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    rows = (
        StockMovement.objects.filter(kind=MovementKind.DISPENSE, created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(units=Sum("quantity"))
        .order_by("day")
    )
    by_day = {_as_date(row["day"]): -(row["units"] or 0) for row in rows}
    dates = [first + datetime.timedelta(days=n) for n in range(days)]
    return [(day, by_day.get(day, 0)) for day in dates]


def imports_today_count() -> int:
    return ImportJob.objects.filter(created_at__date=timezone.localdate()).count()


def recent_imports(*, limit: int = 8) -> list[ImportJob]:
    return list(
        ImportJob.objects.select_related("created_by")
        .only(
            "pk",
            "kind",
            "state",
            "original_name",
            "created_at",
            "total_rows",
            "error_rows",
            "created_by__phone",
            "created_by__first_name",
            "created_by__last_name",
        )
        .order_by("-created_at", "-id")[:limit]
    )


# The audited models shown in "latest changes": (model, what names a row).
AUDITED = (
    (Medicine, "name"),
    # A lot number alone says little: "Nurofen 200 mg · L2401".
    (Lot, Concat(F("medicine__name"), Value(" · "), F("lot_number"), output_field=CharField())),
    (Category, "name"),
    (Manufacturer, "name"),
    (ActiveSubstance, "inn_name"),
)


def _audited_models():
    from tasks.models import Alert

    return (*AUDITED, (Alert, "kind"))


def latest_changes(*, limit: int = 10) -> list[dict]:
    """The latest history rows across the audited models, newest first (one ``UNION ALL`` statement).

    Each branch is bounded to ``limit`` rows by its ``history_date`` index where
    the database allows ordering inside a compound query (PostgreSQL); rows are
    dicts with ``model`` ("app_label.model"), ``object_id``, ``label``,
    ``history_type`` ("+", "~", "-"), ``history_date``, ``reason`` and the user's
    ``user_phone``/``user_first_name``/``user_last_name``.
    """
    branches: list[QuerySet] = []
    bounded = None
    for model, label_field in _audited_models():
        historical = model.history.model
        queryset = historical.objects.annotate(
            model=Value(f"{model._meta.app_label}.{model._meta.model_name}", output_field=CharField()),
            object_id=F("id"),
            label=Cast(label_field, output_field=CharField()) if isinstance(label_field, str) else label_field,
            reason=Coalesce("history_change_reason", Value(""), output_field=CharField()),
            user_phone=F("history_user__phone"),
            user_first_name=F("history_user__first_name"),
            user_last_name=F("history_user__last_name"),
        ).values(
            "model",
            "object_id",
            "label",
            "history_type",
            "history_date",
            "reason",
            "user_phone",
            "user_first_name",
            "user_last_name",
        )
        if bounded is None:
            bounded = connections[queryset.db].features.supports_slicing_ordering_in_compound
        # Historical models are ordered by default; a branch may only be ordered when it is also sliced.
        queryset = queryset.order_by("-history_date")[:limit] if bounded else queryset.order_by()
        branches.append(queryset)
    first, *rest = branches
    return list(first.union(*rest, all=True).order_by("-history_date")[:limit])


__all__ = [
    "CategoryValue",
    "LotActionCounts",
    "StockValueProfile",
    "MedicineSummary",
    "ReorderLine",
    "expiring_lots_count",
    "imports_today_count",
    "latest_changes",
    "lot_action_counts",
    "stock_value_profile",
    "lots_expiring_soon",
    "lots_to_act_on",
    "medicine_summary_by_category",
    "medicine_summary_low_stock_count",
    "medicine_summary_out_of_stock_count",
    "out_of_stock_with_alternatives",
    "recent_imports",
    "reorder_suggestions",
    "rx_out_of_stock",
    "rx_out_of_stock_count",
    "units_dispensed_by_day",
]
