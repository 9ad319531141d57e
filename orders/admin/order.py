"""Orders in the admin: the changelist and a sale's page (read-only: a completed sale is corrected by a return).

The list shows each sale's payment methods from one prefetch and its place, cashier and shift from one
join, so it runs the same queries for 5 rows or 50. A sale's page shows what it was (lines, the lots each
line took, the ledger rows it wrote, payments, refunds, prescription, register entries, its returns) and
offers "Take a return" (``returns.py``) to whoever may accept one. A member sees the sales of their places.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, F, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    DropdownFilter,
    RangeDateTimeFilter,
)
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import action, display

from backoffice.admin_history import HistoryAdmin
from backoffice.admin_readonly import ReadOnlyAdminMixin
from catalog.admin.inlines import ReadOnlyTabularInline
from catalog.formatting import format_date, format_units, format_uzs
from catalog.models import StockMovement
from orders import rules
from orders.models import ControlledEntry, FiscalState, Order, OrderLine, OrderStatus, Prescription
from orders.resources import OrderResource
from payments.models import Method, Payment, PaymentState, Refund

from .places import MemberPlaceFilter, MemberStaffFilter, PlaceScopedAdmin, table
from .returns import order_return_view
from .shift_pages import shift_urls
from .till import till_urls

ORDER_STATUS_COLOURS = {OrderStatus.COMPLETED: "success", OrderStatus.CANCELLED: "danger"}
FISCAL_STATE_COLOURS = {FiscalState.PENDING: "warning", FiscalState.DONE: "success", FiscalState.FAILED: "danger"}


def line_units(line: OrderLine, quantity: int | None = None) -> str:
    """A sale line's units as packs and parts, counted as they were sold (the line keeps its parts per pack)."""
    return format_units(line.quantity if quantity is None else quantity, line.parts_per_pack, line.medicine.part_name)


class PaymentMethodFilter(DropdownFilter):
    """Sales paid (at least partly) by a method."""

    title = _("payment method")
    parameter_name = "payment_method"

    def lookups(self, request, model_admin):
        return Method.choices

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() not in Method.values:
            return queryset
        paid = Payment.objects.filter(order=OuterRef("pk"), method=self.value(), state=PaymentState.PAID)
        return queryset.filter(Exists(paid))


