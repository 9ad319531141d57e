"""Load the demo catalogue, places and stock from ``fixtures/`` (``manage.py load_demo`` runs it).

The catalogue (categories, manufacturers, substances, medicines) is created
from ``fixtures/catalogue.json``, and the places (a warehouse and two
branches in Tashkent) from ``fixtures/stock.json``; rows that already exist
(same slug, name, INN, SKU or location code) are left as they are, so an
operator's edits survive a reload.

Stock is never written directly: ``fixtures/stock.json`` tells a story in
dates relative to today (received at the warehouse 120 days ago, expires in
300 days, sent to Chilonzor a week later) and the loader replays it in time
order through the stock services (``lot_receive``,
``transfer_create``/``transfer_send``/``transfer_receive``,
``lot_quarantine``, ``lot_recall``, ``stock_write_off``, ``lots_expire``), each
told the day it happens on (``today=``), so the ledger balances exactly as it
would in a real chain. The movements, lots and transfers are then stamped with
the moment they happened in the story, which is what the dashboard charts
read. A medicine that already has lots is skipped (with its transfer lines),
which makes a second run a no-op.

The story's sales are not dispensed here: they are sold at the counter, through
the sales services, by ``orders.demo`` (the catalogue does not depend on
sales); ``manage.py load_demo`` (in ``backoffice``) runs both.
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
    Discrepancy,
    Location,
    LocationKind,
    Lot,
    Manufacturer,
    Medicine,
    MedicineStock,
    MedicineSubstance,
    MovementKind,
    StockMovement,
    Transfer,
    validate_atc,
    validate_gtin,
)

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
CATALOGUE_FILE = FIXTURES_DIR / "catalogue.json"
STOCK_FILE = FIXTURES_DIR / "stock.json"
ICONS_DIR = FIXTURES_DIR / "icons"
REFERENCE_PREFIX = "DEMO"
RECEIPT_TIME = datetime.time(9, 30)
# The warehouse's van leaves at eight and is at a branch by nine, before the first sale.
TRANSFER_SENT_TIME = datetime.time(8, 0)
TRANSFER_RECEIVED_TIME = datetime.time(9, 0)


@dataclass
class LoadResult:
    locations: int = 0
    categories: int = 0
    manufacturers: int = 0
    substances: int = 0
    medicines: int = 0
    lots: int = 0
    quarantined: int = 0
    recalled: int = 0
    written_off: int = 0
    expired: int = 0
    transfers: int = 0
    in_transit: int = 0
    skipped_medicines: list[str] = field(default_factory=list)

    @property
    def created_anything(self) -> bool:
        return any(
            (
                self.locations,
                self.categories,
                self.manufacturers,
                self.substances,
                self.medicines,
                self.lots,
                self.transfers,
            )
        )


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


# --- Places -----------------------------------------------------------------------


def load_locations(data: dict, result: LoadResult) -> dict[str, Location]:
    """Create the story's places that are missing (by code); return every place by code."""
    specs = data.get("locations", [])
    existing = set(Location.objects.filter(code__in=[s["code"] for s in specs]).values_list("code", flat=True))
    new = [
        Location(
            code=s["code"],
            name=s["name"],
            kind=LocationKind(s["kind"]),
            address=s.get("address", ""),
            district=s.get("district", ""),
            phone=s.get("phone", ""),
            opening_hours=s.get("opening_hours", ""),
            latitude=Decimal(s["latitude"]) if s.get("latitude") else None,
            longitude=Decimal(s["longitude"]) if s.get("longitude") else None,
            is_public=s["is_public"],
        )
        for s in specs
        if s["code"] not in existing
    ]
    for location in new:
        location.full_clean()
    bulk_create_with_history(new, Location, default_change_reason="demo data")
    result.locations = len(new)
    return {location.code: location for location in Location.objects.filter(code__in=[s["code"] for s in specs])}


# --- Stock ------------------------------------------------------------------------

# Within one moment: receipts first, then transfers leave and arrive, then status changes and
# write-offs (the order of a working day). Sales are not part of the replay: they are made at the
# counter afterwards (``orders.demo``).
RECEIPT, TRANSFER_SENT, TRANSFER_RECEIVED, STATUS, WRITE_OFF = range(5)


