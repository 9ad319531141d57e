"""The admin index: one dashboard per role, filled from selectors.

``dashboard_callback`` only asks ``backoffice.selectors_dashboard`` (and the
catalogue and alert selectors) for numbers and turns them into what the
template shows: formatted figures, each with the link to the filtered admin
list behind it. Each role's widgets are built by its own function and cached
for ``DASHBOARD_CACHE_SECONDS`` per role, places and language (the figures
move with every sale; a minute old is fresh enough for a dashboard and spares
the database one aggregate pass per page view). The operator's search is per
request and never cached.

Places. Stock figures are those of the places picked with ``?location=``
among the places the member works at (``place_selection``): by default their
only place, or all of them summed; the administrator's default is the whole
chain, and their dashboard puts every place side by side. A place the member
does not work at is not an error: they see their own places, as if they had
asked for nothing. The catalogue lists the figures link to are not per place
(yet): for a member of one place they show the same as the figure only while
there is one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.roles import Role
from backoffice import selectors_dashboard as selectors
from catalog.admin.imports import STATE_LABELS as IMPORT_STATE_COLOURS
from catalog.formatting import format_date, format_day_month, format_month, format_uzs, group_thousands
from catalog.models import ImportKind, LotStatus, MovementKind
from catalog.stock import member_location_ids, visible_locations
from tasks.admin import SEVERITY_COLOURS

DASHBOARD_CACHE_SECONDS = 60
CACHE_PREFIX = "dashboard:v2"
LOCATION_PARAM = "location"
OPERATOR_SEARCH_PARAM = "medicine"
OPERATOR_SEARCH_LIMIT = 5

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


def medicines_url(**params) -> str:
    return admin_url("catalog_medicine_changelist", is_active__exact=1, **params)


def medicine_url(pk: int) -> str:
    return admin_url("catalog_medicine_change", pk)


def lot_url(pk: int) -> str:
    return admin_url("catalog_lot_change", pk)


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
        from catalog.imports.permissions import import_kinds_allowed

        allowed = import_kinds_allowed(request.user)
        context["shortcuts"] = [shortcut for shortcut in context["shortcuts"] if shortcut["kind"] in allowed]
    if dashboard == "operator":
        context.update(operator_search(request.GET.get(OPERATOR_SEARCH_PARAM, "")))
    return context


def clear_cache(places_keys=None) -> None:
    """Forget the cached dashboards of ``places_keys`` (``PlaceSelection.key``; default: the whole
    chain, each place alone and every place together), every role and language (tests, benchmarks)."""
    from django.conf import settings

    from catalog.stock import stock_locations

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


# --- owner / administrator --------------------------------------------------------------
@builder("owner")
def owner_widgets(selection: PlaceSelection) -> dict:
    from tasks.selectors import open_alerts_count

    today = timezone.localdate()
    places = selection.places
    # One pass over every place's stock: the selection's figures and the table of places.
    profile = selectors.stock_value_profile(places=places, today=today, every_place=True)
    summary = selectors.medicine_summary(places=places)
    value_at_retail, categories = selectors.retail_value_by_category(places=places)
    alerts = open_alerts_count(location_ids=places)
    imports_today = selectors.imports_today_count()
    figures = [
        Figure(
            "owner-stock-cost",
            _("Stock value at cost"),
            format_uzs(profile.value_at_cost),
            available_lots_url(),
            _("Available lots with stock, at purchase price"),
        ),
        Figure(
            "owner-stock-retail",
            _("Stock value at retail"),
            format_uzs(value_at_retail),
            medicines_url(),
            _("Sellable stock at today's prices"),
        ),
        Figure(
            "owner-expiring-30",
            _("Expiring within 30 days"),
            format_uzs(profile.value_expiring[30]),
            available_lots_url(expiry=30),
            _("At purchase price"),
            "danger" if profile.value_expiring[30] else "",
        ),
        Figure(
            "owner-expiring-90",
            _("Expiring within 90 days"),
            format_uzs(profile.value_expiring[90]),
            available_lots_url(expiry=90),
            _("At purchase price"),
            "warning" if profile.value_expiring[90] else "",
        ),
        Figure(
            "owner-out-of-stock",
            _("Out of stock"),
            number(summary.out_of_stock),
            medicines_url(stock="out"),
            _("Active medicines"),
            "danger" if summary.out_of_stock else "",
        ),
        Figure(
            "owner-low-stock",
            _("Low stock"),
            number(summary.low_stock),
            medicines_url(stock="low"),
            _("At or below the reorder level"),
            "warning" if summary.low_stock else "",
        ),
        Figure(
            "owner-open-alerts",
            _("Open alerts"),
            number(alerts),
            open_alerts_url(),
            _("Not acknowledged yet"),
            "warning" if alerts else "",
        ),
        Figure(
            "owner-imports-today",
            _("Imports today"),
            number(imports_today),
            admin_url(
                "catalog_importjob_changelist",
                created_at__year=today.year,
                created_at__month=today.month,
                created_at__day=today.day,
            ),
            _("Uploaded files"),
        ),
    ]
    by_category = chart(
        [c.name for c in categories],
        [
            {
                "label": _("Retail value, so'm"),
                "data": [float(c.value) for c in categories],
                "backgroundColor": "var(--color-primary-600)",
                "maxBarThickness": 28,
            }
        ],
    )
    by_month = chart(
        [format_month(month) for month, _value in profile.value_by_month],
        [
            {
                "label": _("Purchase value expiring, so'm"),
                "data": [float(v) for _m, v in profile.value_by_month],
                "backgroundColor": "var(--color-primary-400)",
                "maxBarThickness": 28,
            }
        ],
    )
    dispensed_days = selectors.units_dispensed_by_day(places=places, days=30)
    dispensed = chart(
        [format_day_month(day) for day, _units in dispensed_days],
        [
            {
                "label": _("Units dispensed"),
                "data": [units for _d, units in dispensed_days],
                "borderColor": "var(--color-primary-600)",
                "backgroundColor": "var(--color-primary-600)",
            }
        ],
    )
    changes = selectors.latest_changes(limit=10)
    return {
        "figures": figures,
        "charts": [
            Widget(
                "owner-chart-category",
                _("Stock value by category"),
                medicines_url(stock="in"),
                chart=by_category,
                link_text=_("Medicines in stock"),
            ),
            Widget(
                "owner-chart-expiry",
                _("Value at risk of expiry, next 12 months"),
                available_lots_url(expiry=180),
                chart=by_month,
                link_text=_("Lots expiring within 180 days"),
            ),
        ],
        "line_charts": [
            Widget(
                "owner-chart-dispensed",
                _("Units dispensed per day, last 30 days"),
                admin_url("catalog_stockmovement_changelist", kind__exact=MovementKind.DISPENSE),
                chart=dispensed,
                link_text=_("Dispensing in the stock ledger"),
            ),
        ],
        "tables": [
            Widget(
                "owner-places",
                _("Places side by side"),
                table=_places_table(selectors.places_side_by_side(profile)),
            ),
            Widget("owner-latest-changes", _("Latest audited changes"), table=_changes_table(changes)),
        ],
    }


def _places_table(table: selectors.PlacesTable) -> dict:
    """Each place's stock value, value expiring within 90 days and medicines out of stock there; the chain last."""

    def out(count: int | None):
        return "—" if count is None else badge(number(count), "danger" if count else "success")

    rows = [
        [line.location.name, format_uzs(line.value_at_cost), format_uzs(line.value_expiring), out(line.out_of_stock)]
        for line in table.lines
    ]
    rows.append(
        [
            format_html("<strong>{}</strong>", _("Whole chain")),
            format_html("<strong>{}</strong>", format_uzs(table.value_at_cost)),
            format_html("<strong>{}</strong>", format_uzs(table.value_expiring)),
            format_html("<strong>{}</strong>", number(table.out_of_stock)),
        ]
    )
    return {
        "headers": [_("place"), _("stock value at cost"), _("expiring within 90 days"), _("out of stock")],
        "rows": rows,
    }


