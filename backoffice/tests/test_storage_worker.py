"""A file written by the web process is read by a separate Celery worker from the same S3 store.

The worker is a real ``celery worker`` subprocess on Redis (REDIS_URL), whose
Django settings point at the local S3 server through the environment, just as
docker-compose's worker service gets them. The flow is the product image one:
the admin saves a medicine with an image (uploaded to S3 by the web process),
the commit queues the thumbnail task, and the worker reads the image from S3
and writes the thumbnail back.
"""

import os
import subprocess
import sys
import time
import uuid
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from catalog.tests.factories import MedicineFactory
from catalog.thumbnails import thumbnail_name, thumbnail_url
from conftest import requires_redis
from tasks.celery import app as celery_app

from .images import image_bytes

ROOT = Path(__file__).resolve().parents[2]
WORKER_START_TIMEOUT = 60
TASK_TIMEOUT = 60


def _wait_for(condition, timeout: float, what: str, log: Path | None = None):
    # Another process does the work: polling with a deadline is the only way
    # to see it finish (there is no result backend to block on).
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    tail = log.read_text()[-4000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tail}")


@pytest.fixture
def s3_worker(s3_server, s3_bucket, tmp_path):
    """A Celery worker subprocess using the same Redis and the same bucket as this test."""
    node = f"storage-test-{uuid.uuid4().hex[:8]}@localhost"
    env = {
        **os.environ,
        **s3_server.storage_env(s3_bucket),
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.test",
        "TEST_STORAGE_FROM_ENV": "1",
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as log_file:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tasks",
                "worker",
                "-P",
                "solo",
                "-n",
                node,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        _wait_for(
            lambda: worker.poll() is not None or celery_app.control.ping(destination=[node], timeout=0.5),
            WORKER_START_TIMEOUT,
            "the worker to answer a ping",
            log,
        )
        assert worker.poll() is None, log.read_text()
        yield log
    finally:
        celery_app.conf.task_always_eager = was_eager
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


@requires_redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_reads_the_uploaded_image_from_s3_and_writes_its_thumbnail(s3_worker, s3_server, s3_bucket):
    original = image_bytes("JPEG", size=(1200, 900))

    medicine = MedicineFactory(image=ContentFile(original, name="ibuprofen.jpg"))

    medicine.refresh_from_db()
    thumb = thumbnail_name(medicine.image.name)
    _wait_for(lambda: default_storage.exists(thumb), TASK_TIMEOUT, thumb, s3_worker)
    with default_storage.open(thumb, "rb") as handle:
        with Image.open(BytesIO(handle.read())) as image:
            assert (image.format, image.size) == ("WEBP", (settings.THUMBNAIL_WIDTH, 240))
    assert "catalog.thumbnail_generate" in s3_worker.read_text()
    # The worker's "done" mark reaches the web process through the shared Redis cache.
    _wait_for(lambda: thumbnail_url(medicine).endswith(".webp"), TASK_TIMEOUT, "the thumbnail mark")
    assert thumbnail_url(medicine) == f"{s3_server.endpoint_url}/{s3_bucket}/media/{thumb}"


@requires_redis
@pytest.mark.slow
@pytest.mark.django_db
def test_health_reports_a_running_worker_as_ok(s3_worker, monitor_client):
    response = monitor_client.get("/health/?check=broker&check=celery&check=storage")

    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert checks["celery"]["status"] == "ok"
    assert checks["celery"]["detail"].endswith("worker(s) answered")
    assert checks["storage"]["detail"] == "S3Storage"
