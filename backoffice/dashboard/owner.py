"""The owner's (administrator's) dashboard: the chain's money and stock, the places side by side, the history."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backoffice import selectors_dashboard as selectors
from backoffice.colours import EXPIRY_CHART_COLOURS, expiry_tone
from backoffice.history_display import reason_display
from catalog.formatting import format_date, format_day_month, format_month, format_uzs
from catalog.models import MovementKind

from .base import (
    Figure,
    PlaceSelection,
    Widget,
    admin_url,
    available_lots_url,
    badge,
    builder,
    chart,
    link,
    medicines_url,
    number,
    open_alerts_url,
    orders_url,
)


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
    sales = selectors.sales_profile(places=places, today=today)
    figures = [
        Figure(
            "owner-sales-revenue-today",
            _("Revenue today"),
            format_uzs(sales.today.revenue),
            orders_url(today),
            _("%(receipts)s receipts, less returns, VAT included") % {"receipts": number(sales.today.receipts)},
        ),
        Figure(
            "owner-sales-margin-today",
            _("Margin today"),
            format_uzs(sales.today.margin),
            orders_url(today),
            _("Revenue net of VAT less the cost of the lots sold"),
            "danger" if sales.today.margin < 0 else "",
        ),
        Figure(
            "owner-sales-revenue-recent",
            ngettext("Revenue, last %(days)d day", "Revenue, last %(days)d days", sales.days) % {"days": sales.days},
            format_uzs(sales.recent.revenue),
            admin_url("orders_order_changelist", status__exact="completed"),
            _("%(receipts)s receipts, average %(average)s")
            % {"receipts": number(sales.recent.receipts), "average": format_uzs(sales.recent.average)},
        ),
        Figure(
            "owner-sales-margin-recent",
            ngettext("Margin, last %(days)d day", "Margin, last %(days)d days", sales.days) % {"days": sales.days},
            format_uzs(sales.recent.margin),
            admin_url("orders_order_changelist", status__exact="completed"),
            _("Revenue net of VAT less the cost of the lots sold"),
            "danger" if sales.recent.margin < 0 else "",
        ),
        Figure(
            "owner-stock-cost",
            _("Stock value at cost"),
            format_uzs(profile.value_at_cost),
            available_lots_url(),
            # The every-place figures are kept a few minutes (selectors_dashboard.kept_stock_value): say when.
            _("Available lots with stock, at purchase price, as of %(time)s")
            % {"time": timezone.localtime(profile.computed_at).strftime("%H:%M")}
            if profile.computed_at
            else _("Available lots with stock, at purchase price"),
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
    # Each chart shows its value axis (Unfold draws it only when a dataset asks) in its own colour;
    # backoffice/static/backoffice/js/charts.js writes the axis's numbers as the admin does.
    by_category = chart(
        [c.name for c in categories],
        [
            {
                "label": _("Retail value, so'm"),
                "data": [float(c.value) for c in categories],
                "backgroundColor": "var(--color-blue-500)",
                "maxBarThickness": 28,
                "displayYAxis": True,
                "suffixYAxis": _("so'm"),
            }
        ],
    )
    months, expiry_horizon = _expiry_months(profile.value_by_month, today)
    by_month = chart(
        [format_month(month) for month, _value in profile.value_by_month],
        [
            {
                "label": _("Purchase value expiring, so'm"),
                "data": [float(v) for _m, v in profile.value_by_month],
                # Graded as the expiry badges are: the months a lot may expire within 30 days red, 90 amber.
                "backgroundColor": [EXPIRY_CHART_COLOURS[tone] for tone in months],
                "maxBarThickness": 28,
                "displayYAxis": True,
                "suffixYAxis": _("so'm"),
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
                "displayYAxis": True,
            }
        ],
    )
    changes = selectors.latest_changes(limit=10)
    return {
        "figures": figures,
        "sales_widgets": _sales_widgets(sales),
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
                # The lots behind the bars: available, with stock, expiring from tomorrow to the last month's end.
                available_lots_url(
                    expiry_date_from=(today + timedelta(days=1)).isoformat(), expiry_date_to=expiry_horizon.isoformat()
                ),
                chart=by_month,
                link_text=_("Lots expiring in the next 12 months"),
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
                table=_places_table(
                    selectors.places_side_by_side(
                        profile, chain_out_of_stock=summary.out_of_stock if places is None else None
                    )
                ),
            ),
            Widget("owner-latest-changes", _("Latest audited changes"), table=_changes_table(changes)),
        ],
    }


def _places_table(table: selectors.PlacesTable) -> dict:
    """Each place's stock value, value expiring within 90 days and medicines out of stock there; the chain last."""

    def out(count: int | None):
        return "—" if count is None else badge(number(count), "danger" if count else "success")

    rows = [
        [str(line.location), format_uzs(line.value_at_cost), format_uzs(line.value_expiring), out(line.out_of_stock)]
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


def _expiry_months(value_by_month: list, today: date) -> tuple[list[str], date]:
    """Each month's expiry grade (by the nearest day of it still ahead) and the chart's last day."""
    tones = [expiry_tone(max(month, today + timedelta(days=1)), today) for month, _value in value_by_month]
    last_month = value_by_month[-1][0] if value_by_month else today
    horizon = (last_month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return tones, horizon


def _changes_table(rows: list[dict]) -> dict:
    from django.apps import apps

    history_types = {"+": ("success", _("Created")), "~": ("info", _("Changed")), "-": ("danger", _("Deleted"))}
    table_rows = []
    for row in rows:
        app_label, model_name = row["model"].split(".")
        model = apps.get_model(app_label, model_name)
        tone, kind = history_types.get(row["history_type"], ("default", row["history_type"]))
        who = " ".join(filter(None, [row["user_first_name"], row["user_last_name"]])) or row["user_phone"]
        if not who:
            # No person: a scheduled task or a command (the expiry sweep, an import run by a worker).
            who = badge(_("System"))
        href = admin_url(f"{app_label}_{model_name}_history", row["object_id"])
        table_rows.append(
            [
                format_date(row["history_date"]),
                capfirst(str(model._meta.verbose_name)),
                link(href, row["label"]) if href else row["label"],
                badge(kind, tone),
                who,
                reason_display(row["reason"]) or "—",
            ]
        )
    return {"headers": [_("when"), _("what"), _("record"), _("change"), _("by"), _("reason")], "rows": table_rows}


def _sales_widgets(sales: selectors.SalesProfile) -> list[Widget]:
    """Sales by place: the last days' revenue and margin as bars, and a table of today's and the last days'."""
    places = sales.places
    by_place = chart(
        [line.name for line in places],
        [
            {
                "label": _("Revenue, so'm"),
                "data": [float(line.recent.revenue) for line in places],
                "backgroundColor": "var(--color-primary-600)",
                "maxBarThickness": 40,
                # Unfold's bar chart shows the value axis only when a dataset asks for it.
                "displayYAxis": True,
                "suffixYAxis": _("so'm"),
            },
            {
                "label": _("Margin, so'm"),
                "data": [float(line.recent.margin) for line in places],
                "backgroundColor": "var(--color-primary-300)",
                "maxBarThickness": 40,
            },
        ],
    )
    rows = [
        [
            line.name,
            number(line.today.receipts),
            format_uzs(line.today.revenue),
            format_uzs(line.today.margin),
            number(line.recent.receipts),
            format_uzs(line.recent.revenue),
            format_uzs(line.recent.margin),
            format_uzs(line.recent.average),
        ]
        for line in places
    ]
    rows.append(
        [
            format_html("<strong>{}</strong>", value)
            for value in (
                _("All places") if len(places) != 1 else places[0].name,
                number(sales.today.receipts),
                format_uzs(sales.today.revenue),
                format_uzs(sales.today.margin),
                number(sales.recent.receipts),
                format_uzs(sales.recent.revenue),
                format_uzs(sales.recent.margin),
                format_uzs(sales.recent.average),
            )
        ]
    )
    days = {"days": sales.days}
    return [
        Widget(
            "owner-chart-sales-by-place",
            ngettext(
                "Revenue and margin by place, last %(days)d day",
                "Revenue and margin by place, last %(days)d days",
                sales.days,
            )
            % days,
            admin_url("orders_order_changelist", status__exact="completed"),
            chart=by_place,
            link_text=_("Sales"),
        ),
        Widget(
            "owner-sales-by-place",
            ngettext(
                "Sales by place, today and the last %(days)d day",
                "Sales by place, today and the last %(days)d days",
                sales.days,
            )
            % days,
            table={
                "headers": [
                    _("place"),
                    _("receipts today"),
                    _("revenue today"),
                    _("margin today"),
                    ngettext("receipts, %(days)d day", "receipts, %(days)d days", sales.days) % days,
                    ngettext("revenue, %(days)d day", "revenue, %(days)d days", sales.days) % days,
                    ngettext("margin, %(days)d day", "margin, %(days)d days", sales.days) % days,
                    _("average receipt"),
                ],
                "rows": rows,
            },
        ),
    ]
