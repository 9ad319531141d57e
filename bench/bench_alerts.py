"""The alert scans over every place: 100,000 medicines at 10 places, 1,000,000 lots (PostgreSQL).

The stock lives in a scratch schema of its own (``bench_alerts_places``),
generated once with set-based ``INSERT ... SELECT generate_series`` and
reused: the catalogue benchmarks' data in ``public`` is left alone. Its
``catalog_lot``, ``catalog_location``, ``catalog_lotstock``,
``catalog_medicinestock`` and ``tasks_alert`` are copies of the real tables
with every index and constraint (``LIKE ... INCLUDING ALL``: the partial
unique index on open alerts included); its ``catalog_medicine`` carries only
the columns the scans read (id, is_active, reorder_level). The scans run
unchanged through the ORM with ``search_path`` set to the scratch schema.

The stock: each medicine carried at three to ten of the places, ten lots per
medicine, each held at two of its places (a third of a percent in transit
too); a medicine's row at each place holding it, its sellable units and
nearest expiry derived from the lots' stock there by the stock core's rule
(available, ``expiry_date > today``), and a third of the warehouse's rows
with a reorder level of their own.

Figures: the first scan (every alert new), a steady-state rescan (every
alert touched, none new), each the expiry scan and the stock scan together;
and the resolve a stock change runs after it commits, for one medicine (a
sale: of a medicine with open alerts, and of one without) and for 5,000 (an
import). Baseline: ``SELECT count(*)`` over the same
stock rows in the same run. Sizes: ``BENCH_ALERT_MEDICINES``,
``BENCH_ALERT_PLACES`` (default 100,000 and 10).
"""

from __future__ import annotations

import os
import time

from django.db import connection

from bench.common import Figure, median, report, timings

SCHEMA = "bench_alerts_places"
MEDICINES = int(os.environ.get("BENCH_ALERT_MEDICINES", 100_000))
PLACES = int(os.environ.get("BENCH_ALERT_PLACES", 10))
LOTS_PER_MEDICINE = 10
LOTS = MEDICINES * LOTS_PER_MEDICINE
TRANSIT_ID = PLACES + 1
REPEAT = 3
TARGET = "<= 15 s"


def _execute(sql: str, params=None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _tables() -> None:
    _execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    _execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.catalog_medicine "
        "(id bigint PRIMARY KEY, is_active boolean NOT NULL, reorder_level integer NOT NULL)"
    )
    for table in ("catalog_location", "catalog_lot", "catalog_lotstock", "catalog_medicinestock", "tasks_alert"):
        _execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{table} (LIKE public.{table} INCLUDING ALL)")
    # LIKE does not copy storage parameters (the alerts' fillfactor, migration tasks 0002).
    for (option,) in _execute("SELECT unnest(reloptions) FROM pg_class WHERE oid = 'public.tasks_alert'::regclass"):
        _execute(f"ALTER TABLE {SCHEMA}.tasks_alert SET ({option})")


def _layout() -> str:
    return f"{MEDICINES} medicines, {PLACES} places, {LOTS_PER_MEDICINE} lots each, layout 2"


