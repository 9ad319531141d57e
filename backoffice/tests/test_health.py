"""/health/: JSON, 200 only when every dependency answers, degraded (not a crash) without a worker."""

import pytest
from django.db import connections

from accounts.roles import Role
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


HEALTH_TOKEN = "health-token-for-tests-0123456789abcdef"


@pytest.fixture
def break_database(monkeypatch):
    def break_it():
        # Break the connection the way a stopped server does: every cursor fails.
        monkeypatch.setattr(
            connections["default"],
            "cursor",
            lambda: (_ for _ in ()).throw(OSError("Error 111 connecting to 127.0.0.1:6391")),
        )

    return break_it


@pytest.fixture
def broken_database(break_database):
    break_database()


def test_a_database_that_does_not_answer_makes_health_503(client, settings, broken_database):
    settings.HEALTH_TOKEN = HEALTH_TOKEN

    response = client.get("/health/?check=database", HTTP_AUTHORIZATION=f"Bearer {HEALTH_TOKEN}")

    assert response.status_code == 503
    check = response.json()["checks"]["database"]
    assert check["status"] == "error"
    assert "Error 111 connecting to 127.0.0.1:6391" in check["detail"]


def test_an_anonymous_caller_learns_each_status_but_no_internal_detail(client, settings, broken_database):
    settings.HEALTH_TOKEN = HEALTH_TOKEN

    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["database"] == {"status": "error"}
    assert body["checks"]["cache"] == {"status": "ok"}
    assert all(set(check) == {"status"} for check in body["checks"].values())
    assert b"6391" not in response.content and b"Error" not in response.content


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong-token", f"Bearer {HEALTH_TOKEN}x", HEALTH_TOKEN, f"Basic {HEALTH_TOKEN}", "Bearer "],
)
def test_a_wrong_token_is_treated_as_anonymous(client, settings, broken_database, authorization):
    settings.HEALTH_TOKEN = HEALTH_TOKEN

    response = client.get("/health/?check=database", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"status": "error"}


def test_no_token_opens_the_details_when_none_is_configured(client, settings, broken_database):
    settings.HEALTH_TOKEN = ""

    response = client.get("/health/?check=database", HTTP_AUTHORIZATION="Bearer ")

    assert response.json()["checks"]["database"] == {"status": "error"}


@pytest.fixture
def broken_storage(settings, tmp_path):
    from backoffice.storage_config import local_storages

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.STORAGES = local_storages(media_root=blocker / "media", private_root=blocker / "private")
    settings.MEDIA_ROOT = blocker / "media"


def test_a_verified_staff_member_sees_the_details(staff_client, broken_storage):
    client = staff_client(Role.OPERATOR)

    response = client.get("/health/?check=storage&check=cache")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["storage"]["status"] == "error" and "not-a-folder" in checks["storage"]["detail"]
    assert checks["cache"]["status"] == "ok" and "ms" in checks["cache"]


def test_a_staff_session_while_the_database_is_down_still_gets_the_status(staff_client, break_database):
    client = staff_client(Role.ADMIN)
    break_database()  # the session's user cannot be loaded now

    response = client.get("/health/?check=database")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"status": "error"}


def test_a_staff_password_without_the_second_factor_sees_status_only(client, make_staff, break_database):
    client.force_login(make_staff(Role.ADMIN))  # logged in, not OTP-verified
    break_database()

    response = client.get("/health/?check=database")

    assert response.json()["checks"]["database"] == {"status": "error"}


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
def test_no_worker_answering_is_reported_as_degraded_within_the_ping_timeout(monitor_client):
    was_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        response = monitor_client.get("/health/?check=broker&check=celery")
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