def _changes_table(rows: list[dict]) -> dict:
    from django.apps import apps

    history_types = {"+": ("success", _("Created")), "~": ("info", _("Changed")), "-": ("danger", _("Deleted"))}
    table_rows = []
    for row in rows:
        app_label, model_name = row["model"].split(".")
        model = apps.get_model(app_label, model_name)
        tone, kind = history_types.get(row["history_type"], ("default", row["history_type"]))
        who = " ".join(filter(None, [row["user_first_name"], row["user_last_name"]])) or row["user_phone"] or "—"
        href = admin_url(f"{app_label}_{model_name}_history", row["object_id"])
        table_rows.append(
            [
                format_date(row["history_date"]),
                capfirst(str(model._meta.verbose_name)),
                link(href, row["label"]) if href else row["label"],
                badge(kind, tone),
                who,
                row["reason"] or "—",
            ]
        )
    return {"headers": [_("when"), _("what"), _("record"), _("change"), _("by"), _("reason")], "rows": table_rows}


# --- pharmacist ------------------------------------------------------------------
@builder("pharmacist")
def pharmacist_widgets(selection: PlaceSelection) -> dict:
    places = selection.places
    counts = selectors.lot_action_counts(places=places)
    rx_out = selectors.medicine_summary(places=places, low_stock=False).rx_out_of_stock
    figures = [
        Figure(
            "pharmacist-expired",
            _("Expired, still on the shelf"),
            number(counts.lots_expired),
            available_lots_url(expiry="expired"),
            _("Lots to write off"),
            "danger" if counts.lots_expired else "",
        ),
        *[
            Figure(
                f"pharmacist-expiring-{days}",
                _("Expiring within %(days)d days") % {"days": days},
                number(counts.lots_expiring[days]),
                available_lots_url(expiry=days),
                _("Lots"),
                ("danger" if days == 30 else "warning" if days == 90 else "") if counts.lots_expiring[days] else "",
            )
            for days in selectors.EXPIRY_WINDOWS
        ],
        Figure(
            "pharmacist-quarantined",
            _("Quarantined lots"),
            number(counts.lots_quarantined),
            lots_url(status__exact=LotStatus.QUARANTINED),
            _("Waiting for a decision"),
            "warning" if counts.lots_quarantined else "",
        ),
        Figure(
            "pharmacist-recalled",
            _("Recalled lots"),
            number(counts.lots_recalled),
            lots_url(status__exact=LotStatus.RECALLED),
            _("Set aside for the supplier"),
        ),
        Figure(
            "pharmacist-rx-out",
            _("Prescription medicines out of stock"),
            number(rx_out),
            medicines_url(stock="out", is_prescription__exact=1),
            _("Active medicines"),
            "danger" if rx_out else "",
        ),
    ]
    stocks = selectors.stock_to_act_on(places=places, within_days=90)
    lot_rows = [
        [
            link(lot_url(held.lot_id), held.lot.lot_number),
            link(medicine_url(held.lot.medicine_id), held.lot.medicine.name),
            *([held.location.name] if selection.several else []),
            badge(
                format_date(held.lot.expiry_date),
                "danger" if held.lot.expiry_date <= timezone.localdate() else "warning",
            ),
            number(held.quantity),
            format_uzs(held.quantity * held.lot.purchase_price),
        ]
        for held in stocks
    ]
    rx_rows = [
        [
            link(medicine_url(line.medicine.pk), line.medicine.name),
            *([line.location.name] if selection.several and line.location else []),
            line.medicine.sku,
            line.medicine.manufacturer.name,
            number(line.medicine.number_sold),
        ]
        for line in selectors.rx_out_of_stock(places=places, limit=10)
    ]
    return {
        "figures": figures,
        "tables": [
            Widget(
                "pharmacist-lots-to-act",
                _("Lots to act on: expired or expiring within 90 days"),
                available_lots_url(expiry=90),
                table={
                    "headers": [
                        _("lot"),
                        _("medicine"),
                        *([_("place")] if selection.several else []),
                        _("expires"),
                        _("quantity"),
                        _("value at cost"),
                    ],
                    "rows": lot_rows,
                },
                link_text=_("All lots expiring within 90 days"),
            ),
            Widget(
                "pharmacist-rx-out-list",
                _("Prescription medicines out of stock"),
                medicines_url(stock="out", is_prescription__exact=1),
                table={
                    "headers": [
                        _("medicine"),
                        *([_("place")] if selection.several and places is not None else []),
                        _("SKU"),
                        _("manufacturer"),
                        _("sold"),
                    ],
                    "rows": rx_rows,
                },
                link_text=_("All of them"),
            ),
        ],
    }