def _ensure_stock() -> None:
    _tables()
    (comment,) = _execute("SELECT obj_description(%s::regnamespace, 'pg_namespace')", [SCHEMA])[0]
    if comment == _layout():
        return
    started = time.perf_counter()
    _execute(
        f"TRUNCATE {SCHEMA}.catalog_lotstock, {SCHEMA}.catalog_medicinestock, {SCHEMA}.catalog_lot, "
        f"{SCHEMA}.catalog_medicine, {SCHEMA}.catalog_location, {SCHEMA}.tasks_alert"
    )
    # Place 1 is the warehouse, the others branches; then transit.
    _execute(
        f"""
        INSERT INTO {SCHEMA}.catalog_location
            (id, name, code, kind, address, region, district, phone, opening_hours, is_active, is_public, created_at)
        SELECT p, 'Place ' || p, 'place-' || p, CASE WHEN p = 1 THEN 'warehouse' ELSE 'branch' END,
               '', 'tashkent_city', '', '', '', true, p <> 1, now()
        FROM generate_series(1, {PLACES}) AS p
        UNION ALL
        SELECT {TRANSIT_ID}, 'In transit', 'transit', 'transit', '', 'tashkent_city', '', '', '', true, false, now()
        """
    )
    # Reorder levels 0..39.
    _execute(
        f"INSERT INTO {SCHEMA}.catalog_medicine (id, is_active, reorder_level) "
        f"SELECT m, m % 97 <> 0, m % 40 FROM generate_series(1, {MEDICINES}) AS m"
    )
    # Expiry dates spread over -100..+1000 days from today, 3% quarantined: about 9% of the
    # stock is past its date and 16% within 180 days (the single-place benchmark's spread).
    _execute(
        f"""
        INSERT INTO {SCHEMA}.catalog_lot
            (id, medicine_id, lot_number, expiry_date, received_date, quantity, purchase_price,
             supplier, status, status_reason, created_at)
        SELECT i, (i - 1) % {MEDICINES} + 1, 'B' || i, CURRENT_DATE + ((i * 37) % 1100 - 100), CURRENT_DATE - 400,
               0, 1000, 'Bench', CASE WHEN i % 33 = 0 THEN 'quarantined' ELSE 'available' END, '', now()
        FROM generate_series(1, {LOTS}) AS i
        """
    )
    # Medicine m is carried at k = 3..10 of the places (m, m + 1, ... modulo the places); its
    # n-th lot is held at two neighbouring ones of them, 10..89 and 10..69 units (one row in
    # fifty emptied), one lot in three hundred partly in transit.
    _execute(
        f"""
        INSERT INTO {SCHEMA}.catalog_lotstock (lot_id, location_id, quantity)
        WITH lots AS (
            SELECT i, (i - 1) % {MEDICINES} + 1 AS m, (i - 1) / {MEDICINES} AS n,
                   LEAST({PLACES}, 3 + ((i - 1) % {MEDICINES} + 1) % 8) AS k
            FROM generate_series(1, {LOTS}) AS i
        )
        SELECT i, (m + n % k) % {PLACES} + 1, CASE WHEN i % 50 = 0 THEN 0 ELSE 10 + (i * 7) % 80 END FROM lots
        UNION ALL
        SELECT i, (m + (n + 1) % k) % {PLACES} + 1, 10 + (i * 13) % 60 FROM lots
        UNION ALL
        SELECT i, {TRANSIT_ID}, 5 FROM lots WHERE i % 300 = 0
        """
    )
    _execute(
        f"UPDATE {SCHEMA}.catalog_lot AS l SET quantity = s.total FROM "
        f"(SELECT lot_id, SUM(quantity) AS total FROM {SCHEMA}.catalog_lotstock GROUP BY lot_id) AS s "
        "WHERE l.id = s.lot_id"
    )
    # A row per medicine per place holding its lots, derived as the stock core derives it; a
    # third of the warehouse's rows carry a reorder level of their own.
    _execute(
        f"""
        INSERT INTO {SCHEMA}.catalog_medicinestock (medicine_id, location_id, sellable_quantity, nearest_expiry,
                                                    reorder_level)
        SELECT l.medicine_id, ls.location_id,
               COALESCE(SUM(ls.quantity) FILTER (WHERE ls.quantity > 0 AND l.status = 'available'
                                                 AND l.expiry_date > CURRENT_DATE), 0),
               MIN(l.expiry_date) FILTER (WHERE ls.quantity > 0 AND l.status = 'available'
                                          AND l.expiry_date > CURRENT_DATE),
               CASE WHEN ls.location_id = 1 AND l.medicine_id % 3 = 0 THEN 5 * (l.medicine_id % 40) END
        FROM {SCHEMA}.catalog_lotstock AS ls JOIN {SCHEMA}.catalog_lot AS l ON l.id = ls.lot_id
        WHERE ls.location_id <> {TRANSIT_ID}
        GROUP BY l.medicine_id, ls.location_id
        """
    )
    for table in ("catalog_location", "catalog_medicine", "catalog_lot", "catalog_lotstock", "catalog_medicinestock"):
        _execute(f"VACUUM ANALYZE {SCHEMA}.{table}")
    _execute(f"COMMENT ON SCHEMA {SCHEMA} IS '{_layout()}'")  # DDL takes no parameters; the text is ours
    print(f"generated {MEDICINES:,} medicines at {PLACES} places in {time.perf_counter() - started:.1f} s")


