"""What every role's dashboard is built with: figures, widgets, links to admin lists, badges, the places picked.

Each role's module (``owner``, ``pharmacist``, ``operator``, ``inventory``)
registers its builder with ``@builder(name)``; ``backoffice.dashboard``
imports them all and calls the one of the user's role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.roles import Role
from backoffice import selectors_dashboard as selectors
from catalog.formatting import group_thousands
from catalog.models import LotStatus
from catalog.stock import member_location_ids, visible_locations

DASHBOARD_CACHE_SECONDS = 60
CACHE_PREFIX = "dashboard:v2"
LOCATION_PARAM = "location"
OPERATOR_SEARCH_PARAM = "medicine"
OPERATOR_SEARCH_LIMIT = 5
OPERATOR_SEARCH_ALTERNATIVES = 3  # per match shown

# Which dashboard each role sees. A superuser without a staff role is an owner.
DASHBOARD_OF_ROLE = {
    Role.ADMIN: "owner",
    Role.PHARMACIST: "pharmacist",
    Role.OPERATOR: "operator",
    Role.INVENTORY: "inventory",
}


@dataclass
class Figure:
    """One number on a dashboard card, with the filtered list it comes from."""

    id: str
    title: str
    value: str
    href: str
    hint: str = ""
    tone: str = ""  # "", "warning", "danger": how loudly the card asks for attention


@dataclass
class Widget:
    id: str
    title: str
    href: str = ""
    table: dict = field(default_factory=dict)
    chart: str = ""
    link_text: str = ""


# --- links ------------------------------------------------------------------------
def admin_url(name: str, *args, **params) -> str:
    try:
        url = reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(params)}" if params else url


def lots_url(**params) -> str:
    return admin_url("catalog_lot_changelist", **params)


def available_lots_url(**params) -> str:
    # The lots behind the stock figures: available and holding stock.
    return lots_url(status__exact=LotStatus.AVAILABLE, on_hand="yes", **params)


def expired_lots_url() -> str:
    # Expired lots still holding stock, whatever their state: the expiry sweep marks them "expired".
    return lots_url(on_hand="yes", expiry="expired")


def medicines_url(**params) -> str:
    return admin_url("catalog_medicine_changelist", is_active__exact=1, **params)


def medicine_url(pk: int) -> str:
    return admin_url("catalog_medicine_change", pk)


def lot_url(pk: int) -> str:
    return admin_url("catalog_lot_change", pk)


def _day_params(day) -> dict:
    return {"year": day.year, "month": day.month, "day": day.day}


def orders_url(day, **params) -> str:
    """The completed sales of ``day`` in the orders list."""
    day_params = {f"completed_at__{k}": v for k, v in _day_params(day).items()}
    return admin_url("orders_order_changelist", status__exact="completed", **day_params, **params)


def returns_url(day) -> str:
    return admin_url("orders_return_changelist", **{f"created_at__{k}": v for k, v in _day_params(day).items()})


def open_alerts_url() -> str:
    return admin_url("tasks_alert_changelist", state="open")


def link(href: str, text) -> str:
    return format_html('<a class="text-primary-600 dark:text-primary-500 hover:underline" href="{}">{}</a>', href, text)


def badge(text, tone: str = "default") -> str:
    colours = {
        "danger": "bg-red-100 text-red-700 dark:bg-red-500/20 dark:text-red-400",
        "warning": "bg-orange-100 text-orange-700 dark:bg-orange-500/20 dark:text-orange-400",
        "success": "bg-green-100 text-green-700 dark:bg-green-500/20 dark:text-green-400",
        "info": "bg-blue-100 text-blue-700 dark:bg-blue-500/20 dark:text-blue-400",
        "default": "bg-base-500/8 text-base-700 dark:bg-base-500/20 dark:text-base-200",
    }
    return format_html(
        '<span class="inline-block font-semibold h-6 leading-6 px-2 rounded-default text-[11px] uppercase '
        'whitespace-nowrap {}">{}</span>',
        colours.get(tone, colours["default"]),
        text,
    )


def nowrap(text) -> str:
    """A code (an SKU, a lot number) on one line: "DX-00062" never breaks at its hyphen in a narrow column."""
    return format_html('<span class="whitespace-nowrap">{}</span>', text)


def number(value: int) -> str:
    return group_thousands(int(value))


def chart(labels: list[str], datasets: list[dict]) -> str:
    return json.dumps({"labels": labels, "datasets": datasets})


# --- places -----------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceSelection:
    """Whose stock a dashboard shows, and the switcher that picks it."""

    places: selectors.Places  # place ids taken together; None: the whole chain
    value: str  # the switcher's current value: a place's id, or "" for the default
    label: str  # what is shown: a place's name, "All my places", "Whole chain"
    options: list[tuple[str, str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The selection in a cache key: the same places give the same key, whoever asks."""
        return "chain" if self.places is None else "-".join(str(pk) for pk in sorted(self.places)) or "none"

    @property
    def several(self) -> bool:
        """More than one place at once: lists then say which place each line is at."""
        return self.places is None or len(self.places) > 1


def place_selection(user, requested: str = "") -> PlaceSelection:
    """The places the dashboard shows ``user``: ``requested`` (a place id) if they work there, else their default.

    Their default is their only place, or all their places summed; the
    administrator's the whole chain. One statement (the member's places).
    """
    every = member_location_ids(user) is None
    visible = list(visible_locations(user).values_list("pk", "name"))
    names = dict(visible)
    chosen = int(requested) if requested.isdigit() and int(requested) in names else None
    if every:
        default = (None, "", _("Whole chain"))
    elif len(visible) == 1:
        default = (frozenset(names), str(visible[0][0]), visible[0][1])
    else:
        default = (frozenset(names), "", _("All my places") if visible else _("No place"))
    options = [(str(pk), name) for pk, name in visible]
    if every or len(visible) > 1:
        options.insert(0, ("", default[2]))
    if chosen is None:
        places, value, label = default
    else:
        places, value, label = frozenset({chosen}), str(chosen), names[chosen]
    return PlaceSelection(places, value, label, options)


# --- the callback -------------------------------------------------------------------
def dashboard_for(user) -> str:
    if user.is_superuser:
        return "owner"
    return DASHBOARD_OF_ROLE.get(getattr(user, "role", None), "")


def cache_key(dashboard: str, places_key: str = "chain", language: str | None = None) -> str:
    return f"{CACHE_PREFIX}:{dashboard}:{places_key}:{language or get_language()}:{timezone.localdate():%Y%m%d}"


BUILDERS = {}


def builder(name: str):
    def register(fn):
        BUILDERS[name] = fn
        return fn

    return register