# --- operator --------------------------------------------------------------------
@builder("operator")
def operator_widgets(selection: PlaceSelection) -> dict:
    from tasks.selectors import alerts_open, open_alerts_count

    places = selection.places
    alerts = open_alerts_count(location_ids=places)
    missing = selectors.out_of_stock_with_alternatives(places=places, limit=10, per_medicine=3)
    rows = []
    for line in missing:
        offered = (
            format_html_join(
                ", ",
                "{} ({}, {})",
                (
                    (
                        link(medicine_url(a.pk), a.name),
                        format_uzs(a.price),
                        _("%(n)s in stock") % {"n": number(a.units_here)},
                    )
                    for a in line.alternatives
                ),
            )
            if line.alternatives
            else _("No alternative in stock")
        )
        place = [line.location.name] if selection.several and line.location else []
        rows.append([link(medicine_url(line.medicine.pk), line.medicine.name), *place, offered])
    alert_rows = [
        [
            link(admin_url("tasks_alert_change", alert.pk), str(alert)),
            *([alert.location.name if alert.location_id else "—"] if selection.several else []),
            badge(alert.get_severity_display(), SEVERITY_COLOURS.get(alert.severity, "info")),
            format_date(alert.first_seen),
        ]
        for alert in alerts_open(location_ids=places)[:5]
    ]
    summary_out = selectors.medicine_summary(places=places, low_stock=False).out_of_stock
    return {
        "figures": [
            Figure(
                "operator-out-of-stock",
                _("Out of stock"),
                number(summary_out),
                medicines_url(stock="out"),
                _("Active medicines"),
                "danger" if summary_out else "",
            ),
            Figure(
                "operator-open-alerts",
                _("Open alerts"),
                number(alerts),
                open_alerts_url(),
                _("Not acknowledged yet"),
                "warning" if alerts else "",
            ),
        ],
        "tables": [
            Widget(
                "operator-out-of-stock-list",
                _("Out of stock: what to offer instead"),
                medicines_url(stock="out"),
                table={
                    "headers": [
                        _("medicine"),
                        *([_("place")] if selection.several and places is not None else []),
                        _("in-stock alternatives"),
                    ],
                    "rows": rows,
                },
                link_text=_("All medicines out of stock"),
            ),
            Widget(
                "operator-alerts",
                _("Open alerts"),
                open_alerts_url(),
                table={
                    "headers": [
                        _("alert"),
                        *([_("place")] if selection.several else []),
                        _("severity"),
                        _("since"),
                    ],
                    "rows": alert_rows,
                },
                link_text=_("All open alerts"),
            ),
        ],
    }


