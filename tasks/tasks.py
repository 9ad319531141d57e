"""Celery tasks of the alerts. Each calls one service and is idempotent.

Scans write through the partial unique index on open alerts, deliveries
through their unique (alert, channel, recipient) claim: a task redelivered
after its worker died (late acknowledgement) or run twice at once gives the
same result as one run.
"""

from __future__ import annotations

from celery import shared_task

from . import services
from .queue import enqueue_on_commit


@shared_task(name="tasks.scan_expiry")
def scan_expiry() -> dict:
    result = services.alerts_scan_expiry()
    if result.created:
        enqueue_on_commit(send_alert_notifications)
    return result.as_dict()


@shared_task(name="tasks.scan_low_stock")
def scan_low_stock() -> dict:
    result = services.alerts_scan_low_stock()
    if result.created:
        enqueue_on_commit(send_alert_notifications)
    return result.as_dict()


@shared_task(name="tasks.sweep_expired_lots")
def sweep_expired_lots() -> dict:
    """Expire lots past their date, then rescan expiry so that their "expired" alerts open at once."""
    expired = services.lots_sweep_expired()
    result = services.alerts_scan_expiry()
    if result.created:
        enqueue_on_commit(send_alert_notifications)
    return {"expired_lots": expired, **result.as_dict()}


@shared_task(name="tasks.send_alert_notifications", bind=True, max_retries=12)
def send_alert_notifications(self) -> dict:
    result = services.alerts_notify()
    if result.retry_in is not None and not self.request.is_eager:
        # The deliveries carry their own next-attempt time: this retry only
        # wakes the sender up; an early or duplicate wake-up sends nothing.
        raise self.retry(countdown=result.retry_in)
    return {"sent": result.sent, "failed": result.failed}


@shared_task(name="tasks.daily_digest", bind=True, max_retries=12)
def daily_digest(self) -> dict:
    result = services.alerts_digest_send()
    if result.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=result.retry_in)
    return {"sent": result.sent, "failed": result.failed}
