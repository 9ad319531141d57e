"""The pharmacist's dashboard: today's sales at their places, their till (the open shift, a new sale), lots to
act on, prescription medicines out of stock."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from backoffice import selectors_dashboard as selectors
from backoffice.colours import expiry_tone
from catalog.formatting import format_date, format_uzs
from catalog.models import LotStatus
from orders.rules import OPEN_SHIFT, SELL
from orders.selectors import open_shift_of

from .base import (
    Figure,
    PlaceSelection,
    Widget,
    admin_url,
    available_lots_url,
    badge,
    builder,
    expired_lots_url,
    link,
    lot_url,
    lots_url,
    medicine_url,
    medicines_url,
    nowrap,
    number,
    orders_url,
    returns_url,
)


@builder("pharmacist")
def pharmacist_widgets(selection: PlaceSelection) -> dict:
    places = selection.places
    today = timezone.localdate()
    sales = selectors.sales_profile(places=places, today=today, days=1).today
    counts = selectors.lot_action_counts(places=places)
    rx_out = selectors.medicine_summary(places=places, low_stock=False).rx_out_of_stock
    figures = [
        Figure(
            "pharmacist-sales-receipts",
            _("Receipts today"),
            number(sales.receipts),
            orders_url(today),
            _("Completed sales at %(place)s") % {"place": selection.label},
        ),
        Figure(
            "pharmacist-sales-revenue",
            _("Sales today"),
            format_uzs(sales.revenue),
            orders_url(today),
            _("Less returns, VAT included"),
        ),
        Figure(
            "pharmacist-sales-average",
            _("Average receipt"),
            format_uzs(sales.average),
            orders_url(today),
            _("Today"),
        ),
        Figure(
            "pharmacist-sales-returns",
            _("Returns today"),
            number(sales.returns),
            returns_url(today),
            _("%(amount)s paid back") % {"amount": format_uzs(sales.returned)},
            "warning" if sales.returns else "",
        ),
        Figure(
            "pharmacist-expired",
            _("Expired, still on the shelf"),
            number(counts.lots_expired),
            expired_lots_url(),
            _("Lots to write off"),
            "danger" if counts.lots_expired else "",
        ),
        *[
            Figure(
                f"pharmacist-expiring-{days}",
                ngettext("Expiring within %(days)d day", "Expiring within %(days)d days", days) % {"days": days},
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
            badge(format_date(held.lot.expiry_date), expiry_tone(held.lot.expiry_date)),
            number(held.quantity),
            format_uzs(held.quantity * held.lot.purchase_price),
        ]
        for held in stocks
    ]
    rx_rows = [
        [
            link(medicine_url(line.medicine.pk), line.medicine.name),
            *([line.location.name] if selection.several and line.location else []),
            nowrap(line.medicine.sku),
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


def pharmacist_till(user) -> dict:
    """This member's till on their dashboard, never cached (it is theirs, not their role's): a "New sale" button
    for whoever may sell, their open shift with its sales so far and the link to close it, or the link to open
    one. Three statements (the shift, its sales, its returns)."""
    if not user.has_perm(SELL):
        return {}
    shift = open_shift_of(user)
    till = {"new_sale_href": admin_url("orders_order_pos"), "shift": None}
    if shift is None:
        if user.has_perm(OPEN_SHIFT):
            till["open_shift_href"] = admin_url("orders_shift_open")
        return {"till": till}
    figures = selectors.shift_sales(shift)
    till["shift"] = {
        "pk": shift.pk,
        "place": shift.location.name,
        "opened": timezone.localtime(shift.opened_at).strftime("%H:%M"),
        "opened_on": format_date(timezone.localtime(shift.opened_at).date()),
        "is_today": timezone.localtime(shift.opened_at).date() == timezone.localdate(),
        "receipts": number(figures.receipts),
        "revenue": format_uzs(figures.revenue),
        "close_href": admin_url("orders_shift_close", shift.pk),
    }
    return {"till": till}
