"""Signals the catalogue sends after its transactions commit.

Receivers (alerts, notifications, cache invalidation) run after the data they
describe exists: the services send these from ``transaction.on_commit``.
"""

from django.dispatch import Signal

# kwargs: medicine_ids (list[int]), reason (str: "receipt", "dispense", "write_off", "adjustment",
# "return", "quarantine", "release", "recall", "expiry", "correction" (a lot's expiry date corrected),
# "refresh" (derived stock recomputed, e.g. by check_stock_ledger --fix-derived)),
# availability_changed (bool: some of the medicines went in or out of stock; a sender that cannot tell
# leaves it out, and receivers then take it as True)
stock_changed = Signal()

# kwargs: lot (Lot), report (catalog.stock.RecallReport), user (User | None)
lot_recalled = Signal()
