"""Stock receipt import: one row per delivered lot -> the same rows ``lot_receive`` writes, in bulk.

Every row is checked before anything is written, against the catalogue read
in a few set-based queries (medicines by SKU or barcode, then the existing
lots of those medicines). Applying writes, per row, exactly what
``catalog.services.lot_receive`` writes for it: a new lot or more stock into
the medicine's lot with that number (same expiry; never a recalled or expired
lot), a historical record attributed to the importing user, one receipt
movement with the balance after it; then the medicines' derived columns are
refreshed set-based and ``stock_changed`` is sent after commit.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from catalog import signals
from catalog.imports.base import (
    APPLY_CHUNK,
    NEW,
    UPDATED,
    Column,
    Importer,
    Plan,
    ProgressCallback,
    chunked_in,
    no_progress,
)
from catalog.imports.parsing import cell_text, iter_chunks, parse_date, parse_decimal, parse_int
from catalog.models import Lot, LotStatus, Medicine, MovementKind, StockMovement
from catalog.services import lock_rows, medicines_refresh_stock

RECEIPT_REASON = "receipt"


def resolve_medicines(skus: set[str], barcodes: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    """``({sku: id}, {barcode: id})`` for the codes that exist."""
    by_sku: dict[str, int] = {}
    by_barcode: dict[str, int] = {}
    base = Medicine.objects.order_by()
    for pk, sku in chunked_in(base.values_list("pk", "sku"), "sku", skus):
        by_sku[sku] = pk
    for pk, barcode in chunked_in(base.values_list("pk", "barcode"), "barcode", barcodes):
        by_barcode[barcode] = pk
    return by_sku, by_barcode


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
            plan.error(line, "barcode", _("Barcode %(barcode)s belongs to another medicine than SKU %(sku)s.")
                       % {"barcode": barcode, "sku": sku})
            return None
        return medicine_id
    if barcode:
        medicine_id = by_barcode.get(barcode)
        if medicine_id is None:
            plan.error(line, "barcode", _("Unknown barcode “%(barcode)s”.") % {"barcode": barcode})
        return medicine_id
    return None


class ReceiptImporter(Importer):
    kind = "receipt"
    columns = [
        Column("sku", gettext_lazy("Medicine SKU (or give the barcode)."), ("PARA-500-20", ""), required=False),
        Column("barcode", gettext_lazy("Medicine barcode, GTIN (or give the SKU)."), ("", "4780000000017"),
               required=False, aliases=("gtin", "ean")),
        Column("lot_number", gettext_lazy("The lot (batch) number printed on the pack."), ("L2401", "B-7781"),
               aliases=("lot", "batch")),
        Column("expiry_date", gettext_lazy("Expiry: 2027-03-31, 31.03.2027 or a month 03/2027 (its last day)."),
               ("2027-03-31", "03/2028"), aliases=("expiry", "expires")),
        Column("quantity", gettext_lazy("Units received, a whole number above zero."), ("120", "1 000"),
               aliases=("qty",)),
        Column("purchase_price", gettext_lazy("Purchase price per unit, UZS: 12 500,50 or 12500.50."),
               ("12 500,50", "8400"), aliases=("price",)),
        Column("supplier", gettext_lazy("Supplier name (optional)."), ("Grand Pharm", ""), required=False),
    ]
    one_of = [("sku", "barcode")]
    preview_headers = ("sku / barcode", "lot_number", "expiry_date", "quantity", "purchase_price", "supplier")

    def plan(self, *, lock: bool = False, progress: ProgressCallback = no_progress) -> Plan:
        plan = Plan(total=len(self.table.rows))
        today = timezone.localdate()
        parsed = []
        skus, barcodes = set(), set()
        for line, cells in self.table.rows:
            sku, barcode = medicine_column_cells(self, plan, line, cells)
            lot_number = cell_text(self.cell(cells, "lot_number"))
            if not lot_number:
                plan.error(line, "lot_number", _("This cell is empty."))
            elif len(lot_number) > 64:
                plan.error(line, "lot_number", _("At most 64 characters."))
            expiry = self.parse_cell(plan, line, cells, "expiry_date", parse_date)
            if expiry is not None and expiry <= today:
                plan.error(line, "expiry_date", _("This lot expired on %(date)s: expired stock cannot be received.")
                           % {"date": expiry.isoformat()})
            quantity = self.parse_cell(plan, line, cells, "quantity", parse_int)
            if quantity is not None and quantity <= 0:
                plan.error(line, "quantity", _("The quantity must be a whole number greater than zero."))
            price = self.parse_cell(plan, line, cells, "purchase_price", parse_decimal)
            if price is not None and price < 0:
                plan.error(line, "purchase_price", _("The purchase price cannot be negative."))
            if price is not None and price >= Decimal("1e12"):
                plan.error(line, "purchase_price", _("The purchase price is too large."))
            supplier = cell_text(self.cell(cells, "supplier"))
            if len(supplier) > 200:
                plan.error(line, "supplier", _("At most 200 characters."))
            if sku:
                skus.add(sku)
            if barcode:
                barcodes.add(barcode)
            parsed.append((line, sku, barcode, lot_number, expiry, quantity, price, supplier))
        progress(20)

        by_sku, by_barcode = resolve_medicines(skus, barcodes)
        progress(35)
        rows = []
        seen: dict[tuple[int, str], int] = {}
        for line, sku, barcode, lot_number, expiry, quantity, price, supplier in parsed:
            medicine_id = medicine_id_for(plan, line, sku, barcode, by_sku, by_barcode)
            if medicine_id is not None and lot_number:
                key = (medicine_id, lot_number)
                if key in seen:
                    plan.error(line, "lot_number", _("Lot %(lot)s of this medicine is already on line %(line)s.")
                               % {"lot": lot_number, "line": seen[key]})
                    continue
                seen[key] = line
            if line not in plan.error_lines:
                rows.append((line, medicine_id, lot_number, expiry, quantity, price, supplier, sku or barcode))
        del parsed

        medicine_ids = sorted({row[1] for row in rows})
        if lock:
            # The services' order: medicines first, then lots, each in primary-key order.
            lock_rows(Medicine.objects.filter(pk__in=medicine_ids)) if medicine_ids else None
        lots_qs = Lot.objects.order_by().only(
            "pk", "medicine_id", "lot_number", "expiry_date", "quantity", "status", "supplier"
        )
        candidates = chunked_in(lots_qs, "medicine_id", medicine_ids) if rows else []
        wanted = {(row[1], row[2]) for row in rows}
        existing = {(lot.medicine_id, lot.lot_number): lot for lot in candidates if (lot.medicine_id, lot.lot_number) in wanted}
        if lock and existing:
            locked = lock_rows(Lot.objects.filter(pk__in=[lot.pk for lot in existing.values()]))
            existing = {(lot.medicine_id, lot.lot_number): lot for lot in locked}
        progress(50)

        for line, medicine_id, lot_number, expiry, quantity, price, supplier, code in rows:
            lot = existing.get((medicine_id, lot_number))
            values = [code, lot_number, expiry.isoformat(), quantity, price, supplier]
            if lot is None:
                plan.actions.append((None, medicine_id, lot_number, expiry, quantity, price, supplier))
                plan.mark(line, NEW, values)
                continue
            if lot.expiry_date != expiry:
                plan.error(line, "expiry_date",
                           _("Lot %(lot)s of this medicine already exists with expiry date %(date)s; "
                             "a receipt into it must carry the same expiry date.")
                           % {"lot": lot_number, "date": lot.expiry_date.isoformat()})
                continue
            if lot.status in (LotStatus.RECALLED, LotStatus.EXPIRED):
                plan.error(line, "lot_number", _("Lot %(lot)s is %(status)s: it cannot receive stock.")
                           % {"lot": lot_number, "status": lot.get_status_display()})
                continue
            plan.actions.append((lot, medicine_id, lot_number, expiry, quantity, price, supplier))
            plan.mark(line, UPDATED, values)
        plan.finish()
        progress(60)
        return plan

    def apply(self, plan: Plan, *, user, reference: str, progress: ProgressCallback = no_progress) -> None:
        assert transaction.get_connection().in_atomic_block, "apply runs inside the import's transaction"
        today = timezone.localdate()
        reason = RECEIPT_REASON
        medicine_ids: set[int] = set()
        total = max(len(plan.actions), 1)
        done = 0
        for chunk in iter_chunks(plan.actions, APPLY_CHUNK):
            new_lots, changed_lots, received = [], [], []
            for lot, medicine_id, lot_number, expiry, quantity, price, supplier in chunk:
                medicine_ids.add(medicine_id)
                if lot is None:
                    lot = Lot(
                        medicine_id=medicine_id,
                        lot_number=lot_number,
                        expiry_date=expiry,
                        received_date=today,
                        quantity=quantity,
                        purchase_price=price,
                        supplier=supplier,
                    )
                    new_lots.append(lot)
                else:
                    lot.quantity += quantity
                    if supplier and not lot.supplier:
                        lot.supplier = supplier
                    changed_lots.append(lot)
                received.append((lot, quantity))
            if new_lots:
                bulk_create_with_history(
                    new_lots, Lot, batch_size=1000, default_user=user, default_change_reason=reason
                )
            if changed_lots:
                bulk_update_with_history(
                    changed_lots, Lot, ["quantity", "supplier"], batch_size=500,
                    default_user=user, default_change_reason=reason,
                )
            StockMovement.objects.bulk_create(
                [
                    StockMovement(
                        lot_id=lot.pk, kind=MovementKind.RECEIPT, quantity=quantity, balance_after=lot.quantity,
                        user=user, reason=reason, reference=reference[:120],
                    )
                    for lot, quantity in received
                ],
                batch_size=2000,
            )
            done += len(chunk)
            progress(60 + int(35 * done / total))
        medicines_refresh_stock(medicine_ids=medicine_ids, today=today)
        ids = sorted(medicine_ids)
        transaction.on_commit(lambda: signals.stock_changed.send(sender=Medicine, medicine_ids=ids, reason="receipt"))
