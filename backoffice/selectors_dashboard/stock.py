"""The dashboards' stock figures, per place: what is held, what expires, what is missing, what to reorder.

``places`` is a set of ``Location`` ids (a member's one place, or all of
their places summed), or ``None`` for the whole chain. Lot figures read each
lot's units at each place (``LotStock``); medicine figures read each place's
derived row (``MedicineStock``: sellable units, and the place's own reorder
level, else the medicine's). For the whole chain, medicine counts read the
chain's own derived columns on ``Medicine`` (the medicines list and the
public API say the same), and money includes the packs in transit, which the
chain owns.

Over several places the figures are the places' figures added up: a lot is
counted at each place that holds it (each place writes off its own), a
medicine at each place where it is low or out of stock (each place restocks
its own shelf), and lists say which place each line is at. A place carries a
medicine once it has its ``MedicineStock`` row. Counting per place keeps
every count a range of the per-place indexes.

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
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import (
    NOT_SELLING_KINDS,
    Category,
    Location,
    LotStatus,
    LotStock,
    Medicine,
    MedicineStock,
    MovementKind,
    StockMovement,
)
from catalog.selectors import EXPIRY_WINDOWS_DAYS, alternatives_ranked, lots_expiring, low_stock_q, out_of_stock_q

Places = frozenset[int] | None

# The lots admin's expiry filter windows: the figures link to them.
EXPIRY_WINDOWS = EXPIRY_WINDOWS_DAYS
# The owner's table of places: value expiring within this many days.
PLACE_TABLE_EXPIRY_DAYS = 90
MONEY_FIELD = DecimalField(max_digits=20, decimal_places=2)
# Prices (a medicine's, a lot's purchase price) are per pack, as on a price tag and an invoice; stock counts
# units (parts of a pack for a medicine sold by the part): a value is units x price / parts per pack.
ZERO = Decimal("0")


def _ids(places: Iterable[int]) -> list[int]:
    return sorted(places)


def _stock_held(places: Places) -> QuerySet[LotStock]:
    """Stock rows holding units at ``places`` (the chain: every place but transit and the quarantines)."""
    rows = LotStock.objects.filter(quantity__gt=0)
    if places is None:
        return rows.exclude(location__kind__in=NOT_SELLING_KINDS)
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
    # When the groups were computed, when they were kept (``every_place``); None: just now.
    computed_at: datetime.datetime | None = None
    # Each place's count of medicines out of stock there, kept with the groups (``every_place``).
    out_of_stock_by_place: dict[int, int] | None = None


def _value_rows(places: Places) -> list[tuple[int, datetime.date, Decimal]]:
    """(place, expiry date, value at cost) of available lots' units held: one ``GROUP BY`` statement."""
    rows = LotStock.objects.filter(lot__status=LotStatus.AVAILABLE, quantity__gt=0)
    if places is not None:
        rows = rows.filter(location_id__in=_ids(places))
    return list(
        rows.values("location_id", "lot__expiry_date")
        .annotate(
            value=Sum(
                ExpressionWrapper(
                    F("quantity") * F("lot__purchase_price") / F("lot__medicine__parts_per_pack"),
                    output_field=MONEY_FIELD,
                )
            )
        )
        .order_by()
        .values_list("location_id", "lot__expiry_date", "value")
    )


# The pass over every place's stock (every lot-location row: about a second at 2,000,000 of them) is kept,
# not run per page: ``keep_stock_value`` (the beat task ``backoffice.keep_stock_value``, every
# KEPT_VALUE_REFRESH_SECONDS) stores its few thousand (place, expiry date) groups; a dashboard reads them,
# and recomputes on the spot only when none are kept or they are older than KEPT_VALUE_MAX_AGE (no worker).
KEPT_VALUE_KEY = "dashboard:stock-value:every-place"
KEPT_VALUE_REFRESH_SECONDS = 300
KEPT_VALUE_MAX_AGE = datetime.timedelta(seconds=2 * KEPT_VALUE_REFRESH_SECONDS)


@dataclass(frozen=True)
class KeptValue:
    computed_at: datetime.datetime
    rows: list[tuple[int, datetime.date, Decimal]]
    out_of_stock: dict[int, int]  # place -> active medicines it carries with nothing sellable there


