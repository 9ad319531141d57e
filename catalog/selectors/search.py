"""Finding medicines by name, manufacturer, substance, SKU or barcode, in Latin or Cyrillic, typos tolerated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import F, Q, QuerySet, Value

from ..models import Medicine
from ..transliteration import fold

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


def _similar_words(queryset: QuerySet[Medicine], folded: str) -> QuerySet[Medicine]:
    """The slow typo path: pg_trgm word similarity on every candidate medicine (GIN-served filter)."""
    from django.contrib.postgres.lookups import TrigramWordSimilar
    from django.contrib.postgres.search import TrigramWordSimilarity

    return (
        queryset.filter(TrigramWordSimilar(F("search_text"), Value(folded)))
        .annotate(rank=TrigramWordSimilarity(Value(folded), "search_text"))
        .order_by("-rank", "name", "pk")
    )
