"""The dashboards' stock figures, per place: what is held, what expires, what is missing, what to reorder.

``places`` is a set of ``Location`` ids whose stock is taken together (a
member's one place, or all of their places summed), or ``None`` for the
whole chain. Lot figures read each lot's units at each place (``LotStock``);
medicine figures read each place's derived row (``MedicineStock``: sellable
units, and the place's own reorder level, else the medicine's). For the whole
chain, medicine counts read the chain's own derived columns on ``Medicine``
(the medicines list and the public API say the same), and money includes
the packs in transit, which the chain owns.

Over several places a medicine's units are summed before it is called low or
out of stock (a member with a branch and the warehouse sees their pool);
lots are counted per place they are held at (each place writes off its own).
A place carries a medicine once it has its ``MedicineStock`` row.

Each function runs a fixed number of statements whatever the number of
medicines, lots or places.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from catalog.models import (
    Category,
    Location,
    LocationKind,
    LotStatus,
    LotStock,
    Medicine,
    MedicineStock,
    MovementKind,
    StockMovement,
)
from catalog.selectors import EXPIRY_WINDOWS_DAYS, lots_expiring, low_stock_q, out_of_stock_q

Places = frozenset[int] | None

# The lots admin's expiry filter windows: the figures link to them.
EXPIRY_WINDOWS = EXPIRY_WINDOWS_DAYS
# The owner's table of places: value expiring within this many days.
PLACE_TABLE_EXPIRY_DAYS = 90
MONEY_FIELD = DecimalField(max_digits=20, decimal_places=2)
ZERO = Decimal("0")


def _ids(places: Iterable[int]) -> list[int]:
    return sorted(places)


def _stock_held(places: Places) -> QuerySet[LotStock]:
    """Stock rows holding units at ``places`` (the chain: every place but transit)."""
    rows = LotStock.objects.filter(quantity__gt=0)
    if places is None:
        return rows.exclude(location__kind=LocationKind.TRANSIT)
    return rows.filter(location_id__in=_ids(places))


def _rows_at(places: Places) -> QuerySet[MedicineStock]:
    """Active medicines' rows at ``places`` (the chain: every place that carries them)."""
    rows = MedicineStock.objects.filter(medicine__is_active=True)
    return rows if places is None else rows.filter(location_id__in=_ids(places))


