"""Stocktake import: the counted quantity of each lot -> the rows ``stock_adjust`` writes, in bulk.

A count is taken against the book quantity of its moment. The dry run stores,
with the job, the book quantity of every counted lot (what the preview shows);
the confirmation applies ``counted - book at the count`` to the lot as it is
then, under the lots' locks. So a sale or a receipt between the upload and the
confirmation stays in the books: book 47, counted 47, 2 sold since -> no
adjustment, 45 left (applying the count as the new quantity would put the 2
sold units back). A lot whose count matches its book is unchanged and gets no
movement (as ``stock_adjust`` returns ``None``); any other difference becomes
one adjustment movement, with the lot's history attributed to the importing
user. A difference that later sales have overtaken (it would leave the lot
below zero) is refused: the lot needs counting again.

A count is refused too when the lot was counted again after the check: the dry
run also stores the id of each lot's latest adjustment movement, and a lot with
a newer one at confirmation (another stocktake file, this file confirmed once
more, a count entered by hand) is an error on its line. Its difference was taken
against a book that count has since replaced; applied on top of it, the same
units would be found missing twice. Sales and receipts are no adjustments: they
stay kept beside the count as above.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_update_with_history

from catalog import signals
from catalog.imports.base import (
    APPLY_CHUNK,
    MEDICINE_CODE_COLUMNS,
    UNCHANGED,
    UPDATED,
    Column,
    Importer,
    Plan,
    ProgressCallback,
    chunked_in,
    no_progress,
    out_of_range_message,
)
from catalog.imports.parsing import cell_text, iter_chunks, parse_int
from catalog.imports.receipt import (
    SellableTotals,
    existing_lots,
    medicine_column_cells,
    medicine_id_for,
    refresh_derived_columns,
    resolve_medicines,
)
from catalog.models import Lot, Medicine, MovementKind, StockMovement
from catalog.stock import lock_medicines

LOT_QUANTITY = Lot._meta.get_field("quantity")


def last_adjustments(wanted: set[tuple[int, str]]) -> dict[int, int]:
    """The id of the latest adjustment movement of each lot named by ``(medicine_id, lot_number)``.

    One aggregate over the lots (those with no adjustment are left out), not a
    query per lot; on PostgreSQL exactly the named lots, elsewhere every lot of
    their medicines (a superset: only the named ones are looked up).
    """
    if not wanted:
        return {}
    movements = (
        StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT).order_by().values("lot_id").annotate(last=Max("pk"))
    )
    if connection.vendor == "postgresql":
        medicine_ids, lot_numbers = zip(*wanted, strict=True)
        movement_table, lot_table = StockMovement._meta.db_table, Lot._meta.db_table
        named = (
            f"{movement_table}.lot_id IN (SELECT lot.id FROM {lot_table} lot"
            " JOIN unnest(%s::bigint[], %s::varchar[]) AS named(medicine_id, lot_number)"
            " ON lot.medicine_id = named.medicine_id AND lot.lot_number = named.lot_number)"
        )
        rows = list(movements.extra(where=[named], params=[list(medicine_ids), list(lot_numbers)]))
    else:
        rows = chunked_in(movements, "lot__medicine_id", sorted({medicine_id for medicine_id, _n in wanted}))
    return {row["lot_id"]: row["last"] for row in rows}


def counted_since(last_now: int | None, last_at_check: int | None) -> bool:
    """Whether a lot has an adjustment movement newer than the one it had at the check.

    Ids only grow, and every adjustment of a lot is written under the lot's lock,
    so for one lot a greater id is a later count.
    """
    return last_now is not None and (last_at_check is None or last_now > last_at_check)


class StocktakeImporter(Importer):
    kind = "stocktake"
    columns = [
        *MEDICINE_CODE_COLUMNS,
        Column(
            "lot_number",
            gettext_lazy("The lot number, as in the Lots list."),
            ("L2401", "B-7781"),
            aliases=("lot", "batch"),
        ),
        Column(
            "counted_quantity",
            gettext_lazy("Units counted on the shelf, a whole number (0 if none)."),
            ("118", "0"),
            aliases=("counted", "count"),
        ),
    ]
    one_of = [("sku", "barcode")]
    ignored = ("medicine", "expiry_date", "received_date", "status", "purchase_price", "supplier")
    preview_headers = ("sku / barcode", "lot_number", "quantity on hand", "counted_quantity")

    def plan(self, *, lock: bool = False, progress: ProgressCallback = no_progress) -> Plan:
        plan = Plan(total=len(self.table.rows))
        parsed, skus, barcodes = [], set(), set()
        for line, cells in self.table.rows:
            sku, barcode = medicine_column_cells(self, plan, line, cells)
            lot_number = cell_text(self.cell(cells, "lot_number"))
            if not lot_number:
                plan.error(line, "lot_number", _("This cell is empty."))
            counted = self.parse_cell(plan, line, cells, "counted_quantity", parse_int, field=LOT_QUANTITY)
            if counted is not None and counted < 0:
                plan.error(line, "counted_quantity", _("A counted quantity cannot be negative."))
            skus.update([sku] if sku else [])
            barcodes.update([barcode] if barcode else [])
            parsed.append((line, sku, barcode, lot_number, counted))
        progress(20)
        by_sku, by_barcode = resolve_medicines(skus, barcodes)
        rows, seen = [], {}
        for line, sku, barcode, lot_number, counted in parsed:
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
                rows.append((line, medicine_id, lot_number, counted, sku or barcode))
        medicine_ids = sorted({row[1] for row in rows})
        wanted = {(row[1], row[2]) for row in rows}
        confirming = self.basis is not None
        if lock and medicine_ids:
            lock_medicines(medicine_ids)
        if not confirming:
            # Read before the lots: a count applied between the two reads then shows
            # at confirmation as one since the check (refused), never as none.
            last_adjustment = last_adjustments(wanted)
        existing = existing_lots(wanted, lock=lock)
        if confirming:
            # Under the lots' locks: no other count can land on them until this commits.
            last_adjustment = last_adjustments(wanted)
        totals = SellableTotals(medicine_ids)
        progress(50)
        book_at_count: dict[str, int] = (self.basis or {}).get("book", {}) if confirming else {}
        # A job checked before the check recorded them has none: its lines are refused (upload again).
        adjusted_at_count: dict[str, int | None] | None = (self.basis or {}).get("adjusted") if confirming else {}
        if not confirming:
            plan.basis["book"] = book_at_count
            plan.basis["adjusted"] = adjusted_at_count
        for line, medicine_id, lot_number, counted, code in rows:
            lot = existing.get((medicine_id, lot_number))
            if lot is None:
                plan.error(line, "lot_number", _("This medicine has no lot %(lot)s.") % {"lot": lot_number})
                continue
            if not confirming:
                book_at_count[str(lot.pk)] = lot.quantity
                adjusted_at_count[str(lot.pk)] = last_adjustment.get(lot.pk)
            book = book_at_count.get(str(lot.pk))
            if book is None:
                plan.error(
                    line,
                    "lot_number",
                    _("Lot %(lot)s has no book quantity from the check: upload the file again.") % {"lot": lot_number},
                )
                continue
            if adjusted_at_count is None or str(lot.pk) not in adjusted_at_count:
                plan.error(
                    line,
                    "counted_quantity",
                    _("Lot %(lot)s was checked by an earlier version of this import: upload the file again.")
                    % {"lot": lot_number},
                )
                continue
            if counted_since(last_adjustment.get(lot.pk), adjusted_at_count[str(lot.pk)]):
                plan.error(
                    line,
                    "counted_quantity",
                    _("Lot %(lot)s was counted again since this file was checked: upload the file again.")
                    % {"lot": lot_number},
                )
                continue
            values = [code, lot_number, lot.quantity, counted]
            difference = counted - book
            if difference == 0:
                plan.mark(line, UNCHANGED, values)
                continue
            if lot.quantity + difference < 0:
                plan.error(
                    line,
                    "counted_quantity",
                    _(
                        "Lot %(lot)s held %(book)s when counted and holds %(now)s now: the count's difference "
                        "of %(difference)s would leave it below zero. Count it again."
                    )
                    % {"lot": lot_number, "book": book, "now": lot.quantity, "difference": difference},
                )
                continue
            problem = out_of_range_message(LOT_QUANTITY, lot.quantity + difference)
            if problem:
                plan.error(line, "counted_quantity", problem)
                continue
            if not totals.add(plan, line, "counted_quantity", medicine_id, difference):
                continue
            plan.actions.append((lot, difference))
            plan.mark(line, UPDATED, values)
        plan.finish()
        progress(60)
        return plan

    def apply(self, plan: Plan, *, user, reference: str, progress: ProgressCallback = no_progress) -> None:
        assert transaction.get_connection().in_atomic_block, "apply runs inside the import's transaction"
        reason = str(_("Stocktake"))
        medicine_ids: set[int] = set()
        total, done = max(len(plan.actions), 1), 0
        for chunk in iter_chunks(plan.actions, APPLY_CHUNK):
            lots, movements = [], []
            for lot, difference in chunk:
                # The lot was read under its lock in this transaction: the difference
                # lands on its quantity as it is now, with what moved since the count.
                lot.quantity += difference
                lots.append(lot)
                medicine_ids.add(lot.medicine_id)
                movements.append(
                    StockMovement(
                        lot_id=lot.pk,
                        kind=MovementKind.ADJUSTMENT,
                        quantity=difference,
                        balance_after=lot.quantity,
                        user=user,
                        reason=reason,
                        reference=reference[:120],
                    )
                )
            bulk_update_with_history(
                lots, Lot, ["quantity"], batch_size=500, default_user=user, default_change_reason=reason[:100]
            )
            StockMovement.objects.bulk_create(movements, batch_size=2000)
            done += len(chunk)
            progress(60 + int(35 * done / total))
        if medicine_ids:
            refresh_derived_columns(medicine_ids, timezone.localdate())
            ids = sorted(medicine_ids)
            transaction.on_commit(
                lambda: signals.stock_changed.send(sender=Medicine, medicine_ids=ids, reason="adjustment")
            )
