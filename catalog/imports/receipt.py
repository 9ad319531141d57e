"""Stock receipt import: one row per delivered lot, written by ``catalog.stock.lots_receive_bulk``.

The file is what a supplier delivers: ``quantity`` counts packs and
``purchase_price`` is the price of a pack, as on the invoice. A medicine sold by
the part (``parts_per_pack`` > 1) is stocked in parts, so its packs are
multiplied out here (5 packs of 2 blisters = 10 units). The stock goes to the
place chosen on upload (``ImportJob.location``), or to the place a row names in
its optional ``location`` column (the location's code or name), which must be
one the member works at.

This module parses and plans only. Every row is checked before anything is
written, against the catalogue read in a few set-based queries, with the stock
core's own rules (``rules.check_quantity``, ``rules.check_receipt``,
``rules.check_receipt_into``, ``places.check_works_at``), so the preview and the
write refuse the same rows in the same words; the numbers are also checked
against what their columns can hold. Applying hands the rows to
``lots_receive_bulk``, once per place: it locks, writes the lots, their stock
there, history rows attributed to the importing user, one receipt movement per
row, refreshes the derived stock once and announces it after commit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from catalog.exceptions import CatalogError
from catalog.formatting import format_date, format_uzs, medicine_units
from catalog.imports.base import (
    LOCATION_COLUMN,
    MEDICINE_CODE_COLUMNS,
    NEW,
    UPDATED,
    Column,
    Importer,
    Places,
    Plan,
    ProgressCallback,
    apply_by_place,
    chunked_in,
    no_progress,
    out_of_range_message,
    rule_error,
)
from catalog.imports.messages import deferred as _  # stored, put into words when read
from catalog.imports.parsing import cell_text, parse_date, parse_decimal, parse_int
from catalog.models import Location, Lot, LotStatus, Medicine
from catalog.stock import ReceiptLine, lock_medicines, lots_receive_bulk, rules
from catalog.stock.bulk import lots_by_number

RECEIPT_REASON = "receipt"
LOT_QUANTITY = Lot._meta.get_field("quantity")
LOT_PRICE = Lot._meta.get_field("purchase_price")
LOT_NUMBER_LENGTH = Lot._meta.get_field("lot_number").max_length


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class MedicineUnits:
    """What a file's medicine code resolves to: its id and how its packs split into units."""

    pk: int
    parts_per_pack: int
    part_name: str
    name: str = ""  # shown beside the file's code in the preview, so the clerk sees what the code matched


class SellableTotals:
    """Each medicine's sellable stock as an import's rows add to it, kept within its column.

    The derived refresh writes the sum of a medicine's sellable stock into
    ``Medicine.sellable_quantity`` (and a place's share into ``MedicineStock``)
    after the rows are written; a sum its column cannot hold would fail there,
    as a database error. Only additions count (an upper bound: a receipt into a
    quarantined lot is counted too), so a row is never refused for what it
    takes away. Read after the medicines' locks when confirming.
    """

    field = Medicine._meta.get_field("sellable_quantity")

    def __init__(self, medicine_ids) -> None:
        ids = sorted(set(medicine_ids))
        stock = Medicine.objects.order_by().values_list("pk", "sellable_quantity")
        if _is_postgres():  # one array parameter, not 100,000
            rows = list(stock.extra(where=[f"{Medicine._meta.db_table}.id = ANY(%s)"], params=[ids])) if ids else []
        else:
            rows = chunked_in(stock, "pk", ids)
        self.totals: dict[int, int] = dict(rows)

    def add(self, plan: Plan, line: int, column: str, medicine_id: int, quantity: int) -> bool:
        """Count ``quantity`` more units of the medicine, or put the row's error on the plan and return False."""
        if quantity <= 0:
            return True
        total = self.totals.get(medicine_id, 0) + quantity
        problem = out_of_range_message(self.field, total)
        if problem:
            plan.error(
                line,
                column,
                _("The medicine's sellable stock would come to %(total)s units: %(problem)s")
                % {"total": total, "problem": problem},
            )
            return False
        self.totals[medicine_id] = total
        return True


