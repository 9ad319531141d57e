"""The medicines changelist of the admin on the 100,000-medicine catalogue.

Measures a full GET of the list page (Django test client, the real admin site
with OTP-verified session) unfiltered, filtered, searched and at one place (its
``MedicineStock`` figures, the list a branch's member works from); checks the number
of queries is the same on every page of the list; the baseline is a
primary-key lookup of one medicine through the ORM, measured in the same run.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.common import Figure, ensure_catalog, median, percentile, report, timings, verified_staff_client

BENCH_STAFF_PHONE = "+998909990001"
REPEAT = 30


def _admin_client():
    from accounts.roles import Role

    return verified_staff_client(BENCH_STAFF_PHONE, Role.PHARMACIST)


def _get(client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response


def _query_count(client, url: str) -> int:
    # Warm up first: per-process caches (content types, the sidebar's alert
    # badge) answer the first request with one more query than the next ones.
    _get(client, url)
    with CaptureQueriesContext(connection) as captured:
        _get(client, url)
    return len(captured.captured_queries)


def run() -> None:
    from django.urls import reverse

    from catalog.models import Medicine

    ensure_catalog()
    # The estimated-count paginator reads pg_class.reltuples: make it current.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_medicine")

    from accounts.models import User
    from catalog.models import LocationKind
    from catalog.stock import stock_locations

    client = _admin_client()
    # The member works at every place, so the list's place filter offers them all.
    places = list(stock_locations().order_by("pk"))
    User.objects.get(phone=BENCH_STAFF_PHONE).locations.set(places)
    branch = next((p for p in places if p.kind == LocationKind.BRANCH), places[0])
    base = reverse("admin:catalog_medicine_changelist")
    pages = {
        "unfiltered": base,
        "page 500": base + "?p=500",
        "low stock": base + "?stock=low",
        "expiring in 90 days": base + "?expiry=90",
        "search 'paracetamol'": base + "?q=paracetamol",
        "one place": base + f"?location={branch.pk}",
        "one place, page 500": base + f"?location={branch.pk}&p=500",
        "one place, low stock": base + f"?location={branch.pk}&stock=low",
    }
    counts = {name: _query_count(client, url) for name, url in pages.items()}
    print("queries per page: " + ", ".join(f"{name}: {n}" for name, n in counts.items()))
    unfiltered_counts = {counts["unfiltered"], counts["page 500"]}
    print(f"constant query count across pages of the unfiltered list: {len(unfiltered_counts) == 1}")
    place_counts = {counts["one place"], counts["one place, page 500"]}
    print(f"constant query count across pages of one place's list: {len(place_counts) == 1}")

    some_pk = Medicine.objects.order_by("pk").values_list("pk", flat=True)[50_000]
    baseline = timings(lambda: Medicine.objects.get(pk=some_pk), repeat=200, warmup=20)
    baseline_p50 = median(baseline) * 1000

    # A second reference: the admin's own index page (same session, sidebar,
    # middleware, no list): what the list adds on top of the admin's fixed cost.
    index = timings(lambda: _get(client, reverse("admin:index")), repeat=REPEAT)

    for name, url in pages.items():
        values = timings(lambda url=url: _get(client, url), repeat=REPEAT)
        if name == "unfiltered":
            report(
                Figure(
                    "admin changelist: unfiltered vs admin index p50",
                    median(values) * 1000,
                    "ms",
                    "admin index page p50",
                    median(index) * 1000,
                )
            )
        report(
            Figure(
                f"admin changelist: {name} p50",
                median(values) * 1000,
                "ms",
                "ORM pk lookup p50",
                baseline_p50,
                target="<= 300 ms" if name in ("unfiltered", "one place") else "",
            )
        )
        if name == "unfiltered":
            report(
                Figure(
                    "admin changelist: unfiltered p95",
                    percentile(values, 95) * 1000,
                    "ms",
                    "ORM pk lookup p50",
                    baseline_p50,
                    target="<= 300 ms",
                )
            )
