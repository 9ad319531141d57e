"""The UNFOLD settings dict, kept apart from settings/base.py for legibility.

Everything here is declarative; the callables it names live in
``backoffice/navigation.py`` and ``backoffice/dashboard/``.
"""

from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _

UNFOLD = {
    "SITE_TITLE": "Dorixona",
    "SITE_HEADER": "Dorixona",
    "SITE_SUBHEADER": _("Pharmacy back-office"),
    "SITE_SYMBOL": "local_pharmacy",
    "SITE_URL": "/",
    "SITE_FAVICONS": [
        {
            "rel": "icon",
            "sizes": "any",
            "type": "image/svg+xml",
            "href": lambda request: static("backoffice/favicon.svg"),
        },
    ],
    # After chart.js and before Unfold's app.js draws the charts.
    "SCRIPTS": [
        lambda request: static("backoffice/js/charts.js"),
        lambda request: static("backoffice/js/labels.js"),
    ],
    # Phones at the shelf: stacked tables as short rows, labels capitalised as the languages write them.
    "STYLES": [lambda request: static("backoffice/css/phone.css")],
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "SHOW_LANGUAGES": True,
    "SHOW_BACK_BUTTON": True,
    "ENVIRONMENT": "backoffice.navigation.environment_label",
    "DASHBOARD_CALLBACK": "backoffice.dashboard.dashboard_callback",
    "LOGIN": {
        "form": "accounts.forms.StaffLoginForm",
    },
    "COLORS": {
        # Pharmacy green.
        "primary": {
            "50": "oklch(98.2% .018 155.826)",
            "100": "oklch(96.2% .044 156.743)",
            "200": "oklch(92.5% .084 155.995)",
            "300": "oklch(87.1% .15 154.449)",
            "400": "oklch(79.2% .209 151.711)",
            "500": "oklch(72.3% .219 149.579)",
            "600": "oklch(62.7% .194 149.214)",
            "700": "oklch(52.7% .154 150.069)",
            "800": "oklch(44.8% .119 151.328)",
            "900": "oklch(39.3% .095 152.535)",
            "950": "oklch(26.6% .065 152.934)",
        },
    },
    # The sidebar's search box opens the command box, which finds medicines too (not only pages).
    "COMMAND": {
        "search_callback": "backoffice.navigation.command_search_medicines",
    },
    "SIDEBAR": {
        "show_search": True,
        "command_search": True,
        "show_all_applications": False,
        "navigation": "backoffice.navigation.sidebar",
    },
}
