"""Follow the catalogue's stock changes: resolve what they cleared now, rescan soon for what they raised.

Runs after the catalogue's transaction has committed.

Resolving is immediate and bounded by the medicines the change touched
(``services.alerts_resolve_cleared``: a couple of indexed statements), so the
out-of-stock alert of a medicine just received is gone when the receipt's page
reloads. A failure there is logged and never reaches the change that
triggered it: the next scan settles the alerts anyway.

Opening alerts waits for a scan. A burst of sales produces one scan, not one
per sale: the first change in a quiet period enqueues a scan delayed by
RESCAN_DELAY seconds and marks the period in the cache; changes within it are
covered by that scan, which runs after the last of them committed. Without a
broker (tasks run eagerly, ``make run``) nothing is enqueued: a full scan
inside every request that sells something would slow the request down, and
``run_alerts`` and the schedules cover it. Enqueueing never breaks the request
that changed stock (see backoffice.queue).
"""

import logging

from celery import current_app
from django.core.cache import cache
from django.db import DatabaseError

from backoffice.queue import enqueue

from . import services

logger = logging.getLogger(__name__)

RESCAN_DELAY = 30
RESCAN_KEY = "tasks:stock-rescan-pending"


def stock_changed(sender, medicine_ids=None, reason="", **kwargs) -> None:
    # Whatever the reason: a receipt can clear an alert, every other change can raise
    # one, and a reason added to the catalogue later is covered without a list here.
    if medicine_ids:
        try:
            services.alerts_resolve_cleared(medicine_ids=medicine_ids)
        except DatabaseError:
            logger.exception("Could not resolve the alerts a stock change cleared; the next scan does")

    if current_app.conf.task_always_eager:
        return
    if cache.add(RESCAN_KEY, 1, timeout=RESCAN_DELAY):
        enqueue("tasks.scan_low_stock", countdown=RESCAN_DELAY)
