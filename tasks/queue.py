"""Enqueue a Celery task after the current transaction commits, without ever breaking the caller.

A web request that enqueues work must still succeed when Redis is down:
the failure is logged and the periodic scans (which read live data) catch
up once the broker is back.
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_now(task, *args, countdown: int | None = None, **kwargs) -> bool:
    """Send ``task`` to the broker; False (and a log line) when that fails."""
    try:
        task.apply_async(args=args, kwargs=kwargs, countdown=countdown)
    except Exception:  # kombu/redis raise a zoo of connection errors; none may reach the caller
        logger.exception("Could not enqueue %s (broker unreachable?); the next scheduled run catches up", task.name)
        return False
    return True


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """``enqueue_now`` once the data the task reads is committed."""
    transaction.on_commit(lambda: enqueue_now(task, *args, **kwargs))