def resolve_medicines(
    skus: set[str], barcodes: set[str]
) -> tuple[dict[str, int], dict[str, int], dict[int, MedicineUnits]]:
    """``({sku: id}, {barcode: id}, {id: units})`` for the codes that exist: one query on PostgreSQL (arrays)."""
    by_sku: dict[str, int] = {}
    by_barcode: dict[str, int] = {}
    units: dict[int, MedicineUnits] = {}
    if _is_postgres():
        table = Medicine._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, sku, barcode, parts_per_pack, part_name, name, sku = ANY(%s) FROM {table} "
                "WHERE sku = ANY(%s) OR barcode = ANY(%s)",
                [list(skus), list(skus), list(barcodes)],
            )
            for pk, sku, barcode, parts, part_name, name, sku_matched in cursor.fetchall():
                units[pk] = MedicineUnits(pk, parts, part_name, name)
                if sku_matched:
                    by_sku[sku] = pk
                if barcode in barcodes:
                    by_barcode[barcode] = pk
        return by_sku, by_barcode, units
    base = Medicine.objects.order_by()
    for pk, sku, parts, part_name, name in chunked_in(
        base.values_list("pk", "sku", "parts_per_pack", "part_name", "name"), "sku", skus
    ):
        by_sku[sku] = pk
        units[pk] = MedicineUnits(pk, parts, part_name, name)
    for pk, barcode, parts, part_name, name in chunked_in(
        base.values_list("pk", "barcode", "parts_per_pack", "part_name", "name"), "barcode", barcodes
    ):
        by_barcode[barcode] = pk
        units[pk] = MedicineUnits(pk, parts, part_name, name)
    return by_sku, by_barcode, units


def medicine_column_cells(importer: Importer, plan: Plan, line: int, cells: list) -> tuple[str, str]:
    sku = cell_text(importer.cell(cells, "sku"))
    barcode = cell_text(importer.cell(cells, "barcode"))
    if not sku and not barcode:
        plan.error(line, "sku", _("Give the medicine's SKU or barcode."))
    return sku, barcode


def medicine_id_for(plan: Plan, line: int, sku: str, barcode: str, by_sku: dict, by_barcode: dict) -> int | None:
    if sku:
        medicine_id = by_sku.get(sku)
        if medicine_id is None:
            plan.error(line, "sku", _("Unknown SKU “%(sku)s”.") % {"sku": sku})
            return None
        if barcode and by_barcode.get(barcode) not in (None, medicine_id):
            plan.error(
                line,
                "barcode",
                _("Barcode %(barcode)s belongs to another medicine than SKU %(sku)s.")
                % {"barcode": barcode, "sku": sku},
            )
            return None
        return medicine_id
    if barcode:
        medicine_id = by_barcode.get(barcode)
        if medicine_id is None:
            plan.error(line, "barcode", _("Unknown barcode “%(barcode)s”.") % {"barcode": barcode})
        return medicine_id
    return None


def repeated_row(plan: Plan, seen: dict, key, line: int, lot_number: str) -> bool:
    """Whether the same lot at the same place is on an earlier line (the error then goes on this one)."""
    if key in seen:
        plan.error(
            line,
            "lot_number",
            _("Lot %(lot)s of this medicine is already on line %(line)s.") % {"lot": lot_number, "line": seen[key]},
        )
        return True
    seen[key] = line
    return False


@dataclass(frozen=True)
class ReceiptRow:
    """A row of the file, read: ``packs`` as written; the place resolved (``None`` when its cell is wrong)."""

    line: int
    sku: str
    barcode: str
    lot_number: str
    expiry_date: object
    packs: int | None
    price: Decimal | None
    supplier: str
    location: Location | None


@dataclass(frozen=True)
class PlannedReceipt:
    """What applying writes for one row: a receipt line at a place."""

    location: Location
    line: ReceiptLine


