"""A synthetic catalogue of any size for benchmarks (``manage.py generate_catalog``).

Realistic in shape rather than in detail: the demo's category tree, real
manufacturers plus made-up ones, the demo's substances plus made-up INNs built
from real INN stems (``-sartan``, ``-prazole``) with matching ATC groups, and
medicines named from substance, strength, form and pack size. Several
manufacturers make the same substance at the same strengths, so alternatives
exist for most medicines.

Places: ``locations`` of them, one "Main pharmacy" alone, else a central
warehouse and branches in Tashkent's districts; every lot stands at every
place, with a quantity of its own there.

Stock is written by the stock core, never here: each batch of lots goes to
``catalog.stock.lots_load_bulk`` (an opening load: every lot's stock at each
place comes in as one receipt movement there, dated on its received day, and
the derived stock is refreshed by the core's one path). Speed comes from
writing rows in large batches through the core's one COPY writer
(``catalog.stock.copy``, ``bulk_create`` off PostgreSQL) and building the plain
indexes once at the end. ``search_text`` is ``catalog.transliteration.search_document``
of the same parts ``medicine_reindex_search`` uses, so the services would
compute the same values (the tests check it). History rows are not written for
synthetic data.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from . import services
from .demo import CATALOGUE_FILE
from .models import (
    ActiveSubstance,
    Category,
    DosageForm,
    Location,
    LocationKind,
    Lot,
    LotStatus,
    LotStock,
    Manufacturer,
    Medicine,
    MedicineStock,
    MedicineSubstance,
    StockMovement,
    gtin_check_digit,
)
from .stock import OpeningLot, lots_load_bulk
from .stock.copy import insert_objects
from .transliteration import search_document, spellings

SKU_PREFIX = "SYN-"
BATCH_SIZE = 5000
# Deliveries arrive in the morning: each receipt is dated on its lot's received day at this time.
RECEIPT_TIME = datetime.time(10, 0)

# INN stem -> (ATC group, prescription, typical strengths in mg)
STEMS = {
    "sartan": ("C09CA", True, [40, 80, 160]),
    "pril": ("C09AA", True, [5, 10, 20]),
    "olol": ("C07AB", True, [25, 50, 100]),
    "dipine": ("C08CA", True, [5, 10]),
    "statin": ("C10AA", True, [10, 20, 40]),
    "prazole": ("A02BC", False, [20, 40]),
    "tidine": ("A02BA", False, [20, 40]),
    "cillin": ("J01CA", True, [250, 500, 1000]),
    "floxacin": ("J01MA", True, [250, 500]),
    "mycin": ("J01FA", True, [250, 500]),
    "cycline": ("J01AA", True, [100, 200]),
    "vir": ("J05AX", True, [100, 200, 400]),
    "conazole": ("J02AC", False, [50, 150]),
    "setron": ("A04AA", True, [4, 8]),
    "triptan": ("N02CC", True, [25, 50]),
    "gliptin": ("A10BH", True, [50, 100]),
    "gliflozin": ("A10BK", True, [10, 25]),
    "profen": ("M01AE", False, [200, 400]),
    "oxetine": ("N06AB", True, [10, 20]),
    "tadine": ("R06AX", False, [5, 10]),
}
SYLLABLES = ["ca", "lo", "mi", "ra", "te", "vo", "ni", "sa", "di", "pe", "zo", "ba", "fe", "ga", "li", "mo", "ne", "ro",
             "su", "ta", "ve", "xa", "ze", "de", "ki"]  # fmt: skip
BRAND_ENDINGS = ["al", "ex", "in", "on", "ix", "um", "ol", "ax", "en", "or"]
CITIES_UZ = ["Tashkent", "Samarkand", "Bukhara", "Andijan", "Namangan", "Fergana", "Nukus", "Karshi", "Termez",
             "Jizzakh", "Navoi", "Urgench", "Gulistan", "Chirchik", "Angren", "Kokand", "Margilan"]  # fmt: skip
CITIES_ABROAD = [("Hyderabad", "India"), ("Mumbai", "India"), ("Ahmedabad", "India"), ("Istanbul", "Turkey"),
                 ("Ankara", "Turkey"), ("Minsk", "Belarus"), ("Kyiv", "Ukraine"), ("Almaty", "Kazakhstan"),
                 ("Bishkek", "Kyrgyzstan"), ("Shanghai", "China"), ("Warsaw", "Poland"), ("Budapest", "Hungary"),
                 ("Ljubljana", "Slovenia"), ("Cairo", "Egypt"), ("Tehran", "Iran"),
                 ("Seoul", "South Korea")]  # fmt: skip
COMPANY_WORDS = ["Pharm", "Farm", "Med", "Pharmaceuticals", "Bio", "Lab", "Health", "Medica"]
# (dosage form, label, pack sizes, liquid, topical)
FORMS = [
    (DosageForm.TABLET, "tablets", [10, 20, 30, 50], False, False),
    (DosageForm.COATED_TABLET, "film-coated tablets", [10, 14, 20, 28, 30, 60], False, False),
    (DosageForm.CAPSULE, "capsules", [10, 16, 20, 30], False, False),
    (DosageForm.EFFERVESCENT_TABLET, "effervescent tablets", [10, 20], False, False),
    (DosageForm.SYRUP, "syrup, 100 ml", [1], True, False),
    (DosageForm.SUSPENSION, "oral suspension, 100 ml", [1], True, False),
    (DosageForm.INJECTION, "solution for injection, ampoules", [5, 10], True, False),
    (DosageForm.CREAM, "cream, 30 g", [1], False, True),
    (DosageForm.OINTMENT, "ointment, 20 g", [1], False, True),
    (DosageForm.DROPS, "drops, 10 ml", [1], True, False),
]
FORM_WEIGHTS = [30, 30, 20, 3, 5, 3, 5, 2, 1, 1]
# Tashkent's districts, for the branches (the warehouse stands in Sergeli, by the ring road).
DISTRICTS = ["Chilonzor", "Yunusobod", "Mirzo Ulug'bek", "Yakkasaroy", "Shayxontohur", "Olmazor", "Uchtepa",
             "Mirobod", "Yashnobod", "Bektemir", "Yangihayot", "Sergeli"]  # fmt: skip
MAIN_LOCATION = {"code": "main", "name": "Main pharmacy", "kind": LocationKind.BRANCH, "district": "Chilonzor"}
WAREHOUSE = {
    "code": "warehouse",
    "name": "Central warehouse",
    "kind": LocationKind.WAREHOUSE,
    "district": "Sergeli",
    "is_public": False,
}


@dataclass
class Generated:
    categories: int = 0
    manufacturers: int = 0
    substances: int = 0
    locations: int = 0
    medicines: int = 0
    lots: int = 0
    movements: int = 0
    seconds: float = 0.0


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, total: int, label: str, stream=None, enabled: bool = True) -> None:
        self.total, self.label, self.stream, self.enabled = total, label, stream or sys.stderr, enabled
        self.started = time.perf_counter()

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(self.total, 1))
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed else 0
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{self.total:,} "
            f"{elapsed:5.1f} s ({rate:,.0f}/s)"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


@functools.lru_cache(maxsize=200_000)
def _spellings(part: str) -> tuple[str, ...]:
    return tuple(spellings(part))


def search_text(parts: list[str]) -> str:
    """``transliteration.search_document`` with the spellings of repeated parts cached."""
    return search_document(parts, spell=_spellings)


def gtin13(body12: str) -> str:
    return body12 + gtin_check_digit(body12)


def reset_catalogue() -> None:
    """Delete every catalogue row (and the search vocabulary): the benchmark database starts clean."""
    models = [m for m in apps.get_app_config("catalog").get_models() if m._meta.db_table.startswith("catalog_")]
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass('catalog_search_term') IS NOT NULL")
            if cursor.fetchone()[0]:
                tables.append("catalog_search_term")
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            return
    # SQLite: children first. Places stay (import jobs and staff point at them).
    from .models import Transfer, TransferLine

    for model in (
        TransferLine,
        Transfer,
        StockMovement,
        LotStock,
        MedicineStock,
        Lot,
        MedicineSubstance,
        Medicine,
        ActiveSubstance,
        Manufacturer,
    ):
        model.objects.all().delete()
        history = getattr(model, "history", None)
        if history is not None:
            history.model.objects.all().delete()
    Category.objects.filter(parent__isnull=False).delete()
    Category.objects.all().delete()
    Category.history.model.objects.all().delete()


def synthetic_locations(count: int) -> list[Location]:
    """The places stock stands at: "Main pharmacy" alone, or a central warehouse and ``count - 1`` branches.

    Created when missing, found by code when there (a second run adds to the same places).
    """
    if count == 1:
        wanted = [MAIN_LOCATION]
    else:
        wanted = [WAREHOUSE]
        for n in range(count - 1):
            district = DISTRICTS[n % len(DISTRICTS)]
            round_ = n // len(DISTRICTS) + 1
            suffix = f" {round_}" if round_ > 1 else ""
            wanted.append(
                {
                    "code": slugify(district.replace("'", "")) + (f"-{round_}" if round_ > 1 else ""),
                    "name": f"{district} pharmacy{suffix}",
                    "kind": LocationKind.BRANCH,
                    "district": district,
                }
            )
    places = []
    for spec in wanted:
        place, _created = Location.objects.get_or_create(code=spec["code"], defaults=spec)
        places.append(place)
    return places


def _syllable_word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(n))


def _categories(catalogue: dict) -> list[Category]:
    existing = {c.slug: c for c in Category.objects.all()}
    for order, parent in enumerate(catalogue["categories"]):
        if parent["slug"] not in existing:
            existing[parent["slug"]] = Category.objects.create(
                slug=parent["slug"], name=parent["name"], sort_order=(order + 1) * 10
            )
        for child in parent.get("children", []):
            if child["slug"] not in existing:
                existing[child["slug"]] = Category.objects.create(
                    slug=child["slug"],
                    name=child["name"],
                    sort_order=child["sort_order"],
                    parent=existing[parent["slug"]],
                )
    leaves = [c for c in existing.values() if not any(o.parent_id == c.pk for o in existing.values())]
    return sorted(leaves, key=lambda c: c.pk)


def _manufacturers(rng: random.Random, catalogue: dict, count: int) -> list[Manufacturer]:
    wanted = [(m["name"], m["country"]) for m in catalogue["manufacturers"]]
    names = {n for n, _ in wanted}
    cities = [(c, "Uzbekistan") for c in CITIES_UZ] + CITIES_ABROAD
    while len(wanted) < count:
        city, country = rng.choice(cities)
        name = f"{city} {rng.choice(COMPANY_WORDS)}"
        if name in names:
            name = f"{_syllable_word(rng, 2).capitalize()} {name}"
        if name not in names:
            names.add(name)
            wanted.append((name, country))
    existing = set(Manufacturer.objects.values_list("name", flat=True))
    Manufacturer.objects.bulk_create(
        [Manufacturer(name=n, country=c) for n, c in wanted if n not in existing], batch_size=BATCH_SIZE
    )
    return list(Manufacturer.objects.filter(name__in=names).order_by("pk"))


@dataclass
class SubstanceProfile:
    substance: ActiveSubstance
    strengths: list[int]
    rx: bool


def _substances(rng: random.Random, catalogue: dict, count: int) -> list[SubstanceProfile]:
    from .transliteration import cyrillic_to_latin, latin_to_cyrillic

    wanted: dict[str, ActiveSubstance] = {}
    profiles_rx: dict[str, tuple[list[int], bool]] = {}
    for s in catalogue["substances"]:
        wanted[s["inn"]] = ActiveSubstance(
            inn_name=s["inn"], name_uz=s["name_uz"], name_ru=s["name_ru"], atc_codes=s["atc_codes"]
        )
        profiles_rx[s["inn"]] = (rng.choice([[5, 10], [50, 100], [250, 500], [100, 200, 400], [10, 20, 40]]),
                                 any(c.startswith("J01") for c in s["atc_codes"]))  # fmt: skip
    serial = 50
    while len(wanted) < count:
        stem = rng.choice(list(STEMS))
        group, rx, strengths = STEMS[stem]
        inn = (_syllable_word(rng, rng.randint(1, 2)) + stem).capitalize()
        if inn in wanted:
            continue
        cyrillic = latin_to_cyrillic(inn.lower())
        wanted[inn] = ActiveSubstance(
            inn_name=inn,
            name_uz=cyrillic_to_latin(cyrillic).capitalize(),
            name_ru=cyrillic.capitalize(),
            atc_codes=[f"{group}{serial % 100:02d}"],
        )
        profiles_rx[inn] = (strengths, rx)
        serial += 1
    existing = set(ActiveSubstance.objects.values_list("inn_name", flat=True))
    ActiveSubstance.objects.bulk_create([s for n, s in wanted.items() if n not in existing], batch_size=BATCH_SIZE)
    substances = ActiveSubstance.objects.filter(inn_name__in=list(wanted)).order_by("pk")
    return [SubstanceProfile(s, *profiles_rx[s.inn_name]) for s in substances]


@contextlib.contextmanager
def _indexes_deferred(models: list) -> Iterator[None]:
    """PostgreSQL: drop the plain (non-unique) indexes of ``models`` while rows pour in, rebuild them after.

    Building an index once over all rows is several times faster than updating
    it row by row, above all the GIN trigram index of the search column. Runs
    inside the caller's transaction: a failure rolls the DROPs back too.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY(%s) AND NOT i.indisunique "
            "AND NOT i.indisprimary",
            [tables],
        )
        definitions = cursor.fetchall()
        for name, _ in definitions:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        # Check the deferred foreign keys now: CREATE INDEX refuses to run with trigger events pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _, definition in definitions:
            cursor.execute(definition)


