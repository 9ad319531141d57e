"""The admin index: one dashboard per role, filled from selectors.

``dashboard_callback`` only asks ``backoffice.selectors_dashboard`` (and the
catalogue and alert selectors) for numbers and turns them into what the
template shows: formatted figures, each with the link to the filtered admin
list behind it. Each role's widgets are built by its own function (a module
of this package each: ``owner``, ``pharmacist``, ``operator``, ``inventory``) and cached
for ``DASHBOARD_CACHE_SECONDS`` per role, places and language (the figures
move with every sale; a minute old is fresh enough for a dashboard and spares
the database one aggregate pass per page view). The operator's search and the
pharmacist's till (their own open shift, the "New sale" button) are per
request and never cached.

Places. Stock figures are those of the places picked with ``?location=``
among the places the member works at (``place_selection``): by default their
only place, or all of them summed; the administrator's default is the whole
chain, and their dashboard puts every place side by side. A place the member
does not work at is not an error: they see their own places, as if they had
asked for nothing. The catalogue lists the figures link to are not per place
(yet): for a member of one place they show the same as the figure only while
there is one place.

The parts the builders share are in ``base``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from accounts.roles import Role
from catalog.formatting import format_date
from catalog.imports.permissions import import_kinds_allowed
from catalog.stock import stock_locations

# Each role's module registers its builder on import.
from . import inventory, operator, owner, pharmacist  # noqa: F401
from .base import (
    BUILDERS,
    DASHBOARD_CACHE_SECONDS,
    LOCATION_PARAM,
    OPERATOR_SEARCH_PARAM,
    cache_key,
    dashboard_for,
    place_selection,
)
from .operator import operator_search
from .pharmacist import pharmacist_till


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    role = getattr(request.user, "role", None)
    dashboard = dashboard_for(request.user)
    context.update(
        {
            "dashboard_role": role,
            "dashboard": dashboard,
            "role_label": Role(role).label if role in Role.values else "",
            "today_display": format_date(timezone.localdate()),
        }
    )
    if dashboard in BUILDERS:
        selection = place_selection(request.user, request.GET.get(LOCATION_PARAM, ""))
        context.update({"places": selection, "location_param": LOCATION_PARAM})
        key = cache_key(dashboard, selection.key)
        widgets = cache.get(key)
        if widgets is None:
            widgets = BUILDERS[dashboard](selection)
            cache.set(key, widgets, DASHBOARD_CACHE_SECONDS)
        context.update(widgets)
    if context.get("shortcuts"):
        # The cached dashboard is the role's; its import buttons are this person's.
        allowed = import_kinds_allowed(request.user)
        context["shortcuts"] = [shortcut for shortcut in context["shortcuts"] if shortcut["kind"] in allowed]
    if dashboard == "operator":
        context.update(operator_search(request.GET.get(OPERATOR_SEARCH_PARAM, "")))
    if dashboard == "pharmacist":
        context.update(pharmacist_till(request.user))
    return context


def clear_cache(places_keys=None) -> None:
    """Forget the cached dashboards of ``places_keys`` (``PlaceSelection.key``; default: the whole
    chain, each place alone and every place together), every role and language (tests, benchmarks)."""
    if places_keys is None:
        ids = sorted(stock_locations().values_list("pk", flat=True))
        places_keys = ["chain", "none", *(str(pk) for pk in ids), "-".join(str(pk) for pk in ids)]
    cache.delete_many(
        [
            cache_key(dashboard, places_key, code)
            for dashboard in BUILDERS
            for places_key in places_keys
            for code, _name in settings.LANGUAGES
        ]
    )
