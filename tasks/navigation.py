"""Sidebar badge of the Alerts entry (backoffice/navigation.py)."""

from django.http import HttpRequest

from catalog.stock import member_location_ids

from .selectors import open_alerts_count


def open_alerts_badge(request: HttpRequest) -> str | None:
    """How many open alerts at the member's places wait for someone to acknowledge them; no badge when none."""
    user = getattr(request, "user", None)
    count = open_alerts_count(location_ids=member_location_ids(user))
    return str(count) if count else None
