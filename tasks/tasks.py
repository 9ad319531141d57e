"""Celery tasks of the alerts. Each calls one service and is idempotent.

Scans write through the partial unique index on open alerts, deliveries
through their unique (alert, channel, recipient) claim: a task redelivered
after its worker died (late acknowledgement) or run twice at once gives the
same result as one run.
"""

from __future__ import annotations

from celery import shared_task

from backoffice.queue import enqueue

from . import services


def _notify_if_created(result: services.ScanResult) -> dict:
    """A scan that opened alerts wakes the sender once it has committed."""
    if result.created:
        enqueue("tasks.send_alert_notifications")
    return result.as_dict()


def _finish_sending(task, result: services.NotifyResult) -> dict:
    if result.retry_in is not None and not task.request.is_eager:
        # The deliveries carry their own next-attempt time: this retry only
        # wakes the sender up; an early or duplicate wake-up sends nothing.
        raise task.retry(countdown=result.retry_in)
    return {"sent": result.sent, "failed": result.failed}


@shared_task(name="tasks.scan_expiry")
def scan_expiry() -> dict:
    return _notify_if_created(services.alerts_scan_expiry())


@shared_task(name="tasks.scan_low_stock")
def scan_low_stock() -> dict:
    return _notify_if_created(services.alerts_scan_low_stock())


@shared_task(name="tasks.sweep_expired_lots")
def sweep_expired_lots() -> dict:
    """Expire lots past their date, then rescan expiry so that their "expired" alerts open at once."""
    expired = services.lots_sweep_expired()
    return {"expired_lots": expired, **_notify_if_created(services.alerts_scan_expiry())}


@shared_task(name="tasks.send_alert_notifications", bind=True, max_retries=12)
def send_alert_notifications(self) -> dict:
    return _finish_sending(self, services.alerts_notify())


@shared_task(name="tasks.daily_digest", bind=True, max_retries=12)
def daily_digest(self) -> dict:
    return _finish_sending(self, services.alerts_digest_send())