def _preview(row: ReceiptRow, units: int, medicine: MedicineUnits) -> list:
    code = row.sku or row.barcode
    shown = medicine_units(units, medicine)
    return [
        code,
        medicine.name,
        row.lot_number,
        row.location.code,
        format_date(row.expiry_date),
        shown,
        format_uzs(row.price),
        row.supplier,
    ]


class ReceiptImporter(Importer):
    kind = "receipt"
    summary = gettext_lazy(
        "One row per lot delivered: packs and the price of a pack, as on the supplier's invoice. A medicine "
        "sold by the part is stocked in parts (5 packs of 2 blisters: 10 blisters)."
    )
    columns = [
        *MEDICINE_CODE_COLUMNS,
        Column(
            "lot_number",
            gettext_lazy("The lot (batch) number printed on the pack."),
            ("L2401", "B-7781"),
            aliases=("lot", "batch"),
        ),
        Column(
            "expiry_date",
            gettext_lazy("Expiry: 2027-03-31, 31.03.2027 or a month 03/2027 (its last day)."),
            ("2027-03-31", "03/2028"),
            aliases=("expiry", "expires"),
        ),
        Column(
            "quantity",
            gettext_lazy(
                "Packs received, a whole number above zero (a medicine sold by the part is stocked in parts: "
                "its packs are multiplied out)."
            ),
            ("120", "1 000"),
            aliases=("qty", "packs"),
        ),
        Column(
            "purchase_price",
            gettext_lazy("Purchase price of a pack, UZS: 12 500,50 or 12500.50."),
            ("12 500,50", "8400"),
            aliases=("price",),
        ),
        Column("supplier", gettext_lazy("Supplier name (optional)."), ("Grand Pharm", ""), required=False),
        LOCATION_COLUMN,
    ]
    one_of = [("sku", "barcode")]
    preview_headers = (
        "sku / barcode",
        "medicine",
        "lot_number",
        "location",
        "expiry_date",
        "quantity",
        "purchase_price",
        "supplier",
    )

    def _read_rows(self, plan: Plan, places: Places, today) -> list[ReceiptRow]:
        rows = []
        for line, cells in self.table.rows:
            sku, barcode = medicine_column_cells(self, plan, line, cells)
            lot_number = cell_text(self.cell(cells, "lot_number"))
            if not lot_number:
                plan.error(line, "lot_number", _("This cell is empty."))
            elif len(lot_number) > LOT_NUMBER_LENGTH:
                plan.error(line, "lot_number", _("At most %(count)s characters.") % {"count": LOT_NUMBER_LENGTH})
            expiry = self.parse_cell(plan, line, cells, "expiry_date", parse_date)
            packs = self.parse_cell(plan, line, cells, "quantity", parse_int, field=LOT_QUANTITY)
            price = self.parse_cell(plan, line, cells, "purchase_price", parse_decimal, field=LOT_PRICE)
            supplier = cell_text(self.cell(cells, "supplier"))
            if len(supplier) > 200:
                plan.error(line, "supplier", _("At most 200 characters."))
            location = places.for_row(plan, line, cell_text(self.cell(cells, "location")))
            # The service's own checks, on what this row would receive.
            if packs is not None:
                try:
                    rules.check_quantity(packs)
                except CatalogError as error:
                    rule_error(plan, line, error, column="quantity")
            if lot_number and expiry is not None and price is not None:
                try:
                    rules.check_receipt(
                        lot_number=lot_number,
                        expiry_date=expiry,
                        received_date=today,
                        purchase_price=price,
                        today=today,
                    )
                except CatalogError as error:
                    rule_error(plan, line, error)
            rows.append(ReceiptRow(line, sku, barcode, lot_number, expiry, packs, price, supplier, location))
        return rows

    def plan(self, *, lock: bool = False, progress: ProgressCallback = no_progress) -> Plan:
        plan = self.new_plan()
        today = timezone.localdate()
        places = Places(user=self.user, default=self.location)
        places.check_default(plan)
        rows = self._read_rows(plan, places, today)
        progress(20)

        by_sku, by_barcode, medicines = resolve_medicines(
            {row.sku for row in rows if row.sku}, {row.barcode for row in rows if row.barcode}
        )
        progress(35)
        valid: list[tuple[ReceiptRow, int]] = []
        seen: dict[tuple[int, str, int], int] = {}
        for row in rows:
            medicine_id = medicine_id_for(plan, row.line, row.sku, row.barcode, by_sku, by_barcode)
            if medicine_id is not None and row.lot_number and row.location is not None:
                if repeated_row(plan, seen, (medicine_id, row.lot_number, row.location.pk), row.line, row.lot_number):
                    continue
            if row.line not in plan.error_lines:
                valid.append((row, medicine_id))
        del rows

        medicine_ids = sorted({medicine_id for _row, medicine_id in valid})
        if lock and medicine_ids:
            # The services' order: medicines first, then lots, each in primary-key order.
            lock_medicines(medicine_ids)
        lots = lots_by_number({(medicine_id, row.lot_number) for row, medicine_id in valid}, lock=lock)
        totals = SellableTotals(medicine_ids)
        progress(50)

        received: dict[tuple[int, str], int] = defaultdict(int)
        planned: dict[tuple[int, str], object] = {}  # new lots: their expiry date
        for row, medicine_id in valid:
            medicine = medicines[medicine_id]
            units = row.packs * medicine.parts_per_pack
            key = (medicine_id, row.lot_number)
            problem = out_of_range_message(LOT_QUANTITY, units)
            if problem:
                plan.error(
                    row.line,
                    "quantity",
                    _("%(packs)s packs are %(units)s units: %(problem)s")
                    % {"packs": row.packs, "units": units, "problem": problem},
                )
                continue
            lot = lots.get(key)
            if lot is None and key in planned:
                # A line at another place receives into the lot an earlier line creates.
                lot = Lot(lot_number=row.lot_number, expiry_date=planned[key], status=LotStatus.AVAILABLE, quantity=0)
            if lot is not None:
                try:
                    rules.check_receipt_into(lot, expiry_date=row.expiry_date)
                except CatalogError as error:
                    rule_error(plan, row.line, error)
                    continue
                # The lot's new balance goes into the same column (and the movement's balance_after).
                held = lot.quantity + received[key]
                problem = out_of_range_message(LOT_QUANTITY, held + units)
                if problem:
                    plan.error(
                        row.line,
                        "quantity",
                        _("Lot %(lot)s holds %(quantity)s units already; with this receipt: %(problem)s")
                        % {"lot": row.lot_number, "quantity": held, "problem": problem},
                    )
                    continue
            if not totals.add(plan, row.line, "quantity", medicine_id, units):
                continue
            if lot is None:
                planned[key] = row.expiry_date
            received[key] += units
            plan.actions.append(
                PlannedReceipt(
                    row.location,
                    ReceiptLine(
                        medicine_id=medicine_id,
                        lot_number=row.lot_number,
                        expiry_date=row.expiry_date,
                        quantity=units,
                        purchase_price=row.price,
                        supplier=row.supplier,
                        ref=row.line,
                    ),
                )
            )
            plan.mark(row.line, UPDATED if lot is not None else NEW, partial(_preview, row, units, medicine))
        plan.finish()
        progress(60)
        return plan

    def apply(self, plan: Plan, *, user, reference: str, progress: ProgressCallback = no_progress) -> None:
        assert transaction.get_connection().in_atomic_block, "apply runs inside the import's transaction"
        apply_by_place(
            [(action.location, action.line) for action in plan.actions],
            lambda location, lines, step: lots_receive_bulk(
                location=location, lines=lines, user=user, reason=RECEIPT_REASON, reference=reference, progress=step
            ),
            progress,
        )