def generate(
    *,
    medicines: int,
    lots_per_medicine: int,
    locations: int = 1,
    seed: int = 1,
    reset: bool = False,
    progress: bool = True,
    batch_size: int = BATCH_SIZE,
    log: Callable[[str], None] = lambda message: None,
) -> Generated:
    """Write ``medicines`` synthetic medicines with their lots at ``locations`` places, reproducibly from ``seed``.

    The steps: the reference data (categories, manufacturers, substances, places), the products (substance
    sets), then batches of medicines planned in memory and written set-based with their lots, indexes
    deferred; the search vocabulary rebuilt, the tables analysed.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    today = timezone.localdate()
    result = Generated()
    with transaction.atomic():
        if reset:
            reset_catalogue()
            log("Catalogue emptied.")
        start = Medicine.objects.filter(sku__startswith=SKU_PREFIX).count()
        refs = _reference_data(rng, medicines=medicines, locations=locations, result=result, log=log)
        products = _products(rng, refs.profiles, medicines=medicines)
        bar = Progress(medicines, "medicines", enabled=progress)
        done = 0
        with _indexes_deferred([Medicine, MedicineSubstance, Lot, LotStock, MedicineStock, StockMovement]):
            while done < medicines:
                size = min(batch_size, medicines - done)
                batch = [
                    _plan_medicine(
                        rng,
                        number=start + done + offset + 1,
                        products=products,
                        refs=refs,
                        lots_per_medicine=lots_per_medicine,
                        today=today,
                    )
                    for offset in range(size)
                ]
                lots = _write_batch(batch, batch_size=batch_size, today=today)
                result.lots += len(lots)
                result.movements += sum(len(lot.stocks) for lot in lots)
                done += size
                bar.update(done)
            bar.finish()
            result.medicines = done
            log(f"Rows written in {time.perf_counter() - started:.1f} s; checking foreign keys and building indexes...")
        log(f"Indexes built at {time.perf_counter() - started:.1f} s.")
        log("Rebuilding the search vocabulary...")
        services.search_terms_rebuild()
    if connection.vendor == "postgresql":
        log("ANALYZE...")
        _analyze()
    result.seconds = time.perf_counter() - started
    return result


@dataclass
class _References:
    leaves: list[Category]
    makers: list[Manufacturer]
    profiles: list[SubstanceProfile]
    places: list[Location]


# One link of a planned medicine to a substance: the profile, the strength, its unit, the per-volume (ml).
PlannedLink = tuple[SubstanceProfile, int, str, Decimal | None]


@dataclass
class _PlannedMedicine:
    medicine: Medicine
    links: list[PlannedLink]
    lots: list[OpeningLot]


def _reference_data(
    rng: random.Random, *, medicines: int, locations: int, result: Generated, log: Callable[[str], None]
) -> _References:
    """The categories, manufacturers, substances and places the medicines are drawn from (created if missing)."""
    with open(CATALOGUE_FILE, encoding="utf-8") as handle:
        catalogue = json.load(handle)
    leaves = _categories(catalogue)
    makers = _manufacturers(rng, catalogue, max(60, medicines // 300))
    profiles = _substances(rng, catalogue, max(120, medicines // 50))
    places = synthetic_locations(locations)
    result.categories = Category.objects.count()
    result.manufacturers, result.substances, result.locations = len(makers), len(profiles), len(places)
    log(
        f"{result.categories} categories, {len(makers)} manufacturers, {len(profiles)} substances, "
        f"{len(places)} locations."
    )
    return _References(leaves, makers, profiles, places)


def _products(rng: random.Random, profiles: list[SubstanceProfile], *, medicines: int) -> list[list[SubstanceProfile]]:
    # A "product" is a substance set; about eight manufacturers make each one, in several strengths
    # and forms, so most medicines have exact and same-substance alternatives.
    return [
        rng.sample(profiles, rng.choices([1, 2, 3], weights=[82, 14, 4])[0]) for _ in range(max(10, medicines // 8))
    ]


def _plan_medicine(
    rng: random.Random,
    *,
    number: int,
    products: list[list[SubstanceProfile]],
    refs: _References,
    lots_per_medicine: int,
    today: datetime.date,
) -> _PlannedMedicine:
    """One medicine, its substance links and its opening lots, in memory (the draws in a fixed order: the seed)."""
    chosen = rng.choice(products)
    form, label, packs, liquid, topical = rng.choices(FORMS, weights=FORM_WEIGHTS)[0]
    maker = rng.choice(refs.makers)
    links = _links(rng, chosen, liquid=liquid, topical=topical)
    pack = rng.choice(packs)
    branded = rng.random() < 0.45
    strength = "/".join(f"{s}{' ' if u != '%' else ''}{u}" for _, s, u, _ in links)
    if liquid and not topical:
        strength += "/5 ml"
    head = (
        (_syllable_word(rng, 2) + rng.choice(BRAND_ENDINGS)).capitalize()
        if branded
        else " + ".join(p.substance.inn_name for p, _, _, _ in links)
    )
    name = f"{head} {strength} {label}" + (f" №{pack}" if pack > 1 else "")
    base = sum(s for _, s, _, _ in links) if not topical else 300
    raw_price = (2000 + base * rng.uniform(8, 40)) * (3 if branded else 1) * max(1, pack / 10)
    price = Decimal(max(1500, min(900_000, int(raw_price) // 500 * 500)))
    lots = [
        _opening_lot(rng, number=number, n=n, price=price, places=refs.places, today=today)
        for n in range(lots_per_medicine)
    ]
    parts = [name, maker.name]
    for profile, _, _, _ in links:
        s = profile.substance
        parts += [s.inn_name, s.name_uz, s.name_ru]
    # The alternatives keys, computed as medicine_reindex_search computes them.
    substance_key, generic_key = services.substance_keys(
        [(p.substance.pk, Decimal(st), u, v) for p, st, u, v in links], form
    )
    medicine = Medicine(
        substance_key=substance_key,
        generic_key=generic_key,
        name=name,
        slug=f"{slugify(name)[:240]}-{number}",
        description=f"{head}: synthetic medicine for benchmarks.",
        manufacturer=maker,
        category=rng.choice(refs.leaves),
        sku=f"{SKU_PREFIX}{number:08d}",
        # 20-29: GS1 restricted-circulation prefix, never a real product's barcode.
        barcode=gtin13(f"29{number:010d}"),
        dosage_form=form,
        pack_size=pack,
        is_prescription=any(p.rx for p, _, _, _ in links) or rng.random() < 0.2,
        is_controlled=rng.random() < 0.004,
        price=price,
        reorder_level=rng.choice([5, 10, 10, 20, 30]),
        is_active=rng.random() < 0.98,
        number_sold=int(rng.paretovariate(1.3) * 10) if rng.random() < 0.7 else 0,
        search_text=search_text(parts),
    )
    return _PlannedMedicine(medicine, links, lots)


def _links(rng: random.Random, chosen: list[SubstanceProfile], *, liquid: bool, topical: bool) -> list[PlannedLink]:
    """The strengths of a product's substances in one form: a percentage on the skin, per 5 ml in a liquid."""
    links: list[PlannedLink] = []
    for profile in chosen:
        if topical:
            links.append((profile, rng.choice([1, 2, 5]), "%", None))
        elif liquid:
            links.append((profile, max(1, rng.choice(profile.strengths) // 10), "mg", Decimal(5)))
        else:
            links.append((profile, rng.choice(profile.strengths), "mg", None))
    return links


def _opening_lot(
    rng: random.Random, *, number: int, n: int, price: Decimal, places: list[Location], today: datetime.date
) -> OpeningLot:
    """The ``n``-th lot of medicine ``number``: an expiry from three months ago to two years ahead, some blocked."""
    expires_in = rng.randint(-90, 730)
    expiry = today + datetime.timedelta(days=expires_in)
    received = min(today, expiry - datetime.timedelta(days=rng.randint(200, 1000)))
    status = LotStatus.EXPIRED if expiry <= today else LotStatus.AVAILABLE
    roll = rng.random()
    if status == LotStatus.AVAILABLE and roll < 0.005:
        status = LotStatus.QUARANTINED
    elif status == LotStatus.AVAILABLE and roll < 0.006:
        status = LotStatus.RECALLED
    lot_number = f"{rng.choice('ABCDEFHKLMNPRSTUVX')}{received:%y%m}-{number % 10000:04d}{n}"
    stocks = {place.pk: rng.randint(1, 400 if price < 50_000 else 60) for place in places}
    return OpeningLot(
        medicine_id=0,  # the medicine's id, once it is written
        lot_number=lot_number,
        expiry_date=expiry,
        received_date=received,
        stocks=stocks,
        purchase_price=(price * Decimal("0.72")).quantize(Decimal("1")),
        supplier=rng.choice(["Asklepiy Distribution", "Dori-Darmon", "Uzmedimpeks", "Direct"]),
        status=status,
        status_reason="" if status == LotStatus.AVAILABLE else "Synthetic data",
    )


def _write_batch(batch: list[_PlannedMedicine], *, batch_size: int, today: datetime.date) -> list[OpeningLot]:
    """Insert a batch's medicines and links, then hand their lots to the stock core; returns the lots written."""
    meds = [planned.medicine for planned in batch]
    insert_objects(meds, batch_size=batch_size)
    insert_objects(
        [
            MedicineSubstance(
                medicine=planned.medicine, substance=p.substance, strength=Decimal(s), unit=u, per_volume_ml=v
            )
            for planned in batch
            for p, s, u, v in planned.links
        ],
        batch_size=batch_size,
    )
    lots = []
    for planned in batch:
        for lot in planned.lots:
            lot.medicine_id = planned.medicine.pk
            lots.append(lot)
    # The stock core writes the lots, their stock at each place, the receipts and the derived stock.
    lots_load_bulk(
        lots=lots,
        reason="receipt",
        reference="SYNTHETIC",
        history=False,
        receipt_time=RECEIPT_TIME,
        today=today,
    )
    return lots


def _analyze() -> None:
    """PostgreSQL: fresh statistics for the tables just filled, so the first queries plan well."""
    with connection.cursor() as cursor:
        for model in (
            Medicine,
            MedicineSubstance,
            Lot,
            LotStock,
            MedicineStock,
            StockMovement,
            ActiveSubstance,
            Manufacturer,
        ):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
