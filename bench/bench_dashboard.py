"""Each role's dashboard (the admin index) on the 100,000-medicine catalogue.

A full GET of ``/admin/`` through the real admin site with an OTP-verified
session, per role: cold (the dashboard's cached figures and the sidebar badge
forgotten before every request, so every selector runs) and warm (within the
minute the figures are cached). Prints the statements of a cold render too.
The baseline is a primary-key lookup of one medicine through the ORM,
measured in the same run.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.common import Figure, ensure_catalog, median, percentile, report, timings, verified_staff_client

BENCH_PHONES = {
    "admin": "+998909990011",
    "pharmacist": "+998909990012",
    "operator": "+998909990013",
    "inventory": "+998909990014",
}
REPEAT_COLD = 10
REPEAT_WARM = 30
TARGET = "<= 300 ms"


def _client(role: str):
    return verified_staff_client(BENCH_PHONES[role], role)


def _forget_cached_figures() -> None:
    from django.core.cache import cache

    from backoffice.dashboard import clear_cache
    from backoffice.navigation import expiring_lots_badge_key

    clear_cache()
    cache.delete(expiring_lots_badge_key())


def _get(client, url: str = "/admin/"):
    response = client.get(url)
    if response.status_code != 200 or b'id="dashboard"' not in response.content:
        raise RuntimeError(f"{url} answered {response.status_code} without the dashboard")
    return response


def run() -> None:
    from catalog.models import Medicine

    ensure_catalog(100_000, 3)
    some_pk = Medicine.objects.order_by("pk").values_list("pk", flat=True)[50_000]
    baseline_p50 = median(timings(lambda: Medicine.objects.get(pk=some_pk), repeat=200, warmup=20)) * 1000

    for role in BENCH_PHONES:
        client = _client(role)
        _forget_cached_figures()
        with CaptureQueriesContext(connection) as captured:
            _get(client)
        with CaptureQueriesContext(connection) as warm_captured:
            _get(client)
        print(
            f"{role}: {len(captured.captured_queries)} statements on a cold render, "
            f"{len(warm_captured.captured_queries)} warm"
        )

        def cold(client=client):
            _forget_cached_figures()
            _get(client)

        cold_values = timings(cold, repeat=REPEAT_COLD, warmup=1)
        warm_values = timings(lambda client=client: _get(client), repeat=REPEAT_WARM)
        for label, values in (("cold", cold_values), ("warm", warm_values)):
            report(
                Figure(
                    f"dashboard {role}: {label} p50",
                    median(values) * 1000,
                    "ms",
                    "ORM pk lookup p50",
                    baseline_p50,
                    target=TARGET,
                )
            )
        report(
            Figure(
                f"dashboard {role}: cold p95",
                percentile(cold_values, 95) * 1000,
                "ms",
                "ORM pk lookup p50",
                baseline_p50,
                target=TARGET,
            )
        )
    # The operator's search box (per request, never cached).
    client = _client("operator")
    values = timings(lambda: _get(client, "/admin/?medicine=paracetamol"), repeat=REPEAT_WARM)
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
