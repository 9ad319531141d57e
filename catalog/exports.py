"""Exports to CSV and XLSX, and the import templates.

Spreadsheet formula injection: a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return would be run as a formula by Excel or
LibreOffice (``=HYPERLINK(...)`` in a supplier name, say). Every such text cell
gets a leading apostrophe, which spreadsheets show as plain text. Numbers and
dates are written as typed values, never as text, so they need no escaping.

The medicines export has exactly the price-list import's columns, and the lots
export carries the stocktake's columns (one row per lot per place, whole packs
and loose parts), so an export imported back reports every row unchanged.

The stock exports (lots, stock levels, expiry) have a location column and list
the places asked for, by default those the member works at. Quantities are
units, the smallest unit sold; beside them a column shows them as a person
counts them, packs and loose parts (``formatting.format_units``).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import FilteredRelation, Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.formatting import format_units, medicine_units
from catalog.imports.base import Importer
from catalog.imports.pricelist import format_substances
from catalog.models import Location, LotStock, Medicine, MedicineSubstance

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise(value):
    """A cell value safe to open in a spreadsheet."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _yes_no(value: bool) -> str:
    # In the export's language; the imports read yes/no, ha/yoʻq and да/нет alike (parsing.parse_bool).
    return _("yes") if value else _("no")


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, (datetime.date, Decimal, int)):
        return str(value)
    return neutralise(str(value))


def _xlsx_value(value):
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, Decimal):
        return float(value) if value == value.quantize(Decimal("0.01")) else str(value)
    if isinstance(value, str):
        return neutralise(value)
    return value


def write_csv(header: list[str], rows: Iterable[list], *, language: str | None = None) -> Iterator[bytes]:
    """UTF-8 with a BOM (Excel needs it to read Cyrillic), one chunk per few hundred rows.

    The rows are made while the response streams, after the view has returned:
    each chunk is written in ``language`` (the language of the page that asked
    for it; the active one when not given), so states and yes/no all follow it.
    The language is switched only while a chunk is made, never across a yield.
    """
    language = language or translation.get_language()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff".encode()
    writer.writerow([neutralise(h) for h in header])
    rows = iter(rows)
    while True:
        with translation.override(language):
            written = 0
            for row in rows:
                writer.writerow([_csv_value(v) for v in row])
                written += 1
                if written == 500:
                    break
        chunk = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        if written < 500:
            yield chunk
            return
        yield chunk


def write_xlsx(
    header: list[str], rows: Iterable[list], *, sheet_title: str = "Data", guide: list[tuple] | None = None
) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(re.sub(r"[\\/*?:\[\]]", " ", sheet_title)[:31] or "Data")
    sheet.append([neutralise(h) for h in header])
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    if guide:
        notes = workbook.create_sheet(_("Column guide")[:31])
        for line in guide:
            notes.append([neutralise(str(v)) for v in line])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class Dataset:
    key: str
    title: object
    header: list[str]
    # rows(locations): the stock datasets list only the given places; the medicines export ignores them.
    rows: Callable[[Sequence[Location]], Iterator[list]]
    by_location: bool = True


def _medicine_rows(locations: Sequence[Location] = ()) -> Iterator[list]:
    medicines = (
        Medicine.objects.select_related("category", "manufacturer")
        .prefetch_related(
            Prefetch("medicine_substances", queryset=MedicineSubstance.objects.select_related("substance"))
        )
        .order_by("pk")
    )
    for m in medicines.iterator(chunk_size=2000):
        yield [
            m.sku,
            m.name,
            m.price,
            m.barcode or "",
            m.category.slug,
            m.manufacturer.name,
            m.dosage_form,
            m.pack_size,
            m.is_prescription,
            format_substances(m.medicine_substances.all()),
        ]


def _packs_and_parts(units: int, parts_per_pack: int) -> tuple[int, int | str]:
    """A stock figure as the stocktake import reads it back: whole packs, and loose parts (empty when sold whole)."""
    if parts_per_pack <= 1:
        return units, ""
    return divmod(units, parts_per_pack)


def _lot_rows(locations: Sequence[Location]) -> Iterator[list]:
    """One row per lot per place: the stocktake import's columns, so a count can be written straight into it."""
    stocks = (
        LotStock.objects.filter(location__in=locations)
        .select_related("lot__medicine", "location")
        .order_by("lot__medicine__sku", "lot__expiry_date", "lot_id", "location__name", "pk")
    )
    for stock in stocks.iterator(chunk_size=2000):
        lot, medicine = stock.lot, stock.lot.medicine
        packs, parts = _packs_and_parts(stock.quantity, medicine.parts_per_pack)
        yield [
            medicine.sku,
            medicine.barcode or "",
            medicine.name,
            stock.location.code,
            lot.lot_number,
            lot.expiry_date,
            lot.received_date,
            lot.get_status_display(),
            packs,
            parts,
            medicine_units(stock.quantity, medicine),
            lot.purchase_price,
            lot.supplier,
        ]


