"""Sidebar badge of the Alerts entry (backoffice/navigation.py)."""

from django.http import HttpRequest

from .selectors import open_alerts_count


def open_alerts_badge(request: HttpRequest) -> str | None:
    """How many open alerts wait for someone to acknowledge them; no badge when none."""
    count = open_alerts_count()
    return str(count) if count else None
