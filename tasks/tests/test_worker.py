"""Reliability of the alert tasks with a real Celery worker on the real Redis and PostgreSQL.

The worker is a subprocess (``celery -A tasks.celery worker``) on the test
database, consuming a queue of its own; the test process publishes to Redis.
Waiting for it is a poll of the database with a deadline: the worker is
another process, its progress cannot be time-travelled.
"""

from __future__ import annotations

import datetime
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from backoffice import celery_app
from catalog import stock as stock_core
from catalog.models import Lot
from catalog.tests.factories import MedicineFactory, receive
from conftest import requires_postgres, requires_redis
from tasks.models import Alert, AlertKind

pytestmark = [
    requires_postgres,
    requires_redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

BASE_DIR = Path(settings.BASE_DIR)


def in_days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


VISIBILITY_TIMEOUT = 2
DEADLINE = 60


def _dsn() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, queue: str, log: Path) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": _dsn(),
            "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        }
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tasks.celery",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def broker(tmp_path):
    """Publish for real (not eagerly) to a queue only this test's workers consume."""
    queue = f"alerts-test-{uuid.uuid4().hex[:8]}"
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    workers: list[Worker] = []

    def start_worker() -> Worker:
        worker = Worker(queue, tmp_path / "worker.log")
        workers.append(worker)
        return worker

    def send(task) -> None:
        task.apply_async(queue=queue)

    yield type("Broker", (), {"queue": queue, "start_worker": staticmethod(start_worker), "send": staticmethod(send)})
    for worker in workers:
        worker.stop()
    celery_app.conf.task_always_eager = eager
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)


def wait_until(predicate, what: str, log: Path | None = None, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{tail}")


def open_alerts() -> list[tuple]:
    return sorted(Alert.objects.open().values_list("kind", "window", "lot_id", "medicine_id"))


@pytest.fixture
def stock():
    """Lots in every expiry window, one medicine out of stock: the alerts a scan must produce.

    The worker is another process: time cannot travel for it, so the lot past
    its date is received while it was still good and its date then corrected
    (through the stock core, with a reason) to two days ago.
    """
    medicine = MedicineFactory(reorder_level=0)
    lots = {d: receive(medicine, 50, expires_in_days=max(d, 1)) for d in (-2, 10, 45, 120, 365)}
    stock_core.lot_update_details(
        lot=lots[-2],
        changes={"expiry_date": in_days(-2), "received_date": in_days(-30)},
        reason="Misprint on the supplier's invoice",
    )
    empty = MedicineFactory()
    receive(empty, 1)
    stock_core.stock_dispense(medicine=empty, quantity=1)
    expected = sorted(
        [
            (AlertKind.EXPIRED, 0, lots[-2].pk, medicine.pk),
            (AlertKind.EXPIRY, 30, lots[10].pk, medicine.pk),
            (AlertKind.EXPIRY, 90, lots[45].pk, medicine.pk),
            (AlertKind.EXPIRY, 180, lots[120].pk, medicine.pk),
            (AlertKind.OUT_OF_STOCK, 0, None, empty.pk),
        ]
    )
    return expected


def test_scans_sent_through_redis_to_a_real_worker_produce_the_expected_alerts_once(broker, stock, tmp_path):
    from tasks.tasks import scan_expiry, scan_low_stock

    worker = broker.start_worker()
    broker.send(scan_expiry)
    broker.send(scan_low_stock)
    wait_until(lambda: open_alerts() == stock, "the first scans", worker.log)
    first_seen = max(Alert.objects.values_list("last_seen", flat=True))

    broker.send(scan_expiry)
    broker.send(scan_low_stock)
    wait_until(
        lambda: min(Alert.objects.values_list("last_seen", flat=True)) > first_seen, "the second scans", worker.log
    )

    assert open_alerts() == stock
    assert Alert.objects.count() == len(stock)


@contextmanager
def table_locked(table: str):
    """Hold a lock that makes every write to ``table`` wait, from a connection of our own."""
    with psycopg.connect(_dsn()) as conn:
        conn.execute(f'LOCK TABLE "{table}" IN SHARE ROW EXCLUSIVE MODE')
        yield conn
        conn.rollback()


def _writer_waiting_on(table: str) -> bool:
    with psycopg.connect(_dsn(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            [f'%"{table}"%'],
        ).fetchone()
    return row[0] > 0


def test_a_worker_killed_in_the_middle_of_a_scan_leaves_no_duplicate_and_no_missing_alert(broker, stock):
    from tasks.tasks import scan_expiry, scan_low_stock

    first = broker.start_worker()
    with table_locked("tasks_alert"):
        broker.send(scan_expiry)
        wait_until(lambda: _writer_waiting_on("tasks_alert"), "the scan to be half-way", first.log)
        taken_at = time.monotonic()
        first.kill()
    assert Alert.objects.count() == 0

    # The message was taken but never acknowledged (late ack): Redis hands it
    # out again once its visibility timeout has passed.
    time.sleep(max(0.0, taken_at + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    second = broker.start_worker()
    wait_until(
        lambda: Alert.objects.filter(kind__in=["expiry", "expired"]).count() == 4, "the redelivered scan", second.log
    )
    broker.send(scan_expiry)
    broker.send(scan_low_stock)
    wait_until(lambda: Alert.objects.filter(kind=AlertKind.OUT_OF_STOCK).exists(), "the stock scan", second.log)

    assert open_alerts() == stock
    assert Alert.objects.count() == len(stock)


@pytest.fixture
def redis_down(settings):
    """Redis unreachable: the broker and the cache point at a closed port."""
    dead = "redis://127.0.0.1:1/0"
    saved = celery_app.conf.broker_url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": dead}}

    def point_broker_at(url: str) -> None:
        celery_app.conf.broker_url = url
        # Drop pooled connections made with the previous address.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    point_broker_at(dead)
    yield point_broker_at
    point_broker_at(saved)


def test_with_redis_down_pages_serve_and_the_scans_catch_up_once_it_is_back(broker, redis_down, staff_client, caplog):
    from catalog.stock import stock_dispense
    from tasks.tasks import scan_low_stock

    medicine = MedicineFactory(reorder_level=20)
    receive(medicine, 30, expires_in_days=300)
    client = staff_client()

    with caplog.at_level(logging.ERROR, logger="backoffice.queue"):
        # A sale commits although the rescan it asks for cannot be enqueued.
        stock_dispense(medicine=medicine, quantity=15)
        scans = client.post("/admin/tasks/alert/run_scans/", follow=True)

    assert Lot.objects.get(medicine=medicine).quantity == 15
    assert "Could not enqueue" in caplog.text
    assert scans.status_code == 200 and "unreachable" in scans.content.decode()
    for url in ("/admin/", "/admin/tasks/alert/", "/admin/catalog/lot/", "/api/v1/catalog/medicines/"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:500])
    assert not Alert.objects.exists()

    redis_down(settings.CELERY_BROKER_URL)
    worker = broker.start_worker()
    broker.send(scan_low_stock)
    wait_until(
        lambda: Alert.objects.filter(kind=AlertKind.LOW_STOCK, medicine=medicine).exists(), "catch-up", worker.log
    )
