"""The Unfold label colour of each state that more than one page shows.

The admin's list badges (``@display(label=...)``) and the dashboards'
badges (``backoffice.dashboard``) read the same map, so a state looks the
same everywhere; neither imports the other for it.
"""

import datetime

from django.utils import timezone

from catalog.models import ImportState
from tasks.models import Severity

IMPORT_STATE_COLOURS = {
    ImportState.UPLOADED: "info",
    ImportState.VALIDATING: "info",
    ImportState.READY: "warning",
    ImportState.INVALID: "danger",
    ImportState.APPLYING: "info",
    ImportState.DONE: "success",
    ImportState.FAILED: "danger",
}

SEVERITY_COLOURS = {Severity.CRITICAL: "danger", Severity.WARNING: "warning", Severity.INFO: "info"}

# An expiry date is graded by the days left: red within a month (or past), amber within a quarter,
# plain after that. The lots and medicines lists, the medicine page, the dashboards' badges and the
# owner's expiry chart all grade with ``expiry_tone``, so 5 days and 80 days never look alike.
EXPIRY_DANGER_DAYS = 30
EXPIRY_WARNING_DAYS = 90
# ``@display(label=EXPIRY_COLOURS)`` with a method returning ``(expiry_tone(...), text)``.
EXPIRY_COLOURS = {"danger": "danger", "warning": "warning", "default": "default"}
# The same grades as chart colours (Unfold's app.js resolves the CSS variables).
EXPIRY_CHART_COLOURS = {
    "danger": "var(--color-red-500)",
    "warning": "var(--color-orange-500)",
    "default": "var(--color-primary-600)",
}


def expiry_tone(expiry_date: datetime.date, today: datetime.date | None = None) -> str:
    """``"danger"`` up to 30 days left (or past), ``"warning"`` up to 90, ``"default"`` after that."""
    days_left = (expiry_date - (today or timezone.localdate())).days
    if days_left <= EXPIRY_DANGER_DAYS:
        return "danger"
    if days_left <= EXPIRY_WARNING_DAYS:
        return "warning"
    return "default"
