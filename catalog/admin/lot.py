"""Lots and the stock ledger in the admin.

Stock changes only through catalog.services: the lot actions (quarantine,
release, recall, write-off) ask for a reason on an intermediate page and call
the matching service; a lot created here is a receipt through ``lot_receive``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RangeDateFilter,
    RangeDateTimeFilter,
)
from unfold.decorators import action, display

from backoffice.admin_history import HistoryAdmin
from catalog import stock
from catalog.exceptions import CatalogError
from catalog.formatting import format_uzs
from catalog.models import Lot, LotStatus, MovementKind, StockMovement

from .filters import LotExpiryFilter, OnHandFilter, StaffUserFilter
from .forms import LotActionReasonForm, LotChangeForm, LotReceiveForm, LotWriteOffForm
from .imports import ImportExportActionsMixin
from .paginator import EstimatedCountPaginator

LOT_STATUS_COLOURS = {
    LotStatus.AVAILABLE: "success",
    LotStatus.QUARANTINED: "warning",
    LotStatus.RECALLED: "danger",
    LotStatus.EXPIRED: "default",
}
MOVEMENT_KIND_COLOURS = {
    MovementKind.RECEIPT: "success",
    MovementKind.DISPENSE: "info",
    MovementKind.WRITE_OFF: "danger",
    MovementKind.ADJUSTMENT: "warning",
    MovementKind.RETURN: "primary",
}
# A lot is flagged as expiring soon within this many days.
EXPIRING_SOON_DAYS = 90


@dataclass(frozen=True)
class LotOperation:
    """One of the stock actions on lots: its wording, the permission it needs and the service it calls."""

    key: str
    title: str | Promise
    verb_done: str | Promise
    permission: str
    apply: Callable[..., object]
    button_variant: str = "primary"


def _quarantine(*, lot: Lot, reason: str, user, quantity=None):
    return stock.lot_quarantine(lot=lot, reason=reason, user=user)


def _release(*, lot: Lot, reason: str, user, quantity=None):
    return stock.lot_release(lot=lot, reason=reason, user=user)


def _recall(*, lot: Lot, reason: str, user, quantity=None):
    return stock.lot_recall(lot=lot, reason=reason, user=user)


def _write_off(*, lot: Lot, reason: str, user, quantity=None):
    # From the list every selected lot is written off in full (expired or
    # damaged batches); the lot page asks for a quantity.
    return stock.stock_write_off(lot=lot, quantity=quantity or None, reason=reason, user=user)


OPERATIONS: dict[str, LotOperation] = {
    op.key: op
    for op in (
        LotOperation("quarantine", _("Quarantine"), _("quarantined"), "catalog.quarantine_lot", _quarantine, "default"),
        LotOperation("release", _("Release from quarantine"), _("released"), "catalog.quarantine_lot", _release),
        LotOperation("recall", _("Recall"), _("recalled"), "catalog.recall_lot", _recall, "danger"),
        LotOperation("write_off", _("Write off"), _("written off"), "catalog.write_off_lot", _write_off, "danger"),
    )
}


@admin.register(Lot)
class LotAdmin(ImportExportActionsMixin, HistoryAdmin, ModelAdmin):
    list_display = (
        "lot_number",
        "display_medicine",
        "display_expiry",
        "display_status",
        "quantity",
        "display_purchase_price",
        "supplier",
        "received_date",
    )
    list_display_links = ("lot_number",)
    list_select_related = ("medicine",)
    list_filter = (
        LotExpiryFilter,
        ("status", ChoicesDropdownFilter),
        OnHandFilter,
        ("medicine", AutocompleteSelectFilter),
        ("expiry_date", RangeDateFilter),
    )
    list_filter_submit = True
    search_fields = ("lot_number", "medicine__name", "medicine__sku", "supplier")
    search_help_text = _("Lot number, medicine name or SKU, supplier.")
    autocomplete_fields = ("medicine",)
    # Status, then soonest expiry: walks the (status, expiry_date) index and
    # stops after a page, where ordering 300,000 lots by expiry alone sorts them all.
    ordering = ("status", "expiry_date", "id")
    list_per_page = 50
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    date_hierarchy = None
    history_list_display = ["status", "status_reason", "quantity"]

    fieldsets = (
        (None, {"fields": ("medicine", "lot_number", "expiry_date", "received_date")}),
        (_("Stock"), {"fields": ("quantity", "status", "status_reason")}),
        (_("Purchase"), {"fields": ("purchase_price", "supplier")}),
        (_("Reason for the change"), {"fields": ("change_reason",)}),
        (_("Record"), {"fields": ("created_at",)}),
    )
    add_fieldsets = (
        (None, {"fields": ("medicine", "lot_number", "expiry_date", "received_date")}),
        (_("Receipt"), {"fields": ("quantity", "purchase_price", "supplier", "reason")}),
    )
    change_readonly_fields = ("medicine", "quantity", "status", "status_reason", "created_at")

    actions = ["quarantine_selected", "release_selected", "recall_selected", "write_off_selected"]
    # Import (stock receipt, stocktake) and export buttons: catalog/admin/imports.py.
    actions_list = ["import_data", "export_data"]
    import_kind = "receipt"
    export_dataset = "lots"
    actions_detail = [
        {
            "title": _("Stock actions"),
            "icon": "inventory",
            "items": ["quarantine_lot", "release_lot", "recall_lot", "write_off_lot"],
        },
    ]

    # --- permissions (method-based: see the project's Unfold notes) ---------
    def has_quarantine_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("catalog.quarantine_lot")

    def has_release_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("catalog.quarantine_lot")

    def has_recall_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("catalog.recall_lot")

    def has_write_off_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("catalog.write_off_lot")

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # A lot's quantity is the sum of its ledger: removing the lot would
        # remove history. Write it off instead.
        return False

    # --- form: creation is a receipt ---------------------------------------
    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = LotReceiveForm
            # The model's quantity is not editable; the form declares its own
            # "quantity received", which only lot_receive turns into stock.
            kwargs["fields"] = LotReceiveForm.Meta.fields
        else:
            kwargs["form"] = LotChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ()
        return self.change_readonly_fields

    def save_model(self, request: HttpRequest, obj: Lot, form, change: bool) -> None:
        if change:
            # Only the paperwork (number, dates, price, supplier) is editable,
            # and it is written by the service under the lot's lock: saving the
            # whole row here would write back the quantity read at the start of
            # the request over a sale committed meanwhile.
            stock.lot_update_details(
                lot=obj,
                changes={
                    name: form.cleaned_data[name] for name in form.changed_data if name in stock.LOT_DETAIL_FIELDS
                },
                user=request.user,
                # The form requires a reason for a new number or expiry (the service refuses one without).
                reason=form.cleaned_data.get("change_reason") or str(_("Corrected in the admin")),
            )
            return
        data = form.cleaned_data
        lot = stock.lot_receive(
            medicine=data["medicine"],
            lot_number=data["lot_number"],
            expiry_date=data["expiry_date"],
            quantity=data["quantity"],
            purchase_price=data["purchase_price"],
            supplier=data.get("supplier", ""),
            received_date=data.get("received_date"),
            user=request.user,
            reason=data.get("reason", ""),
        )
        # The admin goes on with form.instance (the change message, the
        # redirect): make it the lot that lot_receive created or topped up.
        obj.pk = lot.pk
        obj._state.adding = False
        obj.refresh_from_db()

    # --- columns -------------------------------------------------------------
    @display(description=_("medicine"), ordering="medicine__name")
    def display_medicine(self, obj: Lot) -> str:
        return obj.medicine.name

    @display(
        description=_("expiry date"),
        ordering="expiry_date",
        label={"expired": "danger", "soon": "warning", "ok": "default"},
    )
    def display_expiry(self, obj: Lot):
        today = timezone.localdate()
        text = obj.expiry_date.strftime("%d.%m.%Y")
        if obj.expiry_date <= today:
            return "expired", text
        if (obj.expiry_date - today).days <= EXPIRING_SOON_DAYS:
            return "soon", text
        return "ok", text

    @display(description=_("status"), ordering="status", label=LOT_STATUS_COLOURS)
    def display_status(self, obj: Lot):
        return obj.status, obj.get_status_display()

    @display(description=_("purchase price"), ordering="purchase_price")
    def display_purchase_price(self, obj: Lot) -> str:
        return format_uzs(obj.purchase_price)

    # --- actions from the list ----------------------------------------------
    @action(description=_("Quarantine selected lots"), permissions=["quarantine"])
    def quarantine_selected(self, request: HttpRequest, queryset: QuerySet):
        return self._bulk_operation(request, queryset, OPERATIONS["quarantine"])

    @action(description=_("Release selected lots from quarantine"), permissions=["release"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet):
        return self._bulk_operation(request, queryset, OPERATIONS["release"])

    @action(description=_("Recall selected lots"), permissions=["recall"])
    def recall_selected(self, request: HttpRequest, queryset: QuerySet):
        return self._bulk_operation(request, queryset, OPERATIONS["recall"])

    @action(description=_("Write off all stock of selected lots"), permissions=["write_off"])
    def write_off_selected(self, request: HttpRequest, queryset: QuerySet):
        return self._bulk_operation(request, queryset, OPERATIONS["write_off"])

    # --- actions from a lot's page ------------------------------------------
    @action(description=_("Quarantine"), url_path="quarantine", permissions=["quarantine"], icon="block")
    def quarantine_lot(self, request: HttpRequest, object_id: str):
        return self._detail_operation(request, object_id, OPERATIONS["quarantine"])

    @action(description=_("Release"), url_path="release", permissions=["release"], icon="lock_open")
    def release_lot(self, request: HttpRequest, object_id: str):
        return self._detail_operation(request, object_id, OPERATIONS["release"])

    @action(description=_("Recall"), url_path="recall", permissions=["recall"], icon="report")
    def recall_lot(self, request: HttpRequest, object_id: str):
        return self._detail_operation(request, object_id, OPERATIONS["recall"])

    @action(description=_("Write off"), url_path="write-off", permissions=["write_off"], icon="delete_sweep")
    def write_off_lot(self, request: HttpRequest, object_id: str):
        return self._detail_operation(request, object_id, OPERATIONS["write_off"])

    # --- the shared flow ------------------------------------------------------
    def _bulk_operation(self, request: HttpRequest, queryset: QuerySet, operation: LotOperation):
        lots = list(queryset.select_related("medicine").order_by("pk"))
        if operation.key == "write_off":
            lots = [lot for lot in lots if lot.quantity > 0]
            if not lots:
                self.message_user(request, _("None of the selected lots has stock to write off."), messages.WARNING)
                return None
        form = LotActionReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._apply(request, operation, lots, reason=form.cleaned_data["reason"])
            return None  # back to the list, filters kept
        return self._reason_page(request, operation, lots, form, bulk=True)

    def _detail_operation(self, request: HttpRequest, object_id: str, operation: LotOperation):
        lot = get_object_or_404(Lot.objects.select_related("medicine"), pk=object_id)
        change_url = reverse(f"{self.admin_site.name}:catalog_lot_change", args=[lot.pk])
        data = request.POST if request.method == "POST" else None
        if operation.key == "write_off":
            if lot.quantity <= 0:
                self.message_user(request, _("This lot has no stock to write off."), messages.WARNING)
                return HttpResponseRedirect(change_url)
            form = LotWriteOffForm(data, lot=lot)
        else:
            form = LotActionReasonForm(data)
        if form.is_valid():
            self._apply(
                request,
                operation,
                [lot],
                reason=form.cleaned_data["reason"],
                quantity=form.cleaned_data.get("quantity"),
            )
            return HttpResponseRedirect(change_url)
        return self._reason_page(request, operation, [lot], form, bulk=False, cancel_url=change_url)

    def _apply(self, request: HttpRequest, operation: LotOperation, lots: list[Lot], *, reason: str, quantity=None):
        done, failed = [], []
        for lot in lots:
            try:
                result = operation.apply(lot=lot, reason=reason, user=request.user, quantity=quantity)
            except CatalogError as exc:
                failed.append(f"{lot.lot_number}: {exc}")
                continue
            done.append(lot.lot_number)
            if isinstance(result, stock.RecallReport):
                self.message_user(request, self._recall_summary(result), messages.WARNING)
        if done:
            self.message_user(
                request,
                _("Lots %(lots)s %(done)s.") % {"lots": ", ".join(done), "done": operation.verb_done},
                messages.SUCCESS,
            )
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    @staticmethod
    def _recall_summary(report) -> str:
        text = _("Lot %(lot)s: %(on_hand)d on hand, %(outstanding)d dispensed to customers and not returned.") % {
            "lot": report.lot.lot_number,
            "on_hand": report.on_hand,
            "outstanding": report.outstanding,
        }
        if report.references:
            text += " " + _("References: %(refs)s.") % {"refs": ", ".join(report.references)}
        return text

    def _reason_page(
        self,
        request: HttpRequest,
        operation: LotOperation,
        lots: list[Lot],
        form,
        *,
        bulk: bool,
        cancel_url: str = "",
    ) -> HttpResponse:
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": operation.title,
            "operation": operation,
            "lots": lots,
            "form": form,
            "bulk": bulk,
            "opts": opts,
            "action_name": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "cancel_url": cancel_url or reverse(f"{self.admin_site.name}:catalog_lot_changelist"),
        }
        return TemplateResponse(request, "admin/catalog/lot/operation_reason.html", context)


@admin.register(StockMovement)
class StockMovementAdmin(ModelAdmin):
    """The ledger: append-only, written by catalog.services alone."""

    list_display = (
        "created_at",
        "display_medicine",
        "display_lot",
        "display_kind",
        "display_quantity",
        "balance_after",
        "user",
        "reason",
        "reference",
    )
    list_select_related = ("lot__medicine", "user")
    list_filter = (
        ("kind", ChoicesDropdownFilter),
        ("lot__medicine", AutocompleteSelectFilter),
        ("lot", AutocompleteSelectFilter),
        ("user", StaffUserFilter),
        ("created_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("reference", "lot__lot_number")
    search_help_text = _("Reference or lot number.")
    ordering = ("-created_at", "-id")
    list_per_page = 100
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @display(description=_("medicine"), ordering="lot__medicine__name")
    def display_medicine(self, obj: StockMovement) -> str:
        return obj.lot.medicine.name

    @display(description=_("lot"), ordering="lot__lot_number")
    def display_lot(self, obj: StockMovement) -> str:
        return obj.lot.lot_number

    @display(description=_("kind"), ordering="kind", label=MOVEMENT_KIND_COLOURS)
    def display_kind(self, obj: StockMovement):
        return obj.kind, obj.get_kind_display()

    @display(description=_("quantity"), ordering="quantity")
    def display_quantity(self, obj: StockMovement) -> str:
        return f"{obj.quantity:+d}"
