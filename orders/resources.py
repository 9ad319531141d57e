"""Exports of sales documents (django-import-export): the orders list and the controlled-drug register.

Export only: nothing here imports a row (sales and the register are written by ``orders/services.py``).
Column headers are the translated labels, read when the file is written, so a member gets them in
their own language; dates are in Tashkent time.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from orders.models import ControlledEntry, Order


def _local(value) -> str:
    return timezone.localtime(value).strftime("%d.%m.%Y %H:%M") if value else ""


class ExportOnlyResource(resources.ModelResource):
    def import_data(self, *args, **kwargs):  # pragma: no cover - never offered
        raise NotImplementedError("sales documents are never imported")


class OrderResource(ExportOnlyResource):
    number = fields.Field(attribute="number", column_name=_("number"))
    completed_at = fields.Field(column_name=_("completed"))
    location = fields.Field(attribute="location__name", column_name=_("location"))
    cashier = fields.Field(column_name=_("cashier"))
    channel = fields.Field(column_name=_("channel"))
    status = fields.Field(column_name=_("status"))
    subtotal = fields.Field(attribute="subtotal", column_name=_("subtotal, UZS"))
    discount_total = fields.Field(attribute="discount_total", column_name=_("discounts, UZS"))
    total = fields.Field(attribute="total", column_name=_("total, UZS"))
    vat_total = fields.Field(attribute="vat_total", column_name=_("VAT included, UZS"))
    payment_methods = fields.Field(column_name=_("payment methods"))
    fiscal_state = fields.Field(column_name=_("fiscal receipt"))

    class Meta:
        model = Order
        fields = (
            "number", "completed_at", "location", "cashier", "channel", "status", "subtotal", "discount_total",
            "total", "vat_total", "payment_methods", "fiscal_state",
        )  # fmt: skip
        export_order = fields

    def dehydrate_completed_at(self, order: Order) -> str:
        return _local(order.completed_at)

    def dehydrate_cashier(self, order: Order) -> str:
        return str(order.cashier) if order.cashier_id else ""

    def dehydrate_channel(self, order: Order) -> str:
        return str(order.get_channel_display())

    def dehydrate_status(self, order: Order) -> str:
        return str(order.get_status_display())

    def dehydrate_payment_methods(self, order: Order) -> str:
        # The admin's queryset prefetches the paid payments.
        return ", ".join(sorted({str(payment.get_method_display()) for payment in order.payments.all()}))

    def dehydrate_fiscal_state(self, order: Order) -> str:
        return str(order.get_fiscal_state_display())


class ControlledEntryResource(ExportOnlyResource):
    """The register as the inspector reads it: one row per entry, quantity signed, the balance after it."""

    created_at = fields.Field(column_name=_("when"))
    location = fields.Field(attribute="location__name", column_name=_("location"))
    substance = fields.Field(attribute="substance__inn_name", column_name=_("substance"))
    medicine = fields.Field(attribute="medicine__name", column_name=_("medicine"))
    lot = fields.Field(attribute="lot__lot_number", column_name=_("lot"))
    expiry = fields.Field(column_name=_("expiry date"))
    kind = fields.Field(column_name=_("kind"))
    quantity = fields.Field(attribute="quantity", column_name=_("quantity"))
    balance_after = fields.Field(attribute="balance_after", column_name=_("balance after"))
    order = fields.Field(attribute="order__number", column_name=_("order"))
    prescription = fields.Field(column_name=_("prescription"))
    user = fields.Field(column_name=_("by"))
    confirmed_by = fields.Field(column_name=_("confirmed by"))

    class Meta:
        model = ControlledEntry
        fields = (
            "created_at", "location", "substance", "medicine", "lot", "expiry", "kind", "quantity", "balance_after",
            "order", "prescription", "user", "confirmed_by",
        )  # fmt: skip
        export_order = fields

    def dehydrate_created_at(self, entry: ControlledEntry) -> str:
        return _local(entry.created_at)

    def dehydrate_expiry(self, entry: ControlledEntry) -> str:
        return entry.lot.expiry_date.strftime("%d.%m.%Y")

    def dehydrate_kind(self, entry: ControlledEntry) -> str:
        return str(entry.get_kind_display())

    def dehydrate_prescription(self, entry: ControlledEntry) -> str:
        return str(entry.prescription) if entry.prescription_id else ""

    def dehydrate_user(self, entry: ControlledEntry) -> str:
        return str(entry.user)

    def dehydrate_confirmed_by(self, entry: ControlledEntry) -> str:
        return str(entry.confirmed_by) if entry.confirmed_by_id else ""
