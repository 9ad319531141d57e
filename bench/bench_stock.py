"""The stock core on the 100,000-medicine catalogue over 10 places (2 lots per medicine per place).

- FEFO dispense of one line at a branch (``stock_dispense``, a whole transaction:
  locks, the FEFO plan, the lot and lot-stock rows, the ledger row, the
  per-place and chain derived columns): p50 and p95 of 300 sales, each of one
  unit of a different medicine, rolled back so the catalogue stays as it is.
  The place is passed as the ``Location`` a till has at hand (an order's place).
- The baseline: a primary-key lookup of one medicine through the ORM, same run.
"""

from __future__ import annotations

import random

from django.db import connection, transaction

from bench.common import Figure, ensure_catalog, median, percentile, report, timings

REPEAT = 300


class _Rollback(Exception):
    pass


def run() -> None:
    from catalog.models import Location, LocationKind, LotStock, Medicine
    from catalog.stock import stock_dispense

    ensure_catalog()
    branch = (
        LotStock.objects.filter(location__kind=LocationKind.BRANCH, quantity__gt=0)
        .values_list("location_id", flat=True)
        .first()
    )
    stocked = list(
        LotStock.objects.filter(location_id=branch, quantity__gt=0, lot__status="available")
        .values_list("lot__medicine_id", flat=True)
        .distinct()[:5000]
    )
    medicines = Medicine.objects.in_bulk(random.Random(14).sample(stocked, min(len(stocked), REPEAT + 10)))
    rows = LotStock.objects.count()
    print(f"lot-location rows: {rows:,}; sales at location #{branch}")
    place = Location.objects.get(pk=branch)
    queue = list(medicines.values())

    def sale():
        medicine = queue.pop()
        try:
            with transaction.atomic():
                stock_dispense(medicine=medicine, quantity=1, location=place)
                raise _Rollback
        except _Rollback:
            pass

    some_pk = queue[0].pk
    baseline = timings(lambda: Medicine.objects.get(pk=some_pk), repeat=300, warmup=20)
    sales = timings(sale, repeat=REPEAT, warmup=5)
    base_p95 = percentile(baseline, 95) * 1000
    report(
        Figure(
            "FEFO dispense, one line at a branch, p50",
            median(sales) * 1000,
            "ms",
            "pk lookup p50",
            median(baseline) * 1000,
        )
    )
    report(
        Figure(
            "FEFO dispense, one line at a branch, p95",
            percentile(sales, 95) * 1000,
            "ms",
            "pk lookup p95",
            base_p95,
            "<= 5 ms",
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_hot_upd, n_tup_upd FROM pg_stat_user_tables WHERE relname = 'catalog_medicinestock'"
        )
        hot, updated = cursor.fetchone()
    print(f"catalog_medicinestock updates so far: {updated:,}, of which HOT: {hot:,}")