def _out_of_stock_by_place() -> dict[int, int]:
    """Each place's count of the active medicines it carries with nothing sellable there (one ``GROUP BY``)."""
    return dict(
        _rows_at(None)
        .filter(sellable_quantity=0)
        .values("location_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("location_id", "n")
    )


def keep_stock_value() -> KeptValue:
    """Recompute every place's stock value by expiry date and out-of-stock count, and keep them (two
    statements; the beat task's work)."""
    from django.core.cache import cache

    kept = KeptValue(timezone.now(), _value_rows(None), _out_of_stock_by_place())
    cache.set(KEPT_VALUE_KEY, kept, None)
    return kept


def kept_stock_value() -> KeptValue:
    """Every place's stock value by expiry date as last kept, recomputed when missing or too old."""
    from django.core.cache import cache

    kept = cache.get(KEPT_VALUE_KEY)
    if kept is None or timezone.now() - kept.computed_at > KEPT_VALUE_MAX_AGE:
        kept = keep_stock_value()
    return kept


def stock_value_profile(
    *, places: Places = None, today: datetime.date | None = None, months: int = 12, every_place: bool = False
) -> StockValueProfile:
    """One ``GROUP BY place, expiry_date`` pass over available lots' units held (one statement).

    A few thousand (place, date) groups come back; the total, the expiry
    windows and the months of ``places`` are summed from them in Python, so
    the stock is read once for every figure. ``places=None`` is the whole
    chain, packs in transit included. With ``every_place`` the groups are
    every place's, as kept (``kept_stock_value``: at most a few minutes old,
    ``computed_at`` says when), and ``by_place`` gives each one's value and its
    value expiring within ``PLACE_TABLE_EXPIRY_DAYS`` (the owner's table of
    places); the profile stays that of ``places``.
    """
    today = today or timezone.localdate()
    computed_at = out_by_place = None
    if every_place:
        kept = kept_stock_value()
        rows, computed_at, out_by_place = kept.rows, kept.computed_at, kept.out_of_stock
    else:
        rows = _value_rows(places)
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
        computed_at,
        out_by_place,
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


def places_side_by_side(profile: StockValueProfile, *, chain_out_of_stock: int | None = None) -> PlacesTable:
    """The owner's table: each place that holds stock or is open, then transit, and the chain.

    ``profile`` comes from ``stock_value_profile(every_place=True)``, with
    each place's count of medicines out of stock there, kept with it. One
    more statement (the places), and the chain's count unless the caller has
    it (``chain_out_of_stock``: ``medicine_summary`` of the chain). The
    values of the lines sum to the chain's stock value. A medicine out of
    stock at two places is one medicine: the chain's count is of medicines
    with nothing sellable anywhere (the medicines list's "out of stock").
    """
    out = profile.out_of_stock_by_place
    if out is None:
        out = _out_of_stock_by_place()
    if chain_out_of_stock is None:
        chain_out_of_stock = Medicine.objects.filter(out_of_stock_q(), is_active=True).count()
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
        chain_out_of_stock,
    )


# --- lots to act on -------------------------------------------------------------------
@dataclass(frozen=True)
class LotActionCounts:
    """Lots someone has to act on at the places, counted once per place that holds them.

    Windows match the lots admin's expiry filter (status available, with stock).
    """

    lots_expired: int  # past their date with stock there, whatever the state (swept or not): to write off
    lots_expiring: dict[int, int]  # window (days) -> available lots with stock there expiring within it
    lots_quarantined: int  # quarantined lots with stock there
    lots_recalled: int  # recalled lots with stock there


