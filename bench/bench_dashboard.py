"""Each role's dashboard (the admin index) on the 100,000-medicine catalogue spread over 10 places.

A full GET of ``/admin/`` through the real admin site with an OTP-verified
session: the owner's whole chain (with the table of places) and one place
picked; a member of one branch for each role (the per-place dashboard); a
member of every place (their places summed). Cold (the dashboard's cached
figures and the sidebar badge forgotten before every request, so every
selector runs) and warm (within the minute the figures are cached). Prints
the statements of a cold render too. The baseline is a primary-key lookup of
one medicine through the ORM, measured in the same run.

Sizes: ``BENCH_MEDICINES`` (default 100,000) and ``BENCH_LOCATIONS`` (default
10). Until the catalogue generator spreads stock over places, the stock is
received through the stock core (``bench.common.ensure_catalog``): run at a
small size then, e.g. ``BENCH_MEDICINES=2000 BENCH_LOCATIONS=4``.
"""

from __future__ import annotations

import os

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.common import Figure, ensure_catalog, median, percentile, report, timings, verified_staff_client

MEDICINES = int(os.environ.get("BENCH_MEDICINES", 100_000))
LOCATIONS = int(os.environ.get("BENCH_LOCATIONS", 10))
REPEAT_COLD = 10
REPEAT_WARM = 30
TARGET = "<= 300 ms"


def _client(phone: str, role: str, places):
    from accounts.models import User

    client = verified_staff_client(phone, role)
    User.objects.get(phone=phone).locations.set(places)
    return client


def _forget_cached_figures() -> None:
    from django.core.cache import cache

    from backoffice.dashboard import clear_cache
    from backoffice.navigation import expiring_lots_badge_key

    clear_cache()
    cache.delete(expiring_lots_badge_key())


def _get(client, params=None):
    response = client.get("/admin/", params or {})
    if response.status_code != 200 or b'id="dashboard"' not in response.content:
        raise RuntimeError(f"/admin/ answered {response.status_code} without the dashboard")
    return response


def _views(places) -> list[tuple[str, str, str, list, dict]]:
    """(label, phone, role, the member's places, query): the dashboards measured."""
    branch = places[1] if len(places) > 1 else places[0]
    views = [
        ("admin, whole chain", "+998909990011", "admin", [], {}),
        (f"admin, one place ({branch.name})", "+998909990011", "admin", [], {"location": branch.pk}),
    ]
    for n, role in enumerate(("pharmacist", "operator", "inventory")):
        views.append((f"{role}, one place", f"+99890999002{n}", role, [branch], {}))
    for n, role in enumerate(("pharmacist", "inventory")):
        views.append((f"{role}, {len(places)} places summed", f"+99890999003{n}", role, places, {}))
    return views


def run() -> None:
    from catalog.models import LotStock, Medicine, MedicineStock
    from catalog.stock import stock_locations

    ensure_catalog(MEDICINES, locations=LOCATIONS)
    places = list(stock_locations().order_by("pk"))
    print(
        f"{Medicine.objects.count():,} medicines, {LotStock.objects.count():,} lot stock rows, "
        f"{MedicineStock.objects.count():,} medicine stock rows, {len(places)} places"
    )
    pks = list(Medicine.objects.order_by("pk").values_list("pk", flat=True))
    some_pk = pks[len(pks) // 2]
    baseline_p50 = median(timings(lambda: Medicine.objects.get(pk=some_pk), repeat=200, warmup=20)) * 1000

    for label, phone, role, member_places, params in _views(places):
        client = _client(phone, role, member_places)
        _forget_cached_figures()
        with CaptureQueriesContext(connection) as captured:
            _get(client, params)
        with CaptureQueriesContext(connection) as warm_captured:
            _get(client, params)
        print(
            f"{label}: {len(captured.captured_queries)} statements on a cold render, "
            f"{len(warm_captured.captured_queries)} warm"
        )

        def cold(client=client, params=params):
            _forget_cached_figures()
            _get(client, params)

        cold_values = timings(cold, repeat=REPEAT_COLD, warmup=1)
        warm_values = timings(lambda client=client, params=params: _get(client, params), repeat=REPEAT_WARM)
        for kind, values in (("cold", cold_values), ("warm", warm_values)):
            report(
                Figure(
                    f"dashboard {label}: {kind} p50",
                    median(values) * 1000,
                    "ms",
                    "ORM pk lookup p50",
                    baseline_p50,
                    target=TARGET,
                )
            )
        report(
            Figure(
                f"dashboard {label}: cold p95",
                percentile(cold_values, 95) * 1000,
                "ms",
                "ORM pk lookup p50",
                baseline_p50,
                target=TARGET,
            )
        )
    # The operator's search box (per request, never cached).
    client = _client("+998909990020", "operator", [places[1] if len(places) > 1 else places[0]])
    values = timings(lambda: _get(client, {"medicine": "paracetamol"}), repeat=REPEAT_WARM)
    report(
        Figure(
            "dashboard operator: search 'paracetamol' p50",
            median(values) * 1000,
            "ms",
            "ORM pk lookup p50",
            baseline_p50,
            target=TARGET,
        )
    )