class OrderLineInline(ReadOnlyTabularInline):
    model = OrderLine
    fields = (
        "medicine", "display_quantity", "display_unit_price", "display_discount", "display_total", "vat_rate",
        "display_vat", "display_returned",
    )  # fmt: skip
    readonly_fields = fields
    hide_title = True
    verbose_name = _("line")
    verbose_name_plural = _("lines")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("medicine")

    @display(description=_("quantity"))
    def display_quantity(self, obj: OrderLine) -> str:
        return line_units(obj)

    @display(description=_("unit price"))
    def display_unit_price(self, obj: OrderLine) -> str:
        if obj.part_price is not None and obj.parts_per_pack > 1:
            return f"{format_uzs(obj.pack_price)} / {format_uzs(obj.part_price)}"
        return format_uzs(obj.pack_price)

    @display(description=_("discount"))
    def display_discount(self, obj: OrderLine) -> str:
        return format_uzs(obj.discount)

    @display(description=_("total"))
    def display_total(self, obj: OrderLine) -> str:
        return format_uzs(obj.total)

    @display(description=_("VAT"))
    def display_vat(self, obj: OrderLine) -> str:
        return format_uzs(obj.vat_amount)

    @display(description=_("returned"))
    def display_returned(self, obj: OrderLine) -> str:
        return line_units(obj, obj.returned_quantity) if obj.returned_quantity else ""


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, PlaceScopedAdmin, ExportMixin, HistoryAdmin, ModelAdmin):
    list_display = (
        "number",
        "completed_at",
        "location",
        "cashier",
        "channel",
        "display_status",
        "display_total",
        "display_methods",
        "display_fiscal",
    )
    list_display_links = ("number",)
    list_select_related = ("location", "cashier")
    list_filter = (
        ("location", MemberPlaceFilter),
        ("shift", AutocompleteSelectFilter),
        ("cashier", MemberStaffFilter),
        ("status", ChoicesDropdownFilter),
        ("channel", ChoicesDropdownFilter),
        PaymentMethodFilter,
        ("completed_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("^number",)
    search_help_text = _("Receipt number (S12-0003).")
    ordering = ("-created_at", "-id")
    list_per_page = 50
    # Export of the list as filtered (django-import-export; Unfold's form).
    resource_classes = [OrderResource]
    export_form_class = ExportForm
    formats = [XLSX, CSV]
    history_list_display = ["status", "fiscal_state"]
    # A sale changes only through the services (a return, the fiscal module): no version is restored.
    history_restore_fields = ()
    inlines = [OrderLineInline]
    actions_detail = ["take_return"]

    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number", "status", "channel", "location", "display_shift", "cashier", "customer",
                    "created_at", "completed_at", "display_receipt",
                )
            },
        ),
        (_("Totals"), {"fields": ("display_subtotal", "display_discounts", "display_order_total", "display_vat")}),
        (_("Payments and refunds"), {"fields": ("display_payments", "display_refunds")}),
        (_("Lots taken"), {"fields": ("display_lots", "display_movements")}),
        (_("Prescription and controlled drugs"), {"fields": ("display_prescription", "controlled_confirmed_by",
                                                             "display_register")}),
        (_("Returns"), {"fields": ("display_returns",)}),
        (
            _("Fiscal receipt"),
            {
                "fields": (
                    "fiscal_state", "fiscal_terminal", "fiscal_receipt_number", "fiscal_sign", "fiscal_qr_url",
                    "fiscal_at", "fiscal_error",
                )
            },
        ),
    )  # fmt: skip

    # Sections only some roles read: the prescription (patient data) and the controlled-drug register.
    PRIVATE_FIELDS = {
        "display_prescription": "orders.view_prescription",
        "display_register": "orders.view_controlledentry",
    }

    def get_fieldsets(self, request: HttpRequest, obj=None):
        hidden = {name for name, permission in self.PRIVATE_FIELDS.items() if not request.user.has_perm(permission)}
        return [
            (title, {**options, "fields": [name for name in options["fields"] if name not in hidden]})
            for title, options in self.fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [name for _title, options in self.fieldsets for name in options["fields"]]

    # --- who sees what: the sales of the member's places --------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("payments", queryset=Payment.objects.filter(state=PaymentState.PAID)))
        )

    def has_export_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_view_or_change_permission(request)

    def has_accept_return_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(rules.ACCEPT_RETURN)

    def get_urls(self):
        own = [
            path(
                "<int:pk>/return/",
                self.admin_site.admin_view(lambda request, pk: order_return_view(self, request, pk)),
                name="orders_order_return",
            )
        ]
        return own + till_urls(self) + shift_urls(self) + super().get_urls()

    def get_actions_detail(self, request: HttpRequest, object_id):
        actions = super().get_actions_detail(request, object_id)
        order = self.get_object(request, object_id)
        if order is None or order.status != OrderStatus.COMPLETED:
            return []
        if not order.lines.filter(returned_quantity__lt=F("quantity")).exists():
            return []  # everything sold has come back: nothing left to return
        return actions

    @action(description=_("Take a return"), url_path="take-return", permissions=["accept_return"], icon="undo")
    def take_return(self, request: HttpRequest, object_id: str):
        return redirect(reverse(f"{self.admin_site.name}:orders_order_return", args=[object_id]))

    # --- columns ---------------------------------------------------------------------------------------
    @display(description=_("status"), ordering="status", label=ORDER_STATUS_COLOURS)
    def display_status(self, obj: Order):
        return obj.status, obj.get_status_display()

    @display(description=_("total"), ordering="total")
    def display_total(self, obj: Order) -> str:
        return format_uzs(obj.total)

    @display(description=_("payment methods"))
    def display_methods(self, obj: Order) -> str:
        # The prefetch holds the paid payments only (get_queryset).
        methods = {payment.method: payment.get_method_display() for payment in obj.payments.all()}
        return ", ".join(str(methods[key]) for key in Method.values if key in methods)

    @display(description=_("fiscal receipt"), ordering="fiscal_state", label=FISCAL_STATE_COLOURS)
    def display_fiscal(self, obj: Order):
        return obj.fiscal_state, obj.get_fiscal_state_display()

    # --- the page ----------------------------------------------------------------------------------------
    def _link(self, model_name: str, pk, text) -> str:
        url = reverse(f"{self.admin_site.name}:orders_{model_name}_change", args=[pk])
        return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, text)

    @display(description=_("shift"))
    def display_shift(self, obj: Order) -> str:
        return self._link("shift", obj.shift_id, obj.shift) if obj.shift_id else ""

    @display(description=_("receipt"))
    def display_receipt(self, obj: Order) -> str:
        url = reverse(f"{self.admin_site.name}:orders_order_receipt", args=[obj.pk])
        return format_html('<a class="text-primary-600 underline" href="{}">{}</a>', url, _("Print the receipt"))

    @display(description=_("subtotal"))
    def display_subtotal(self, obj: Order) -> str:
        return format_uzs(obj.subtotal)

    @display(description=_("discounts"))
    def display_discounts(self, obj: Order) -> str:
        return format_uzs(obj.discount_total)

    @display(description=_("total"))
    def display_order_total(self, obj: Order) -> str:
        return format_uzs(obj.total)

    @display(description=_("VAT included"))
    def display_vat(self, obj: Order) -> str:
        return format_uzs(obj.vat_total)

    @display(description=_("payments"))
    def display_payments(self, obj: Order) -> str:
        rows = [
            [
                payment.get_method_display(),
                format_uzs(payment.amount),
                format_uzs(payment.tendered) if payment.tendered is not None else "",
                format_uzs(payment.change) if payment.change is not None else "",
                payment.get_card_network_display(),
                payment.reference,
                payment.get_state_display(),
            ]
            for payment in Payment.objects.filter(order=obj).order_by("pk")
        ]
        headers = [_("method"), _("amount"), _("tendered"), _("change"), _("card"), _("reference"), _("state")]
        return table(headers, rows)

    @display(description=_("refunds"))
    def display_refunds(self, obj: Order) -> str:
        rows = [
            [format_date(refund.created_at), refund.get_method_display(), format_uzs(refund.amount),
             refund.return_doc.number if refund.return_doc_id else ""]
            for refund in Refund.objects.filter(payment__order=obj).select_related("return_doc").order_by("pk")
        ]  # fmt: skip
        return table([_("when"), _("method"), _("amount"), _("return")], rows)

    @display(description=_("lots sold"))
    def display_lots(self, obj: Order) -> str:
        rows = []
        for line in obj.lines.select_related("medicine").prefetch_related("lots__lot").order_by("pk"):
            for line_lot in line.lots.all():
                rows.append(
                    [
                        line.medicine.name,
                        line_lot.lot.lot_number,
                        format_date(line_lot.lot.expiry_date),
                        line_units(line, line_lot.quantity),
                        line_units(line, line_lot.returned_quantity) if line_lot.returned_quantity else "",
                    ]
                )
        return table([_("medicine"), _("lot"), _("expiry date"), _("quantity"), _("returned")], rows)

    @display(description=_("stock ledger"))
    def display_movements(self, obj: Order) -> str:
        references = [obj.number, *obj.returns.values_list("number", flat=True)]
        rows = [
            [
                format_date(movement.created_at),
                movement.reference,
                movement.get_kind_display(),
                movement.lot.medicine.name,
                movement.lot.lot_number,
                self._movement_units(movement.quantity, movement.lot.medicine, signed=True),
                self._movement_units(movement.balance_after, movement.lot.medicine),
            ]
            for movement in StockMovement.objects.filter(reference__in=references)
            .select_related("lot__medicine")
            .order_by("created_at", "pk")
        ]
        # At the sale's place, always: the place is not repeated on each row.
        headers = [_("when"), _("reference"), _("kind"), _("medicine"), _("lot"), _("quantity"), _("balance after")]
        return table(headers, rows)

    @staticmethod
    def _movement_units(units: int, medicine, *, signed: bool = False) -> str:
        """Ledger units as the ledger list shows them: signed, and for a medicine sold by the part in packs too."""
        shown = f"{units:+d}" if signed else str(units)
        if medicine.is_divisible:
            shown += f" ({format_units(abs(units), medicine.parts_per_pack, medicine.part_name)})"
        return shown

    @display(description=_("prescription"))
    def display_prescription(self, obj: Order) -> str:
        prescription = Prescription.objects.filter(order=obj).first()
        if prescription is None:
            return str(_("None"))
        rows = [
            [prescription.number, format_date(prescription.issued_on), prescription.prescriber,
             prescription.patient_name, prescription.e_prescription_id]
        ]  # fmt: skip
        return table([_("number"), _("issued on"), _("prescriber"), _("patient"), _("e-prescription id")], rows)

    @display(description=_("controlled-drug register"))
    def display_register(self, obj: Order) -> str:
        rows = [
            [format_date(entry.created_at), entry.get_kind_display(), entry.substance.inn_name, entry.medicine.name,
             entry.lot.lot_number, f"{entry.quantity:+d}", entry.balance_after, str(entry.user),
             str(entry.confirmed_by or "")]
            for entry in ControlledEntry.objects.filter(order=obj)
            .select_related("substance", "medicine", "lot", "user", "confirmed_by")
            .order_by("created_at", "pk")
        ]  # fmt: skip
        headers = [_("when"), _("kind"), _("substance"), _("medicine"), _("lot"), _("quantity"), _("balance after"),
                   _("by"), _("confirmed by")]  # fmt: skip
        return table(headers, rows)

    @display(description=_("returns"))
    def display_returns(self, obj: Order) -> str:
        rows = [
            [self._link("return", document.pk, document.number), format_date(document.created_at),
             str(document.user), document.reason, format_uzs(document.amount)]
            for document in obj.returns.select_related("user").order_by("pk")
        ]  # fmt: skip
        return table([_("number"), _("when"), _("by"), _("reason"), _("amount refunded")], rows)
