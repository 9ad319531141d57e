"""Payments and refunds in the admin: read-only lists (money is recorded by ``payments/services.py`` alone,
from a sale or a return). A member sees those of the sales of their places.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateTimeFilter
from unfold.decorators import display

from backoffice.admin_readonly import ReadOnlyAdminMixin
from catalog.formatting import format_uzs
from orders.admin.places import MemberPlaceFilter, PlaceScopedAdmin
from payments.models import Payment, PaymentState, Refund

PAYMENT_STATE_COLOURS = {PaymentState.PAID: "success", PaymentState.CANCELLED: "danger"}


class ReadOnlyAdmin(ReadOnlyAdminMixin, PlaceScopedAdmin, ModelAdmin):
    def _order_link(self, order) -> str:
        url = reverse(f"{self.admin_site.name}:orders_order_change", args=[order.pk])
        return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, order.number)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    place_field = "order__location"
    list_display = (
        "created_at", "method", "display_amount", "display_order", "shift", "display_state", "card_network",
        "reference",
    )  # fmt: skip
    list_select_related = ("order", "shift__location")
    list_filter = (
        ("order__location", MemberPlaceFilter),
        ("method", ChoicesDropdownFilter),
        ("state", ChoicesDropdownFilter),
        ("card_network", ChoicesDropdownFilter),
        ("created_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("=order__number", "reference")
    search_help_text = _("Sale number or the terminal's reference.")
    ordering = ("-created_at", "-id")
    list_per_page = 100
    fields = (
        "display_order", "shift", "method", "state", "display_amount", "display_tendered", "card_network",
        "reference", "created_at",
    )  # fmt: skip
    readonly_fields = fields

    @display(description=_("amount"), ordering="amount")
    def display_amount(self, obj: Payment) -> str:
        return format_uzs(obj.amount)

    @display(description=_("tendered"))
    def display_tendered(self, obj: Payment) -> str:
        return format_uzs(obj.tendered)

    @display(description=_("order"), ordering="order__number")
    def display_order(self, obj: Payment) -> str:
        return self._order_link(obj.order)

    @display(description=_("state"), ordering="state", label=PAYMENT_STATE_COLOURS)
    def display_state(self, obj: Payment):
        return obj.state, obj.get_state_display()


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    place_field = "payment__order__location"
    list_display = (
        "created_at", "method", "display_amount", "display_order", "display_return", "shift", "display_network",
        "display_reference",
    )  # fmt: skip
    list_select_related = ("payment__order", "return_doc", "shift__location")
    list_filter = (
        ("payment__order__location", MemberPlaceFilter),
        ("method", ChoicesDropdownFilter),
        ("created_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("=payment__order__number", "=return_doc__number")
    search_help_text = _("Sale number or return number.")
    ordering = ("-created_at", "-id")
    list_per_page = 100
    fields = ("display_order", "display_return", "shift", "method", "display_amount", "created_at")
    readonly_fields = fields

    @display(description=_("amount"), ordering="amount")
    def display_amount(self, obj: Refund) -> str:
        return format_uzs(obj.amount)

    @display(description=_("order"), ordering="payment__order__number")
    def display_order(self, obj: Refund) -> str:
        return self._order_link(obj.payment.order)

    @display(description=_("return"), ordering="return_doc__number")
    def display_return(self, obj: Refund) -> str:
        if not obj.return_doc_id:
            return ""
        url = reverse(f"{self.admin_site.name}:orders_return_change", args=[obj.return_doc_id])
        return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, obj.return_doc.number)

    @display(description=_("card"))
    def display_network(self, obj: Refund) -> str:
        return obj.payment.get_card_network_display()

    @display(description=_("reference"))
    def display_reference(self, obj: Refund) -> str:
        return obj.payment.reference
