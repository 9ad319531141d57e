"""Imports against the real servers: two at once on PostgreSQL, and large files through a Celery worker on Redis."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from accounts.roles import Role
from catalog.imports.engine import import_job_check, import_job_confirm, import_job_create, import_job_start_check
from catalog.models import ImportJob, ImportState, Lot, StockMovement
from catalog.tests.factories import MedicineFactory, days, receive
from catalog.tests.import_helpers import csv_bytes
from conftest import requires_postgres, requires_redis

HEADER = ["sku", "barcode", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier"]
ROOT = Path(__file__).resolve().parents[2]


def _ready_job(user, rows, name):
    job = import_job_create(kind="receipt", filename=name, data=csv_bytes([HEADER, *rows]), user=user)
    return import_job_check(job_id=job.pk)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_into_the_same_lots_at_once_never_lose_stock(make_staff):
    user = make_staff(Role.INVENTORY)
    medicines = [MedicineFactory(sku=f"M{n}") for n in range(5)]
    for medicine in medicines:
        receive(medicine, 10, lot_number="OLD", expires_in_days=300)
    expiry = Lot.objects.filter(lot_number="OLD").first().expiry_date.isoformat()
    # Both files top up the same existing lots and both create the same new lot.
    first = _ready_job(
        user,
        [[m.sku, "", "OLD", expiry, "5", "1", ""] for m in medicines]
        + [["M0", "", "NEW", days(400).isoformat(), "2", "1", ""]],
        "a.csv",
    )
    second = _ready_job(
        user,
        [[m.sku, "", "OLD", expiry, "7", "1", ""] for m in reversed(medicines)]
        + [["M0", "", "NEW", days(400).isoformat(), "3", "1", ""]],
        "b.csv",
    )
    assert first.state == second.state == ImportState.READY
    barrier = threading.Barrier(2)
    results = {}

    def confirm(job):
        try:
            barrier.wait()
            results[job.pk] = import_job_confirm(job=job, user=user).state
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm, args=(job,)) for job in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert set(results.values()) == {ImportState.DONE}
    for medicine in medicines:
        lot = Lot.objects.get(medicine=medicine, lot_number="OLD")
        assert lot.quantity == 22
        balances = list(lot.movements.order_by("pk").values_list("quantity", "balance_after"))
        running = 0
        for quantity, balance in balances:
            running += quantity
            assert balance == running
    assert Lot.objects.get(lot_number="NEW").quantity == 5
    assert StockMovement.objects.filter(lot__lot_number="NEW").count() == 2


@pytest.fixture
def celery_worker_process():
    """A real Celery worker in its own process, on the test database and the Redis broker."""
    from tasks.celery import app

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": _database_url(),
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT) if hasattr(settings, "PRIVATE_MEDIA_ROOT") else "",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    app.control.purge()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tasks.celery",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"import-test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield worker
    finally:
        app.conf.task_always_eager = eager
        worker.terminate()
        worker.wait(20)


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _wait_for(job: ImportJob, states: set[str], seconds: float = 90) -> ImportJob:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state in states:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job stayed {job.state}")


@requires_postgres
@requires_redis
@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_checked_and_applied_by_a_celery_worker(make_staff, settings, celery_worker_process):
    settings.IMPORT_ASYNC_ROWS = 3
    user = make_staff(Role.INVENTORY)
    medicines = [MedicineFactory(sku=f"W{n}") for n in range(10)]
    data = csv_bytes([HEADER, *[[m.sku, "", "L1", days(300).isoformat(), "4", "1", ""] for m in medicines]])
    job = import_job_create(kind="receipt", filename="big.csv", data=data, user=user)

    job = import_job_start_check(job=job)
    assert job.task_id  # queued, not run in this process
    job = _wait_for(job, {ImportState.READY, ImportState.INVALID})
    assert job.state == ImportState.READY, job.errors
    assert job.progress == 100 and job.new_rows == 10
    assert not Lot.objects.exists()

    job = import_job_confirm(job=job, user=user)
    job = _wait_for(job, {ImportState.DONE, ImportState.FAILED, ImportState.INVALID})

    assert job.state == ImportState.DONE, job.message
    assert Lot.objects.filter(quantity=4).count() == 10
    assert {m.user_id for m in StockMovement.objects.all()} == {user.pk}
    assert {h.history_user_id for h in Lot.history.all()} == {user.pk}


@requires_postgres
@pytest.mark.django_db
def test_the_copy_path_writes_the_same_rows_as_bulk_create_with_history(make_staff, monkeypatch):
    from catalog.stock import copy
    from catalog.tests.import_helpers import run_import

    user = make_staff(Role.INVENTORY)
    medicine = MedicineFactory(sku="C-1")

    def written(lot_number: str) -> tuple:
        lot = Lot.objects.get(lot_number=lot_number)
        skip_lot = {"id", "lot_number", "created_at"}
        lot_row = {k: v for k, v in Lot.objects.filter(pk=lot.pk).values().get().items() if k not in skip_lot}
        history = [
            {k: v for k, v in row.items() if k not in skip_lot | {"history_id", "history_date"}}
            for row in lot.history.values()
        ]
        movements = [
            {k: v for k, v in row.items() if k not in {"id", "lot_id", "created_at", "reference"}}
            for row in StockMovement.objects.filter(lot=lot).values()
        ]
        stocks = [{k: v for k, v in row.items() if k not in {"id", "lot_id"}} for row in lot.stocks.values()]
        return lot_row, history, movements, stocks

    for lot_number, use_copy in (("VIA-COPY", True), ("VIA-ORM", False)):
        monkeypatch.setattr(copy, "USE_COPY", use_copy)
        job = run_import(
            "receipt",
            csv_bytes([HEADER, ["C-1", "", lot_number, days(200).isoformat(), "6", "12,5", "S"]]),
            user,
            filename=f"{lot_number}.csv",
        )
        assert job.state == ImportState.DONE, job.errors

    assert written("VIA-COPY") == written("VIA-ORM")
    medicine.refresh_from_db()
    assert medicine.sellable_quantity == 12


@requires_postgres
@requires_redis
@pytest.mark.django_db(transaction=True)
def test_a_check_that_breaks_in_the_worker_ends_failed_and_never_stays_checking(
    make_staff, settings, celery_worker_process
):
    settings.IMPORT_ASYNC_ROWS = 3
    user = make_staff(Role.INVENTORY)
    medicines = [MedicineFactory(sku=f"F{n}") for n in range(5)]
    data = csv_bytes([HEADER, *[[m.sku, "", "L1", days(300).isoformat(), "4", "1", ""] for m in medicines]])
    job = import_job_create(kind="receipt", filename="big.csv", data=data, user=user, language="en")
    # The upload is gone from storage when the worker reads it: an error no check foresees.
    job.file.storage.delete(job.file.name)

    job = import_job_start_check(job=job)
    assert job.task_id
    job = _wait_for(job, {ImportState.READY, ImportState.INVALID, ImportState.FAILED})

    assert job.state == ImportState.FAILED
    assert "unexpected error" in job.message and job.file.name not in job.message
    assert job.progress == 100
    assert not Lot.objects.exists()
