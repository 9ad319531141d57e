"""The project package's periodic work: figures the dashboards keep instead of computing per page."""

from __future__ import annotations

from celery import shared_task

from backoffice.selectors_dashboard import keep_stock_value as keep


@shared_task(name="backoffice.keep_stock_value")
def keep_stock_value() -> dict:
    """Every place's stock value by expiry date, for the owner's dashboard (``selectors_dashboard``)."""
    kept = keep()
    return {"groups": len(kept.rows), "computed_at": kept.computed_at.isoformat()}