def operator_search(query: str) -> dict:
    """The operator's search box: matches by name, substance or barcode, with stock and alternatives at once.

    Up to five matches; the alternatives of the first one (the one the caller
    most likely means). A handful of indexed queries, per request.
    """
    from catalog.selectors import medicine_alternatives, medicine_search

    query = (query or "").strip()[:100]
    context = {"search_query": query, "search_param": OPERATOR_SEARCH_PARAM}
    if not query:
        return context
    # Inactive medicines are found too (the caller may ask about one), marked as such.
    matches = list(medicine_search(query=query)[:OPERATOR_SEARCH_LIMIT])
    context["search_results"] = {
        "headers": [_("medicine"), _("price"), _("sellable stock"), _("nearest expiry"), _("manufacturer")],
        "rows": [
            [
                link(medicine_url(m.pk), m.name)
                if m.is_active
                else format_html("{} {}", link(medicine_url(m.pk), m.name), badge(_("Inactive"))),
                format_uzs(m.price),
                badge(_("Out of stock"), "danger")
                if m.is_out_of_stock
                else badge(number(m.sellable_quantity), "warning" if m.is_low_stock else "success"),
                format_date(m.nearest_expiry) or "—",
                m.manufacturer.name,
            ]
            for m in matches
        ],
    }
    if matches:
        first = matches[0]
        alternatives = medicine_alternatives(medicine=first, limit=5)
        context["search_first"] = first.name
        context["search_alternatives"] = {
            "headers": [_("alternative"), _("kind"), _("price"), _("sellable stock")],
            "rows": [
                [
                    link(medicine_url(a.pk), a.name),
                    badge(_("Same generic"), "success")
                    if a.alternative_kind == "exact"
                    else badge(_("Same substances"), "info"),
                    format_uzs(a.price),
                    number(a.sellable_quantity),
                ]
                for a in alternatives
            ],
        }
    return context


