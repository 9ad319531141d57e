"""The stock core: the only code that writes stock quantities, ledger movements and derived stock columns.

- ``locks``: the one lock point (medicines, lots, lot stocks; primary-key order);
- ``rules``: pure checks with the domain's errors, shared by services, import dry runs and forms;
- ``places``: which place an operation is at, and whether the member works there;
- ``services``: receipts, sales, write-offs, counts, returns, lot status and corrections;
- ``transfers``: moving lots between places;
- ``bulk``: the set-based writes of the imports; ``copy``: the one PostgreSQL COPY writer;
- ``derived``: the per-place and chain derived columns.

Callers import the services from here.
"""

from .bulk import OpeningLot, ReceiptLine, StockCount, lots_load_bulk, lots_receive_bulk, stock_count_bulk
from .derived import Flips
from .locks import batched, lock_medicines, lock_rows
from .places import (
    check_works_at,
    member_location_ids,
    quarantine_location,
    resolve_location,
    stock_locations,
    transit_location,
    visible_locations,
    works_at,
)
from .rules import CLOSED_TO_RECEIPTS, LOT_CORRECTION_REASON, CountBasis, ReasonRule, sellable_stock_q
from .services import (
    EXPIRY_SWEEP_REASON,
    LOT_DETAIL_FIELDS,
    RecallReport,
    fefo_plan,
    ledger_backdate,
    lot_quarantine,
    lot_recall,
    lot_receive,
    lot_release,
    lot_update_details,
    lots_expire,
    medicines_refresh_stock,
    stock_adjust,
    stock_dispense,
    stock_dispense_lines,
    stock_return,
    stock_write_off,
)
from .transfers import (
    Received,
    transfer_cancel,
    transfer_create,
    transfer_propose,
    transfer_receive,
    transfer_send,
    transfer_update_draft,
)

__all__ = [
    "CLOSED_TO_RECEIPTS",
    "EXPIRY_SWEEP_REASON",
    "LOT_CORRECTION_REASON",
    "LOT_DETAIL_FIELDS",
    "CountBasis",
    "Flips",
    "OpeningLot",
    "ReasonRule",
    "RecallReport",
    "ReceiptLine",
    "Received",
    "StockCount",
    "batched",
    "check_works_at",
    "fefo_plan",
    "ledger_backdate",
    "lock_medicines",
    "lock_rows",
    "lot_quarantine",
    "lot_recall",
    "lot_receive",
    "lot_release",
    "lot_update_details",
    "lots_expire",
    "lots_load_bulk",
    "lots_receive_bulk",
    "medicines_refresh_stock",
    "member_location_ids",
    "resolve_location",
    "sellable_stock_q",
    "stock_adjust",
    "stock_count_bulk",
    "stock_dispense",
    "stock_dispense_lines",
    "stock_locations",
    "stock_return",
    "stock_write_off",
    "transfer_cancel",
    "transfer_create",
    "transfer_propose",
    "transfer_receive",
    "transfer_send",
    "transfer_update_draft",
    "quarantine_location",
    "transit_location",
    "visible_locations",
    "works_at",
]
