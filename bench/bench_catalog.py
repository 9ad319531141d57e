"""Catalogue reads on the shared 100,000-medicine catalogue (200,000 lots, each at 10 places; PostgreSQL).

- ``medicine_search`` p50 and p95 (first page of 20) over a mix of queries:
  trade names, INNs in Latin and Cyrillic, the Uzbek Latin spelling of the
  Russian name, and one-letter typos;
- ``medicine_alternatives`` p95 for medicines that have substances.

Each figure is printed beside the same percentile of a baseline measured in
the same run: a primary-key lookup of one medicine through the ORM.
Targets from the issue (2-core machine): search p95 <= 30 ms, alternatives p95 <= 10 ms.
"""

from __future__ import annotations

import random

from bench.common import Figure, ensure_catalog, percentile, report, timings

REPEAT = 200
SEED = 20261127


def _ensure_catalog() -> None:
    """The synthetic catalogue (``generate_catalog``), with the columns and vocabulary the services keep."""
    from django.db import connection

    from catalog.models import Medicine
    from catalog.selectors import SEARCH_TERM_TABLE
    from catalog.services import medicine_reindex_search, search_terms_rebuild

    ensure_catalog()
    stale = list(
        Medicine.objects.filter(search_text="")
        .values_list("pk", flat=True)
        .union(
            Medicine.objects.filter(substance_key="", medicine_substances__isnull=False).values_list("pk", flat=True)
        )
    )
    if stale:
        print(f"{len(stale)} medicines lack their search text or alternatives keys: reindexing ...", flush=True)
        medicine_reindex_search(medicine_ids=stale)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {SEARCH_TERM_TABLE}")
        if cursor.fetchone()[0] == 0:
            search_terms_rebuild()
        cursor.execute("ANALYZE catalog_medicine; ANALYZE catalog_lot; ANALYZE catalog_medicinesubstance")


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 6:
        return word
    i = rng.randrange(2, len(word) - 2)
    letters = "аоеи" if "а" <= word[i] <= "я" else "aoei"
    return word[:i] + rng.choice([c for c in letters if c != word[i]] or ["x"]) + word[i + 1 :]


def _queries(rng: random.Random) -> list[str]:
    from catalog.models import ActiveSubstance, Medicine
    from catalog.transliteration import spellings

    names = list(Medicine.objects.order_by("?").values_list("name", flat=True)[:60])
    substances = list(ActiveSubstance.objects.values_list("inn_name", "name_ru"))
    queries = []
    for name in names[:30]:
        queries.append(name.split(" ")[0])
    for name in names[30:]:
        queries.append(_typo(name.split(" ")[0].lower(), rng))
    for inn, ru in substances:
        first = inn.split(" ")[0]
        queries.append(first.lower())
        if ru:
            queries.append(ru.split(" ")[0].lower())
            queries.append(_typo(ru.split(" ")[0].lower(), rng))
        variants = spellings(first)
        if len(variants) > 2:
            queries.append(variants[2])  # paracetamol -> paratsetamol
    rng.shuffle(queries)
    return queries


def run() -> None:
    from catalog.models import Medicine, MedicineSubstance
    from catalog.selectors import medicine_alternatives, medicine_search

    _ensure_catalog()
    rng = random.Random(SEED)
    count = Medicine.objects.count()
    max_pk = Medicine.objects.order_by("-pk").values_list("pk", flat=True).first()
    min_pk = Medicine.objects.order_by("pk").values_list("pk", flat=True).first()
    print(f"catalogue: {count} medicines, {max_pk - min_pk + 1} id range")

    queries = _queries(rng)
    with_substances = list(
        MedicineSubstance.objects.order_by("?").values_list("medicine_id", flat=True).distinct()[:REPEAT]
    )
    alternatives_for = list(Medicine.objects.filter(pk__in=with_substances))

    def pk_lookup():
        Medicine.objects.filter(pk=rng.randint(min_pk, max_pk)).first()

    search_iter = iter(queries * (REPEAT // len(queries) + 2))
    matches: list[int] = []

    def search():
        matches.append(len(list(medicine_search(query=next(search_iter))[:20])))

    alt_iter = iter(alternatives_for * (REPEAT // max(1, len(alternatives_for)) + 2))

    def alternatives():
        medicine_alternatives(medicine=next(alt_iter))

    # Interleave the rounds so the baseline sees the same machine load.
    baseline, searches, alts = [], [], []
    for _ in range(4):
        baseline += timings(pk_lookup, REPEAT // 4)
        searches += timings(search, REPEAT // 4)
        alts += timings(alternatives, REPEAT // 4)

    ms = 1000
    base50, base95 = percentile(baseline, 50) * ms, percentile(baseline, 95) * ms
    report(Figure("medicine_search p50 (first 20)", percentile(searches, 50) * ms, "ms", "pk lookup p50", base50))
    report(
        Figure(
            "medicine_search p95 (first 20)",
            percentile(searches, 95) * ms,
            "ms",
            "pk lookup p95",
            base95,
            target="<= 30 ms",
        )
    )
    report(
        Figure(
            "medicine_alternatives p95",
            percentile(alts, 95) * ms,
            "ms",
            "pk lookup p95",
            base95,
            target="<= 10 ms",
        )
    )
    empty = sum(1 for m in matches if m == 0)
    print(f"search: {len(set(queries))} distinct queries, {empty}/{len(matches)} calls found nothing")