def lot_action_counts(
    *,
    places: Places = None,
    today: datetime.date | None = None,
    windows: tuple[int, ...] = EXPIRY_WINDOWS,
    set_aside: bool = True,
) -> LotActionCounts:
    """Two statements over the stock held at ``places``: the expiry windows (available lots up to the widest
    window: ask for ``(30,)`` when that is all you show), and the lots set aside (``set_aside=False``: not
    counted, 0)."""
    today = today or timezone.localdate()
    # Expired stock is counted whatever its state: the expiry sweep marks a lot "expired", a quarantined or
    # recalled lot may pass its date, and every such unit on a shelf still has to be written off.
    aggregates = {"lots_expired": Count("pk", filter=Q(lot__expiry_date__lte=today))}
    for days in windows:
        aggregates[f"lots_{days}"] = Count(
            "pk",
            filter=Q(
                lot__status=LotStatus.AVAILABLE,
                lot__expiry_date__gt=today,
                lot__expiry_date__lte=today + datetime.timedelta(days=days),
            ),
        )
    row = (
        _stock_held(places)
        .filter(
            Q(lot__expiry_date__lte=today)
            | Q(lot__status=LotStatus.AVAILABLE, lot__expiry_date__lte=today + datetime.timedelta(days=max(windows)))
        )
        .aggregate(**aggregates)
    )
    held_aside: dict[str, int] = {}
    if set_aside:
        held_aside = dict(
            _stock_held(places)
            .filter(lot__status__in=[LotStatus.QUARANTINED, LotStatus.RECALLED])
            .values("lot__status")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("lot__status", "n")
        )
    return LotActionCounts(
        lots_expired=row["lots_expired"],
        lots_expiring={days: row[f"lots_{days}"] for days in windows},
        lots_quarantined=held_aside.get(LotStatus.QUARANTINED, 0),
        lots_recalled=held_aside.get(LotStatus.RECALLED, 0),
    )


def stock_to_act_on(
    *, places: Places = None, within_days: int = 90, include_expired: bool = True, limit: int = 10
) -> list[LotStock]:
    """Units held at the places of lots expired (in any state) or available and expiring within
    ``within_days``, soonest first.

    One row per lot per place (``.quantity`` is the units there), with the
    lot, its medicine and the place loaded (one statement).
    """
    today = timezone.localdate()
    expiring = Q(
        lot__status=LotStatus.AVAILABLE,
        lot__expiry_date__gt=today,
        lot__expiry_date__lte=today + datetime.timedelta(days=within_days),
    )
    rows = _stock_held(places).filter(expiring | Q(lot__expiry_date__lte=today) if include_expired else expiring)
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
    """Active medicines' stock states at the places: per medicine per place, summed over the places.

    For the whole chain, per medicine over the chain (the medicines admin's stock filter).
    """

    out_of_stock: int
    low_stock: int
    rx_out_of_stock: int


@dataclass(frozen=True)
class CategoryValue:
    category_id: int
    name: str
    value: Decimal


def medicine_summary(*, places: Places = None, low_stock: bool = True) -> MedicineSummary:
    """Out of stock, low stock and prescription medicines out of stock at ``places`` (one statement).

    At places, each place's row counts (a medicine out of stock at two of the
    places counts twice: each place has to restock it). The chain: the chain's
    columns, whatever place holds the stock. Low stock compares every row at
    the places with its reorder level; without it (``low_stock=False``, the
    count is then 0) the statement is a range of the (location,
    sellable_quantity) index.
    """
    chain = places is None
    rows = Medicine.objects.filter(is_active=True) if chain else _rows_at(places)
    out = out_of_stock_q() if chain else Q(sellable_quantity=0)
    rx = Q(is_prescription=True) if chain else Q(medicine__is_prescription=True)
    aggregates = {"out_of_stock": Count("pk", filter=out), "rx_out_of_stock": Count("pk", filter=out & rx)}
    if not low_stock:
        rows = rows.filter(out)
    elif chain:
        aggregates["low_stock"] = Count("pk", filter=low_stock_q())
    else:
        rows = rows.annotate(level=_level_here())
        aggregates["low_stock"] = Count("pk", filter=Q(sellable_quantity__gt=0, sellable_quantity__lte=F("level")))
    row = rows.aggregate(**aggregates)
    return MedicineSummary(row["out_of_stock"], row.get("low_stock", 0), row["rx_out_of_stock"])


