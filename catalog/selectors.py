"""Reads of the catalogue that more than one caller needs (admin, API, tasks, benchmarks).

"Today" is always ``timezone.localdate()`` (Asia/Tashkent). What is sellable is
the stock core's rule, ``catalog.stock.rules.sellable_stock_q``.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import F, Prefetch, Q, QuerySet, Value, prefetch_related_objects
from django.utils import timezone

from .models import Lot, LotStatus, Medicine, MedicineSubstance
from .transliteration import fold

# The word-similarity threshold for the %> filter is set per connection in
# catalog.receivers (0.45 rather than pg_trgm's 0.6, for short misspelt names).
SEARCH_MIN_QUERY_LENGTH = 2


# The search vocabulary (PostgreSQL only, see migration 0005 and
# services.search_terms_add): every distinct word (3+ letters) of search_text.
SEARCH_TERM_TABLE = "catalog_search_term"
# A correction must be at least this similar to the typed word ("нурафен" vs
# "нурофен" is 0.45; unrelated words of the same length score under 0.2).
TERM_MIN_SIMILARITY = 0.3


def _contains_all(words: list[str]) -> Q:
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=word)
    return condition


def _is_known_word(word: str, using: str) -> bool:
    """Is ``word`` a vocabulary word or the start of one (typing in progress)? One prefix-index probe."""
    pattern = connections[using].ops.prep_for_like_query(word) + "%"
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {SEARCH_TERM_TABLE} WHERE term LIKE %s)", [pattern])
        return cursor.fetchone()[0]


def _best_correction(word: str, using: str) -> str | None:
    """The vocabulary word most similar to a misspelt ``word`` (pg_trgm similarity), or None.

    Candidates share the first letter and are within two letters of its
    length (the bucket index): people rarely misspell the first letter, and
    this keeps the similarity() calls to a few thousand short words.
    """
    if len(word) < 3:
        return None
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT term FROM {SEARCH_TERM_TABLE} "
            "WHERE left(term, 1) = left(%s, 1) AND length(term) BETWEEN %s AND %s AND similarity(term, %s) >= %s "
            "ORDER BY similarity(term, %s) DESC, length(term), term LIMIT 1",
            [word, len(word) - 2, len(word) + 2, word, TERM_MIN_SIMILARITY, word],
        )
        row = cursor.fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class SearchPlan:
    """How a search narrows the medicines, decided before any medicine is read.

    Exactly one of: ``nothing`` (nothing can match), ``code`` (the exact SKU or
    barcode), ``similar_to`` (pg_trgm word similarity with the folded query,
    best first), or ``words`` (each must appear in ``search_text``; name order).
    ``medicine_search`` applies it with the ORM, the public API with SQL
    (``catalog.api.queries``).
    """

    nothing: bool = False
    code: str | None = None
    words: tuple[str, ...] = ()
    similar_to: str | None = None


def search_plan(query: str, *, using: str, code_exists: Callable[[str], bool]) -> SearchPlan:
    """Decide how to search for ``query`` (see ``medicine_search``); ``code_exists(code)`` asks
    whether the narrowed medicines hold that SKU or barcode. Zero to three small indexed queries."""
    raw = (query or "").strip()
    folded = fold(raw)
    if not folded:
        return SearchPlan(nothing=True)
    if len(folded) < SEARCH_MIN_QUERY_LENGTH or code_exists(raw):
        return SearchPlan(code=raw)
    words = folded.split(" ")
    if connections[using].vendor != "postgresql":
        return SearchPlan(words=tuple(words))
    corrected = []
    for word in words:
        if len(word) >= 3 and not _is_known_word(word, using):
            word = _best_correction(word, using)
            if word is None:
                return SearchPlan(similar_to=folded)
        corrected.append(word)
    return SearchPlan(words=tuple(corrected))


def medicine_search(*, query: str, queryset: QuerySet[Medicine] | None = None) -> QuerySet[Medicine]:
    """Medicines matching ``query`` by name, manufacturer or active substance, ordered by name.

    Matches the case-folded ``search_text`` column, which holds Latin and
    Cyrillic spellings (see ``catalog.transliteration``): every word of the
    query must appear in it. A query that is exactly a SKU or a barcode finds
    that medicine alone.

    PostgreSQL, tolerant of typos: each word of the query that is not a word
    (or the start of one) of the search vocabulary (``catalog_search_term``)
    is replaced by its most similar vocabulary word (pg_trgm ``similarity``); the medicines are then found
    with ``LIKE '%word%'`` on ``search_text``, which the GIN trigram index
    ``medicine_search_trgm_idx`` serves, and returned in name order, which the
    ``(name, id)`` index serves: for a word thousands of medicines share (a
    substance) the planner walks that index and stops after a page, which it
    can tell from the column's 500-entry histogram (migration 0008 says why 500).
    (Ordering every match by word similarity instead costs ~0.1 ms per matching
    row: 300 ms for a substance in 3,000 medicines.) Candidates for a correction
    share the typed word's first letter. Only when the vocabulary
    has no similar word does the search fall back to the word-similarity
    operator ``%>`` on the medicines themselves, ordered by similarity.

    Runs one to three small indexed queries (``search_plan``) before returning
    the lazy queryset. SQLite: the substring filter only (its LIKE folds ASCII
    only, so the column and the query are folded in Python).
    """
    queryset = queryset if queryset is not None else Medicine.objects.all()
    queryset = queryset.select_related("manufacturer", "category")
    plan = search_plan(query, using=queryset.db, code_exists=lambda code: queryset.filter(_exact_code(code)).exists())
    if plan.nothing:
        return queryset.none()
    if plan.code is not None:
        return queryset.filter(_exact_code(plan.code)).order_by("name", "pk")
    if plan.similar_to is not None:
        return _similar_words(queryset, plan.similar_to)
    return queryset.filter(_contains_all(plan.words)).order_by("name", "pk")


def _exact_code(code: str) -> Q:
    return Q(sku=code) | Q(barcode=code)


def _similar_words(queryset, folded: str) -> QuerySet[Medicine]:
    """The slow typo path: pg_trgm word similarity on every candidate medicine (GIN-served filter)."""
    from django.contrib.postgres.lookups import TrigramWordSimilar
    from django.contrib.postgres.search import TrigramWordSimilarity

    return (
        queryset.filter(TrigramWordSimilar(F("search_text"), Value(folded)))
        .annotate(rank=TrigramWordSimilarity(Value(folded), "search_text"))
        .order_by("-rank", "name", "pk")
    )


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
_BOTH_KINDS_SQL = (
    _ALTERNATIVES_KIND_SQL.format(
        table=Medicine._meta.db_table, rank=0, alias="exact", condition="m.generic_key = own.generic_key"
    )
    + " UNION ALL "
    + _ALTERNATIVES_KIND_SQL.format(
        table=Medicine._meta.db_table,
        rank=1,
        alias="others",
        condition="m.substance_key = own.substance_key AND m.generic_key <> own.generic_key",
    )
)
ALTERNATIVES_SQL = f"SELECT id, kind_rank FROM ({_BOTH_KINDS_SQL}) alternatives ORDER BY kind_rank, price, name, id"
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


def alternatives_by_medicine(*, medicine_ids: list[int], limit: int = 3) -> dict[int, list[Medicine]]:
    """``medicine_alternatives`` of several medicines at once: each id -> its first ``limit`` alternatives.

    Two statements whatever the number of medicines (one when none has an
    alternative): every medicine's ``ALTERNATIVES_SQL`` walk in one ``UNION ALL``,
    then the alternatives' rows. Each has ``.alternative_kind``; no substances
    are prefetched (callers show name, price and stock).
    """
    if not medicine_ids:
        return {}
    parts, params = [], []
    for n, medicine_id in enumerate(medicine_ids):
        parts.append(f"SELECT %s AS source_id, id, kind_rank, price, name FROM ({_BOTH_KINDS_SQL}) a{n}")
        params += [medicine_id, medicine_id, limit, medicine_id, limit]
    statement = " UNION ALL ".join(parts) + " ORDER BY source_id, kind_rank, price, name, id"
    with connections["default"].cursor() as cursor:
        cursor.execute(statement, params)
        ranked = cursor.fetchall()
    found = Medicine.objects.only("pk", "name", "price", "sellable_quantity", "parts_per_pack", "part_name").in_bulk(
        {row[1] for row in ranked}
    )
    result: dict[int, list[Medicine]] = {medicine_id: [] for medicine_id in medicine_ids}
    for source_id, medicine_id, rank, _price, _name in ranked:
        if len(result[source_id]) < limit:
            # One instance per row: the same medicine may be offered for two hits, as two kinds.
            alternative = copy.copy(found[medicine_id])
            alternative.alternative_kind = ALTERNATIVE_KINDS[rank]
            result[source_id].append(alternative)
    return result


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


__all__ = [
    "EXPIRY_WINDOWS_DAYS",
    "SearchPlan",
    "alternative_ids",
    "alternatives_by_medicine",
    "expiring_within_q",
    "lots_expiring",
    "low_stock_q",
    "medicine_alternatives",
    "medicine_search",
    "out_of_stock_q",
    "search_plan",
]
