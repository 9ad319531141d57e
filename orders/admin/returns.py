"""Returns in the admin: the page that takes one (off a sale's page) and the read-only list of returns.

The page lists the sale's lines with what may still be returned, asks per line how much comes back
(packs and parts) and whether it is resaleable, and a reason; it calls ``orders.services.order_return``
in the member's open shift. Whatever the service refuses (the period is over, a prescription-only line,
too many units, no open shift, another place) is shown as its message and nothing changes.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display
from unfold.widgets import UnfoldAdminTextInputWidget, UnfoldBooleanWidget

from backoffice.admin_history import HistoryAdmin
from backoffice.admin_readonly import ReadOnlyAdminMixin
from backoffice.exceptions import DomainError
from catalog.admin.forms import UnitsMixin
from catalog.admin.inlines import ReadOnlyTabularInline
from catalog.formatting import format_units, format_uzs
from orders import rules, selectors, services
from orders.models import OrderLine, Return, ReturnLine

from .places import MemberPlaceFilter, MemberStaffFilter, PlaceScopedAdmin


class ReturnLineForm(UnitsMixin, forms.Form):
    """How much of one sale line comes back, and whether it may be sold again."""

    units_allow_zero = True

    def __init__(self, *args, line: OrderLine, **kwargs) -> None:
        super().__init__(*args, prefix=f"line-{line.pk}", **kwargs)
        self.line = line
        self.add_units_fields(line.medicine, packs_label=_("Packs returned"), initial=0)
        self.fields["resaleable"] = forms.BooleanField(
            label=_("Resaleable"),
            required=False,
            widget=UnfoldBooleanWidget,
            help_text=_("Sealed and stored as it should be: back on the shelf. Otherwise set aside in quarantine."),
        )

    def units_medicine(self):
        return self.line.medicine

    def clean(self):
        cleaned = super().clean()
        self.clean_units(cleaned)
        return cleaned

    def item(self) -> services.ReturnItem | None:
        units = self.cleaned_data.get("units") or 0
        if units <= 0:
            return None
        return services.ReturnItem(line_id=self.line.pk, quantity=units, resaleable=self.cleaned_data["resaleable"])


class ReturnReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the return"),
        max_length=500,
        widget=UnfoldAdminTextInputWidget,
        error_messages={"required": _("Give a reason for the return.")},
    )


def order_return_view(model_admin, request: HttpRequest, pk: int):
    """``admin:orders_order_return``: take back units of a sale of the member's place in their open shift."""
    if not request.user.has_perm(rules.ACCEPT_RETURN):
        raise PermissionDenied
    order = get_object_or_404(model_admin.get_queryset(request).select_related("location", "cashier"), pk=pk)
    change_url = reverse(f"{model_admin.admin_site.name}:orders_order_change", args=[order.pk])
    shift = selectors.open_shift_of(request.user)
    data = request.POST if request.method == "POST" else None
    lines = list(order.lines.select_related("medicine").order_by("pk"))
    reason_form = ReturnReasonForm(data)
    line_forms = [ReturnLineForm(data, line=line) for line in lines if line.returnable_quantity > 0]
    if data is not None and reason_form.is_valid() and all(form.is_valid() for form in line_forms):
        items = [item for item in (form.item() for form in line_forms) if item is not None]
        try:
            document = services.order_return(
                order=order, items=items, reason=reason_form.cleaned_data["reason"], shift=shift, user=request.user
            )
        except DomainError as exc:
            # The service ran in one transaction: refused, nothing was written.
            model_admin.message_user(request, exc.message, messages.ERROR)
        else:
            model_admin.message_user(
                request,
                _("Return %(number)s: %(amount)s refunded.")
                % {"number": document.number, "amount": format_uzs(document.amount)},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url)
    if shift is None:
        model_admin.message_user(
            request, _("Open your cash shift first: a return belongs to the shift that pays it."), messages.WARNING
        )
    rows = [
        {
            "form": form,
            "line": form.line,
            "sold": format_units(form.line.quantity, form.line.parts_per_pack, form.line.medicine.part_name),
            "returnable": format_units(
                form.line.returnable_quantity, form.line.parts_per_pack, form.line.medicine.part_name
            ),
            "total": format_uzs(form.line.total),
        }
        for form in line_forms
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Return from %(order)s") % {"order": order.number},
        "opts": model_admin.model._meta,
        "order": order,
        "shift": shift,
        "rows": rows,
        "reason_form": reason_form,
        "change_url": change_url,
        "open_shift_url": reverse(f"{model_admin.admin_site.name}:orders_shift_open"),
    }
    return TemplateResponse(request, "admin/orders/order/return.html", context)


class ReturnLineInline(ReadOnlyTabularInline):
    model = ReturnLine
    fields = ("display_medicine", "display_lot", "display_quantity", "resaleable", "display_amount")
    readonly_fields = fields
    hide_title = True
    verbose_name = _("returned line")
    verbose_name_plural = _("returned lines")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("line__medicine", "line_lot__lot")

    # A return's lines are read by whoever reads the return (the role table names returns, not their rows).
    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("orders.view_return")

    @display(description=_("medicine"))
    def display_medicine(self, obj: ReturnLine) -> str:
        return obj.line.medicine.name

    @display(description=_("lot"))
    def display_lot(self, obj: ReturnLine) -> str:
        return obj.line_lot.lot.lot_number

    @display(description=_("quantity"))
    def display_quantity(self, obj: ReturnLine) -> str:
        return format_units(obj.quantity, obj.line.parts_per_pack, obj.line.medicine.part_name)

    @display(description=_("amount"))
    def display_amount(self, obj: ReturnLine) -> str:
        return format_uzs(obj.amount)


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdminMixin, PlaceScopedAdmin, HistoryAdmin, ModelAdmin):
    """Returns as they were taken: read-only (a return is never edited or removed)."""

    place_field = "order__location"
    list_display = ("number", "created_at", "display_order", "display_location", "user", "display_amount", "reason")
    list_display_links = ("number",)
    list_select_related = ("order__location", "user")
    list_filter = (
        ("order__location", MemberPlaceFilter),
        ("user", MemberStaffFilter),
        ("created_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("=number", "=order__number")
    search_help_text = _("Return number (R12-0004) or the sale's number.")
    ordering = ("-created_at", "-id")
    list_per_page = 50
    inlines = [ReturnLineInline]
    fields = ("number", "display_order", "shift", "user", "created_at", "reason", "display_amount")
    readonly_fields = fields
    history_list_display = ["amount"]
    history_restore_fields = ()

    @display(description=_("order"), ordering="order__number")
    def display_order(self, obj: Return) -> str:
        url = reverse(f"{self.admin_site.name}:orders_order_change", args=[obj.order_id])
        return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, obj.order.number)

    @display(description=_("location"), ordering="order__location__name")
    def display_location(self, obj: Return) -> str:
        return obj.order.location.name

    @display(description=_("amount refunded"), ordering="amount")
    def display_amount(self, obj: Return) -> str:
        return format_uzs(obj.amount)
