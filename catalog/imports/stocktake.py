"""Stocktake import: the counted stock of each lot at a place, written by ``catalog.stock.stock_count_bulk``.

What is counted is what stands on the shelf: ``counted_quantity`` in whole
packs and, for a medicine sold by the part, an optional ``parts`` column for
the loose parts of opened packs (5 packs and 1 blister of a box of 2:
``counted_quantity`` 5, ``parts`` 1 = 11 units). A medicine sold whole leaves
``parts`` empty. The count is of the place chosen on upload
(``ImportJob.location``) or of the place a row names in its ``location``
column (code or name), which must be one the member works at; stock elsewhere
is untouched. The lots export carries these columns, so an export imported
back reports every row unchanged.

A count is taken against the book of its moment, at its place. The dry run
stores, with the job, the stock of every counted lot at its place (what the
preview shows) and the id of the lot's latest adjustment movement there; the
confirmation applies ``counted - book at the count`` to the stock as it is then,
under the locks (``rules.check_count``). So a sale or a receipt between the
upload and the confirmation stays in the books: book 47, counted 47, 2 sold
since -> no adjustment, 45 left. A difference that later sales have overtaken
(it would leave the lot below zero there) is refused: the lot needs counting
again. A count is refused too when the lot was counted again at that place
after the check (another stocktake file, this file confirmed once more, a count
entered by hand): its difference was taken against a book that count has since
replaced, and the same units would be found missing twice. A lot whose count
matches gets no movement; any other difference becomes one adjustment movement
there, with the lot's history attributed to the importing user.

This module parses and plans only; ``stock_count_bulk`` locks, checks the same
rules again and writes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils.translation import gettext_lazy

from catalog.exceptions import CatalogError
from catalog.formatting import medicine_units
from catalog.imports.base import (
    LOCATION_COLUMN,
    MEDICINE_CODE_COLUMNS,
    UNCHANGED,
    UPDATED,
    Column,
    Importer,
    Places,
    Plan,
    ProgressCallback,
    apply_by_place,
    no_progress,
    out_of_range_message,
    rule_error,
)
from catalog.imports.messages import deferred as _  # stored, put into words when read
from catalog.imports.parsing import cell_text, parse_int
from catalog.imports.receipt import (
    SellableTotals,
    medicine_column_cells,
    medicine_id_for,
    repeated_row,
    resolve_medicines,
)
from catalog.models import Location, Lot
from catalog.stock import CountBasis, StockCount, lock_medicines, rules, stock_count_bulk
from catalog.stock.bulk import last_adjustments, lot_stocks, lots_by_number

LOT_QUANTITY = Lot._meta.get_field("quantity")


def basis_key(lot_id: int, location_id: int) -> str:
    """The key of a lot at a place in the job's stored basis (JSON keys are text)."""
    return f"{lot_id}@{location_id}"


@dataclass(frozen=True)
class PlannedCount:
    location: Location
    count: StockCount


def _preview(code: str, lot_number: str, location: Location, stock_now: int, counted: int, medicine) -> list:
    return [
        code,
        medicine.name,
        lot_number,
        location.code,
        medicine_units(stock_now, medicine),
        medicine_units(counted, medicine),
    ]


