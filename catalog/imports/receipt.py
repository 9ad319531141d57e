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

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from catalog import signals
from catalog.imports.base import (
    APPLY_CHUNK,
    MEDICINE_CODE_COLUMNS,
    NEW,
    UPDATED,
    Column,
    Importer,
    Plan,
    ProgressCallback,
    chunked_in,
    no_progress,
    out_of_range_message,
)
from catalog.imports.parsing import cell_text, iter_chunks, parse_date, parse_decimal, parse_int
from catalog.stock.copy import allocate_ids, copy_history_created, copy_objects
from catalog.models import Lot, LotStatus, Medicine, MovementKind, StockMovement

from catalog.stock import CLOSED_TO_RECEIPTS, lock_medicines, lock_rows

RECEIPT_REASON = "receipt"
LOT_QUANTITY = Lot._meta.get_field("quantity")
LOT_PRICE = Lot._meta.get_field("purchase_price")
# PostgreSQL: new lots, their history and the ledger rows go in with COPY (catalog/imports/pgcopy.py).
USE_COPY = True


def refresh_derived_columns(medicine_ids, today) -> None:
    """``sellable_quantity`` and ``nearest_expiry`` of the medicines, recomputed from their lots set-based.

    The rule is ``catalog.selectors.sellable_lots_q`` (available, stock on hand,
    ``expiry_date > today``), as ``medicines_refresh_stock`` applies it. The import
    holds the medicines' locks already, so the service's second lock (which loads
    every column of every medicine) is skipped; on PostgreSQL one UPDATE joined to
    one aggregate replaces a pair of correlated subqueries per medicine, and rows
    whose values do not change are not rewritten.
    """
    ids = sorted(set(medicine_ids))
    if not ids:
        return
    if not _is_postgres():
        from catalog.stock.derived import refresh as _refresh_stock

        _refresh_stock(ids, today)
        return
    medicine_table, lot_table = Medicine._meta.db_table, Lot._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {medicine_table} AS m
               SET sellable_quantity = COALESCE(s.total, 0), nearest_expiry = s.nearest
              FROM unnest(%s::bigint[]) AS ids(id)
              LEFT JOIN (
                    SELECT medicine_id, SUM(quantity) AS total, MIN(expiry_date) AS nearest
                      FROM {lot_table}
                     WHERE medicine_id = ANY(%s) AND status = %s AND quantity > 0 AND expiry_date > %s
                     GROUP BY medicine_id
              ) AS s ON s.medicine_id = ids.id
             WHERE m.id = ids.id
               AND (m.sellable_quantity IS DISTINCT FROM COALESCE(s.total, 0)
                    OR m.nearest_expiry IS DISTINCT FROM s.nearest)
            """,
            [ids, ids, LotStatus.AVAILABLE, today],
        )


class SellableTotals:
    """Each medicine's sellable stock as an import's rows add to it, kept within its column.

    ``refresh_derived_columns`` writes the sum of a medicine's lots into
    ``Medicine.sellable_quantity`` after the rows are written; a sum its column
    cannot hold would fail there, as a database error. Only additions count
    (an upper bound: a receipt into a quarantined lot is counted too), so a
    row is never refused for what it takes away. Read after the medicines'
    locks when confirming.
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


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def resolve_medicines(skus: set[str], barcodes: set[str]) -> tuple[dict[str, int], dict[str, int]]:
    """``({sku: id}, {barcode: id})`` for the codes that exist: one query on PostgreSQL (arrays, not 100k params)."""
    by_sku: dict[str, int] = {}
    by_barcode: dict[str, int] = {}
    if _is_postgres():
        table = Medicine._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, sku, barcode, sku = ANY(%s) FROM {table} WHERE sku = ANY(%s) OR barcode = ANY(%s)",
                [list(skus), list(skus), list(barcodes)],
            )
            for pk, sku, barcode, sku_matched in cursor.fetchall():
                if sku_matched:
                    by_sku[sku] = pk
                if barcode in barcodes:
                    by_barcode[barcode] = pk
        return by_sku, by_barcode
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


LOT_FIELDS = ("pk", "medicine_id", "lot_number", "expiry_date", "quantity", "status", "supplier")


def existing_lots(wanted: set[tuple[int, str]], *, lock: bool) -> dict[tuple[int, str], Lot]:
    """The lots named by ``(medicine_id, lot_number)`` pairs, locked in primary-key order when asked."""
    if not wanted:
        return {}
    if _is_postgres():
        medicine_ids, lot_numbers = zip(*wanted, strict=True)
        table = Lot._meta.db_table
        queryset = Lot.objects.extra(
            where=[f"({table}.medicine_id, {table}.lot_number) IN (SELECT * FROM unnest(%s::bigint[], %s::varchar[]))"],
            params=[list(medicine_ids), list(lot_numbers)],
        ).only(*LOT_FIELDS)
        lots = lock_rows(queryset) if lock else list(queryset.order_by())
    else:
        medicine_ids = sorted({medicine_id for medicine_id, _number in wanted})
        candidates = chunked_in(Lot.objects.order_by().only(*LOT_FIELDS), "medicine_id", medicine_ids)
        lots = [lot for lot in candidates if (lot.medicine_id, lot.lot_number) in wanted]
        if lock and lots:
            lots = lock_rows(Lot.objects.filter(pk__in=[lot.pk for lot in lots]))
    return {(lot.medicine_id, lot.lot_number): lot for lot in lots if (lot.medicine_id, lot.lot_number) in wanted}


