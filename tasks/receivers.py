"""Rescan stock as soon as the catalogue says it changed, instead of waiting for the hourly scan.

Runs after the catalogue's transaction has committed; enqueueing never
breaks the request that changed stock (see tasks.queue).
"""

from .queue import enqueue_now

# A receipt can clear an alert; the rest can raise one.
RESCAN_REASONS = {
    "receipt", "dispense", "write_off", "adjustment", "return", "quarantine", "release", "recall", "expiry",
}


def stock_changed(sender, medicine_ids=None, reason="", **kwargs) -> None:
    if reason not in RESCAN_REASONS:
        return
    from .tasks import scan_low_stock

    enqueue_now(scan_low_stock)
