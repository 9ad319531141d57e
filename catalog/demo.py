"""Load the demo catalogue and stock from ``fixtures/`` (``manage.py load_demo``).

The catalogue (categories, manufacturers, substances, medicines) is created
from ``fixtures/catalogue.json``; rows that already exist (same slug, name,
INN or SKU) are left as they are, so an operator's edits survive a reload.

Stock is never written directly: ``fixtures/stock.json`` tells a story in
dates relative to today (received 120 days ago, expires in 300 days, sold
3 days ago at 15:40) and the loader replays it, medicine by medicine in time
order, through ``catalog.stock`` (``lot_receive``, ``stock_dispense``,
``lot_quarantine``, ``lot_recall``, ``stock_write_off``, ``lots_expire``), each
told the day it happens on (``today=``), so the ledger balances exactly as it
would in a real pharmacy. The movements are then stamped with the moment
they happened in the story, which is what the dashboard charts read. A
medicine that already has lots is skipped, which makes a second run a no-op.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from . import services, stock
from .models import (
    ActiveSubstance,
    Category,
    Lot,
    Manufacturer,
    Medicine,
    MedicineSubstance,
    MovementKind,
    StockMovement,
    validate_atc,
    validate_gtin,
)

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
CATALOGUE_FILE = FIXTURES_DIR / "catalogue.json"
STOCK_FILE = FIXTURES_DIR / "stock.json"
ICONS_DIR = FIXTURES_DIR / "icons"
REFERENCE_PREFIX = "DEMO"
SALE_REASON = "Retail sale"
RECEIPT_TIME = datetime.time(9, 30)


@dataclass
class LoadResult:
    categories: int = 0
    manufacturers: int = 0
    substances: int = 0
    medicines: int = 0
    lots: int = 0
    sales: int = 0
    quarantined: int = 0
    recalled: int = 0
    written_off: int = 0
    expired: int = 0
    skipped_medicines: list[str] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return any((self.categories, self.manufacturers, self.substances, self.medicines, self.lots, self.sales))


def read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def medicine_slug(name: str, manufacturer: str) -> str:
    return slugify(f"{name} {manufacturer}")[:280]


# --- Catalogue ------------------------------------------------------------------


def _icon_name(icon: str) -> str:
    """Store the category icon once in the default storage and return its name."""
    if not icon:
        return ""
    name = f"categories/{icon}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile((ICONS_DIR / icon).read_bytes()))
    return name


def load_catalogue(data: dict, result: LoadResult) -> dict[str, Medicine]:
    """Create what is missing; return every demo medicine by SKU."""
    # Categories: parents first, then their children.
    existing = set(Category.objects.values_list("slug", flat=True))
    parents = [
        Category(slug=c["slug"], name=c["name"], sort_order=c["sort_order"], icon=_icon_name(c.get("icon", "")))
        for c in data["categories"]
        if c["slug"] not in existing
    ]
    bulk_create_with_history(parents, Category, default_change_reason="demo data")
    by_slug = {c.slug: c for c in Category.objects.all()}
    children = [
        Category(slug=child["slug"], name=child["name"], sort_order=child["sort_order"], parent=by_slug[c["slug"]])
        for c in data["categories"]
        for child in c.get("children", [])
        if child["slug"] not in existing
    ]
    bulk_create_with_history(children, Category, default_change_reason="demo data")
    result.categories = len(parents) + len(children)
    by_slug = {c.slug: c for c in Category.objects.all()}

    existing = set(Manufacturer.objects.values_list("name", flat=True))
    manufacturers = [
        Manufacturer(name=m["name"], country=m["country"]) for m in data["manufacturers"] if m["name"] not in existing
    ]
    bulk_create_with_history(manufacturers, Manufacturer, default_change_reason="demo data")
    result.manufacturers = len(manufacturers)
    manufacturer_by_name = {m.name: m for m in Manufacturer.objects.all()}

    existing = set(ActiveSubstance.objects.values_list("inn_name", flat=True))
    substances = []
    for s in data["substances"]:
        for code in s["atc_codes"]:
            validate_atc(code)
        if s["inn"] not in existing:
            substances.append(
                ActiveSubstance(inn_name=s["inn"], name_uz=s["name_uz"], name_ru=s["name_ru"], atc_codes=s["atc_codes"])
            )
    bulk_create_with_history(substances, ActiveSubstance, default_change_reason="demo data")
    result.substances = len(substances)
    substance_by_inn = {s.inn_name: s for s in ActiveSubstance.objects.all()}

    existing = set(Medicine.objects.filter(sku__in=[m["sku"] for m in data["medicines"]]).values_list("sku", flat=True))
    new = [m for m in data["medicines"] if m["sku"] not in existing]
    medicines = []
    for m in new:
        validate_gtin(m["barcode"])
        medicines.append(
            Medicine(
                name=m["name"],
                slug=medicine_slug(m["name"], m["manufacturer"]),
                description=m["description"],
                usage=m["usage"],
                manufacturer=manufacturer_by_name[m["manufacturer"]],
                category=by_slug[m["category"]],
                sku=m["sku"],
                barcode=m["barcode"],
                dosage_form=m["dosage_form"],
                pack_size=m["pack_size"],
                parts_per_pack=m.get("parts_per_pack", 1),
                part_name=m.get("part_name", ""),
                part_price=Decimal(str(m["part_price"])) if m.get("part_price") is not None else None,
                is_prescription=m["prescription"],
                is_controlled=m["controlled"],
                price=Decimal(m["price"]),
                reorder_level=m["reorder_level"],
            )
        )
    bulk_create_with_history(medicines, Medicine, default_change_reason="demo data")
    result.medicines = len(medicines)
    by_sku = {m.sku: m for m in Medicine.objects.filter(sku__in=[m["sku"] for m in data["medicines"]])}
    links = [
        MedicineSubstance(
            medicine=by_sku[m["sku"]],
            substance=substance_by_inn[s["inn"]],
            strength=Decimal(str(s["strength"])),
            unit=s["unit"],
            per_volume_ml=Decimal(str(s["per_volume_ml"])) if s.get("per_volume_ml") else None,
        )
        for m in new
        for s in m["substances"]
    ]
    bulk_create_with_history(links, MedicineSubstance, default_change_reason="demo data")
    if new:
        # bulk_create sends no signals: build the search column once for the new rows.
        services.medicine_reindex_search(medicine_ids=[by_sku[m["sku"]].pk for m in new])
    return by_sku


# --- Stock ------------------------------------------------------------------------


def _moment(today: datetime.date, now: datetime.datetime, days_ago: int, at: datetime.time) -> datetime.datetime:
    moment = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=days_ago), at))
    return min(moment, now)


def _stamp(movements: list[StockMovement], moment: datetime.datetime) -> None:
    StockMovement.objects.filter(pk__in=[m.pk for m in movements]).update(created_at=moment)


def _replay_medicine(medicine: Medicine, entry: dict, today: datetime.date, now: datetime.datetime, result: LoadResult):
    sku = entry["sku"]
    events: list[tuple[datetime.datetime, int, Callable[[], None]]] = []
    lots: dict[str, Lot] = {}

    for spec in entry["lots"]:
        received = today - datetime.timedelta(days=spec["received_days_ago"])
        expiry = today + datetime.timedelta(days=spec["expires_in_days"])
        received_at = _moment(today, now, spec["received_days_ago"], RECEIPT_TIME)

        def receive(spec=spec, received=received, expiry=expiry, received_at=received_at):
            # Judged on the day it arrived: a lot that has expired since was good then.
            lot = stock.lot_receive(
                medicine=medicine,
                lot_number=spec["lot_number"],
                expiry_date=expiry,
                quantity=spec["quantity"],
                purchase_price=Decimal(spec["purchase_price"]),
                supplier=spec.get("supplier", ""),
                received_date=received,
                reference=f"{REFERENCE_PREFIX}-RCPT-{sku}-{spec['lot_number']}",
                today=received,
            )
            Lot.objects.filter(pk=lot.pk).update(created_at=received_at)
            StockMovement.objects.filter(lot=lot, kind=MovementKind.RECEIPT).update(created_at=received_at)
            lots[spec["lot_number"]] = lot
            result.lots += 1

        events.append((received_at, 0, receive))

        if "quarantine" in spec:
            q = spec["quarantine"]

            def quarantine(spec=spec, q=q):
                stock.lot_quarantine(lot=lots[spec["lot_number"]], reason=q["reason"])
                result.quarantined += 1

            events.append((_moment(today, now, q["days_ago"], datetime.time(12, 0)), 2, quarantine))
        if "recall" in spec:
            r = spec["recall"]

            def recall(spec=spec, r=r):
                stock.lot_recall(lot=lots[spec["lot_number"]], reason=r["reason"])
                result.recalled += 1

            events.append((_moment(today, now, r["days_ago"], datetime.time(12, 0)), 2, recall))
        if "write_off" in spec:
            w = spec["write_off"]
            moment = _moment(today, now, w["days_ago"], datetime.time(18, 0))

            def write_off(spec=spec, w=w, moment=moment):
                movement = stock.stock_write_off(
                    lot=lots[spec["lot_number"]],
                    quantity=w["quantity"],
                    reason=w["reason"],
                    reference=f"{REFERENCE_PREFIX}-WO-{sku}-{spec['lot_number']}",
                )
                _stamp([movement], moment)
                result.written_off += 1

            events.append((moment, 3, write_off))

    for number, sale in enumerate(entry.get("sales", []), start=1):
        moment = _moment(today, now, sale["days_ago"], datetime.time.fromisoformat(sale["time"]))

        def dispense(sale=sale, number=number, moment=moment):
            movements = stock.stock_dispense(
                medicine=medicine,
                quantity=sale["quantity"],
                reason=SALE_REASON,
                reference=f"{REFERENCE_PREFIX}-SALE-{sku}-{number:03d}",
                today=today - datetime.timedelta(days=sale["days_ago"]),
            )
            _stamp(movements, moment)
            result.sales += 1

        events.append((moment, 1, dispense))

    for _moment_at, _order, action in sorted(events, key=lambda e: (e[0], e[1])):
        action()


def load_stock(data: dict, by_sku: dict[str, Medicine], result: LoadResult) -> None:
    today = timezone.localdate()
    now = timezone.now()
    stocked = set(Lot.objects.filter(medicine__sku__in=list(by_sku)).values_list("medicine__sku", flat=True).distinct())
    for entry in data["medicines"]:
        medicine = by_sku.get(entry["sku"])
        if medicine is None:
            result.skipped_medicines.append(entry["sku"])
            continue
        if entry["sku"] in stocked or not entry["lots"]:
            continue
        _replay_medicine(medicine, entry, today, now, result)
    if result.lots:
        # Lots past their date become "expired" exactly as the nightly sweep does it.
        result.expired = stock.lots_expire(today=today)
        stock.medicines_refresh_stock(medicine_ids=[m.pk for m in by_sku.values()], today=today)


@transaction.atomic
def load_demo(catalogue_file: Path = CATALOGUE_FILE, stock_file: Path = STOCK_FILE) -> LoadResult:
    """Load what is missing of the demo data, all or nothing. Running it again changes nothing."""
    result = LoadResult()
    by_sku = load_catalogue(read_json(catalogue_file), result)
    load_stock(read_json(stock_file), by_sku, result)
    return result
