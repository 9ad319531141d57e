"""Lots and the stock ledger in the admin.

Stock changes only through the stock core (``catalog.stock``): the lot actions
(quarantine, release, recall, write-off, count) ask for a reason, and for
stock at a place the place, on an intermediate page and call the matching
service; a lot created here is a receipt through ``lot_receive``. A member
picks among the places they work at, and the service refuses any other
(``LocationForbidden``), whatever was posted.

A lot page offers only the status changes its status allows
(``rules.allowed_status_changes``) and the stock actions where the member has
some of it; the permission rules themselves (``has_*_permission``) ask only
for the permission, so the role matrix reads them as the table.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RangeDateFilter,
    RangeDateTimeFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display

from backoffice.admin_history import HistoryAdmin
from backoffice.colours import EXPIRY_COLOURS, expiry_tone
from backoffice.history_display import reason_display
from catalog import stock
from catalog.exceptions import CatalogError, LotStatusError
from catalog.formatting import format_uzs, medicine_units
from catalog.models import Lot, LotStatus, LotStock, MovementKind, StockMovement
from catalog.stock.rules import allowed_status_changes

from .filters import LotExpiryFilter, LotLocationFilter, OnHandFilter, StaffUserFilter, lot_place_scope
from .forms import (
    LotActionReasonForm,
    LotBulkWriteOffForm,
    LotChangeForm,
    LotCountForm,
    LotReceiveForm,
    LotWriteOffForm,
    fieldsets_without_reason,
    lot_stock_at,
)
from .imports import ImportExportActionsMixin
from .paginator import EstimatedCountPaginator
from .refusals import ServiceRefusalsAsMessages

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
    MovementKind.TRANSFER_OUT: "default",
    MovementKind.TRANSFER_IN: "default",
}


@dataclass(frozen=True)
class LotOperation:
    """One of the stock actions on lots: its wording, the permission it needs and the service it calls."""

    key: str
    title: str | Promise
    verb_done: str | Promise
    permission: str
    apply: Callable[..., object]
    button_variant: str = "primary"
    # A change of status (offered by the lot's status), or a change of the stock at a place (asks the place).
    status_change: bool = False
    at_place: bool = False


def _quarantine(*, lot: Lot, reason: str, user, units=None, location=None):
    return stock.lot_quarantine(lot=lot, reason=reason, user=user)


def _release(*, lot: Lot, reason: str, user, units=None, location=None):
    return stock.lot_release(lot=lot, reason=reason, user=user)


def _recall(*, lot: Lot, reason: str, user, units=None, location=None):
    return stock.lot_recall(lot=lot, reason=reason, user=user)


def _write_off(*, lot: Lot, reason: str, user, units=None, location=None):
    # From the list every selected lot is written off in full at the chosen
    # place (expired or damaged batches); the lot page asks for a quantity.
    return stock.stock_write_off(lot=lot, quantity=units or None, reason=reason, user=user, location=location)


def _count(*, lot: Lot, reason: str, user, units=None, location=None):
    return stock.stock_adjust(lot=lot, counted_quantity=units, location=location, user=user, reason=reason)


OPERATIONS: dict[str, LotOperation] = {
    op.key: op
    for op in (
        LotOperation(
            "quarantine", _("Quarantine"), _("quarantined"), "catalog.quarantine_lot", _quarantine, "default", True
        ),
        LotOperation("release", _("Release from quarantine"), _("released"), "catalog.quarantine_lot", _release,
                     status_change=True),
        LotOperation("recall", _("Recall"), _("recalled"), "catalog.recall_lot", _recall, "danger", True),
        LotOperation("write_off", _("Write off"), _("written off"), "catalog.write_off_lot", _write_off, "danger",
                     at_place=True),
        LotOperation("adjust", _("Count"), _("counted"), "catalog.adjust_stock", _count, at_place=True),
    )
}  # fmt: skip


def stock_by_location_table(lot: Lot) -> str:
    """The lot's units at each place that holds some (transit included), as an Unfold table."""
    rows = [
        [str(row.location), row.location.get_kind_display(), medicine_units(row.quantity, lot.medicine)]
        for row in LotStock.objects.filter(lot=lot, quantity__gt=0)
        .select_related("location")
        .order_by("location__name", "location_id")
    ]
    table = {"headers": [_("location"), _("kind"), _("quantity")], "rows": rows}
    return render_to_string("admin/catalog/lot/stock_by_location.html", {"table": table})