@dataclass
class _Story:
    """The stock events of the file, each a step that calls one stock service, replayed in time order."""

    today: datetime.date
    now: datetime.datetime
    places: dict[str, Location]
    receipts_at: Location | None
    result: LoadResult
    events: list[tuple[datetime.datetime, int, Callable[[], None]]] = field(default_factory=list)

    def day(self, days_ago: int) -> datetime.date:
        return self.today - datetime.timedelta(days=days_ago)

    def moment(self, days_ago: int, at: datetime.time) -> datetime.datetime:
        moment = timezone.make_aware(datetime.datetime.combine(self.day(days_ago), at))
        return min(moment, self.now)

    def place(self, code: str | None) -> Location | None:
        if code is None:
            return None
        try:
            return self.places[code]
        except KeyError:
            raise ValueError(f"The stock story names a location it does not list: {code!r}") from None

    def add(self, moment: datetime.datetime, order: int, action: Callable[[], None]) -> None:
        self.events.append((moment, order, action))

    def replay(self) -> None:
        # sorted() is stable: events of the same moment and kind keep the file's order.
        for _moment, _order, action in sorted(self.events, key=lambda e: (e[0], e[1])):
            action()


def _stamp(movements, moment: datetime.datetime) -> None:
    stock.ledger_backdate(when=moment, movements=StockMovement.objects.filter(pk__in=[m.pk for m in movements]))


def _medicine_events(story: _Story, medicine: Medicine, entry: dict) -> None:
    sku, result = entry["sku"], story.result
    lots: dict[str, Lot] = {}

    for spec in entry["lots"]:
        received = story.day(spec["received_days_ago"])
        received_at = story.moment(spec["received_days_ago"], RECEIPT_TIME)

        def receive(spec=spec, received=received, received_at=received_at):
            # Judged on the day it arrived: a lot that has expired since was good then.
            lot = stock.lot_receive(
                medicine=medicine,
                lot_number=spec["lot_number"],
                expiry_date=story.today + datetime.timedelta(days=spec["expires_in_days"]),
                quantity=spec["quantity"],
                purchase_price=Decimal(spec["purchase_price"]),
                location=story.place(spec.get("location")) or story.receipts_at,
                supplier=spec.get("supplier", ""),
                received_date=received,
                reference=f"{REFERENCE_PREFIX}-RCPT-{sku}-{spec['lot_number']}",
                today=received,
            )
            stock.ledger_backdate(
                when=received_at,
                lots=Lot.objects.filter(pk=lot.pk),
                movements=StockMovement.objects.filter(lot=lot, kind=MovementKind.RECEIPT),
            )
            lots[spec["lot_number"]] = lot
            result.lots += 1

        story.add(received_at, RECEIPT, receive)

        if "quarantine" in spec:
            q = spec["quarantine"]

            def quarantine(spec=spec, q=q):
                stock.lot_quarantine(lot=lots[spec["lot_number"]], reason=q["reason"])
                result.quarantined += 1

            story.add(story.moment(q["days_ago"], datetime.time(12, 0)), STATUS, quarantine)
        if "recall" in spec:
            r = spec["recall"]

            def recall(spec=spec, r=r):
                stock.lot_recall(lot=lots[spec["lot_number"]], reason=r["reason"])
                result.recalled += 1

            story.add(story.moment(r["days_ago"], datetime.time(12, 0)), STATUS, recall)
        if "write_off" in spec:
            w = spec["write_off"]
            moment = story.moment(w["days_ago"], datetime.time(18, 0))

            def write_off(spec=spec, w=w, moment=moment):
                movement = stock.stock_write_off(
                    lot=lots[spec["lot_number"]],
                    quantity=w["quantity"],
                    reason=w["reason"],
                    location=story.place(w.get("location")),
                    reference=f"{REFERENCE_PREFIX}-WO-{sku}-{spec['lot_number']}",
                )
                _stamp([movement], moment)
                result.written_off += 1

            story.add(moment, WRITE_OFF, write_off)