class StocktakeImporter(Importer):
    kind = "stocktake"
    summary = gettext_lazy(
        "One row per lot counted at the location: whole packs in counted_quantity and, for a medicine sold by "
        "the part, the loose parts of opened packs in parts (5 packs and 1 blister: 5 and 1). The lots export "
        "has these columns."
    )
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
            gettext_lazy("Whole packs counted on the shelf, a whole number (0 if none)."),
            ("118", "0"),
            aliases=("counted", "count", "quantity", "packs"),
        ),
        Column(
            "parts",
            gettext_lazy(
                "Optional, for a medicine sold by the part: loose parts of opened packs counted besides "
                "(e.g. blisters); empty for a medicine sold whole."
            ),
            ("", "1"),
            required=False,
            aliases=("loose_parts",),
        ),
        LOCATION_COLUMN,
    ]
    one_of = [("sku", "barcode")]
    # Columns the lots export carries for people to read.
    ignored = ("medicine", "expiry_date", "received_date", "status", "purchase_price", "supplier", "on_hand")
    preview_headers = ("sku / barcode", "medicine", "lot_number", "location", "quantity on hand", "counted_quantity")

    def plan(self, *, lock: bool = False, progress: ProgressCallback = no_progress) -> Plan:
        plan = self.new_plan()
        places = Places(user=self.user, default=self.location)
        places.check_default(plan)
        parsed = []
        for line, cells in self.table.rows:
            sku, barcode = medicine_column_cells(self, plan, line, cells)
            lot_number = cell_text(self.cell(cells, "lot_number"))
            if not lot_number:
                plan.error(line, "lot_number", _("This cell is empty."))
            packs = self.parse_cell(plan, line, cells, "counted_quantity", parse_int, field=LOT_QUANTITY)
            if packs is not None and packs < 0:
                plan.error(line, "counted_quantity", _("A counted quantity cannot be negative."))
            parts = self.parse_cell(plan, line, cells, "parts", parse_int, required=False, field=LOT_QUANTITY)
            if parts is not None and parts < 0:
                plan.error(line, "parts", _("A number of loose parts cannot be negative."))
            location = places.for_row(plan, line, cell_text(self.cell(cells, "location")))
            parsed.append((line, sku, barcode, lot_number, packs, parts or 0, location))
        progress(20)

        by_sku, by_barcode, medicines = resolve_medicines(
            {row[1] for row in parsed if row[1]}, {row[2] for row in parsed if row[2]}
        )
        rows, seen = [], {}
        for line, sku, barcode, lot_number, packs, parts, location in parsed:
            medicine_id = medicine_id_for(plan, line, sku, barcode, by_sku, by_barcode)
            if medicine_id is not None and lot_number and location is not None:
                if repeated_row(plan, seen, (medicine_id, lot_number, location.pk), line, lot_number):
                    continue
            if line not in plan.error_lines:
                rows.append((line, medicine_id, lot_number, packs, parts, location, sku or barcode))
        del parsed

        medicine_ids = sorted({row[1] for row in rows})
        confirming = self.basis is not None
        if lock and medicine_ids:
            lock_medicines(medicine_ids)
        lots = lots_by_number({(row[1], row[2]) for row in rows}, lock=lock)
        wanted: dict[int, set[int]] = defaultdict(set)  # place -> counted lots there
        for _line, medicine_id, lot_number, _packs, _parts, location, _code in rows:
            lot = lots.get((medicine_id, lot_number))
            if lot is not None:
                wanted[location.pk].add(lot.pk)
        if not confirming:
            # Read before the stock: a count applied between the two reads then shows
            # at confirmation as one since the check (refused), never as none.
            last = {place: last_adjustments(ids, place) for place, ids in sorted(wanted.items())}
        stocks = lot_stocks({pk for ids in wanted.values() for pk in ids}, wanted, lock=lock)
        if confirming:
            # Under the lots' and stocks' locks: no other count can land on them until this commits.
            last = {place: last_adjustments(ids, place) for place, ids in sorted(wanted.items())}
        totals = SellableTotals(medicine_ids)
        progress(50)

        book_at_count: dict[str, int] = (self.basis or {}).get("book", {}) if confirming else {}
        # A job checked before the check recorded them has none: its lines are refused (upload again).
        adjusted_at_count: dict[str, int | None] | None = (self.basis or {}).get("adjusted") if confirming else {}
        if not confirming:
            plan.basis["book"] = book_at_count
            plan.basis["adjusted"] = adjusted_at_count
        moved: dict[int, int] = defaultdict(int)  # lot -> the differences planned so far, over its places
        for line, medicine_id, lot_number, packs, parts, location, code in rows:
            lot = lots.get((medicine_id, lot_number))
            if lot is None:
                plan.error(line, "lot_number", _("This medicine has no lot %(lot)s.") % {"lot": lot_number})
                continue
            medicine = medicines[medicine_id]
            if parts and medicine.parts_per_pack == 1:
                plan.error(line, "parts", _("This medicine is sold in whole packs: leave the parts empty."))
                continue
            counted = packs * medicine.parts_per_pack + parts
            problem = out_of_range_message(LOT_QUANTITY, counted)
            if problem:
                plan.error(line, "counted_quantity", problem)
                continue
            stock = stocks.get((lot.pk, location.pk))
            stock_now = stock.quantity if stock else 0
            key = basis_key(lot.pk, location.pk)
            last_now = last[location.pk].get(lot.pk)
            if not confirming:
                book_at_count[key] = stock_now
                adjusted_at_count[key] = last_now
            book = book_at_count.get(key)
            if book is None:
                plan.error(
                    line,
                    "lot_number",
                    _("Lot %(lot)s has no book quantity from the check: upload the file again.") % {"lot": lot_number},
                )
                continue
            if adjusted_at_count is None or key not in adjusted_at_count:
                plan.error(
                    line,
                    "counted_quantity",
                    _("Lot %(lot)s was checked by an earlier version of this import: upload the file again.")
                    % {"lot": lot_number},
                )
                continue
            basis = CountBasis(book_quantity=book, last_adjustment_id=adjusted_at_count[key])
            try:
                difference = rules.check_count(
                    lot, counted_quantity=counted, stock_now=stock_now, basis=basis, last_adjustment_id=last_now
                )
            except CatalogError as error:
                rule_error(plan, line, error, column="counted_quantity")
                continue
            values = partial(_preview, code, lot_number, location, stock_now, counted, medicine)
            if difference == 0:
                plan.mark(line, UNCHANGED, values)
                continue
            problem = out_of_range_message(LOT_QUANTITY, lot.quantity + moved[lot.pk] + difference)
            if problem:
                plan.error(line, "counted_quantity", problem)
                continue
            if not totals.add(plan, line, "counted_quantity", medicine_id, difference):
                continue
            moved[lot.pk] += difference
            plan.actions.append(PlannedCount(location, StockCount(lot.pk, counted, basis, ref=line)))
            plan.mark(line, UPDATED, values)
        plan.finish()
        progress(60)
        return plan

    def apply(self, plan: Plan, *, user, reference: str, progress: ProgressCallback = no_progress) -> None:
        assert transaction.get_connection().in_atomic_block, "apply runs inside the import's transaction"
        apply_by_place(
            [(action.location, action.count) for action in plan.actions],
            lambda location, counts, step: stock_count_bulk(
                location=location,
                counts=counts,
                user=user,
                reason="Stocktake",  # a code, read in the reader's language (backoffice.history_display)
                reference=reference,
                progress=step,
            ),
            progress,
        )
