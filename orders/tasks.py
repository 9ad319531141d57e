"""Celery tasks of sales: each takes ids and calls one service.

Found by the Celery app's autodiscovery (``tasks/celery.py``: every installed app's ``tasks`` module) and
sent by name through ``backoffice.queue.enqueue`` on commit of the sale or return they describe.
"""

from __future__ import annotations

from celery import shared_task

from orders.fiscal import FiscalUnavailable
from orders.fiscal.services import order_fiscalise, return_fiscalise

# About eight hours of retries (backoff 30 s doubling, capped at 10 minutes): a fiscal module down longer
# than a shift is an incident, not a retry. The document stays "waiting" and can be sent again.
FISCAL_RETRY = {
    "autoretry_for": (FiscalUnavailable,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "max_retries": 50,
}


@shared_task(name="orders.fiscalize", **FISCAL_RETRY)
def fiscalize(order_id: int) -> str:
    """Register a sale's receipt with the fiscal module; idempotent (a fiscalised order is left alone)."""
    return order_fiscalise(order_id=order_id)


@shared_task(name="orders.fiscalize_return", **FISCAL_RETRY)
def fiscalize_return(return_id: int) -> str:
    """Register a return's refund receipt with the fiscal module; idempotent like ``orders.fiscalize``."""
    return return_fiscalise(return_id=return_id)
