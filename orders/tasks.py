"""Celery tasks of sales: each takes ids and calls one service."""

from __future__ import annotations

from celery import shared_task

from orders.fiscal import FiscalUnavailable
from orders.fiscal.services import order_fiscalise


@shared_task(
    name="orders.fiscalize",
    autoretry_for=(FiscalUnavailable,),
    retry_backoff=30,
    retry_backoff_max=600,
    # About eight hours of retries: a fiscal module down longer than a shift is an incident, not a retry.
    max_retries=50,
)
def fiscalize(order_id: int) -> str:
    """Register a sale's receipt with the fiscal module; idempotent (a fiscalised order is left alone)."""
    return order_fiscalise(order_id=order_id)