def retail_value_by_category(*, places: Places = None, limit: int = 10) -> tuple[Decimal, list[CategoryValue]]:
    """The retail value of the sellable stock at ``places`` and its share per top category (two statements).

    One ``GROUP BY category`` pass (the medicines' chain columns for the
    chain, the places' rows otherwise), and the categories; the groups are
    rolled up to the top of the category tree in Python (categories are a few
    hundred rows at most), ranked by value, largest first, ``limit`` of them.
    """
    if places is None:
        rows = (
            Medicine.objects.filter(is_active=True)
            .values("category_id")
            .annotate(
                value=Sum(
                    ExpressionWrapper(
                        F("sellable_quantity") * F("price") / F("parts_per_pack"), output_field=MONEY_FIELD
                    )
                )
            )
        )
    else:
        rows = (
            _rows_at(places)
            .values(category_id=F("medicine__category_id"))
            .annotate(
                value=Sum(
                    ExpressionWrapper(
                        F("sellable_quantity") * F("medicine__price") / F("medicine__parts_per_pack"),
                        output_field=MONEY_FIELD,
                    )
                )
            )
        )
    rows = list(rows.order_by())
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
    return (
        sum(totals.values(), ZERO),
        [CategoryValue(pk, categories.get(pk, {}).get("name", "?"), value) for pk, value in ranked[:limit]],
    )


@dataclass
class MissingLine:
    """A medicine out of stock at a place (``location`` None: in the whole chain), and what to offer instead."""

    medicine: Medicine
    location: Location | None
    alternatives: list[Medicine] = field(default_factory=list)


def _missing(places: Places, *, prescription_only: bool, limit: int, fields: tuple[str, ...]) -> list[MissingLine]:
    """Active medicines out of stock at each of ``places`` (the chain: anywhere), best sellers first (one statement).

    At places this is a range of the (location, sellable_quantity) index.
    """
    if places is None:
        medicines = Medicine.objects.filter(out_of_stock_q(), is_active=True)
        if prescription_only:
            medicines = medicines.filter(is_prescription=True)
        medicines = medicines.select_related("manufacturer").only(*fields, "manufacturer__name")
        return [MissingLine(m, None) for m in medicines.order_by("-number_sold", "name", "pk")[:limit]]
    rows = _rows_at(places).filter(sellable_quantity=0)
    if prescription_only:
        rows = rows.filter(medicine__is_prescription=True)
    rows = (
        rows.select_related("medicine", "medicine__manufacturer", "location")
        .only(*(f"medicine__{f}" for f in fields), "medicine__manufacturer__name", "location__name", "location_id")
        .order_by("-medicine__number_sold", "medicine__name", "medicine_id", "location__name", "location_id")
    )
    return [MissingLine(row.medicine, row.location) for row in rows[:limit]]


def rx_out_of_stock(*, places: Places = None, limit: int = 10) -> list[MissingLine]:
    """Active prescription medicines out of stock at each of ``places``, best sellers first (one statement)."""
    return _missing(places, prescription_only=True, limit=limit, fields=("id", "name", "sku", "number_sold"))


def out_of_stock_with_alternatives(
    *, places: Places = None, limit: int = 10, per_medicine: int = 3
) -> list[MissingLine]:
    """Medicines out of stock at each of ``places``, best sellers first, each with its cheapest alternatives there.

    Two statements whatever ``limit``: the medicines, then every alternative at
    once, ranked by the catalogue (``catalog.selectors.alternatives_ranked``: the
    same generic first, then the same substances, cheapest first; in stock at
    the same place, the chain: anywhere). Each alternative has
    ``.alternative_kind`` ("exact" or "same_substances") and ``.units_here``, its
    sellable units at that place (the chain: in all).
    """
    fields = ("id", "name", "sku", "number_sold", "substance_key", "is_prescription")
    missing = _missing(places, prescription_only=False, limit=limit, fields=fields)
    wanted = [
        (line.medicine.pk, line.location.pk if line.location is not None else None)
        for line in missing
        if line.medicine.substance_key
    ]
    ranked = alternatives_ranked(wanted=wanted, limit=per_medicine)
    for line, key in zip([line for line in missing if line.medicine.substance_key], wanted, strict=True):
        for found in ranked.get(key, []):
            alternative = Medicine(id=found.medicine_id, name=found.name, price=found.price)
            alternative.units_here = found.units
            alternative.alternative_kind = found.kind
            line.alternatives.append(alternative)
    return missing


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
        .exclude(location__kind__in=NOT_SELLING_KINDS)
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
