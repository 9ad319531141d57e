"""/health/: JSON, 200 only when every dependency answers, degraded (not a crash) without a worker."""

import pytest
from django.db import connections

from conftest import requires_redis
from tasks.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_health_reports_every_dependency_as_json(client):
    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "celery", "storage"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["storage"]["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


def test_health_can_be_asked_for_some_checks_only(client):
    body = client.get("/health/?check=database&check=cache").json()

    assert set(body["checks"]) == {"database", "cache"}


def test_a_database_that_does_not_answer_makes_health_503(client, monkeypatch):
    database = connections["default"]
    # Break the connection the way a stopped server does: every cursor fails.
    monkeypatch.setattr(database, "cursor", lambda: (_ for _ in ()).throw(OSError("connection refused")))

    response = client.get("/health/?check=database")

    assert response.status_code == 503
    check = response.json()["checks"]["database"]
    assert check["status"] == "error"
    assert "connection refused" in check["detail"]


def test_a_storage_that_cannot_be_written_makes_health_503(client, settings, tmp_path):
    from backoffice.storage_config import local_storages

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.STORAGES = local_storages(media_root=blocker / "media", private_root=blocker / "private")
    settings.MEDIA_ROOT = blocker / "media"

    response = client.get("/health/?check=storage")

    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["status"] == "error"


@requires_redis
def test_no_worker_answering_is_reported_as_degraded_within_the_ping_timeout(client):
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        response = client.get("/health/?check=broker&check=celery")
    finally:
        celery_app.conf.task_always_eager = was_eager

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["status"] == "ok"
    assert body["checks"]["celery"]["status"] == "degraded"
    assert body["checks"]["celery"]["ms"] < 3000


def test_an_unreachable_broker_is_an_error_not_a_crash(client, settings):
    was = (celery_app.conf.task_always_eager, celery_app.conf.broker_url)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/health/?check=broker")
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = was

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "error"