def _transfer_events(story: _Story, spec: dict, medicines: dict[str, Medicine]) -> None:
    """A transfer drafted and sent on its day (lots chosen FEFO by the service), then received, or still on its way.

    Lines of medicines whose stock is not replayed (already stocked) are left out.
    """
    lines = [line for line in spec["lines"] if line["sku"] in medicines]
    if not lines:
        return
    sent_day = story.day(spec["sent_days_ago"])
    sent_at = story.moment(spec["sent_days_ago"], TRANSFER_SENT_TIME)
    state: dict[str, Transfer | int] = {}

    def send():
        transfer = stock.transfer_create(
            source=story.place(spec["from"]),
            destination=story.place(spec["to"]),
            lines=[(medicines[line["sku"]], line["quantity"]) for line in lines],
            note=spec.get("note", ""),
        )
        transfer = stock.transfer_send(transfer=transfer, today=sent_day)
        moved = StockMovement.objects.filter(reference=transfer.number)
        stock.ledger_backdate(when=sent_at, movements=moved)
        Transfer.objects.filter(pk=transfer.pk).update(created_at=sent_at, sent_at=sent_at)
        state["transfer"], state["last_sent"] = transfer, max(moved.values_list("pk", flat=True))
        story.result.transfers += 1
        if spec.get("received_days_ago") is None:
            story.result.in_transit += 1

    story.add(sent_at, TRANSFER_SENT, send)
    if spec.get("received_days_ago") is None:
        return
    received_day = story.day(spec["received_days_ago"])
    received_at = story.moment(spec["received_days_ago"], TRANSFER_RECEIVED_TIME)

    def receive():
        transfer = state["transfer"]
        # Sending splits a line over the lots it takes; a shortfall is told on the medicine's first line.
        first_line = {}
        for line in transfer.lines.order_by("pk"):
            first_line.setdefault(line.medicine_id, line)
        received = {}
        for line in lines:
            if "received" in line:
                arrived = first_line[medicines[line["sku"]].pk]
                received[arrived.pk] = stock.Received(
                    quantity=arrived.quantity - (line["quantity"] - line["received"]),
                    discrepancy=Discrepancy(line["shortfall"]),
                    reason=line["reason"],
                )
        stock.transfer_receive(transfer=transfer, received=received, today=received_day)
        stock.ledger_backdate(
            when=received_at,
            movements=StockMovement.objects.filter(reference=transfer.number, pk__gt=state["last_sent"]),
        )
        Transfer.objects.filter(pk=transfer.pk).update(received_at=received_at)

    story.add(received_at, TRANSFER_RECEIVED, receive)


def load_stock(data: dict, by_sku: dict[str, Medicine], result: LoadResult) -> None:
    places = load_locations(data, result)
    story = _Story(
        today=timezone.localdate(),
        now=timezone.now(),
        places=places,
        receipts_at=places.get(data.get("receipts_at")),
        result=result,
    )
    stocked = set(Lot.objects.filter(medicine__sku__in=list(by_sku)).values_list("medicine__sku", flat=True).distinct())
    replayed: dict[str, Medicine] = {}
    for entry in data["medicines"]:
        medicine = by_sku.get(entry["sku"])
        if medicine is None:
            result.skipped_medicines.append(entry["sku"])
            continue
        if entry["sku"] in stocked or not entry["lots"]:
            continue
        replayed[entry["sku"]] = medicine
        _medicine_events(story, medicine, entry)
    for spec in data.get("transfers", []):
        _transfer_events(story, spec, replayed)
    story.replay()
    _branch_reorder_levels(replayed.values(), places.values())
    if result.lots:
        # Lots past their date become "expired" exactly as the nightly sweep does it.
        result.expired = stock.lots_expire(today=story.today)
        stock.medicines_refresh_stock(medicine_ids=[m.pk for m in by_sku.values()], today=story.today)


# A branch shelf holds about a tenth of what the chain reorders at (the warehouse keeps the medicine's own
# level): without a level of its own, nearly every medicine a branch carries would read as low stock there.
BRANCH_REORDER_SHARE = 10


def _branch_reorder_levels(medicines, places) -> None:
    """Each branch's own reorder level for the medicines it carries (never one it has never stocked)."""
    from .services import medicine_reorder_level_set

    branches = {place.pk: place for place in places if place.kind == LocationKind.BRANCH}
    by_id = {medicine.pk: medicine for medicine in medicines if medicine.reorder_level}
    carried = MedicineStock.objects.filter(medicine_id__in=list(by_id), location_id__in=list(branches))
    for medicine_id, location_id in carried.values_list("medicine_id", "location_id"):
        medicine = by_id[medicine_id]
        level = max(1, -(-medicine.reorder_level // BRANCH_REORDER_SHARE))
        medicine_reorder_level_set(medicine=medicine, location=branches[location_id], level=level)


@transaction.atomic
def load_demo(catalogue_file: Path = CATALOGUE_FILE, stock_file: Path = STOCK_FILE) -> LoadResult:
    """Load what is missing of the demo data, all or nothing. Running it again changes nothing."""
    result = LoadResult()
    by_sku = load_catalogue(read_json(catalogue_file), result)
    load_stock(read_json(stock_file), by_sku, result)
    return result
