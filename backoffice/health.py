"""``/health/``: is each dependency of this process answering?

One small view instead of django-health-check: its 4.x releases need
Python 3.14, and the checks here are a few lines each. JSON out; HTTP 200 when
every check passes, 503 otherwise. A check that fails never raises: it reports
``error`` (the dependency is down) or ``degraded`` (no Celery worker answered,
so background work waits but the admin still works).

``?check=database&check=cache`` runs only those checks: the container health
check of the web service asks for what the web process itself needs.

Anyone may ask, so an anonymous caller learns only each check's status and
the HTTP code: what failed and how (host names, ports, driver messages) is for
staff who have passed the second factor, or for a monitor that sends
``Authorization: Bearer <HEALTH_TOKEN>``. Failures are logged with their
detail either way.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backoffice.storage import private_storage, public_storage

logger = logging.getLogger(__name__)

OK, DEGRADED, ERROR, SKIPPED = "ok", "degraded", "error", "skipped"
CELERY_PING_TIMEOUT = 1.0
BROKER_TIMEOUT = 2.0


class CheckFailed(Exception):
    """A health check found a dependency down or degraded (``status``); infrastructure, not a domain error."""

    def __init__(self, detail: str, status: str = ERROR) -> None:
        super().__init__(detail)
        self.status = status


def check_database() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise CheckFailed("SELECT 1 did not answer 1")
    return connections["default"].vendor


def check_cache() -> str:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    value = cache.get(key)
    cache.delete(key)
    if value != "1":
        raise CheckFailed("a value written to the cache could not be read back")
    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


def check_broker() -> str:
    from tasks.celery import app

    if app.conf.task_always_eager:
        raise CheckFailed("tasks run in-process (no broker configured)", status=SKIPPED)
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
        return connection.transport.driver_type


def check_celery() -> str:
    from tasks.celery import app

    if app.conf.task_always_eager:
        raise CheckFailed("tasks run in-process (no worker needed)", status=SKIPPED)
    replies = app.control.ping(timeout=CELERY_PING_TIMEOUT)
    if not replies:
        raise CheckFailed(f"no worker answered a ping within {CELERY_PING_TIMEOUT:g} s", status=DEGRADED)
    return f"{len(replies)} worker(s) answered"


def _probe(storage) -> None:
    name = storage.save(f"health/probe-{uuid.uuid4().hex}.txt", ContentFile(b"dorixona health probe"))
    try:
        with storage.open(name, "rb") as handle:
            if handle.read() != b"dorixona health probe":
                raise CheckFailed("a probe file read back differently")
    finally:
        storage.delete(name)


def check_storage() -> str:
    _probe(public_storage())
    _probe(private_storage())
    return type(public_storage()).__name__


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "celery": check_celery,
    "storage": check_storage,
}


def run_checks(names: list[str] | None = None) -> dict:
    results = {}
    for name, check in CHECKS.items():
        if names and name not in names:
            continue
        started = time.perf_counter()
        try:
            detail, status = check(), OK
        except CheckFailed as exc:
            detail, status = str(exc), exc.status
        except Exception as exc:  # a down dependency raises anything: report it, never crash
            detail, status = f"{type(exc).__name__}: {exc}"[:300], ERROR
        results[name] = {
            "status": status,
            "detail": detail,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
    statuses = {result["status"] for result in results.values()}
    overall = ERROR if ERROR in statuses else DEGRADED if DEGRADED in statuses else OK
    return {"status": overall, "checks": results}


def _has_health_token(request: HttpRequest) -> bool:
    expected = getattr(settings, "HEALTH_TOKEN", "")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    # Constant time: the comparison must not tell a prober how much of a guess was right.
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def _is_verified_staff(request: HttpRequest) -> bool:
    try:
        user = request.user
        is_verified = getattr(user, "is_verified", None)
        return bool(user.is_authenticated and user.is_active and user.is_staff and is_verified and is_verified())
    except Exception:  # the session's user lives in the database, which may be the thing that is down
        return False


def may_see_details(request: HttpRequest) -> bool:
    """Staff past the second factor, or a caller with the configured ``HEALTH_TOKEN``."""
    return _has_health_token(request) or _is_verified_staff(request)


def status_only(report: dict) -> dict:
    """What an anonymous caller is told: the overall status and each check's, nothing else."""
    return {
        "status": report["status"],
        "checks": {name: {"status": result["status"]} for name, result in report["checks"].items()},
    }


@never_cache
@require_GET
def health_view(request: HttpRequest) -> JsonResponse:
    names = [name for name in request.GET.getlist("check") if name in CHECKS]
    report = run_checks(names or None)
    for name, result in report["checks"].items():
        if result["status"] in (ERROR, DEGRADED):
            logger.warning("health check %s: %s: %s", name, result["status"], result["detail"])
    body = report if may_see_details(request) else status_only(report)
    return JsonResponse(body, status=200 if report["status"] == OK else 503)