# --- inventory -------------------------------------------------------------------
@builder("inventory")
def inventory_widgets(selection: PlaceSelection) -> dict:
    places = selection.places
    counts = selectors.lot_action_counts(places=places, windows=(30,), set_aside=False)
    reorder = selectors.reorder_suggestions(places=places, limit=12)
    summary_low = selectors.medicine_summary(places=places).low_stock
    imports = selectors.recent_imports(limit=8)
    expiring = selectors.stock_to_act_on(places=places, within_days=30, include_expired=False, limit=10)
    reorder_rows = [
        [
            link(medicine_url(line.medicine.pk), line.medicine.name),
            *([line.location.name] if selection.several else []),
            badge(_("Out of stock"), "danger")
            if line.is_out_of_stock
            else badge(number(line.sellable_quantity), "warning"),
            number(line.reorder_level),
            number(line.dispensed_30_days),
            format_html("<strong>{}</strong>", number(line.suggested)),
        ]
        for line in reorder
    ]
    import_rows = [
        [
            format_date(job.created_at),
            job.get_kind_display(),
            link(admin_url("catalog_importjob_preview", job.pk), job.original_name),
            badge(job.get_state_display(), IMPORT_STATE_COLOURS.get(job.state, "info")),
            number(job.total_rows),
            str(job.created_by),
        ]
        for job in imports
    ]
    expiring_rows = [
        [
            link(lot_url(held.lot_id), held.lot.lot_number),
            link(medicine_url(held.lot.medicine_id), held.lot.medicine.name),
            *([held.location.name] if selection.several else []),
            badge(format_date(held.lot.expiry_date), "warning"),
            number(held.quantity),
        ]
        for held in expiring
    ]
    shortcuts = [
        {
            "id": f"inventory-import-{kind}",
            "kind": kind,
            "title": str(label),
            "href": admin_url("catalog_importjob_upload", kind=kind),
            "template_href": admin_url("catalog_importjob_template", kind, "xlsx"),
        }
        for kind, label in ImportKind.choices
    ]
    return {
        "figures": [
            Figure(
                "inventory-low-stock",
                _("Low stock"),
                number(summary_low),
                medicines_url(stock="low"),
                _("At or below the reorder level"),
                "warning" if summary_low else "",
            ),
            Figure(
                "inventory-expiring-30",
                _("Expiring within 30 days"),
                number(counts.lots_expiring[30]),
                available_lots_url(expiry=30),
                _("Lots"),
                "warning" if counts.lots_expiring[30] else "",
            ),
            Figure(
                "inventory-expired",
                _("Expired, still on the shelf"),
                number(counts.lots_expired),
                available_lots_url(expiry="expired"),
                _("Lots to write off"),
                "danger" if counts.lots_expired else "",
            ),
        ],
        "shortcuts": shortcuts,
        "imports_href": admin_url("catalog_importjob_changelist"),
        "tables": [
            Widget(
                "inventory-reorder",
                _("To reorder"),
                medicines_url(stock="low"),
                table={
                    "headers": [
                        _("medicine"),
                        *([_("place")] if selection.several else []),
                        _("sellable stock"),
                        _("reorder level"),
                        _("dispensed, 30 days"),
                        _("suggested order"),
                    ],
                    "rows": reorder_rows,
                },
                link_text=_("All low-stock medicines"),
            ),
            Widget(
                "inventory-recent-imports",
                _("Recent imports"),
                admin_url("catalog_importjob_changelist"),
                table={
                    "headers": [_("uploaded"), _("import"), _("file"), _("state"), _("rows"), _("by")],
                    "rows": import_rows,
                },
                link_text=_("Import log"),
            ),
            Widget(
                "inventory-expiring",
                _("Lots expiring within 30 days"),
                available_lots_url(expiry=30),
                table={
                    "headers": [
                        _("lot"),
                        _("medicine"),
                        *([_("place")] if selection.several else []),
                        _("expires"),
                        _("quantity"),
                    ],
                    "rows": expiring_rows,
                },
                link_text=_("All of them"),
            ),
        ],
    }
