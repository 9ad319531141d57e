"""What to offer instead of a medicine: the same generic first, then the same substances, cheapest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections, models
from django.db.models import Prefetch, prefetch_related_objects

from ..models import Medicine, MedicineStock, MedicineSubstance


def medicine_alternatives(*, medicine: Medicine, limit: int = 20) -> list[Medicine]:
    """What to offer instead of ``medicine``, for an operator on the phone.

    First the exact generic equivalents (the same set of active substances at
    the same strengths, units and per-volume, and the same dosage form), then
    medicines with the same set of substances in another strength or form.
    Only active medicines with sellable stock, never ``medicine`` itself;
    cheapest first within each kind. Each result has ``.alternative_kind``
    ("exact" or "same_substances").

    Three queries whatever the number of results (``alternative_ids``, the
    medicines with their manufacturers, the prefetch of their substances);
    one when there are none.
    """
    ranked = alternative_ids(medicine_id=medicine.pk, limit=limit)
    if not ranked:
        return []
    found = Medicine.objects.select_related("manufacturer").in_bulk([medicine_id for medicine_id, _ in ranked])
    result = []
    for medicine_id, kind in ranked:
        alternative = found[medicine_id]
        alternative.alternative_kind = kind
        result.append(alternative)
    prefetch_related_objects(
        result, Prefetch("medicine_substances", queryset=MedicineSubstance.objects.select_related("substance"))
    )
    return result


# One statement for both kinds: each a short walk of its (key, price) index in
# price order, cut at the limit. The keys are read from the medicine's row in
# the same statement (a caller's instance may predate its substances). At a
# place, "in stock" is the place's derived row (MedicineStock) instead of the
# chain's column; the ranking is the same.
_ALTERNATIVES_KIND_SQL = """
    SELECT * FROM (
        SELECT m.id AS id, {rank} AS kind_rank, m.price AS price, m.name AS name, {stock}.sellable_quantity AS units
        FROM {table} m JOIN {table} own ON own.id = %s{join}
        WHERE {condition} AND m.is_active AND {stock}.sellable_quantity > 0 AND m.id <> own.id
            AND m.substance_key <> ''
        ORDER BY m.price, m.name, m.id
        LIMIT %s
    ) {alias}
"""
_EXACT = "m.generic_key = own.generic_key"
_SAME_SUBSTANCES = "m.substance_key = own.substance_key AND m.generic_key <> own.generic_key"


def _alternatives_sql(*, at_place: bool = False, shown: bool = False) -> str:
    """Both kinds of alternatives of one medicine, unordered; ``shown`` adds the price, name and units there.

    Params: the medicine's id, the place's id (``at_place``), the limit; once per kind.
    """
    parts = {"table": Medicine._meta.db_table, "stock": "m", "join": ""}
    if at_place:
        parts["stock"] = "s"
        parts["join"] = f" JOIN {MedicineStock._meta.db_table} s ON s.medicine_id = m.id AND s.location_id = %s"
    return (
        f"SELECT id, kind_rank{', price, name, units' if shown else ''} FROM ("
        + _ALTERNATIVES_KIND_SQL.format(rank=0, alias="exact", condition=_EXACT, **parts)
        + " UNION ALL "
        + _ALTERNATIVES_KIND_SQL.format(rank=1, alias="others", condition=_SAME_SUBSTANCES, **parts)
        + ") alternatives"
    )


ALTERNATIVES_SQL = _alternatives_sql() + " ORDER BY kind_rank, price, name, id"
ALTERNATIVE_KINDS = ("exact", "same_substances")


def alternative_ids(*, medicine_id: int, limit: int = 20) -> list[tuple[int, str]]:
    """``medicine_alternatives`` as ``(id, kind)`` pairs in their order: one statement.

    Reads the precomputed ``generic_key`` / ``substance_key`` columns (kept by
    ``services.medicine_reindex_search``) through their ``(key, price)``
    indexes. For callers that build their own rows (the public API).
    """
    with connections["default"].cursor() as cursor:
        cursor.execute(ALTERNATIVES_SQL, [medicine_id, limit, medicine_id, limit])
        rows = cursor.fetchall()
    return [(medicine_id, ALTERNATIVE_KINDS[rank]) for medicine_id, rank in rows][:limit]


@dataclass(frozen=True)
class RankedAlternative:
    """One alternative as the ranking reads it: enough to show, without loading the medicine."""

    medicine_id: int
    kind: str  # ALTERNATIVE_KINDS
    name: str
    price: Decimal
    units: int  # sellable units where it was asked for: at the place, or in the chain


def alternatives_ranked(
    *, wanted: Sequence[tuple[int, int | None]], limit: int
) -> dict[tuple[int, int | None], list[RankedAlternative]]:
    """The alternatives of many medicines at once, each where it is asked for: one statement.

    ``wanted`` holds ``(medicine id, place id)`` pairs; a place of ``None`` is the
    whole chain (``alternative_ids``' reading). Each pair gets up to ``limit``
    alternatives in stock there, in the catalogue's order (the same generic
    first, then the same substances; cheapest, then by name and id), keyed by
    the pair; a pair with none is absent. For the dashboards, which list many
    missing medicines with what to offer instead.
    """
    if not wanted:
        return {}
    parts, params = [], []
    for index, (medicine_id, place_id) in enumerate(wanted):
        # The pair's index is ours (an int), written into the statement to tell the rows apart.
        one = _alternatives_sql(at_place=place_id is not None, shown=True)
        parts.append(f"SELECT {int(index)} AS pair, * FROM ({one}) p{index}")
        own = [medicine_id] if place_id is None else [medicine_id, place_id]
        params += [*own, limit, *own, limit]
    with connections["default"].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    price_field = Medicine._meta.get_field("price")
    ranked = sorted(
        (pair, rank, _money(price, price_field), name, pk, units) for pair, pk, rank, price, name, units in rows
    )
    result: dict[tuple[int, int | None], list[RankedAlternative]] = {}
    # UNION ALL keeps no order of its parts: sorted again, (kind, price, name, id) within each pair.
    for pair, rank, price, name, pk, units in ranked:
        found = result.setdefault(tuple(wanted[pair]), [])
        if len(found) < limit:  # each kind was cut at the limit; together they are cut again
            found.append(RankedAlternative(pk, ALTERNATIVE_KINDS[rank], name, price, units))
    return result


def _money(value: Decimal | float | int, field: models.DecimalField) -> Decimal:
    """A price as the ORM reads it (SQLite hands raw SQL a float)."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-field.decimal_places))
