"""The till's scan on the 100,000-medicine catalogue: scan → line, server time.

A pharmacist's OTP-verified admin session with an open shift at a branch; a few hundred real barcodes
of the catalogue (stocked at that branch), scanned as the pack's EAN-13 and as the marking DataMatrix
(GTIN-14, serial, GS separators), each a full GET of ``admin:orders_order_pos_scan`` through the
Django test client (middleware, session, OTP, the JSON). Also a name typed at the till. The baseline
is the admin index page in the same session, measured in the same run. Target: p95 ≤ 50 ms.
"""

from __future__ import annotations

import random

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.common import Figure, ensure_catalog, median, percentile, report, timings, verified_staff_client

BENCH_CASHIER_PHONE = "+998909990077"
SCANS = 300
SEED = 15


def _get(client, url: str, params=None):
    response = client.get(url, params or {})
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.content[:200]!r}")
    return response


def _datamatrix(barcode: str, n: int) -> str:
    serial = f"{n:013d}"
    return f"]d201{barcode.zfill(14)}21{serial}\x1d91EE07\x1d92" + "x" * 44


def run() -> None:
    from django.urls import reverse

    from accounts.models import User
    from accounts.roles import Role
    from catalog.models import LocationKind, MedicineStock
    from catalog.stock import stock_locations
    from orders.selectors import open_shift_of
    from orders.services import shift_open

    ensure_catalog()
    client = verified_staff_client(BENCH_CASHIER_PHONE, Role.PHARMACIST)
    user = User.objects.get(phone=BENCH_CASHIER_PHONE)
    branch = stock_locations().filter(kind=LocationKind.BRANCH).order_by("pk").first()
    user.locations.set([branch])
    if open_shift_of(user) is None:
        shift_open(location=branch, user=user, opening_cash=0)

    # Real barcodes of medicines stocked at the branch, spread over the catalogue.
    stocked = list(
        MedicineStock.objects.filter(location=branch, sellable_quantity__gt=0, medicine__barcode__isnull=False)
        .order_by("medicine_id")
        .values_list("medicine__barcode", flat=True)[:20_000]
    )
    rng = random.Random(SEED)
    codes = rng.sample(stocked, min(SCANS, len(stocked)))
    queries = codes[: len(codes) // 2] + [_datamatrix(code, i) for i, code in enumerate(codes[len(codes) // 2 :])]
    url = reverse("admin:orders_order_pos_scan")

    found = sum(1 for q in queries[:20] if _get(client, url, {"q": q}).json()["hits"])
    print(f"scans that found their medicine (first 20): {found}/20")
    counts = set()
    for q in queries[:10]:
        with CaptureQueriesContext(connection) as captured:
            _get(client, url, {"q": q})
        counts.add(len(captured.captured_queries))
    print(f"queries per scan (10 codes): {sorted(counts)}")

    index = timings(lambda: _get(client, reverse("admin:index")), repeat=60, warmup=5)
    iterator = iter(queries * 2)
    scans = timings(lambda: _get(client, url, {"q": next(iterator)}), repeat=len(queries), warmup=10)
    names = ["paracetamol", "ibuprofen 200", "amoxicillin", "citramon", "no-shpa"]
    typed = iter(names * 40)
    searches = timings(lambda: _get(client, url, {"q": next(typed)}), repeat=100, warmup=5)

    report(
        Figure(
            "till scan -> line (code) p95",
            percentile(scans, 95) * 1000,
            "ms",
            "admin index p95",
            percentile(index, 95) * 1000,
            target="<= 50 ms",
        )
    )
    report(Figure("till scan -> line (code) p50", median(scans) * 1000, "ms", "admin index p50", median(index) * 1000))
    report(
        Figure(
            "till name typed p95",
            percentile(searches, 95) * 1000,
            "ms",
            "admin index p95",
            percentile(index, 95) * 1000,
        )
    )
