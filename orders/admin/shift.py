"""Cash shifts in the admin: the list with each shift's cash figures and its Z-report, read-only.

Shifts are opened and closed at the till (``shift_pages.py``: ``admin:orders_shift_open``,
``admin:orders_shift_close``, ``admin:orders_shift_zreport``); here they are read. A member sees the
shifts of the places they work at, and a cashier always their own.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateTimeFilter
from unfold.decorators import display

from backoffice.admin_history import HistoryAdmin
from backoffice.admin_readonly import ReadOnlyAdminMixin
from catalog.formatting import format_uzs
from orders.models import Shift, ShiftState
from payments.models import Method

from .places import MemberPlaceFilter, MemberStaffFilter, PlaceScopedAdmin, table

SHIFT_STATE_COLOURS = {ShiftState.OPEN: "success", ShiftState.CLOSED: "default"}

# The Z-report's figures (``orders.selectors.ShiftFigures.as_json``), in the order it prints them.
Z_REPORT_ROWS = [
    ("sales_count", _("sales")),
    ("sales_total", _("sales total")),
    ("discounts", _("discounts")),
    ("vat_total", _("VAT included")),
    ("returns_count", _("returns")),
    ("returns_total", _("returns total")),
    ("returns_vat", _("VAT of returns")),
    ("opening_cash", _("opening cash")),
    ("expected_cash", _("expected cash")),
    ("counted_cash", _("counted cash")),
    ("cash_difference", _("cash difference")),
]
Z_REPORT_COUNTS = {"sales_count", "returns_count"}


def _money(value) -> str:
    """A Z-report amount (kept as text in its JSON) in so'm; nothing for none."""
    return format_uzs(Decimal(str(value))) if value is not None else ""


@admin.register(Shift)
class ShiftAdmin(ReadOnlyAdminMixin, PlaceScopedAdmin, HistoryAdmin, ModelAdmin):
    """Shifts are opened and closed at the till (admin:orders_shift_open, _close), never through a form."""

    list_display = (
        "display_shift",
        "cashier",
        "location",
        "opened_at",
        "closed_at",
        "display_state",
        "display_opening_cash",
        "display_expected_cash",
        "display_counted_cash",
        "display_difference",
        "documents",
        "display_links",
    )
    list_display_links = ("display_shift",)
    list_select_related = ("location", "cashier")
    list_filter = (
        ("location", MemberPlaceFilter),
        ("cashier", MemberStaffFilter),
        ("state", ChoicesDropdownFilter),
        ("opened_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("cashier__phone", "cashier__first_name", "cashier__last_name", "location__name")
    search_help_text = _("Cashier (name or phone) or location.")
    ordering = ("-opened_at", "-id")
    list_per_page = 50
    history_list_display = ["state", "counted_cash", "cash_difference"]
    # A shift is opened and closed through its services: no version is restored.
    history_restore_fields = ()
    fieldsets = (
        (None, {"fields": ("display_shift", "cashier", "location", "state", "opened_at", "closed_at",
                           "closed_by", "documents", "display_links")}),
        (_("Cash"), {"fields": ("display_opening_cash", "display_expected_cash", "display_counted_cash",
                                "display_difference")}),
        (_("Z-report"), {"fields": ("display_z_report", "display_by_method")}),
    )  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [name for _title, options in self.fieldsets for name in options["fields"]]

    def place_scope(self, request: HttpRequest) -> Q | None:
        scope = super().place_scope(request)
        # A cashier keeps their own shifts in sight even at a place they no longer work at.
        return scope if scope is None else scope | Q(cashier_id=request.user.pk)

    # --- columns ------------------------------------------------------------------------------------
    @display(description=_("shift"), ordering="id")
    def display_shift(self, obj: Shift) -> str:
        return f"#{obj.pk}"

    @display(description=_("state"), ordering="state", label=SHIFT_STATE_COLOURS)
    def display_state(self, obj: Shift):
        return obj.state, obj.get_state_display()

    @display(description=_("opening cash"), ordering="opening_cash")
    def display_opening_cash(self, obj: Shift) -> str:
        return format_uzs(obj.opening_cash)

    @display(description=_("expected cash"), ordering="expected_cash")
    def display_expected_cash(self, obj: Shift) -> str:
        return format_uzs(obj.expected_cash) if obj.expected_cash is not None else ""

    @display(description=_("counted cash"), ordering="counted_cash")
    def display_counted_cash(self, obj: Shift) -> str:
        return format_uzs(obj.counted_cash) if obj.counted_cash is not None else ""

    @display(description=_("difference"), ordering="cash_difference")
    def display_difference(self, obj: Shift) -> str:
        return format_uzs(obj.cash_difference) if obj.cash_difference is not None else ""

    @display(description=_("links"))
    def display_links(self, obj: Shift) -> str:
        site = self.admin_site.name
        links = [
            (reverse(f"{site}:orders_order_changelist") + f"?shift__id__exact={obj.pk}", _("Sales")),
            (reverse(f"{site}:orders_shift_zreport", args=[obj.pk]), _("Z-report")),
        ]
        if obj.is_open:
            links.append((reverse(f"{site}:orders_shift_close", args=[obj.pk]), _("Close the shift")))
        return format_html_join(" · ", '<a class="text-primary-600 underline" href="{}">{}</a>', links)

    # --- the page: the Z-report as it was kept at closing -------------------------------------------
    @display(description=_("Z-report"))
    def display_z_report(self, obj: Shift) -> str:
        report = obj.z_report or {}
        if not report:
            return str(_("Kept when the shift closes."))
        rows = []
        for key, label in Z_REPORT_ROWS:
            if report.get(key) is None:
                continue
            value = report[key] if key in Z_REPORT_COUNTS else format_uzs(Decimal(str(report[key])))
            rows.append([label, value])
        return table([_("figure"), _("value")], rows)

    @display(description=_("by payment method"))
    def display_by_method(self, obj: Shift) -> str:
        report = obj.z_report or {}
        paid, refunded = report.get("paid_by_method") or {}, report.get("refunded_by_method") or {}
        labels = dict(Method.choices)
        rows = [
            [labels.get(method, method), _money(paid.get(method)), _money(refunded.get(method))]
            for method in Method.values
            if method in paid or method in refunded
        ]
        return table([_("method"), _("paid"), _("refunded")], rows)
