"""Reads of the catalogue that more than one caller needs (admin, API, tasks, benchmarks).

"Today" is always ``timezone.localdate()`` (Asia/Tashkent). A lot is sellable
while its status is available, it holds stock and ``expiry_date > today``: a
lot is never sold on its expiry day.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Length
from django.utils import timezone

from .models import Lot, LotStatus, Medicine, MedicineSubstance
from .transliteration import fold

# The word-similarity threshold for the %> filter is set per connection in
# catalog.receivers (0.45 rather than pg_trgm's 0.6, for short misspelt names).
SEARCH_MIN_QUERY_LENGTH = 2


def sellable_lots_q(today: datetime.date | None = None, *, prefix: str = "") -> Q:
    """Lots that may be dispensed today. ``prefix="lots__"`` applies it from ``Medicine``."""
    today = today or timezone.localdate()
    return Q(
        **{
            f"{prefix}status": LotStatus.AVAILABLE,
            f"{prefix}quantity__gt": 0,
            f"{prefix}expiry_date__gt": today,
        }
    )


def _is_postgres(queryset: QuerySet) -> bool:
    from django.db import connections

    return connections[queryset.db].vendor == "postgresql"


def medicine_search(*, query: str, queryset: QuerySet[Medicine] | None = None) -> QuerySet[Medicine]:
    """Medicines matching ``query`` by name, manufacturer or active substance, best match first.

    Matches the case-folded ``search_text`` column, which holds Latin and
    Cyrillic spellings (see ``catalog.transliteration``). An exact SKU or
    barcode always matches and comes first.

    PostgreSQL: filters with the pg_trgm word-similarity operator
    (``search_text %> query``), which the GIN trigram index
    ``medicine_search_trgm_idx`` serves, so a typo still matches; then orders
    by word similarity. SQLite: every word of the query must be a substring of
    the folded column (SQLite's LIKE folds ASCII only, the column and the
    query are folded in Python).
    """
    queryset = queryset if queryset is not None else Medicine.objects.all()
    queryset = queryset.select_related("manufacturer", "category")
    raw = (query or "").strip()
    folded = fold(raw)
    if not folded:
        return queryset.none()
    exact_code = Q(sku=raw) | Q(barcode=raw)
    if len(folded) < SEARCH_MIN_QUERY_LENGTH:
        return queryset.filter(exact_code)

    code_rank = Case(When(exact_code, then=Value(1)), default=Value(0), output_field=IntegerField())
    if _is_postgres(queryset):
        from django.contrib.postgres.lookups import TrigramWordSimilar
        from django.contrib.postgres.search import TrigramWordSimilarity

        return (
            queryset.filter(exact_code | TrigramWordSimilar(F("search_text"), Value(folded)))
            .annotate(code_rank=code_rank, rank=TrigramWordSimilarity(Value(folded), "search_text"))
            .order_by("-code_rank", "-rank", "name", "pk")
        )

    words_q = Q()
    for word in folded.split(" "):
        words_q &= Q(search_text__contains=word)
    name_starts = Case(
        When(search_text__startswith=folded, then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return (
        queryset.filter(exact_code | words_q)
        .annotate(code_rank=code_rank, rank=name_starts)
        .order_by("-code_rank", "-rank", Length("name"), "name", "pk")
    )


def medicine_alternatives(*, medicine: Medicine, limit: int = 20) -> list[Medicine]:
    """What to offer instead of ``medicine``, for an operator on the phone.

    First the exact generic equivalents (the same set of active substances at
    the same strengths, units and per-volume, and the same dosage form), then
    medicines with the same set of substances in another strength or form.
    Only active medicines with sellable stock, never ``medicine`` itself;
    cheapest first within each kind. Each result has ``.alternative_kind``
    ("exact" or "same_substances").

    Always three queries: the medicine's substances, the candidates, and the
    prefetch of their substances (none after the first when it has no substances).
    """
    components = list(
        MedicineSubstance.objects.filter(medicine_id=medicine.pk).values_list(
            "substance_id", "strength", "unit", "per_volume_ml"
        )
    )
    if not components:
        return []
    substance_ids = [c[0] for c in components]
    n = len(components)

    exact_strength = Q()
    for substance_id, strength, unit, per_volume in components:
        exact_strength |= Q(
            medicine_substances__substance_id=substance_id,
            medicine_substances__strength=strength,
            medicine_substances__unit=unit,
            **(
                {"medicine_substances__per_volume_ml": per_volume}
                if per_volume is not None
                else {"medicine_substances__per_volume_ml__isnull": True}
            ),
        )

    # Candidates contain the rarest-looking substance (any of them would do:
    # the counts below make the sets equal); an indexed subquery keeps the
    # aggregate over a few thousand rows even on a 100,000-medicine catalogue.
    holders = MedicineSubstance.objects.filter(substance_id=substance_ids[0]).values("medicine_id")
    candidates = (
        Medicine.objects.filter(pk__in=holders, is_active=True, sellable_quantity__gt=0)
        .exclude(pk=medicine.pk)
        .annotate(
            n_substances=Count("medicine_substances"),
            n_shared=Count("medicine_substances", filter=Q(medicine_substances__substance_id__in=substance_ids)),
            n_exact=Count("medicine_substances", filter=exact_strength),
        )
        .filter(n_substances=n, n_shared=n)
        .annotate(
            kind_rank=Case(
                When(Q(n_exact=n, dosage_form=medicine.dosage_form), then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .select_related("manufacturer")
        .prefetch_related(
            Prefetch("medicine_substances", queryset=MedicineSubstance.objects.select_related("substance"))
        )
        .order_by("kind_rank", "price", "name", "pk")[:limit]
    )
    result = list(candidates)
    for alternative in result:
        alternative.alternative_kind = "exact" if alternative.kind_rank == 0 else "same_substances"
    return result


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


def medicines_low_stock() -> QuerySet[Medicine]:
    """Active medicines at or below their reorder level, out-of-stock ones included, emptiest first.

    Medicines with reorder level 0 have no reorder policy and never appear.
    """
    return (
        Medicine.objects.filter(is_active=True, reorder_level__gt=0, sellable_quantity__lte=F("reorder_level"))
        .select_related("manufacturer", "category")
        .order_by("sellable_quantity", "name", "pk")
    )


def stock_value(*, medicine: Medicine | None = None) -> Decimal:
    """Purchase value of the stock on hand (every status), for dashboards."""
    from django.db.models import DecimalField, ExpressionWrapper, Sum

    queryset = Lot.objects.filter(quantity__gt=0)
    if medicine is not None:
        queryset = queryset.filter(medicine=medicine)
    total = queryset.aggregate(
        value=Sum(ExpressionWrapper(F("quantity") * F("purchase_price"), output_field=DecimalField()))
    )["value"]
    return total or Decimal("0")


__all__ = [
    "lots_expiring",
    "medicine_alternatives",
    "medicine_search",
    "medicines_low_stock",
    "sellable_lots_q",
    "stock_value",
]
