"""The operator's dashboard: what is out of stock and what to offer instead, open alerts, the search box."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from backoffice import selectors_dashboard as selectors
from backoffice.colours import SEVERITY_COLOURS
from catalog.formatting import format_date, format_uzs

from .base import (
    OPERATOR_SEARCH_ALTERNATIVES,
    OPERATOR_SEARCH_LIMIT,
    OPERATOR_SEARCH_PARAM,
    Figure,
    PlaceSelection,
    Widget,
    admin_url,
    badge,
    builder,
    link,
    medicine_url,
    medicines_url,
    number,
    open_alerts_url,
)


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
    """The operator's search box: matches by name, substance, SKU or barcode, with stock and alternatives at once.

    The first ``OPERATOR_SEARCH_LIMIT`` matches, how many there are in all (with
    a link to the medicines list searched the same way), and for every match
    shown its cheapest in-stock alternatives. A fixed handful of indexed
    queries, whatever the query finds.
    """
    from catalog.selectors import alternatives_ranked, medicine_search

    query = (query or "").strip()[:100]
    context = {"search_query": query, "search_param": OPERATOR_SEARCH_PARAM}
    if not query:
        return context
    # Inactive medicines are found too (the caller may ask about one), marked as such.
    found = medicine_search(query=query)
    matches = list(found[:OPERATOR_SEARCH_LIMIT])
    # Counted even when the page is not full: the search costs the same queries whatever it finds.
    total = found.count()
    alternatives = alternatives_ranked(wanted=[(m.pk, None) for m in matches], limit=OPERATOR_SEARCH_ALTERNATIVES)
    context["search_count"] = total  # for the plural; search_total is it written out
    context["search_total"] = number(total)
    context["search_more"] = total > len(matches)
    # The medicines list searches with the same selector (MedicineAdmin.get_search_results), inactive ones too.
    context["search_all_url"] = admin_url("catalog_medicine_changelist", q=query)
    context["search_results"] = {
        "headers": [
            _("medicine"),
            _("price"),
            _("sellable stock"),
            _("nearest expiry"),
            _("manufacturer"),
            _("in-stock alternatives"),
        ],
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
                _alternatives_cell(alternatives.get((m.pk, None), [])),
            ]
            for m in matches
        ],
    }
    return context


def _alternatives_cell(alternatives: list) -> str:
    """One per line, ``Name (price, N in stock)``: the same generic first, then those with the same substances
    in another strength or form, which say so."""
    if not alternatives:
        return _("No alternative in stock")
    return format_html_join(
        "",
        '<div class="whitespace-normal">{} ({}, {}){}</div>',
        (
            (
                link(medicine_url(a.medicine_id), a.name),
                format_uzs(a.price),
                _("%(n)s in stock") % {"n": number(a.units)},
                ""
                if a.kind == "exact"
                else format_html(' <span class="text-xs text-base-500">· {}</span>', _("same substances")),
            )
            for a in alternatives
        ),
    )