def _stock_rows(locations: Sequence[Location]) -> Iterator[list]:
    """Every medicine at every given place: its sellable stock there, the reorder level there and its state."""
    for location in locations:
        here = FilteredRelation("stock_levels", condition=Q(stock_levels__location=location))
        medicines = (
            Medicine.objects.annotate(here=here)
            .order_by("name", "pk")
            .values_list(
                "sku",
                "name",
                "parts_per_pack",
                "part_name",
                "here__sellable_quantity",
                "here__reorder_level",
                "reorder_level",
                "here__nearest_expiry",
                "is_active",
            )
        )
        for sku, name, parts, part_name, sellable, reorder_here, reorder, nearest, active in medicines.iterator(
            chunk_size=5000
        ):
            sellable = sellable or 0
            reorder = reorder if reorder_here is None else reorder_here
            state = _("out of stock") if sellable == 0 else (_("low") if sellable <= reorder else _("ok"))
            shown = format_units(sellable, parts, part_name)
            yield [location.code, sku, name, sellable, shown, reorder, nearest, state, active]


EXPIRY_REPORT_DAYS = 90


def _expiry_rows(locations: Sequence[Location]) -> Iterator[list]:
    today = timezone.localdate()
    horizon = today + datetime.timedelta(days=EXPIRY_REPORT_DAYS)
    stocks = (
        LotStock.objects.filter(location__in=locations, quantity__gt=0, lot__expiry_date__lte=horizon)
        .select_related("lot__medicine", "location")
        .order_by("lot__expiry_date", "lot__medicine__name", "lot_id", "location__name", "pk")
    )
    for stock in stocks.iterator(chunk_size=2000):
        lot, medicine = stock.lot, stock.lot.medicine
        yield [
            lot.expiry_date,
            (lot.expiry_date - today).days,
            stock.location.code,
            medicine.sku,
            medicine.name,
            lot.lot_number,
            lot.get_status_display(),
            stock.quantity,
            medicine_units(stock.quantity, medicine),
            # The purchase price is a pack's (as invoiced): a medicine sold by the part holds parts.
            (lot.purchase_price * stock.quantity / (medicine.parts_per_pack or 1)).quantize(Decimal("0.01")),
        ]


DATASETS: dict[str, Dataset] = {
    "medicines": Dataset(
        "medicines",
        gettext_lazy("Medicines (price list columns)"),
        [
            "sku",
            "name",
            "price",
            "barcode",
            "category",
            "manufacturer",
            "dosage_form",
            "pack_size",
            "is_prescription",
            "substances",
        ],
        _medicine_rows,
        by_location=False,
    ),
    "lots": Dataset(
        "lots",
        gettext_lazy("Lots by location (stocktake columns)"),
        [
            "sku",
            "barcode",
            "medicine",
            "location",
            "lot_number",
            "expiry_date",
            "received_date",
            "status",
            "counted_quantity",
            "parts",
            "on_hand",
            "purchase_price",
            "supplier",
        ],
        _lot_rows,
    ),
    "stock": Dataset(
        "stock",
        gettext_lazy("Stock levels by location"),
        [
            "location",
            "sku",
            "name",
            "sellable_quantity",
            "sellable",
            "reorder_level",
            "nearest_expiry",
            "stock_state",
            "active",
        ],
        _stock_rows,
    ),
    "expiry": Dataset(
        "expiry",
        gettext_lazy("Expiry report (next 90 days and expired, with stock), by location"),
        [
            "expiry_date",
            "days_left",
            "location",
            "sku",
            "medicine",
            "lot_number",
            "status",
            "quantity",
            "on_hand",
            "purchase_value",
        ],
        _expiry_rows,
    ),
}


def export_filename(key: str, file_format: str, *, suffix: str = "") -> str:
    """``dorixona-stock-chilonzor-2026-06-01.xlsx``: the data, the place when one is chosen, the day."""
    place = f"{suffix}-" if suffix else ""
    return f"dorixona-{key}-{place}{timezone.localdate():%Y-%m-%d}.{file_format}"


def template_rows(importer: type[Importer]) -> tuple[list[str], list[list[str]], list[tuple]]:
    header = importer.column_names()
    examples = importer.example_rows()
    guide = [(_("column"), _("required"), _("what to put in it"))] + [
        (column.name, _("yes") if column.required else _("no"), str(column.guide)) for column in importer.columns
    ]
    for group in importer.one_of:
        guide.append((" / ".join(group), _("one of them"), _("Give at least one of these columns in each row.")))
    return header, examples, guide