def _level_here():
    """The place's reorder level, else the medicine's."""
    return Coalesce(F("reorder_level"), F("medicine__reorder_level"))


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.month - 1 + months
    return day.replace(year=day.year + index // 12, month=index % 12 + 1, day=1)


# --- value of the stock held ----------------------------------------------------------
@dataclass(frozen=True)
class PlaceValue:
    """One place's line in the owner's table."""

    location_id: int
    value_at_cost: Decimal = ZERO
    value_expiring: Decimal = ZERO  # within PLACE_TABLE_EXPIRY_DAYS, today excluded


@dataclass(frozen=True)
class StockValueProfile:
    """Purchase value of available lots' units held, and when it expires."""

    value_at_cost: Decimal
    value_expiring: dict[int, Decimal]  # window (days) -> value expiring within it (today excluded)
    value_by_month: list[tuple[datetime.date, Decimal]]  # the next 12 months, this one first
    # Every place's value (transit included), when asked for with ``every_place``.
    by_place: dict[int, PlaceValue] = field(default_factory=dict)


def stock_value_profile(
    *, places: Places = None, today: datetime.date | None = None, months: int = 12, every_place: bool = False
) -> StockValueProfile:
    """One ``GROUP BY place, expiry_date`` pass over available lots' units held (one statement).

    A few thousand (place, date) groups come back; the total, the expiry
    windows and the months of ``places`` are summed from them in Python, so
    the stock is read once for every figure. ``places=None`` is the whole
    chain, packs in transit included. With ``every_place`` the pass reads every
    place and ``by_place`` gives each one's value and its value expiring within
    ``PLACE_TABLE_EXPIRY_DAYS`` (the owner's table of places), in the same
    statement; the profile stays that of ``places``.
    """
    today = today or timezone.localdate()
    rows = LotStock.objects.filter(lot__status=LotStatus.AVAILABLE, quantity__gt=0)
    if places is not None and not every_place:
        rows = rows.filter(location_id__in=_ids(places))
    rows = (
        rows.values("location_id", "lot__expiry_date")
        .annotate(value=Sum(ExpressionWrapper(F("quantity") * F("lot__purchase_price"), output_field=MONEY_FIELD)))
        .order_by()
        .values_list("location_id", "lot__expiry_date", "value")
    )
    first = today.replace(day=1)
    month_starts = [_add_months(first, n) for n in range(months)]
    end = _add_months(first, months)
    horizons = {days: today + datetime.timedelta(days=days) for days in EXPIRY_WINDOWS}
    table_horizon = today + datetime.timedelta(days=PLACE_TABLE_EXPIRY_DAYS)
    total = ZERO
    windows = {days: ZERO for days in EXPIRY_WINDOWS}
    by_month = {month: ZERO for month in month_starts}
    by_place: dict[int, list[Decimal]] = {}
    for location_id, expiry_date, value in rows:
        value = value or ZERO
        if every_place:
            line = by_place.setdefault(location_id, [ZERO, ZERO])
            line[0] += value
            if today < expiry_date <= table_horizon:
                line[1] += value
        if places is not None and location_id not in places:
            continue
        total += value
        if expiry_date <= today:
            continue
        for days, horizon in horizons.items():
            if expiry_date <= horizon:
                windows[days] += value
        if expiry_date < end:
            by_month[expiry_date.replace(day=1)] += value
    return StockValueProfile(
        total,
        windows,
        [(month, by_month[month]) for month in month_starts],
        {pk: PlaceValue(pk, cost, expiring) for pk, (cost, expiring) in by_place.items()},
    )


@dataclass(frozen=True)
class PlaceLine:
    location: Location
    value_at_cost: Decimal
    value_expiring: Decimal
    out_of_stock: int | None  # None: the place holds no sellable stock (transit)


@dataclass(frozen=True)
class PlacesTable:
    """The owner's table of places, and the chain's line under it."""

    lines: list[PlaceLine]
    value_at_cost: Decimal  # the chain's: the lines' sum
    value_expiring: Decimal  # the chain's: the lines' sum
    out_of_stock: int  # the chain's: medicines with nothing sellable anywhere


def places_side_by_side(profile: StockValueProfile) -> PlacesTable:
    """The owner's table: each place that holds stock or is open, then transit, and the chain.

    ``profile`` comes from ``stock_value_profile(every_place=True)``; three
    more statements: the medicines out of stock at each place (one ``GROUP
    BY`` over the places' rows), the places, and the chain's count. The
    values of the lines sum to the chain's stock value. A medicine out of
    stock at two places is one medicine: the chain's count is of medicines
    with nothing sellable anywhere (the medicines list's "out of stock").
    """
    out = dict(
        _rows_at(None)
        .filter(sellable_quantity=0)
        .values("location_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("location_id", "n")
    )
    lines = []
    for location in Location.objects.order_by("name", "pk"):
        value = profile.by_place.get(location.pk)
        transit = not location.holds_sellable_stock
        if value is None and (transit or not location.is_active):
            continue
        value = value or PlaceValue(location.pk)
        lines.append(
            PlaceLine(location, value.value_at_cost, value.value_expiring, None if transit else out.get(location.pk, 0))
        )
    # Transit last: it is on its way between the places above.
    lines.sort(key=lambda line: not line.location.holds_sellable_stock)
    return PlacesTable(
        lines,
        sum((line.value_at_cost for line in lines), ZERO),
        sum((line.value_expiring for line in lines), ZERO),
        Medicine.objects.filter(out_of_stock_q(), is_active=True).count(),
    )


# --- lots to act on -------------------------------------------------------------------
@dataclass(frozen=True)
class LotActionCounts:
    """Lots someone has to act on at the places, counted once per place that holds them.

    Windows match the lots admin's expiry filter (status available, with stock).
    """

    lots_expired: int  # past their date, still available with stock there (the sweep has not run yet)
    lots_expiring: dict[int, int]  # window (days) -> available lots with stock there expiring within it
    lots_quarantined: int  # quarantined lots with stock there
    lots_recalled: int  # recalled lots with stock there


def lot_action_counts(
    *, places: Places = None, today: datetime.date | None = None, windows: tuple[int, ...] = EXPIRY_WINDOWS
) -> LotActionCounts:
    """One statement over the stock held at ``places``: the expiry windows and the lots set aside."""
    today = today or timezone.localdate()
    available = Q(lot__status=LotStatus.AVAILABLE)
    aggregates = {
        "lots_expired": Count("pk", filter=available & Q(lot__expiry_date__lte=today)),
        "lots_quarantined": Count("pk", filter=Q(lot__status=LotStatus.QUARANTINED)),
        "lots_recalled": Count("pk", filter=Q(lot__status=LotStatus.RECALLED)),
    }
    for days in windows:
        aggregates[f"lots_{days}"] = Count(
            "pk",
            filter=available
            & Q(lot__expiry_date__gt=today, lot__expiry_date__lte=today + datetime.timedelta(days=days)),
        )
    row = (
        _stock_held(places)
        .filter(
            (available & Q(lot__expiry_date__lte=today + datetime.timedelta(days=max(windows))))
            | Q(lot__status__in=[LotStatus.QUARANTINED, LotStatus.RECALLED])
        )
        .aggregate(**aggregates)
    )
    return LotActionCounts(
        lots_expired=row["lots_expired"],
        lots_expiring={days: row[f"lots_{days}"] for days in windows},
        lots_quarantined=row["lots_quarantined"],
        lots_recalled=row["lots_recalled"],
    )


def stock_to_act_on(
    *, places: Places = None, within_days: int = 90, include_expired: bool = True, limit: int = 10
) -> list[LotStock]:
    """Available lots' units held at the places, expired or expiring within ``within_days``, soonest first.

    One row per lot per place (``.quantity`` is the units there), with the
    lot, its medicine and the place loaded (one statement).
    """
    today = timezone.localdate()
    rows = _stock_held(places).filter(
        lot__status=LotStatus.AVAILABLE, lot__expiry_date__lte=today + datetime.timedelta(days=within_days)
    )
    if not include_expired:
        rows = rows.filter(lot__expiry_date__gt=today)
    return list(
        rows.select_related("lot", "lot__medicine", "location").order_by("lot__expiry_date", "lot_id", "location_id")[
            :limit
        ]
    )


def expiring_lots_count(*, within_days: int = 30, today: datetime.date | None = None) -> int:
    """Available lots with stock expired or expiring within ``within_days`` (the sidebar badge; one statement)."""
    return lots_expiring(within_days=within_days, today=today, include_expired=True).count()


# --- medicines ------------------------------------------------------------------
@dataclass(frozen=True)
class MedicineSummary:
    """Active medicines' stock states at the places. For the chain they match the medicines admin's stock filter."""

    value_at_retail: Decimal
    out_of_stock: int
    low_stock: int
    rx_out_of_stock: int


@dataclass(frozen=True)
class CategoryValue:
    category_id: int
    name: str
    value: Decimal


def _pooled(places: Places) -> QuerySet:
    """Per medicine carried at ``places``: its sellable units summed over them, and its reorder levels summed."""
    return (
        _rows_at(places)
        .values("medicine_id")
        .annotate(
            units=Sum("sellable_quantity"),
            level=Sum(_level_here()),
            rx=Count("pk", filter=Q(medicine__is_prescription=True)),
        )
        .order_by()
    )


def _chain_summary() -> tuple[MedicineSummary, list[dict]]:
    rows = list(
        Medicine.objects.filter(is_active=True)
        .values("category_id")
        .annotate(
            value=Sum(ExpressionWrapper(F("sellable_quantity") * F("price"), output_field=MONEY_FIELD)),
            out_of_stock=Count("pk", filter=out_of_stock_q()),
            low_stock=Count("pk", filter=low_stock_q()),
            rx_out_of_stock=Count("pk", filter=out_of_stock_q() & Q(is_prescription=True)),
        )
        .order_by()
    )
    summary = MedicineSummary(
        value_at_retail=sum((row["value"] or ZERO for row in rows), ZERO),
        out_of_stock=sum(row["out_of_stock"] for row in rows),
        low_stock=sum(row["low_stock"] for row in rows),
        rx_out_of_stock=sum(row["rx_out_of_stock"] for row in rows),
    )
    return summary, rows


def _places_summary(places: frozenset[int]) -> tuple[MedicineSummary, list[dict]]:
    # The states need each medicine's units summed over the places first: Django
    # aggregates over the grouped query as a subquery (one statement).
    states = _pooled(places).aggregate(
        out_of_stock=Count("medicine_id", filter=Q(units=0)),
        low_stock=Count("medicine_id", filter=Q(units__gt=0, units__lte=F("level"))),
        rx_out_of_stock=Count("medicine_id", filter=Q(units=0, rx__gt=0)),
    )
    # The value needs no pooling: one GROUP BY category over the rows.
    rows = list(
        _rows_at(places)
        .values(category_id=F("medicine__category_id"))
        .annotate(value=Sum(ExpressionWrapper(F("sellable_quantity") * F("medicine__price"), output_field=MONEY_FIELD)))
        .order_by()
    )
    summary = MedicineSummary(
        value_at_retail=sum((row["value"] or ZERO for row in rows), ZERO),
        out_of_stock=states["out_of_stock"] or 0,
        low_stock=states["low_stock"] or 0,
        rx_out_of_stock=states["rx_out_of_stock"] or 0,
    )
    return summary, rows


def medicine_summary(*, places: Places = None) -> MedicineSummary:
    """The medicines' stock states at ``places`` (one statement for the chain, two for places)."""
    return (_chain_summary() if places is None else _places_summary(places))[0]


def medicine_summary_by_category(
    *, places: Places = None, limit: int = 10
) -> tuple[MedicineSummary, list[CategoryValue]]:
    """The medicines' stock states at ``places`` and the retail value of their sellable stock per top category.

    The chain: one ``GROUP BY category`` pass over active medicines' chain
    columns, and the categories. Places: the states of each medicine's units
    summed over the places, the value per category, and the categories (three
    statements). The groups are rolled up to the top of the category tree in
    Python (categories are a few hundred rows at most), ranked by value,
    largest first, ``limit`` of them.
    """
    summary, rows = _chain_summary() if places is None else _places_summary(places)
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


def _out_of_stock(places: Places) -> QuerySet[Medicine]:
    """Active medicines with nothing sellable at ``places`` (that carry them; the chain: anywhere)."""
    medicines = Medicine.objects.filter(is_active=True)
    if places is None:
        return medicines.filter(out_of_stock_q())
    return medicines.filter(pk__in=_pooled(places).filter(units=0).values("medicine_id"))


def _units_here(places: Places):
    """A medicine's sellable units at ``places``, as an annotation (the chain: its chain column)."""
    if places is None:
        return F("sellable_quantity")
    units = (
        MedicineStock.objects.filter(medicine_id=OuterRef("pk"), location_id__in=_ids(places))
        .values("medicine_id")
        .annotate(units=Sum("sellable_quantity"))
        .values("units")
    )
    return Coalesce(Subquery(units, output_field=IntegerField()), Value(0))


def rx_out_of_stock(*, places: Places = None, limit: int = 10) -> list[Medicine]:
    """Active prescription medicines with nothing sellable at ``places``, best sellers first (one statement)."""
    return list(
        _out_of_stock(places)
        .filter(is_prescription=True)
        .select_related("manufacturer")
        .only("pk", "name", "sku", "number_sold", "manufacturer__name")
        .order_by("-number_sold", "name", "pk")[:limit]
    )


def out_of_stock_with_alternatives(
    *, places: Places = None, limit: int = 10, per_medicine: int = 3
) -> list[tuple[Medicine, list[Medicine]]]:
    """Medicines out of stock at ``places``, best sellers first, each with its cheapest alternatives in stock there.

    Two statements whatever ``limit``: the medicines, then every alternative at
    once (same set of active substances, ``ROW_NUMBER()`` per substance set,
    exact generics first, then cheapest). Each alternative has
    ``.alternative_kind`` ("exact" or "same_substances") as in
    ``catalog.selectors.medicine_alternatives`` and ``.units_here``, its
    sellable units at the places.
    """
    missing = list(
        _out_of_stock(places)
        .only("pk", "name", "sku", "number_sold", "substance_key", "generic_key", "is_prescription")
        .order_by("-number_sold", "name", "pk")[:limit]
    )
    keys = {m.substance_key for m in missing if m.substance_key}
    if not keys:
        return [(m, []) for m in missing]
    in_stock = Q(sellable_quantity__gt=0)
    if places is not None:
        in_stock = Q(
            pk__in=MedicineStock.objects.filter(location_id__in=_ids(places), sellable_quantity__gt=0).values(
                "medicine_id"
            )
        )
    candidates = (
        Medicine.objects.filter(in_stock, is_active=True, substance_key__in=keys)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("substance_key")], order_by=[F("price").asc(), F("pk").asc()]),
            units_here=_units_here(places),
        )
        # Enough per substance set for the exact generics of each missing medicine to come first below.
        .filter(rank__lte=per_medicine * 4)
        .only("pk", "name", "price", "substance_key", "generic_key")
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
            copy = Medicine(id=alternative.pk, name=alternative.name, price=alternative.price)
            copy.units_here = alternative.units_here
            copy.alternative_kind = "exact" if alternative.generic_key == medicine.generic_key else "same_substances"
            chosen.append(copy)
        result.append((medicine, chosen))
    return result


