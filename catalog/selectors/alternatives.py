"""What to offer instead of a medicine: the same generic first, then the same substances, cheapest first."""

from __future__ import annotations

from django.db import connections
from django.db.models import Prefetch, prefetch_related_objects

from ..models import Medicine, MedicineSubstance


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
# the same statement (a caller's instance may predate its substances).
_ALTERNATIVES_KIND_SQL = """
    SELECT * FROM (
        SELECT m.id AS id, {rank} AS kind_rank, m.price AS price, m.name AS name
        FROM {table} m JOIN {table} own ON own.id = %s
        WHERE {condition} AND m.is_active AND m.sellable_quantity > 0 AND m.id <> own.id AND m.substance_key <> ''
        ORDER BY m.price, m.name, m.id
        LIMIT %s
    ) {alias}
"""
ALTERNATIVES_SQL = (
    "SELECT id, kind_rank FROM ("
    + _ALTERNATIVES_KIND_SQL.format(
        table=Medicine._meta.db_table, rank=0, alias="exact", condition="m.generic_key = own.generic_key"
    )
    + " UNION ALL "
    + _ALTERNATIVES_KIND_SQL.format(
        table=Medicine._meta.db_table,
        rank=1,
        alias="others",
        condition="m.substance_key = own.substance_key AND m.generic_key <> own.generic_key",
    )
    + ") alternatives ORDER BY kind_rank, price, name, id"
)
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
