"""The derived stock columns, recomputed set-based from the lots' stock at each place.

- ``MedicineStock.sellable_quantity`` / ``nearest_expiry``: per medicine per place,
  the sum and the earliest expiry of its sellable stock there
  (``rules.sellable_stock_q``, the one definition of "sellable");
- ``Medicine.sellable_quantity`` / ``nearest_expiry``: the chain's, over the places.

Only rows whose values change are rewritten, so a sale rewrites one narrow
``MedicineStock`` row and touches the wide medicine row only when the chain's
figures move. One code path for PostgreSQL and SQLite (``UPDATE ... FROM``,
``IS DISTINCT FROM``: SQLite 3.39+); the aggregate is built by the ORM from the
rule, so the rule is never retyped in SQL. Callers hold the medicines' locks.

A sale takes the short way (``after_sale``): it has just read and locked every
sellable row of the medicine at its place (the rule's rows), so the place's new
figures are already in hand and are written directly, and the chain's are
re-summed from the places' rows in the statement that counts the sale in
``number_sold``: two statements per medicine instead of a recomputation from
the lots.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Min, Sum, Value
from django.utils import timezone

from catalog.models import NOT_SELLING_KINDS, LotStock, Medicine, MedicineStock

from .locks import batched
from .rules import sellable_stock_q

CHUNK = 5000


@dataclass
class Flips:
    """What went in or out of stock: medicines for the whole chain, (medicine, place) pairs per place."""

    chain: set[int] = field(default_factory=set)
    places: set[tuple[int, int]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.chain or self.places)

    def __or__(self, other: Flips) -> Flips:
        return Flips(self.chain | other.chain, self.places | other.places)


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _in_stock(ids: list[int], places: list[int] | None) -> tuple[set[int], set[tuple[int, int]]]:
    """Which of the medicines are in stock for the chain, and at which of ``places``: one statement."""
    rows = MedicineStock.objects.filter(medicine_id__in=ids, sellable_quantity__gt=0)
    if places is not None:
        rows = rows.filter(location_id__in=places)
    chain = Medicine.objects.filter(pk__in=ids, sellable_quantity__gt=0).annotate(place=Value(0))
    both = (
        rows.order_by()
        .values_list("medicine_id", "location_id")
        .union(chain.order_by().values_list("pk", "place"), all=True)
    )
    pairs = set(both)
    return {medicine for medicine, place in pairs if place == 0}, {pair for pair in pairs if pair[1] != 0}


def refresh(
    medicine_ids: Iterable[int],
    today: datetime.date | None = None,
    *,
    locations: Iterable[int] | None = None,
    new_places: bool = True,
) -> Flips:
    """Recompute the medicines' derived stock at every place and for the chain; returns the flips.

    ``locations`` (ids) narrows the per-place rows recomputed to the places whose
    stock changed (a receipt at one branch of ten); the chain's totals are
    still summed over every place. ``new_places=False`` says the change cannot
    have brought a medicine to a place it was not at (a sale, a write-off): the
    per-place rows are then only updated, not looked for.
    """
    ids = sorted(set(medicine_ids))
    if not ids:
        return Flips()
    today = today or timezone.localdate()
    places = sorted(set(locations)) if locations is not None else None
    flips = Flips()
    for chunk in batched(ids, CHUNK):
        flips = flips | _refresh_chunk(chunk, today, places, new_places)
    return flips


@dataclass(frozen=True)
class Sold:
    """One medicine sold at a place: the units sold, and the (units, expiry) of its sellable rows there after."""

    medicine_id: int
    quantity: int
    remaining: list[tuple[int, datetime.date]]


def after_sale(location, lines: Iterable[Sold]) -> Flips:
    """Write a sale's derived stock: the place's row from the rows the sale locked, the chain's from the places.

    ``remaining`` must be every sellable row of the medicine at the place
    (``rules.sellable_stock_q``, read under the medicine's lock), after the
    sale; ``location`` is the place (a ``Location``). Counts the units in
    ``Medicine.number_sold``. No statement waits for an answer unless the
    medicine sold out at the place (then: is any left elsewhere?), so the
    caller may send them in one round trip.
    """
    quote = connection.ops.quote_name
    ms_table, medicine_table = quote(MedicineStock._meta.db_table), quote(Medicine._meta.db_table)
    flips = Flips()
    with connection.cursor() as cursor:
        for line in lines:
            held = [(units, expiry) for units, expiry in line.remaining if units > 0]
            total = sum(units for units, _ in held)
            nearest = min((expiry for _, expiry in held), default=None)
            # The place's row exists since the stock arrived (``refresh``); the upsert still makes it if not.
            cursor.execute(
                f"INSERT INTO {ms_table} (medicine_id, location_id, sellable_quantity, nearest_expiry) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (medicine_id, location_id) DO UPDATE "
                "SET sellable_quantity = excluded.sellable_quantity, nearest_expiry = excluded.nearest_expiry",
                [line.medicine_id, location.pk, total, nearest],
            )
            cursor.execute(
                f"UPDATE {medicine_table} SET number_sold = number_sold + %s, "
                f"sellable_quantity = (SELECT COALESCE(SUM(ms.sellable_quantity), 0) FROM {ms_table} AS ms "
                f"WHERE ms.medicine_id = {medicine_table}.id), "
                f"nearest_expiry = (SELECT MIN(ms.nearest_expiry) FROM {ms_table} AS ms "
                f"WHERE ms.medicine_id = {medicine_table}.id) "
                "WHERE id = %s",
                [line.quantity, line.medicine_id],
            )
            if total == 0:
                # Sold out here: the place flips; the chain flips when no other place has any left.
                flips.places.add((line.medicine_id, location.pk))
                if not Medicine.objects.filter(pk=line.medicine_id, sellable_quantity__gt=0).exists():
                    flips.chain.add(line.medicine_id)
    return flips


@dataclass(frozen=True)
class Received:
    """Units received into one lot at the place (the lot's medicine and expiry with them)."""

    lot_id: int
    medicine_id: int
    expiry_date: datetime.date
    quantity: int


def _rows_source(types: list[str], rows: list[tuple]) -> tuple[str, list]:
    """Rows as a table ``v`` with columns ``column1``... for a statement: one array per column on PostgreSQL
    (``unnest``: the driver sends four arrays, not 20,000 quoted values), ``VALUES`` elsewhere."""
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        names = ", ".join(f"column{n}" for n in range(1, len(types) + 1))
        return f"unnest({arrays}) AS v({names})", [list(column) for column in zip(*rows, strict=True)]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(types)) + ")"] * len(rows))
    return f"(VALUES {placeholders}) AS v", [value for row in rows for value in row]


