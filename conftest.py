"""Fixtures shared by every app's tests."""

import os
import threading

import pytest
from django.db import connection
from django_otp.oath import TOTP

from accounts.roles import Role
from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory, TOTPDeviceFactory

# The browser fixtures (one Chromium per session) for every app's browser tests: a plugin, so that a session
# fixture is defined once; imported into several test modules it would start a second Playwright and fail.
pytest_plugins = ["backoffice.tests.browser"]


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts and ends in the default language: a request or a task that activated Uzbek or Russian
    in this thread would otherwise leave it on for the next test (the export's "3 qadoq" for "3 packs")."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def totp_now(device) -> str:
    """The code an authenticator app shows for ``device`` right now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def make_staff(db):
    """``make_staff(Role.OPERATOR)`` -> a staff user with a confirmed authenticator."""

    def make(role: str = Role.PHARMACIST, **kwargs):
        user = StaffFactory(role=role, **kwargs)
        TOTPDeviceFactory(user=user)
        return user

    return make


@pytest.fixture
def login_staff(client):
    """Log ``user`` in to the admin through the real login form with a real TOTP code.

    ``force_login`` would not be OTP-verified, and the admin would refuse it.
    """

    def login(user, test_client=None):
        test_client = test_client or client
        device = user.totpdevice_set.filter(confirmed=True).first()
        response = test_client.post(
            "/admin/login/",
            {"username": user.phone, "password": DEFAULT_PASSWORD, "otp_token": totp_now(device)},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        return test_client

    return login


@pytest.fixture
def staff_client(make_staff, login_staff, client):
    """``staff_client(Role.INVENTORY)`` -> a test client logged in to the admin as that role."""

    def make(role: str = Role.PHARMACIST, **kwargs):
        user = make_staff(role, **kwargs)
        login_staff(user)
        client.user = user
        return client

    return make


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


requires_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI always does)",
)
requires_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL=redis://... (CI always does)"
)


def run_at_once(jobs) -> list[object]:
    """Run each callable in its own thread (its own database connection), all released together by a barrier.

    Returns what each returned, or the exception it raised; fails if a thread is still waiting after two
    minutes (a lock wait that never ends, or a deadlock the database did not break).
    """
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = job()
        except Exception as error:  # the caller decides which refusals are expected
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck: lock wait or deadlock"
    return outcomes