class ReceiptImporter(Importer):
    kind = "receipt"
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
            "quantity", gettext_lazy("Units received, a whole number above zero."), ("120", "1 000"), aliases=("qty",)
        ),
        Column(
            "purchase_price",
            gettext_lazy("Purchase price per unit, UZS: 12 500,50 or 12500.50."),
            ("12 500,50", "8400"),
            aliases=("price",),
        ),
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
                plan.error(
                    line,
                    "expiry_date",
                    _("This lot expired on %(date)s: expired stock cannot be received.") % {"date": expiry.isoformat()},
                )
            quantity = self.parse_cell(plan, line, cells, "quantity", parse_int, field=LOT_QUANTITY)
            if quantity is not None and quantity <= 0:
                plan.error(line, "quantity", _("The quantity must be a whole number greater than zero."))
            price = self.parse_cell(plan, line, cells, "purchase_price", parse_decimal, field=LOT_PRICE)
            if price is not None and price < 0:
                plan.error(line, "purchase_price", _("The purchase price cannot be negative."))
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
                    plan.error(
                        line,
                        "lot_number",
                        _("Lot %(lot)s of this medicine is already on line %(line)s.")
                        % {"lot": lot_number, "line": seen[key]},
                    )
                    continue
                seen[key] = line
            if line not in plan.error_lines:
                rows.append((line, medicine_id, lot_number, expiry, quantity, price, supplier, sku or barcode))
        del parsed

        medicine_ids = sorted({row[1] for row in rows})
        if lock and medicine_ids:
            # The services' order: medicines first, then lots, each in primary-key order.
            lock_medicines(medicine_ids)
        existing = existing_lots({(row[1], row[2]) for row in rows}, lock=lock)
        totals = SellableTotals(medicine_ids)
        progress(50)

        for line, medicine_id, lot_number, expiry, quantity, price, supplier, code in rows:
            lot = existing.get((medicine_id, lot_number))
            values = [code, lot_number, expiry.isoformat(), quantity, price, supplier]
            if lot is None:
                if not totals.add(plan, line, "quantity", medicine_id, quantity):
                    continue
                plan.actions.append((None, medicine_id, lot_number, expiry, quantity, price, supplier))
                plan.mark(line, NEW, values)
                continue
            if lot.expiry_date != expiry:
                plan.error(
                    line,
                    "expiry_date",
                    _(
                        "Lot %(lot)s of this medicine already exists with expiry date %(date)s; "
                        "a receipt into it must carry the same expiry date."
                    )
                    % {"lot": lot_number, "date": lot.expiry_date.isoformat()},
                )
                continue
            if lot.status in CLOSED_TO_RECEIPTS:
                plan.error(
                    line,
                    "lot_number",
                    _("Lot %(lot)s is %(status)s: it cannot receive stock.")
                    % {"lot": lot_number, "status": lot.get_status_display()},
                )
                continue
            # The lot's new balance goes into the same column (and the movement's balance_after).
            problem = out_of_range_message(LOT_QUANTITY, lot.quantity + quantity)
            if problem:
                plan.error(
                    line,
                    "quantity",
                    _("Lot %(lot)s holds %(quantity)s units already; with this receipt: %(problem)s")
                    % {"lot": lot_number, "quantity": lot.quantity, "problem": problem},
                )
                continue
            if not totals.add(plan, line, "quantity", medicine_id, quantity):
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
        use_copy = _is_postgres() and USE_COPY
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
                    lot.quantity += quantity  # FIXME(stock core): moves to catalog.stock.bulk
                    changed_lots.append(lot)
                received.append((lot, quantity))
            if new_lots and use_copy:
                now = timezone.now()
                for lot, pk in zip(new_lots, allocate_ids(Lot, len(new_lots)), strict=True):
                    lot.pk, lot.created_at = pk, now
                copy_objects(new_lots, with_pk=True)
                copy_history_created(new_lots, user=user, reason=reason, when=now)
            elif new_lots:
                bulk_create_with_history(
                    new_lots, Lot, batch_size=1000, default_user=user, default_change_reason=reason
                )
            if changed_lots:
                bulk_update_with_history(
                    changed_lots,
                    Lot,
                    ["quantity", "supplier"],
                    batch_size=500,
                    default_user=user,
                    default_change_reason=reason,
                )
            movements = [
                StockMovement(
                    lot_id=lot.pk,
                    kind=MovementKind.RECEIPT,
                    quantity=quantity,
                    balance_after=lot.quantity,
                    user=user,
                    reason=reason,
                    reference=reference[:120],
                )
                for lot, quantity in received
            ]
            if use_copy:
                now = timezone.now()
                for movement in movements:
                    movement.created_at = now
                copy_objects(movements, with_pk=False)
            else:
                StockMovement.objects.bulk_create(movements, batch_size=2000)
            done += len(chunk)
            progress(60 + int(35 * done / total))
        refresh_derived_columns(medicine_ids, today)
        ids = sorted(medicine_ids)
        transaction.on_commit(lambda: signals.stock_changed.send(sender=Medicine, medicine_ids=ids, reason="receipt"))
