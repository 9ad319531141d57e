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


def ensure_catalog(medicines: int = 100_000, lots_per_medicine: int = 3, *, locations: int | None = None) -> None:
    """Generate the synthetic catalogue unless the database already holds it.

    ``locations``: the stock spread over at least that many places (``None``:
    wherever the generator puts it). The generator is asked for them
    (``--locations``) once it takes them; until then the medicines are
    generated without lots and their lots received at the places through the
    stock core, which is slow: run such benchmarks at a small size.
    """
    from django.core.management import call_command

    from catalog.models import Lot, Medicine

    if locations is not None and not generator_takes_locations():
        _catalog_through_the_core(medicines, lots_per_medicine, locations)
        return
    enough = Medicine.objects.count() >= medicines and Lot.objects.count() >= medicines * lots_per_medicine
    if enough and (locations is None or _places_holding_stock() >= locations):
        return
    options = {"medicines": medicines, "lots_per_medicine": lots_per_medicine, "reset": True}
    if locations is not None:
        options["locations"] = locations
    call_command("generate_catalog", **options)


def generator_takes_locations() -> bool:
    """Whether ``manage.py generate_catalog`` spreads stock over places (``--locations N``)."""
    from django.core.management import load_command_class

    parser = load_command_class("catalog", "generate_catalog").create_parser("manage.py", "generate_catalog")
    return any("--locations" in action.option_strings for action in parser._actions)


def _places_holding_stock() -> int:
    from catalog.models import LotStock

    return LotStock.objects.filter(quantity__gt=0).values("location_id").distinct().count()


def ensure_locations(count: int) -> list:
    """At least ``count`` active places that hold stock (the first a warehouse, then branches), made when missing.

    A place is not stock: creating one writes no quantity.
    """
    from catalog.models import Location, LocationKind
    from catalog.stock import stock_locations

    places = list(stock_locations().order_by("pk"))
    for n in range(len(places), count):
        kind = LocationKind.WAREHOUSE if n == 0 else LocationKind.BRANCH
        places.append(
            Location.objects.create(
                name=f"Bench place {n + 1}", code=f"bench-{n + 1}", kind=kind, is_public=kind == LocationKind.BRANCH
            )
        )
    return places[:count]


def _catalog_through_the_core(medicines: int, lots_per_medicine: int, locations: int) -> None:
    """Medicines from the generator, their lots received at ``locations`` places by the stock core, a few sales each.

    Lot ``n`` of medicine ``i`` goes to place ``(i + n) % locations``; expiry
    dates spread over 10..730 days; one sale in three medicines at the place
    of its first lot, so the reorder lists have dispensing to count.
    """
    import datetime
    import random
    from decimal import Decimal

    from django.core.management import call_command
    from django.utils import timezone

    from catalog.models import Lot, Medicine
    from catalog.stock import lot_receive, stock_dispense

    if (
        Medicine.objects.count() >= medicines
        and Lot.objects.count() >= medicines * lots_per_medicine
        and _places_holding_stock() >= locations
    ):
        return
    started = time.perf_counter()
    call_command("generate_catalog", medicines=medicines, lots_per_medicine=0, reset=True, no_progress=True)
    places = ensure_locations(locations)
    rng = random.Random(1)
    today = timezone.localdate()
    for i, medicine in enumerate(Medicine.objects.order_by("pk").only("pk", "price")):
        for n in range(lots_per_medicine):
            lot_receive(
                medicine=medicine,
                lot_number=f"C{i:06d}-{n}",
                expiry_date=today + datetime.timedelta(days=rng.randint(10, 730)),
                quantity=rng.randint(1, 120),
                purchase_price=(medicine.price * Decimal("0.72")).quantize(Decimal("1")),
                location=places[(i + n) % locations],
                supplier="Bench",
            )
        if i % 3 == 0:
            stock_dispense(medicine=medicine, quantity=1, location=places[i % locations])
    elapsed = time.perf_counter() - started
    print(f"received {medicines * lots_per_medicine:,} lots at {locations} places in {elapsed:.1f} s")


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