@dataclass(frozen=True)
class ReorderLine:
    medicine: Medicine
    location: Location
    sellable_quantity: int  # at the place
    reorder_level: int  # the place's, else the medicine's
    dispensed_30_days: int  # at the place
    suggested: int

    @property
    def is_out_of_stock(self) -> bool:
        return self.sellable_quantity == 0


def reorder_suggestions(*, places: Places = None, limit: int = 12) -> list[ReorderLine]:
    """What to order for each place: medicines at or below the place's reorder level there (two statements).

    One line per medicine per place (each place orders for its own shelf),
    emptiest first; a place's level is its own, else the medicine's, and a
    level of 0 means no reorder policy there. The suggestion covers the next
    30 days at the rate of the last 30 days' dispensing at that place, keeps
    the reorder level on the shelf as safety stock, and is never less than
    what brings the place to twice its reorder level::

        suggested = max(dispensed_here_last_30_days + level, 2 * level) - sellable_here

    (A medicine that sold nothing there lately is refilled to twice the level;
    a fast seller gets a month of its sales on top of the safety stock.)
    """
    rows = list(
        _rows_at(places)
        .exclude(location__kind=LocationKind.TRANSIT)
        .annotate(level=_level_here())
        .filter(level__gt=0, sellable_quantity__lte=F("level"))
        .select_related("medicine", "location")
        .order_by("sellable_quantity", "medicine__name", "medicine_id", "location__name", "location_id")[:limit]
    )
    dispensed: dict[tuple[int, int], int] = {}
    if rows:
        moves = (
            StockMovement.objects.filter(
                kind=MovementKind.DISPENSE,
                created_at__gte=timezone.now() - datetime.timedelta(days=30),
                location_id__in=sorted({row.location_id for row in rows}),
                lot__medicine_id__in=sorted({row.medicine_id for row in rows}),
            )
            .values("lot__medicine_id", "location_id")
            .annotate(units=Sum("quantity"))
            .order_by()
        )
        dispensed = {(m["lot__medicine_id"], m["location_id"]): -(m["units"] or 0) for m in moves}
    lines = []
    for row in rows:
        sold = max(0, dispensed.get((row.medicine_id, row.location_id), 0))
        target = max(sold + row.level, 2 * row.level)
        lines.append(
            ReorderLine(
                row.medicine,
                row.location,
                row.sellable_quantity,
                row.level,
                sold,
                max(0, target - row.sellable_quantity),
            )
        )
    return lines