@admin.register(Lot)
class LotAdmin(ServiceRefusalsAsMessages, ImportExportActionsMixin, HistoryAdmin, ModelAdmin):
    list_display = (
        "lot_number",
        "display_medicine",
        "display_expiry",
        "display_status",
        "display_quantity",
        "display_purchase_price",
        "supplier",
        "received_date",
    )
    list_display_links = ("lot_number",)
    list_select_related = ("medicine",)
    list_filter = (
        LotLocationFilter,
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
    # A version has no quantity: the ledger is the history of stock.
    history_list_display = ["status", "status_reason", "expiry_date"]

    fieldsets = (
        (None, {"fields": ("medicine", "lot_number", "expiry_date", "received_date")}),
        (_("Stock"), {"fields": ("display_total", "display_stock_by_location", "status", "status_reason")}),
        (_("Purchase"), {"fields": ("purchase_price", "supplier")}),
        (_("Reason for the change"), {"fields": ("change_reason",)}),
        (_("Record"), {"fields": ("created_at",)}),
    )
    add_fieldsets = (
        (None, {"fields": ("medicine", "lot_number", "expiry_date", "received_date")}),
        (_("Receipt"), {"fields": ("location", "packs", "parts", "purchase_price", "supplier", "reason")}),
    )
    change_readonly_fields = (
        "medicine", "display_total", "display_stock_by_location", "status", "status_reason", "created_at",
    )  # fmt: skip

    actions = ["quarantine_selected", "release_selected", "recall_selected", "write_off_selected"]
    # Import (stock receipt, stocktake) and export buttons: catalog/admin/imports.py.
    actions_list = ["import_data", "export_data"]
    import_kind = "receipt"
    export_dataset = "lots"
    actions_detail = [
        {
            "title": _("Stock actions"),
            "icon": "inventory",
            "items": ["quarantine_lot", "release_lot", "recall_lot", "write_off_lot", "count_lot"],
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

    def has_adjust_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("catalog.adjust_stock")

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # A lot's quantity is the sum of its ledger: removing the lot would
        # remove history. Write it off instead.
        return False

    # --- the list: stock at the member's places ------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        scope = lot_place_scope(request)
        if scope is None:
            return queryset.annotate(shown_quantity=F("quantity"))
        # The units at the places in view, one subquery per row of the page (no N+1).
        at_places = (
            LotStock.objects.filter(lot=OuterRef("pk"), location_id__in=scope)
            .order_by()
            .values("lot")
            .annotate(total=Sum("quantity"))
            .values("total")
        )
        return queryset.annotate(shown_quantity=Coalesce(Subquery(at_places), 0))

    # --- a lot's page: the actions its status and its stock allow -----------------
    def get_actions_detail(self, request: HttpRequest, object_id):
        actions = super().get_actions_detail(request, object_id)
        lot = Lot.objects.filter(pk=object_id).select_related("medicine").first()
        if lot is None:
            return actions
        return [action for action in actions if self._refusal(request, lot, self._operation_of(action)) is None]

    @staticmethod
    def _operation_of(action) -> LotOperation:
        name = action.method.original_function_name
        return OPERATIONS["adjust" if name == "count_lot" else name.removesuffix("_lot")]

    def _refusal(self, request: HttpRequest, lot: Lot, operation: LotOperation) -> str | None:
        """Why ``operation`` cannot be run on ``lot`` now (its status, or no stock at the member's places), or None."""
        if operation.status_change and operation.key not in allowed_status_changes(lot):
            return LotStatusError(lot=lot.lot_number, status=lot.get_status_display()).message
        if operation.at_place and not lot_stock_at(lot, stock.visible_locations(request.user, quarantines=True)):
            return str(_("This lot has no stock at your locations."))
        return None

    # --- form: creation is a receipt ---------------------------------------
    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        if obj is None:
            # The places are the member's: set on a subclass for this request.
            places = stock.visible_locations(request.user)
            kwargs["form"] = type("LotReceiveForm", (LotReceiveForm,), {"places": places})
            # The model's quantity is not editable; the form asks for packs and
            # parts received, which only lot_receive turns into stock.
            kwargs["fields"] = LotReceiveForm.Meta.fields
        else:
            kwargs["form"] = LotChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ()
        return self.change_readonly_fields

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            return fieldsets_without_reason(fieldsets)
        return fieldsets

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
            quantity=data["units"],
            location=data["location"],
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
        label=EXPIRY_COLOURS,
    )
    def display_expiry(self, obj: Lot):
        return expiry_tone(obj.expiry_date), obj.expiry_date.strftime("%d.%m.%Y")

    @display(description=_("status"), ordering="status", label=LOT_STATUS_COLOURS)
    def display_status(self, obj: Lot):
        return obj.status, obj.get_status_display()

    @display(description=_("purchase price"), ordering="purchase_price")
    def display_purchase_price(self, obj: Lot) -> str:
        return format_uzs(obj.purchase_price)

    @display(description=_("quantity"), ordering="shown_quantity")
    def display_quantity(self, obj: Lot) -> str:
        # At the places in view (the location filter); every place for the administrator by default.
        return medicine_units(getattr(obj, "shown_quantity", obj.quantity), obj.medicine)

    @display(description=_("quantity on hand"))
    def display_total(self, obj: Lot) -> str:
        return medicine_units(obj.quantity, obj.medicine)

    @display(description=_("by location"))
    def display_stock_by_location(self, obj: Lot) -> str:
        return stock_by_location_table(obj)

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

    @action(description=_("Count"), url_path="count", permissions=["adjust"], icon="fact_check")
    def count_lot(self, request: HttpRequest, object_id: str):
        return self._detail_operation(request, object_id, OPERATIONS["adjust"])

    # --- the shared flow ------------------------------------------------------
    def _bulk_operation(self, request: HttpRequest, queryset: QuerySet, operation: LotOperation):
        lots = list(queryset.select_related("medicine").order_by("pk"))
        data = request.POST if "apply" in request.POST else None
        if operation.key == "write_off":
            lots = [lot for lot in lots if lot.quantity > 0]
            places = stock.visible_locations(request.user, quarantines=True)
            if not lots or not places.exists():
                self.message_user(request, _("None of the selected lots has stock to write off."), messages.WARNING)
                return None
            form = LotBulkWriteOffForm(data, places=places)
        else:
            form = LotActionReasonForm(data)
        if form.is_valid():
            location = form.cleaned_data.get("location")
            if location is not None:
                held = set(
                    LotStock.objects.filter(lot__in=lots, location=location, quantity__gt=0).values_list(
                        "lot_id", flat=True
                    )
                )
                skipped = [lot.lot_number for lot in lots if lot.pk not in held]
                lots = [lot for lot in lots if lot.pk in held]
                if skipped:
                    self.message_user(
                        request,
                        _("No stock at %(location)s: %(lots)s.") % {"location": location, "lots": ", ".join(skipped)},
                        messages.WARNING,
                    )
            self._apply(request, operation, lots, reason=form.cleaned_data["reason"], location=location)
            return None  # back to the list, filters kept
        return self._reason_page(request, operation, lots, form, bulk=True)

    def _detail_operation(self, request: HttpRequest, object_id: str, operation: LotOperation):
        lot = get_object_or_404(Lot.objects.select_related("medicine"), pk=object_id)
        change_url = reverse(f"{self.admin_site.name}:catalog_lot_change", args=[lot.pk])
        refusal = self._refusal(request, lot, operation)
        if refusal:
            self.message_user(request, refusal, messages.WARNING)
            return HttpResponseRedirect(change_url)
        data = request.POST if request.method == "POST" else None
        if operation.at_place:
            # A quarantine's units are counted and written off here too (they are sold nowhere).
            stocks = lot_stock_at(lot, stock.visible_locations(request.user, quarantines=True))
            form_class = LotWriteOffForm if operation.key == "write_off" else LotCountForm
            form = form_class(data, lot=lot, stocks=stocks)
        else:
            form = LotActionReasonForm(data)
        if form.is_valid():
            self._apply(
                request,
                operation,
                [lot],
                reason=form.cleaned_data["reason"],
                units=form.cleaned_data.get("units"),
                location=form.cleaned_data.get("location"),
            )
            return HttpResponseRedirect(change_url)
        return self._reason_page(request, operation, [lot], form, bulk=False, cancel_url=change_url)

    def _apply(
        self, request: HttpRequest, operation: LotOperation, lots: list[Lot], *, reason: str, units=None, location=None
    ):
        done, failed = [], []
        for lot in lots:
            try:
                result = operation.apply(lot=lot, reason=reason, user=request.user, units=units, location=location)
            except CatalogError as exc:
                failed.append(f"{lot.lot_number}: {exc}")
                continue
            if operation.key == "adjust" and result is None:
                self.message_user(
                    request,
                    _("Lot %(lot)s: the count matches the books at %(location)s; nothing changed.")
                    % {"lot": lot.lot_number, "location": location},
                    messages.INFO,
                )
                continue
            done.append(lot.lot_number)
            if isinstance(result, stock.RecallReport):
                self.message_user(request, self._recall_summary(result), messages.WARNING)
        if done:
            self.message_user(
                request,
                # Translated as "Recalled: T536851, K465155." (capitalised here): one wording for one lot or many.
                capfirst(_("Lots %(lots)s %(done)s.") % {"lots": ", ".join(done), "done": operation.verb_done}),
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
        if report.on_hand_by_location:
            medicine = report.lot.medicine
            places = ", ".join(
                f"{name}: {medicine_units(units, medicine)}" for name, units in report.on_hand_by_location.items()
            )
            text += " " + _("On hand at: %(places)s.") % {"places": places}
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
        for lot in lots:
            lot.on_hand_shown = medicine_units(lot.quantity, lot.medicine)
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
        "location",
        "display_kind",
        "display_quantity",
        "display_balance",
        "user",
        "display_reason",
        "reference",
    )
    list_select_related = ("lot__medicine", "location", "user")
    list_filter = (
        ("location", RelatedDropdownFilter),
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

    @display(description=_("reason"))
    def display_reason(self, obj: StockMovement) -> str:
        # The services record their own reasons by code ("expiry", "receipt"): read in the reader's language.
        return reason_display(obj.reason)

    @display(description=_("quantity"), ordering="quantity")
    def display_quantity(self, obj: StockMovement) -> str:
        shown = f"{obj.quantity:+d}"
        if obj.lot.medicine.is_divisible:
            # The units are parts: say what they make in packs.
            shown += f" ({medicine_units(abs(obj.quantity), obj.lot.medicine)})"
        return shown

    @display(description=_("balance after"), ordering="balance_after")
    def display_balance(self, obj: StockMovement) -> str:
        return medicine_units(obj.balance_after, obj.lot.medicine)