def _in_ids(ids: list[int]) -> tuple[str, list]:
    """``IN`` the ids: one array parameter on PostgreSQL, a placeholder each elsewhere."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [ids]
    return f"IN ({_placeholders(ids)})", list(ids)


def _sellable_lots(stock_ids_by_lot: dict[int, int], today: datetime.date) -> set[int]:
    """Which of the lots are sellable at the place, by the one rule (``sellable_stock_q``) on their stock rows."""
    ids = list(stock_ids_by_lot.values())
    rows = LotStock.objects.filter(sellable_stock_q(today))
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(LotStock._meta.db_table)
        rows = rows.extra(where=[f"{table}.id = ANY(%s)"], params=[ids])
    else:
        rows = rows.filter(pk__in=ids)
    return set(rows.values_list("lot_id", flat=True))


def after_receipt(location, received: Iterable[Received], stock_ids: dict[int, int], today=None) -> Flips:
    """A receipt's derived stock at one place, moved by what it added: the place's rows and the chain's.

    ``stock_ids``: lot id -> its stock row at the place (already written).
    Units go to the figures when their lot is sellable there (the rule,
    asked of the database for the rows received into); the nearest expiry
    moves only earlier. Every medicine received gets its row at the place,
    sellable or not. Per chunk of medicines: one read of what is sellable,
    one upsert of the place's rows (moved by what was added) and one update
    of the chain's (summed again over the places), each returning the new
    figures, from which the flips are read (a figure that rose from zero).
    The place's figure is exact when it was: a lot that expired today still
    counts there until the nightly sweep refreshes, as with a sale.
    """
    today = today or timezone.localdate()
    quote = connection.ops.quote_name
    ms_table, medicine_table = quote(MedicineStock._meta.db_table), quote(Medicine._meta.db_table)
    received = list(received)
    sellable = set()
    for chunk in batched(sorted({line.lot_id for line in received}), CHUNK):
        sellable |= _sellable_lots({lot_id: stock_ids[lot_id] for lot_id in chunk}, today)
    added: dict[int, list] = {}
    for line in received:
        entry = added.setdefault(line.medicine_id, [0, None])
        if line.lot_id in sellable:
            entry[0] += line.quantity
            entry[1] = line.expiry_date if entry[1] is None else min(entry[1], line.expiry_date)
    earlier = "CASE WHEN {new} IS NULL THEN {old} WHEN {old} IS NULL OR {new} < {old} THEN {new} ELSE {old} END"
    flips = Flips()
    with connection.cursor() as cursor:
        for chunk in batched(sorted(added.items()), CHUNK):
            rows_sql, rows_params = _rows_source(
                ["bigint", "bigint", "integer", "date"],
                [(pk, location.pk, units, nearest) for pk, (units, nearest) in chunk],
            )
            cursor.execute(
                f"INSERT INTO {ms_table} (medicine_id, location_id, sellable_quantity, nearest_expiry) "
                f"SELECT v.column1, v.column2, v.column3, v.column4 FROM {rows_sql} WHERE true "
                "ON CONFLICT (medicine_id, location_id) DO UPDATE SET "
                f"sellable_quantity = {ms_table}.sellable_quantity + excluded.sellable_quantity, "
                "nearest_expiry = "
                + earlier.format(new="excluded.nearest_expiry", old=f"{ms_table}.nearest_expiry")
                + " RETURNING medicine_id, sellable_quantity",
                rows_params,
            )
            flips.places |= {
                (medicine_id, location.pk)
                for medicine_id, now in cursor.fetchall()
                if now > 0 and now == added[medicine_id][0]
            }
            # The chain's figures, summed again over the places' rows (a stale row elsewhere counts, as in
            # ``refresh``); only medicines whose figures change are written and returned.
            moved = [medicine_id for medicine_id, (units, _nearest) in chunk if units > 0]
            if not moved:
                continue
            ids_sql, ids_params = _in_ids(moved)
            cursor.execute(
                f"""
                UPDATE {medicine_table} SET sellable_quantity = s.total, nearest_expiry = s.nearest
                  FROM (SELECT ms.medicine_id AS id, SUM(ms.sellable_quantity) AS total,
                               MIN(ms.nearest_expiry) AS nearest
                          FROM {ms_table} AS ms
                         WHERE ms.medicine_id {ids_sql}
                         GROUP BY ms.medicine_id) AS s
                 WHERE {medicine_table}.id = s.id
                   AND ({medicine_table}.sellable_quantity IS DISTINCT FROM s.total
                        OR {medicine_table}.nearest_expiry IS DISTINCT FROM s.nearest)
                RETURNING {medicine_table}.id, {medicine_table}.sellable_quantity
                """,
                ids_params,
            )
            # In stock for the chain now, and not before this receipt's units.
            flips.chain |= {medicine_id for medicine_id, now in cursor.fetchall() if now == added[medicine_id][0]}
    return flips


def _refresh_chunk(ids: list[int], today: datetime.date, places: list[int] | None, new_places: bool) -> Flips:
    quote = connection.ops.quote_name
    ms_table, medicine_table = quote(MedicineStock._meta.db_table), quote(Medicine._meta.db_table)
    before_chain, before_pairs = _in_stock(ids, places)
    ids_sql = _placeholders(ids)
    stocks = LotStock.objects.filter(lot__medicine_id__in=ids)
    place_sql, place_params = "", []
    if places is not None:
        stocks = stocks.filter(location_id__in=places)
        place_sql, place_params = f" AND ms2.location_id IN ({_placeholders(places)})", places

    # Every place that holds any of the medicines' lots gets its row (0 until something is sellable).
    holders = (
        stocks.exclude(location__kind__in=NOT_SELLING_KINDS)
        .values_list("lot__medicine_id", "location_id")
        .distinct()
        .order_by()
    )
    holders_sql, holders_params = holders.query.sql_with_params()
    sellable = (
        stocks.filter(sellable_stock_q(today))
        .values("lot__medicine_id", "location_id")
        .annotate(total=Sum("quantity"), nearest=Min("lot__expiry_date"))
        .values_list("lot__medicine_id", "location_id", "total", "nearest")
        .order_by()
    )
    sellable_sql, sellable_params = sellable.query.sql_with_params()
    with connection.cursor() as cursor:
        if new_places:
            cursor.execute(
                f"INSERT INTO {ms_table} (medicine_id, location_id, sellable_quantity, nearest_expiry) "
                f"SELECT h.{quote('lot__medicine_id')}, h.location_id, 0, NULL FROM ({holders_sql}) AS h "
                "WHERE true ON CONFLICT (medicine_id, location_id) DO NOTHING",
                holders_params,
            )
        cursor.execute(
            f"""
            UPDATE {ms_table} AS ms
               SET sellable_quantity = COALESCE(s.total, 0), nearest_expiry = s.nearest
              FROM (
                    SELECT ms2.id AS id, agg.total AS total, agg.nearest AS nearest
                      FROM {ms_table} AS ms2
                      LEFT JOIN ({sellable_sql}) AS agg
                        ON agg.{quote("lot__medicine_id")} = ms2.medicine_id AND agg.location_id = ms2.location_id
                     WHERE ms2.medicine_id IN ({ids_sql}){place_sql}
              ) AS s
             WHERE ms.id = s.id
               AND (ms.sellable_quantity IS DISTINCT FROM COALESCE(s.total, 0)
                    OR ms.nearest_expiry IS DISTINCT FROM s.nearest)
            """,
            [*sellable_params, *ids, *place_params],
        )
        cursor.execute(
            f"""
            UPDATE {medicine_table} AS m
               SET sellable_quantity = s.total, nearest_expiry = s.nearest
              FROM (
                    SELECT m2.id AS id, COALESCE(SUM(ms.sellable_quantity), 0) AS total,
                           MIN(ms.nearest_expiry) AS nearest
                      FROM {medicine_table} AS m2
                      LEFT JOIN {ms_table} AS ms ON ms.medicine_id = m2.id
                     WHERE m2.id IN ({ids_sql})
                     GROUP BY m2.id
              ) AS s
             WHERE m.id = s.id
               AND (m.sellable_quantity IS DISTINCT FROM s.total OR m.nearest_expiry IS DISTINCT FROM s.nearest)
            """,
            ids,
        )
    after_chain, after_pairs = _in_stock(ids, places)
    return Flips(
        chain=before_chain ^ after_chain,
        places=before_pairs ^ after_pairs,
    )
