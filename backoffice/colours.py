"""The Unfold label colour of each state that more than one page shows.

The admin's list badges (``@display(label=...)``) and the dashboards'
badges (``backoffice.dashboard``) read the same map, so a state looks the
same everywhere; neither imports the other for it.
"""

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
