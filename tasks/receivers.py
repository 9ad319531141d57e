"""Rescan stock soon after the catalogue says it changed, instead of waiting for the hourly scan.

Runs after the catalogue's transaction has committed. A burst of sales
produces one scan, not one per sale: the first change in a quiet period
enqueues a scan delayed by RESCAN_DELAY seconds and marks the period in the
cache; changes within it are covered by that scan, which runs after the last
of them committed. Without a broker (tasks run eagerly, ``make run``) nothing
is enqueued: a full scan inside every request that sells something would
slow the request down, and ``run_alerts`` and the schedules cover it.
Enqueueing never breaks the request that changed stock (see tasks.queue).
"""

from django.core.cache import cache

from .queue import enqueue_now

RESCAN_DELAY = 30
RESCAN_KEY = "tasks:stock-rescan-pending"


def stock_changed(sender, medicine_ids=None, reason="", **kwargs) -> None:
    # Whatever the reason: a receipt can clear an alert, every other change can raise
    # one, and a reason added to the catalogue later is covered without a list here.
    from .tasks import scan_low_stock

    if scan_low_stock.app.conf.task_always_eager:
        return
    if cache.add(RESCAN_KEY, 1, timeout=RESCAN_DELAY):
        enqueue_now(scan_low_stock, countdown=RESCAN_DELAY)
