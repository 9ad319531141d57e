"""The alert scans on 1,000,000 lots (PostgreSQL).

The lots live in a scratch schema of their own (``bench_alerts``), generated
once with set-based ``INSERT ... SELECT generate_series`` and reused: the
catalogue benchmarks' data in ``public`` is left alone. The schema's
``catalog_lot`` and ``tasks_alert`` are copies of the real tables with every
index and constraint (``LIKE ... INCLUDING ALL``: the partial unique index on
open alerts included); its ``catalog_medicine`` carries only the columns the
scans read (id, is_active, reorder_level). The scans run unchanged through
the ORM with ``search_path`` set to the scratch schema first.

Figures: the first scan (every alert new: ~270,000 inserted), then a
steady-state rescan (every alert touched, none new), each being the expiry
scan and the stock scan together; baseline: ``SELECT count(*)`` over the
same lots in the same run.
"""

from __future__ import annotations

import time

from django.db import connection

from bench.common import Figure, median, report, timings

SCHEMA = "bench_alerts"
LOTS = 1_000_000
MEDICINES = 100_000
REPEAT = 3


def _execute(sql: str, params=None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _ensure_lots() -> None:
    _execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    _execute(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.catalog_medicine "
        "(id bigint PRIMARY KEY, is_active boolean NOT NULL, reorder_level integer NOT NULL)"
    )
    _execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.catalog_lot (LIKE public.catalog_lot INCLUDING ALL)")
    _execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.tasks_alert (LIKE public.tasks_alert INCLUDING ALL)")
    # LIKE does not copy storage parameters (the alerts' fillfactor, migration tasks 0002).
    for (option,) in _execute("SELECT unnest(reloptions) FROM pg_class WHERE oid = 'public.tasks_alert'::regclass"):
        _execute(f"ALTER TABLE {SCHEMA}.tasks_alert SET ({option})")
    (count,) = _execute(f"SELECT count(*) FROM {SCHEMA}.catalog_lot")[0]
    if count == LOTS:
        return
    started = time.perf_counter()
    _execute(f"TRUNCATE {SCHEMA}.catalog_lot, {SCHEMA}.catalog_medicine, {SCHEMA}.tasks_alert")
    # Reorder levels 0..199: about a tenth of the medicines end up low on stock.
    _execute(
        f"INSERT INTO {SCHEMA}.catalog_medicine (id, is_active, reorder_level) "
        f"SELECT m, m % 97 <> 0, m % 200 FROM generate_series(1, {MEDICINES}) AS m"
    )
    # Ten lots per medicine; expiry dates spread over -100..+1000 days from
    # today, 2% empty, 3% quarantined: about 8% are past their date and 25%
    # within 180 days.
    _execute(
        f"""
        INSERT INTO {SCHEMA}.catalog_lot
            (id, medicine_id, lot_number, expiry_date, received_date, quantity, purchase_price,
             supplier, status, status_reason, created_at)
        SELECT i, (i % {MEDICINES}) + 1, 'B' || i,
               CURRENT_DATE + ((i * 37) % 1100 - 100),
               CURRENT_DATE - 400,
               (i * 7) % 50,
               1000, 'Bench', CASE WHEN i % 33 = 0 THEN 'quarantined' ELSE 'available' END, '', now()
        FROM generate_series(1, {LOTS}) AS i
        """
    )
    _execute(f"ANALYZE {SCHEMA}.catalog_lot")
    _execute(f"ANALYZE {SCHEMA}.catalog_medicine")
    print(f"generated {LOTS:,} lots in {time.perf_counter() - started:.1f} s")


def _scan_all() -> int:
    from tasks import services

    expiry = services.alerts_scan_expiry()
    stock = services.alerts_scan_low_stock()
    return sum(expiry.open_by_kind.values()) + sum(stock.open_by_kind.values())


def run() -> None:
    _ensure_lots()
    _execute(f"SET search_path TO {SCHEMA}, public")
    try:
        count_lots = lambda: _execute("SELECT count(*) FROM catalog_lot")  # noqa: E731
        baseline = median(timings(count_lots, repeat=5, warmup=1))

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
    finally:
        _execute("RESET search_path")

    print(f"{LOTS:,} lots, {MEDICINES:,} medicines, {open_alerts:,} open alerts")
    report(
        Figure(
            "alert scans, first run (every alert new)", first, "s", "SELECT count(*) lots", baseline, target="<= 10 s"
        )
    )
    report(
        Figure(
            "alert scans, rescan (every alert touched)", steady, "s", "SELECT count(*) lots", baseline, target="<= 10 s"
        )
    )
