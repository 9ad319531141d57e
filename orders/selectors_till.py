"""What the till reads when something is scanned or typed: the medicines, their prices, the stock sellable at
the shift's place, the lot FEFO would take, and what to offer instead when there is none.

A fixed number of queries whatever the number of hits (the till answers each scan within 50 ms at p95 on
the 100,000-medicine catalogue): the medicines (after the search's own plan), their strengths, their
sellable stock at the place, and — only when something is out of stock there — the alternatives in one
statement, their rows and their stock here. The sale itself trusts none of it: ``counter_sale_complete``
reads prices and lots again under its locks.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from catalog.codes import ScannedCode, parse_scan
from catalog.formatting import medicine_units
from catalog.models import Location, Lot, LotStock, Medicine, MedicineSubstance
from catalog.selectors import ALTERNATIVE_KINDS, ALTERNATIVES_SQL, medicine_search
from catalog.stock import fefo_plan, sellable_stock_q
from orders import rules

# A text search lists this many medicines; a code finds one (two for a duplicate across GTIN forms).
SCAN_SEARCH_LIMIT = 12
# Alternatives offered inline for a medicine out of stock at the place.
SCAN_ALTERNATIVES_LIMIT = 5


@dataclass
class LotShown:
    lot_id: int
    number: str
    expiry_date: str
    status: str = ""
    sellable_here: bool = True
    is_fefo: bool = True


@dataclass
class Alternative:
    medicine_id: int
    sku: str
    barcode: str
    name: str
    kind: str
    form: str
    strength: str
    price: str
    stock: int
    stock_text: str


@dataclass
class ScanHit:
    medicine_id: int
    name: str
    sku: str
    barcode: str
    form: str
    strength: str
    manufacturer: str
    price: str
    part_price: str
    parts_per_pack: int
    part_name: str
    vat_rate: str
    is_prescription: bool
    is_controlled: bool
    is_active: bool
    stock: int
    stock_text: str
    fefo_lot: LotShown | None
    scanned_lot: LotShown | None = None
    alternatives: list[Alternative] = field(default_factory=list)


@dataclass
class ScanResult:
    query: str
    kind: str  # "code" (a GTIN, DataMatrix...), "text" (a name or SKU search), "empty"
    code: dict | None
    hits: list[ScanHit]

    def as_json(self) -> dict:
        return asdict(self)


def _strength(medicine: Medicine) -> str:
    return " + ".join(str(link) for link in medicine.medicine_substances.all())


# Long texts the till never shows: not read (each hit's row stays a few hundred bytes).
UNSHOWN_FIELDS = ("description", "usage", "search_text", "generic_key", "substance_key", "image", "slug")


def _with_strengths(queryset: QuerySet[Medicine]) -> QuerySet[Medicine]:
    return queryset.defer(*UNSHOWN_FIELDS).prefetch_related(
        Prefetch("medicine_substances", queryset=MedicineSubstance.objects.select_related("substance"))
    )


def _sellable_stocks(medicine_ids: list[int], location_id: int, today: datetime.date) -> dict[int, list[LotStock]]:
    """Sellable lot stocks at the place per medicine, with their lots (one query)."""
    rows = (
        LotStock.objects.filter(sellable_stock_q(today), location_id=location_id, lot__medicine_id__in=medicine_ids)
        .select_related("lot")
        .order_by("lot__expiry_date", "lot_id", "pk")
    )
    found: dict[int, list[LotStock]] = defaultdict(list)
    for row in rows:
        found[row.lot.medicine_id].append(row)
    return found


def _alternatives(short: list[int], location_id: int, today: datetime.date) -> dict[int, list[Alternative]]:
    """Alternatives for each medicine in ``short`` with stock at the place.

    The catalogue's own rule (``catalog.selectors.ALTERNATIVES_SQL``: the same generic first, then the
    same substances, cheapest first) for every short medicine in one ``UNION ALL`` statement; then the
    alternatives' rows and their sellable stock here: three queries whatever the number of short hits.
    """
    if not short:
        return {}
    parts, params = [], []
    for medicine_id in short:
        parts.append(f"SELECT %s AS source_id, id, kind_rank FROM ({ALTERNATIVES_SQL}) a{len(parts)}")
        params += [medicine_id, medicine_id, SCAN_ALTERNATIVES_LIMIT * 4, medicine_id, SCAN_ALTERNATIVES_LIMIT * 4]
    with connections["default"].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        ranked = cursor.fetchall()
    if not ranked:
        return {}
    ids = {row[1] for row in ranked}
    medicines = _with_strengths(Medicine.objects.filter(pk__in=ids)).in_bulk()
    here: dict[int, int] = defaultdict(int)
    for medicine_id, quantity in LotStock.objects.filter(
        sellable_stock_q(today), location_id=location_id, lot__medicine_id__in=ids
    ).values_list("lot__medicine_id", "quantity"):
        here[medicine_id] += quantity
    result: dict[int, list[Alternative]] = defaultdict(list)
    # The catalogue's order (kind, price, name, id) again: UNION ALL keeps no order of its parts.
    ranked.sort(key=lambda row: (row[0], row[2], medicines[row[1]].price, medicines[row[1]].name, row[1]))
    for source_id, medicine_id, rank in ranked:
        medicine = medicines.get(medicine_id)
        if medicine is None or not here[medicine_id] or len(result[source_id]) >= SCAN_ALTERNATIVES_LIMIT:
            continue
        result[source_id].append(
            Alternative(
                medicine_id=medicine.pk,
                sku=medicine.sku,
                barcode=medicine.barcode or "",
                name=medicine.name,
                kind=ALTERNATIVE_KINDS[rank],
                form=medicine.get_dosage_form_display(),
                strength=_strength(medicine),
                price=str(medicine.price),
                stock=here[medicine_id],
                stock_text=medicine_units(here[medicine_id], medicine),
            )
        )
    return result


def _lot_shown(lot: Lot, *, sellable_here: bool, is_fefo: bool) -> LotShown:
    return LotShown(
        lot_id=lot.pk,
        number=lot.lot_number,
        expiry_date=lot.expiry_date.isoformat(),
        status=lot.status,
        sellable_here=sellable_here,
        is_fefo=is_fefo,
    )


def till_scan(*, query: str, location_id: int, today: datetime.date | None = None) -> ScanResult:
    """What ``query`` finds at the till of ``location_id``: an exact code's medicine, else a name/SKU search.

    A code (EAN-13, GTIN-14, a marking DataMatrix, the human-readable form) is looked up by barcode only,
    in every form the GTIN may be stored in; an unknown code finds nothing (the till says so rather than
    guess). A code with a batch (``(10)``) also returns that lot as ``scanned_lot``: whether it is the one
    FEFO takes here, and whether it is sellable at all.
    """
    today = today or timezone.localdate()
    text = (query or "").strip()
    code: ScannedCode | None = parse_scan(text)
    if code is not None:
        medicines = list(
            _with_strengths(
                Medicine.objects.select_related("manufacturer").filter(barcode__in=code.barcode_candidates)
            ).order_by("name", "pk")[:2]
        )
        kind = "code"
    elif text:
        medicines = list(
            _with_strengths(medicine_search(query=text, queryset=Medicine.objects.filter(is_active=True)))[
                :SCAN_SEARCH_LIMIT
            ]
        )
        kind = "text"
    else:
        return ScanResult(query=text, kind="empty", code=None, hits=[])

    ids = [medicine.pk for medicine in medicines]
    stocks = _sellable_stocks(ids, location_id, today) if ids else {}
    scanned: dict[int, Lot] = {}
    if code is not None and code.lot_number and ids:
        scanned = {lot.medicine_id: lot for lot in Lot.objects.filter(medicine_id__in=ids, lot_number=code.lot_number)}
    short = [medicine.pk for medicine in medicines if not stocks.get(medicine.pk)]
    alternatives = _alternatives(short, location_id, today)

    hits = []
    for medicine in medicines:
        rows = stocks.get(medicine.pk, [])
        stock = sum(row.quantity for row in rows)
        plan = fefo_plan(rows, 1, medicine.parts_per_pack) if rows else []
        fefo = _lot_shown(plan[0][0].lot, sellable_here=True, is_fefo=True) if plan else None
        scanned_lot = None
        if medicine.pk in scanned:
            lot = scanned[medicine.pk]
            scanned_lot = _lot_shown(
                lot,
                sellable_here=any(row.lot_id == lot.pk for row in rows),
                is_fefo=fefo is not None and fefo.lot_id == lot.pk,
            )
        hits.append(
            ScanHit(
                medicine_id=medicine.pk,
                name=medicine.name,
                sku=medicine.sku,
                barcode=medicine.barcode or "",
                form=medicine.get_dosage_form_display(),
                strength=_strength(medicine),
                manufacturer=medicine.manufacturer.name,
                price=str(medicine.price),
                part_price=str(medicine.unit_price),
                parts_per_pack=medicine.parts_per_pack,
                part_name=medicine.part_name,
                vat_rate=f"{Decimal(medicine.vat_rate).normalize():f}",
                is_prescription=medicine.is_prescription,
                is_controlled=medicine.is_controlled,
                is_active=medicine.is_active,
                stock=stock,
                stock_text=medicine_units(stock, medicine),
                fefo_lot=fefo,
                scanned_lot=scanned_lot,
                alternatives=alternatives.get(medicine.pk, []),
            )
        )
    code_data = None
    if code is not None:
        code_data = {
            "gtin": code.gtin,
            "serial": code.serial,
            "lot_number": code.lot_number,
            "expiry_date": code.expiry_date.isoformat() if code.expiry_date else None,
        }
    return ScanResult(query=text, kind=kind, code=code_data, hits=hits)


def controlled_confirmers(location: Location | int) -> QuerySet[User]:
    """Who may confirm a controlled line at ``location``: active staff holding ``rules.CONFIRM_CONTROLLED``
    (through their role's group or their own) who work there, and the administrators (every place)."""
    app_label, codename = rules.CONFIRM_CONTROLLED.split(".")
    holds = Q(groups__permissions__content_type__app_label=app_label, groups__permissions__codename=codename) | Q(
        user_permissions__content_type__app_label=app_label, user_permissions__codename=codename
    )
    return (
        get_user_model()
        .objects.filter(Q(holds, locations=location) | Q(is_superuser=True), is_active=True, is_staff=True)
        .distinct()
        .order_by("first_name", "last_name", "pk")
    )