def _scan_all() -> int:
    from tasks import services

    expiry = services.alerts_scan_expiry()
    stock = services.alerts_scan_low_stock()
    return sum(expiry.open_by_kind.values()) + sum(stock.open_by_kind.values())


def run() -> None:
    _ensure_stock()
    _execute(f"SET search_path TO {SCHEMA}, public")
    try:
        (stock_rows,) = _execute("SELECT count(*) FROM catalog_lotstock")[0]
        count_rows = lambda: _execute("SELECT count(*) FROM catalog_lotstock")  # noqa: E731
        baseline = median(timings(count_rows, repeat=5, warmup=1))

        _execute("TRUNCATE tasks_alert")
        started = time.perf_counter()
        open_alerts = _scan_all()
        first = time.perf_counter() - started
        # Scans run hours apart, and autovacuum tidies the alerts in between;
        # here VACUUM stands in for it, outside the timed part.
        rescans = []
        for _ in range(REPEAT):
            _execute("VACUUM ANALYZE tasks_alert")
            started = time.perf_counter()
            _scan_all()
            rescans.append(time.perf_counter() - started)
        steady = median(rescans)
        (created,) = _execute("SELECT count(*) FROM tasks_alert")[0]
        assert created == open_alerts, "a rescan must not open or resolve anything when nothing changed"
        (places_with_alerts,) = _execute("SELECT count(DISTINCT location_id) FROM tasks_alert")[0]
        assert places_with_alerts == PLACES, "every place has alerts of its own, transit none"

        from tasks import services

        (alerted,) = _execute("SELECT medicine_id FROM tasks_alert WHERE location_id = 2 ORDER BY id LIMIT 1")[0]
        (quiet,) = _execute(
            "SELECT id FROM catalog_medicine AS m WHERE NOT EXISTS "
            "(SELECT 1 FROM tasks_alert AS a WHERE a.medicine_id = m.id) ORDER BY id LIMIT 1"
        )[0]
        one = median(timings(lambda: services.alerts_resolve_cleared(medicine_ids=[alerted]), repeat=20))
        none = median(timings(lambda: services.alerts_resolve_cleared(medicine_ids=[quiet]), repeat=20))
        batch = list(range(1, MEDICINES + 1, max(1, MEDICINES // 5000)))[:5000]
        many = median(timings(lambda: services.alerts_resolve_cleared(medicine_ids=batch), repeat=5, warmup=1))
        (still_open,) = _execute("SELECT count(*) FROM tasks_alert WHERE resolved_at IS NULL")[0]
        assert still_open == open_alerts, "nothing changed: nothing may resolve"
    finally:
        _execute("RESET search_path")

    print(
        f"{MEDICINES:,} medicines at {PLACES} places, {LOTS:,} lots in {stock_rows:,} stock rows, "
        f"{open_alerts:,} open alerts"
    )
    report(Figure("alert scans, first run (every alert new)", first, "s", "count(*) stock rows", baseline, TARGET))
    report(Figure("alert scans, rescan (every alert touched)", steady, "s", "count(*) stock rows", baseline, TARGET))
    report(Figure("resolve after a sale, alerts open", one * 1000, "ms", "count(*) stock rows", baseline * 1000))
    report(Figure("resolve after a sale, none open", none * 1000, "ms", "count(*) stock rows", baseline * 1000))
    report(
        Figure("resolve after an import (5,000 medicines)", many * 1000, "ms", "count(*) stock rows", baseline * 1000)
    )
