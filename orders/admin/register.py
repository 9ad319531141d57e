"""The controlled-drug register in the admin: read-only, filtered by substance, medicine, place, kind and date,
and exported (XLSX or CSV) as filtered, with translated headers (``orders.resources.ControlledEntryResource``).

Entries are written by the sale and return services alone. A member reads the register of their places.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import AutocompleteSelectFilter, ChoicesDropdownFilter, RangeDateTimeFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import display

from backoffice.admin_readonly import ReadOnlyAdminMixin
from catalog.formatting import format_date
from orders.models import ControlledEntry, RegisterKind
from orders.resources import ControlledEntryResource

from .places import MemberPlaceFilter, PlaceScopedAdmin

REGISTER_KIND_COLOURS = {RegisterKind.SALE: "info", RegisterKind.RETURN: "primary"}


@admin.register(ControlledEntry)
class ControlledEntryAdmin(ReadOnlyAdminMixin, PlaceScopedAdmin, ExportMixin, ModelAdmin):
    list_display = (
        "created_at",
        "display_substance",
        "display_medicine",
        "display_lot",
        "display_kind",
        "display_quantity",
        "balance_after",
        "display_order",
        "prescription",
        "user",
        "confirmed_by",
    )
    list_display_links = ("created_at",)
    list_select_related = ("substance", "medicine", "lot", "order", "prescription", "user", "confirmed_by")
    list_filter = (
        ("substance", AutocompleteSelectFilter),
        ("medicine", AutocompleteSelectFilter),
        ("location", MemberPlaceFilter),
        ("kind", ChoicesDropdownFilter),
        ("created_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("=order__number", "lot__lot_number", "prescription__number")
    search_help_text = _("Sale number, lot number or prescription number.")
    ordering = ("-created_at", "-id")
    list_per_page = 100
    resource_classes = [ControlledEntryResource]
    export_form_class = ExportForm
    formats = [XLSX, CSV]
    fields = (
        "created_at", "location", "substance", "medicine", "lot", "display_expiry", "kind", "quantity",
        "balance_after", "display_order", "prescription", "user", "confirmed_by",
    )  # fmt: skip
    readonly_fields = fields

    def has_export_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_view_or_change_permission(request)

    @display(description=_("substance"), ordering="substance__inn_name")
    def display_substance(self, obj: ControlledEntry) -> str:
        return obj.substance.inn_name

    @display(description=_("medicine"), ordering="medicine__name")
    def display_medicine(self, obj: ControlledEntry) -> str:
        return obj.medicine.name

    @display(description=_("lot"), ordering="lot__lot_number")
    def display_lot(self, obj: ControlledEntry) -> str:
        return obj.lot.lot_number

    @display(description=_("expiry date"))
    def display_expiry(self, obj: ControlledEntry) -> str:
        return format_date(obj.lot.expiry_date)

    @display(description=_("kind"), ordering="kind", label=REGISTER_KIND_COLOURS)
    def display_kind(self, obj: ControlledEntry):
        return obj.kind, obj.get_kind_display()

    @display(description=_("quantity"), ordering="quantity")
    def display_quantity(self, obj: ControlledEntry) -> str:
        return f"{obj.quantity:+d}"

    @display(description=_("order"), ordering="order__number")
    def display_order(self, obj: ControlledEntry) -> str:
        url = reverse(f"{self.admin_site.name}:orders_order_change", args=[obj.order_id])
        return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, obj.order.number)
