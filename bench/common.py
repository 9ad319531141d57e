"""Shared plumbing for the benchmarks in bench/.

Benchmarks run against PostgreSQL (``BENCH_DATABASE_URL``, default a local
``dorixona_bench`` database) holding the synthetic catalogue, which is
generated once and reused. Each figure is printed beside a baseline measured
in the same run, with their ratio: these machines are shared and noisy.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/dorixona_bench"


def setup_django() -> None:
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    import django

    django.setup()
    _ensure_database()


def _ensure_database() -> None:
    import psycopg
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    admin_dsn = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
        if not exists:
            conn.execute(
                f"CREATE DATABASE \"{db['NAME']}\" TEMPLATE template0 ENCODING 'UTF8' "
                "LC_CTYPE 'C.UTF-8' LC_COLLATE 'C.UTF-8'"
            )
    call_command("migrate", verbosity=0, interactive=False)


# The catalogue every benchmark shares (one generation serves them all): 100,000 medicines, each lot at
# 10 places, 2 lots per medicine: 200,000 lots, 2,000,000 lot-location rows.
CATALOG_MEDICINES, CATALOG_LOTS, CATALOG_LOCATIONS = 100_000, 2, 10


def ensure_catalog(
    medicines: int = CATALOG_MEDICINES,
    lots_per_medicine: int = CATALOG_LOTS,
    *,
    locations: int | None = CATALOG_LOCATIONS,
) -> None:
    """Generate the synthetic catalogue unless the database already holds it.

    ``locations``: every lot stands at that many places (``generate_catalog
    --locations``; ``None``: whatever the database holds, one place when generated).
    """
    from django.core.management import call_command

    from catalog.models import Location, Lot, Medicine

    enough = Medicine.objects.count() >= medicines and Lot.objects.count() >= medicines * lots_per_medicine
    if not (enough and (locations is None or Location.objects.exclude(kind="transit").count() >= locations)):
        call_command(
            "generate_catalog",
            medicines=medicines,
            lots_per_medicine=lots_per_medicine,
            locations=locations or 1,
            reset=True,
        )
    vacuum_churned_tables()


# The tables every stock write rewrites rows of. Autovacuum is off on some benchmark servers: without it each
# run of a 100,000-row import leaves 100,000 dead versions of the medicine rows behind, no update finds room
# on its page any more (no HOT update), and the next run measures the bloat. Vacuumed before measuring, as
# autovacuum keeps them in production.
CHURNED_TABLES = (
    "catalog_medicine",
    "catalog_medicinestock",
    "catalog_lot",
    "catalog_lotstock",
    "catalog_stockmovement",
    "catalog_historicallot",
    "tasks_alert",
)


def vacuum_churned_tables() -> None:
    """``VACUUM (ANALYZE)`` the tables stock writes churn (outside a transaction, as VACUUM must run)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(CHURNED_TABLES)}")


def verified_staff_client(phone: str, role: str):
    """A test client logged in to the admin as ``role`` with a verified second factor.

    What ``django_otp.login()`` leaves in the session after a correct code; the
    benchmarks measure pages, not the login form.
    """
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    user = User.objects.filter(phone=phone).first()
    if user is None:
        user = User.objects.create_user(phone=phone, password=None, role=role)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="bench", confirmed=True
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def timings(fn: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls of ``fn`` after ``warmup`` unmeasured ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline_value: float
    target: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else float("inf")


def report(figure: Figure) -> None:
    print(
        f"{figure.name:<46} {figure.value:>12.3f} {figure.unit:<6} | baseline {figure.baseline_name}: "
        f"{figure.baseline_value:.3f} {figure.unit} | ratio {figure.ratio:.2f}x"
        + (f" | target {figure.target}" if figure.target else "")
    )


def median(values: list[float]) -> float:
    return statistics.median(values)
