"""The public catalogue API over HTTP: gunicorn on loopback, wrk at 50 connections.

Serves the 100,000-medicine PostgreSQL catalogue (``BENCH_DATABASE_URL``) with
the catalogue cache in Redis (``BENCH_REDIS_URL``, default db 6). Two server
runs with the same gunicorn configuration:

1. response cache on (production default): list, detail, search, alternatives,
   availability;
2. response cache off (``CATALOG_API_CACHE_SECONDS=0``): every request builds
   its page from the database (the count, the category tree and the public
   places stay cached per catalogue version, as in production after the first
   request).

Availability asks where a medicine is in stock: 60 medicines held at three to
six of eight public branches (plus a hidden warehouse), stocked through the
real receipt service on top of the synthetic catalogue.

Every figure is printed beside a bare Django ``JsonResponse`` endpoint
(``/api/v1/_bare/``, routed only by the benchmark's ``bench.settings``) measured on the
same server in the same run: the framework's own floor. Bare and API runs
alternate (``BENCH_API_ROUNDS`` rounds of ``BENCH_API_DURATION`` each) and the
medians are reported, so a burst of noise on the shared machine moves one
round, not the figure. The server is pinned to core 0 and wrk to core 1
(``taskset``); wrk comes from the Debian package ``wrk``. Beside each figure
the CPU time the server side spent per request (gunicorn, PostgreSQL, Redis:
read from /proc) shows where a request's cost lies. Targets (2-core machine):
cached list/detail >= 0.5 of bare, uncached list and availability >= 0.25,
search >= 0.15, p95 <= 50 ms.

``BENCH_API_MEDICINES`` sets the catalogue's size (default 100,000; a
different size regenerates the catalogue, so give it a database of its own
with ``BENCH_DATABASE_URL``) and ``BENCH_API_FIGURES`` the figures to measure
(comma-separated, default all: list,detail,search,alternatives,availability).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.common import CATALOG_LOTS, Figure, ensure_catalog, median, report

MEDICINES = int(os.environ.get("BENCH_API_MEDICINES", "100000"))
LOTS_PER_MEDICINE = CATALOG_LOTS  # the shared catalogue: other benchmarks regenerate a different one
FIGURES = ("list", "detail", "search", "alternatives", "availability")
# Availability: public branches, and how many medicines are stocked at some of them.
BRANCHES = 8
AVAILABLE_MEDICINES = 60
PORT = int(os.environ.get("BENCH_API_PORT", "8116"))
CONNECTIONS = 50
DURATION = os.environ.get("BENCH_API_DURATION", "5s")
ROUNDS = int(os.environ.get("BENCH_API_ROUNDS", "3"))
WARMUP = "2s"
SERVER_PROCESSES = ("gunicorn", "postgres", "redis-server")
SEED = 20261127
ROOT = Path(__file__).resolve().parent.parent
BASE = f"http://127.0.0.1:{PORT}"

LUA = """
local paths = {%(paths)s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + summary.errors.status
  local p95 = latency:percentile(95)
  io.write(string.format("BENCH %%d %%d %%d %%d\\n", summary.requests, summary.duration, p95, errors))
end
"""


def _prepare_catalog() -> None:
    from django.db import connection

    from catalog.models import Medicine

    ensure_catalog(MEDICINES, LOTS_PER_MEDICINE)
    missing = list(Medicine.objects.filter(search_text="").values_list("pk", flat=True)[:MEDICINES])
    if missing:
        from catalog.services import medicine_reindex_search

        medicine_reindex_search(medicine_ids=missing)
    _prepare_places()
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE catalog_medicine; ANALYZE catalog_medicinesubstance; ANALYZE catalog_category; "
            "ANALYZE catalog_medicinestock; ANALYZE catalog_location"
        )


def _prepare_places() -> None:
    """Eight public branches and a hidden warehouse holding 60 medicines, through the receipt service (once)."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from catalog.api.tree import _build
    from catalog.models import Location, LocationKind, Lot, Medicine, Region
    from catalog.stock import lot_receive

    if Lot.objects.filter(lot_number__startswith="BENCH-AV-").exists():
        return
    rng = random.Random(SEED + 1)
    regions = [Region.TASHKENT_CITY, Region.TASHKENT, Region.SAMARKAND, Region.FERGANA]
    branches = [
        Location.objects.get_or_create(
            code=f"bench-branch-{n:02d}",
            defaults={
                "name": f"Bench branch {n:02d}",
                "address": f"Amir Temur street {n * 7}",
                "region": regions[n % len(regions)],
                "district": f"District {n}",
                "phone": f"+9987120000{n:02d}",
                "opening_hours": "Mon–Sun 08:00–22:00",
                "latitude": Decimal("41.300000") + Decimal(n) / 100,
                "longitude": Decimal("69.240000") + Decimal(n) / 100,
            },
        )[0]
        for n in range(1, BRANCHES + 1)
    ]
    warehouse, _ = Location.objects.get_or_create(
        code="bench-warehouse", defaults={"name": "Bench warehouse", "kind": LocationKind.WAREHOUSE, "is_public": False}
    )
    visible = Medicine.objects.filter(is_active=True).exclude(category_id__in=_build().hidden_ids)
    ids = list(visible.values_list("pk", flat=True))
    expiry = timezone.localdate() + datetime.timedelta(days=400)
    for medicine in Medicine.objects.filter(pk__in=rng.sample(ids, min(AVAILABLE_MEDICINES, len(ids)))):
        for place in [*rng.sample(branches, rng.randint(3, 6)), warehouse]:
            lot_receive(
                medicine=medicine,
                location=place,
                lot_number=f"BENCH-AV-{place.pk}",
                expiry_date=expiry,
                quantity=rng.randint(1, 40) * medicine.parts_per_pack,
                purchase_price=Decimal("1000"),
                supplier="Bench",
            )


def _paths() -> dict[str, list[str]]:
    """The URLs each figure cycles through, drawn from the catalogue."""
    from catalog.api.tree import _build
    from catalog.models import ActiveSubstance, Medicine

    rng = random.Random(SEED)
    tree = _build()
    visible = Medicine.objects.filter(is_active=True).exclude(category_id__in=tree.hidden_ids)
    ids = list(visible.values_list("pk", flat=True))
    sample = list(visible.filter(pk__in=rng.sample(ids, min(300, len(ids)))).values_list("slug", "name"))
    with_substances = list(
        visible.filter(pk__in=rng.sample(ids, min(300, len(ids))), medicine_substances__isnull=False)
        .distinct()
        .values_list("slug", flat=True)
    )
    roots = [tree.nodes[c][2] for c in tree.children.get(None, [])]
    stocked = list(
        visible.filter(lots__lot_number__startswith="BENCH-AV-")
        .distinct()
        .order_by("pk")
        .values_list("slug", flat=True)
    )
    api = "/api/v1/catalog/medicines/"
    lists = [f"{api}?page={page}" for page in range(1, 6)]
    lists += [f"{api}?ordering=price", f"{api}?ordering=-popularity", f"{api}?in_stock=true&page=2"]
    lists += [f"{api}?category={slug}" for slug in roots[:4]]
    words = [name.split()[0].lower() for _, name in sample[:40] if len(name.split()[0]) >= 4]
    words += [s for s in ActiveSubstance.objects.exclude(name_ru="").values_list("name_ru", flat=True)[:20]]
    searches = [f"{api}?q={urllib.parse.quote(word)}" for word in words]
    return {
        "bare": ["/api/v1/_bare/"],
        "list": lists,
        "detail": [f"{api}{slug}/" for slug, _ in sample],
        "search": searches,
        "alternatives": [f"{api}{slug}/alternatives/" for slug in with_substances[:60]],
        "availability": [f"{api}{slug}/availability/" for slug in stocked],
    }


def _server_env(cache_seconds: int) -> dict[str, str]:
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        {
            # The local settings, plus the bare endpoint (bench/urls.py).
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_DEBUG": "false",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "DATABASE_CONN_MAX_AGE": "60",
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"),
            "CACHE_KEY_PREFIX": "dorixona-bench-api",
            "CATALOG_API_CACHE_SECONDS": str(cache_seconds),
            # One client address sends everything here: count, but never refuse.
            "CATALOG_API_THROTTLE_RATE": "100000000/s",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def _start_server(cache_seconds: int) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = ["taskset", "-c", "0", gunicorn, "backoffice.wsgi:application", "--bind", f"127.0.0.1:{PORT}"]
    command += ["--workers", "2", "--worker-class", "gthread", "--threads", "4", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=_server_env(cache_seconds), start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{BASE}/api/v1/_bare/", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    _stop_server(process)
    raise RuntimeError("gunicorn did not answer on /api/v1/_bare/ within 30 s")


def _stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def _wrk(paths: list[str], duration: str) -> tuple[float, float, int, int]:
    """(requests/s, p95 ms, errors, requests) of wrk at 50 connections over ``paths`` in turn."""
    lua = LUA % {"paths": ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        command = ["taskset", "-c", "1", "wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", duration]
        command += ["--timeout", "5s", "-s", script.name, BASE]
        output = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    finally:
        os.unlink(script.name)
    match = re.search(r"BENCH (\d+) (\d+) (\d+) (\d+)", output)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    requests, duration_us, p95_us, errors = (int(g) for g in match.groups())
    return requests / (duration_us / 1e6), p95_us / 1000, errors, requests


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by each server-side program (all its processes), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = dict.fromkeys(SERVER_PROCESSES, 0.0)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if name in out:
            fields = text[text.rindex(")") + 2 :].split()
            out[name] += (int(fields[11]) + int(fields[12])) / ticks
    return out


def _measure(paths: list[str]) -> tuple[float, float, dict[str, float]]:
    """(requests/s, p95 ms, server CPU ms per request) of one wrk run over ``paths``."""
    before = _cpu_seconds()
    rps, p95, errors, requests = _wrk(paths, DURATION)
    after = _cpu_seconds()
    if errors:
        print(f"  ! {errors} failed or non-2xx responses from {paths[0]}...", flush=True)
    cpu = {name: (after[name] - before[name]) * 1000 / requests for name in SERVER_PROCESSES}
    return rps, p95, cpu


def _check_status(paths: dict[str, list[str]]) -> None:
    for name, urls in paths.items():
        for url in urls[:3]:
            with urllib.request.urlopen(BASE + url, timeout=30) as response:
                assert response.status == 200, (name, url, response.status)


def _warm(urls: list[str]) -> None:
    """Request every URL once, right before its figure, so that cached figures measure cache hits."""
    for url in urls:
        with urllib.request.urlopen(BASE + url, timeout=60) as response:
            response.read()


def _figures() -> list[str]:
    wanted = [
        name.strip() for name in os.environ.get("BENCH_API_FIGURES", ",".join(FIGURES)).split(",") if name.strip()
    ]
    unknown = set(wanted) - set(FIGURES)
    if unknown:
        raise SystemExit(f"BENCH_API_FIGURES: unknown {', '.join(sorted(unknown))} (known: {', '.join(FIGURES)})")
    return wanted


def _run_server(label: str, cache_seconds: int, paths: dict[str, list[str]], targets: dict[str, str]) -> None:
    process = _start_server(cache_seconds)
    try:
        _check_status(paths)
        _wrk(paths["bare"], WARMUP)  # warm the connections and the workers
        for name in _figures():
            if cache_seconds:
                _warm(paths[name])
            _wrk(paths[name], WARMUP)  # warm the caches and PostgreSQL's buffers
            bare, api = [], []
            for _ in range(ROUNDS):
                bare.append(_measure(paths["bare"]))
                api.append(_measure(paths[name]))
            bare_rps, bare_p95 = median([r[0] for r in bare]), median([r[1] for r in bare])
            rps, p95 = median([r[0] for r in api]), median([r[1] for r in api])
            report(
                Figure(
                    f"API {name} ({label}) req/s", rps, "req/s", "bare JsonResponse", bare_rps, targets.get(name, "")
                )
            )
            report(Figure(f"API {name} ({label}) p95", p95, "ms", "bare JsonResponse p95", bare_p95, "<= 50 ms"))
            cpu = {key: median([r[2][key] for r in api]) for key in SERVER_PROCESSES}
            bare_cpu = median([r[2]["gunicorn"] for r in bare])
            print(
                f"  CPU per request: gunicorn {cpu['gunicorn']:.2f} ms (bare {bare_cpu:.2f}), "
                f"PostgreSQL {cpu['postgres']:.2f} ms, Redis {cpu['redis-server']:.2f} ms",
                flush=True,
            )
    finally:
        _stop_server(process)


def run() -> None:
    if not shutil.which("wrk") or not shutil.which("taskset"):
        print("wrk and taskset are needed: apt-get install -y wrk util-linux; skipping the API benchmark")
        return
    _prepare_catalog()
    paths = _paths()
    print(
        f"gunicorn (2 gthread workers x 4 threads, core 0) <- wrk (50 connections, core 1); "
        f"{ROUNDS} rounds of {DURATION} each, bare and API alternating, medians; "
        f"{len(paths['list'])} list, {len(paths['detail'])} detail, {len(paths['search'])} search, "
        f"{len(paths['alternatives'])} alternatives, {len(paths['availability'])} availability URLs in turn",
        flush=True,
    )
    _run_server(
        "cached",
        3600,
        paths,
        {"list": ">= 0.5x", "detail": ">= 0.5x", "search": ">= 0.15x", "alternatives": "", "availability": ""},
    )
    _run_server("uncached", 0, paths, {"list": ">= 0.25x", "search": ">= 0.15x", "availability": ">= 0.25x"})
