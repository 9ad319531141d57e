"""Transfers in the admin: a draft of lines, then send, receive or cancel, each through its service.

A draft is edited on its page (places, note, lines as packs and parts, a lot
optional: chosen first-expiry-first at sending) and saved through
``transfer_create`` / ``transfer_update_draft``; once sent its lines are
read-only. "Propose FEFO" shows what sending would take, line by line
(``transfer_propose``). Send, receive and cancel each need their own
permission (``catalog.send_transfer``, ``catalog.receive_transfer``,
``catalog.change_transfer``), and the service checks the member's place: a
refusal (``LocationForbidden``, a shortage, a transfer sent meanwhile) is shown
as its message and nothing changes. A sent transfer has a printable packing list.

A member sees the transfers from or to the places they work at; the
administrator sees all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminIntegerFieldWidget, UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from backoffice.admin_history import HistoryAdmin
from catalog import stock
from catalog.admin.inlines import ReadOnlyTabularInline
from catalog.exceptions import CatalogError
from catalog.formatting import format_date, medicine_units
from catalog.models import Discrepancy, Location, LotStock, Transfer, TransferLine, TransferState
from catalog.stock.transfers import check_line

from .forms import UnitsMixin
from .refusals import ServiceRefusalsAsMessages

TRANSFER_STATE_COLOURS = {
    TransferState.DRAFT: "default",
    TransferState.SENT: "warning",
    TransferState.RECEIVED: "success",
    TransferState.CANCELLED: "danger",
}
NUMBER = re.compile(r"^\s*(?:TR-?)?0*(\d{1,9})\s*$", re.IGNORECASE)


# --- the draft's lines ------------------------------------------------------------------------------
class TransferLineForm(UnitsMixin, forms.ModelForm):
    """A line of a draft: a medicine, how much as packs and loose parts, and a lot if the sender wants that one."""

    packs = forms.IntegerField(label=_("Packs"), min_value=0, widget=UnfoldAdminIntegerFieldWidget)
    parts = forms.IntegerField(
        label=_("Loose parts"),
        min_value=0,
        required=False,
        widget=UnfoldAdminIntegerFieldWidget,
        help_text=_("Only for a medicine sold by the part."),
    )

    class Meta:
        model = TransferLine
        fields = ["medicine", "lot"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            packs, parts = divmod(self.instance.quantity, self.instance.medicine.parts_per_pack)
            self.fields["packs"].initial, self.fields["parts"].initial = packs, parts or None
        self.fields["lot"].help_text = _("Empty: chosen first-expiry-first when the transfer is sent.")

    def units_medicine(self):
        return self.cleaned_data.get("medicine")

    def clean(self):
        cleaned = super().clean()
        self.clean_units(cleaned)
        medicine, units = cleaned.get("medicine"), cleaned.get("units")
        if medicine is not None and units is not None:
            # The service's own rule and words (it checks again when saving).
            try:
                check_line(medicine, units, cleaned.get("lot"))
            except CatalogError as exc:
                self.add_error("lot" if exc.code == "transfer_lot" else None, exc.message)
        return cleaned


class TransferLineInline(TabularInline):
    """A draft's lines, editable by whoever may change the transfer and works at its source."""

    model = TransferLine
    form = TransferLineForm
    fields = ("medicine", "packs", "parts", "lot")
    autocomplete_fields = ("medicine", "lot")
    extra = 2
    min_num = 1
    # A row's title would be the line's own text ("TR-000012 · 31 × 2"): the columns say it better.
    hide_title = True
    verbose_name = _("line")
    verbose_name_plural = _("lines")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("medicine", "lot")

    def get_formset(self, request: HttpRequest, obj=None, **kwargs):
        # Django's inlines never validate min_num themselves: a draft without a line is a form error.
        kwargs.setdefault("validate_min", True)
        return super().get_formset(request, obj, **kwargs)


class TransferLineReadonlyInline(ReadOnlyTabularInline):
    """The lines as they are: once sent each names its lot, once received what arrived."""

    model = TransferLine
    fields = (
        "medicine", "display_lot", "display_expiry", "display_sent", "display_received", "discrepancy",
        "discrepancy_reason",
    )  # fmt: skip
    readonly_fields = fields
    hide_title = True
    verbose_name = _("line")
    verbose_name_plural = _("lines")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("medicine", "lot")

    @display(description=_("lot"))
    def display_lot(self, obj: TransferLine) -> str:
        return obj.lot.lot_number if obj.lot_id else str(_("chosen at sending"))

    @display(description=_("expiry date"))
    def display_expiry(self, obj: TransferLine) -> str:
        return format_date(obj.lot.expiry_date) if obj.lot_id else ""

    @display(description=_("sent"))
    def display_sent(self, obj: TransferLine) -> str:
        return medicine_units(obj.quantity, obj.medicine)

    @display(description=_("received"))
    def display_received(self, obj: TransferLine) -> str:
        if obj.received_quantity is None:
            return ""
        return medicine_units(obj.received_quantity, obj.medicine)


# --- the header ------------------------------------------------------------------------------------------
class TransferForm(forms.ModelForm):
    """From one of the member's places to any other place that holds stock."""

    sources: QuerySet[Location] | None = None

    class Meta:
        model = Transfer
        fields = ["source", "destination", "note"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "source" in self.fields and self.sources is not None:
            self.fields["source"].queryset = self.sources
            if self.instance.pk is None and len(self.sources) == 1:
                self.fields["source"].initial = self.sources[0].pk
        if "destination" in self.fields:
            self.fields["destination"].queryset = stock.stock_locations()

    def clean(self):
        cleaned = super().clean()
        source, destination = cleaned.get("source"), cleaned.get("destination")
        if source is not None and source == destination:
            self.add_error("destination", _("A transfer goes from one place to another."))
        return cleaned


class MemberPlaceFilter(RelatedDropdownFilter):
    """A place of the transfer, among the member's places (every place for the administrator)."""

    def field_choices(self, field, request, model_admin):
        return [(place.pk, place.name) for place in stock.visible_locations(request.user)]

    def has_output(self) -> bool:
        # Django hides a related filter with a single choice, and then drops its
        # parameter unapplied: a member of one place still filters "to my place".
        return bool(self.lookup_choices)


# --- what sending takes -------------------------------------------------------------------------------------
@dataclass
class PlanRow:
    lot_number: str
    expiry: str
    take: str
    available: str


@dataclass
class LinePlan:
    line: TransferLine
    quantity: str
    rows: list[PlanRow] = field(default_factory=list)
    short: str = ""


def sending_plan(transfer: Transfer) -> list[LinePlan]:
    """Per line, the lots sending would take from the source (FEFO, or the line's own lot) and any shortfall.

    Reads only; the sending decides under its locks, so stock sold meanwhile may change it.
    """
    plans = []
    for line in transfer.lines.select_related("medicine", "lot").order_by("id"):
        medicine = line.medicine
        plan = LinePlan(line, medicine_units(line.quantity, medicine))
        if line.lot_id is not None:
            held = LotStock.objects.filter(lot_id=line.lot_id, location_id=transfer.source_id).first()
            available = held.quantity if held else 0
            plan.rows.append(
                PlanRow(
                    line.lot.lot_number,
                    format_date(line.lot.expiry_date),
                    medicine_units(min(line.quantity, available), medicine),
                    medicine_units(available, medicine),
                )
            )
            taken = min(line.quantity, available)
        else:
            proposals = stock.transfer_propose(source=transfer.source, medicine=medicine, quantity=line.quantity)
            plan.rows = [
                PlanRow(
                    p.lot.lot_number,
                    format_date(p.lot.expiry_date),
                    medicine_units(p.quantity, medicine),
                    medicine_units(p.available, medicine),
                )
                for p in proposals
            ]
            taken = sum(p.quantity for p in proposals)
        if taken < line.quantity:
            plan.short = medicine_units(line.quantity - taken, medicine)
        plans.append(plan)
    return plans


# --- receiving --------------------------------------------------------------------------------------------------
class ReceiveLineForm(UnitsMixin, forms.Form):
    """What arrived of one line, and for a shortfall what happens to the missing units and why."""

    units_allow_zero = True

    def __init__(self, *args, line: TransferLine, **kwargs) -> None:
        super().__init__(*args, prefix=f"line-{line.pk}", **kwargs)
        self.line = line
        self.add_units_fields(line.medicine, packs_label=_("Packs received"), initial=line.quantity)
        self.fields["discrepancy"] = forms.ChoiceField(
            label=_("Missing units"),
            choices=[("", _("Nothing is missing")), *Discrepancy.choices],
            required=False,
            widget=UnfoldAdminSelectWidget,
        )
        self.fields["reason"] = forms.CharField(
            label=_("Reason for the shortfall"), max_length=500, required=False, widget=UnfoldAdminTextInputWidget
        )

    def units_medicine(self):
        return self.line.medicine

    def clean(self):
        cleaned = super().clean()
        self.clean_units(cleaned)
        return cleaned

    def received(self) -> stock.Received:
        data = self.cleaned_data
        return stock.Received(data["units"], data.get("discrepancy", ""), data.get("reason", ""))


# --- the admin ----------------------------------------------------------------------------------------------------
@admin.register(Transfer)
class TransferAdmin(ServiceRefusalsAsMessages, HistoryAdmin, ModelAdmin):
    form = TransferForm
    list_display = (
        "display_number",
        "source",
        "destination",
        "display_state",
        "display_lines",
        "sent_at",
        "received_at",
    )
    list_display_links = ("display_number",)
    list_select_related = ("source", "destination")
    list_filter = (
        ("state", ChoicesDropdownFilter),
        ("source", MemberPlaceFilter),
        ("destination", MemberPlaceFilter),
    )
    list_filter_submit = True
    search_fields = ("note",)
    search_help_text = _("Transfer number (TR-000012) or note.")
    ordering = ("-created_at", "-id")
    list_per_page = 50
    history_list_display = ["state"]
    # A transfer changes state through its services alone: no version is restored.
    history_restore_fields = ()
    fieldsets = (
        (None, {"fields": ("source", "destination", "note")}),
        (
            _("Progress"),
            {
                "fields": (
                    "state", "created_by", "created_at", "sent_by", "sent_at", "received_by", "received_at",
                )
            },
        ),
    )  # fmt: skip
    add_fieldsets = ((None, {"fields": ("source", "destination", "note")}),)
    progress_fields = (
        "state", "created_by", "created_at", "sent_by", "sent_at", "received_by", "received_at",
    )  # fmt: skip
    actions_detail = ["propose_fefo", "send_transfer", "receive_transfer", "cancel_transfer", "packing_list"]

    # --- who sees what ------------------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request).annotate(lines_count=Count("lines"))
        mine = stock.member_location_ids(request.user)
        if mine is None:
            return queryset
        return queryset.filter(Q(source_id__in=mine) | Q(destination_id__in=mine))

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        match = NUMBER.match(search_term or "")
        if match:
            return queryset.filter(pk=int(match.group(1))), False
        return super().get_search_results(request, queryset, search_term)

    @staticmethod
    def _editable(request: HttpRequest, obj: Transfer | None) -> bool:
        """A new transfer, or a draft from one of the member's places."""
        if obj is None:
            return True
        return obj.state == TransferState.DRAFT and stock.works_at(request.user, obj.source_id)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return ()
        if self._editable(request, obj):
            return self.progress_fields
        return ("source", "destination", "note", *self.progress_fields)

    def get_inlines(self, request: HttpRequest, obj):
        return [TransferLineInline] if self._editable(request, obj) else [TransferLineReadonlyInline]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The places are the member's: set on a subclass for this request.
        return type(form.__name__, (form,), {"sources": stock.visible_locations(request.user)})

    def render_change_form(self, request: HttpRequest, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not self._editable(request, obj):
            # Nothing on the page is the member's to edit: no save buttons (the actions say what may be done).
            context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    # A transfer is a document of what moved: it is cancelled, never removed.
    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    # --- saving: the service writes the transfer and its lines together -------------------------------
    def save_model(self, request: HttpRequest, obj: Transfer, form, change: bool) -> None:
        # Written with its lines by transfer_create / transfer_update_draft in save_related.
        pass

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        for formset in formsets:
            # The change message reads these; the lines are the service's to write.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        obj = form.instance
        if change and not self._editable(request, obj):
            return
        if change and not form.has_changed() and not any(formset.has_changed() for formset in formsets):
            return  # nothing to record
        lines = [
            (line.cleaned_data["medicine"], line.cleaned_data["units"], line.cleaned_data.get("lot"))
            for formset in formsets
            for line in formset.forms
            # A blank extra row has no cleaned data; a row ticked for deletion leaves the draft.
            if line.cleaned_data and not line.cleaned_data.get("DELETE")
        ]
        data = form.cleaned_data
        places = {"source": data["source"], "destination": data["destination"], "note": data.get("note", "")}
        if change:
            transfer = stock.transfer_update_draft(transfer=obj, lines=lines, user=request.user, **places)
        else:
            transfer = stock.transfer_create(lines=lines, user=request.user, **places)
        # The admin goes on with form.instance (the change message, the redirect).
        obj.pk = transfer.pk
        obj._state.adding = False
        obj.refresh_from_db()

    # --- columns ----------------------------------------------------------------------------------------
    @display(description=_("number"), ordering="id")
    def display_number(self, obj: Transfer) -> str:
        return obj.number

    @display(description=_("state"), ordering="state", label=TRANSFER_STATE_COLOURS)
    def display_state(self, obj: Transfer):
        return obj.state, obj.get_state_display()

    @display(description=_("lines"), ordering="lines_count")
    def display_lines(self, obj: Transfer) -> int:
        return obj.lines_count

    # --- action rules: the permission only (the place is the service's to check) ------------------------------
    def has_propose_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_view_or_change_permission(request)

    def has_packing_list_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.has_view_or_change_permission(request)

    def has_send_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("catalog.send_transfer")

    def has_receive_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("catalog.receive_transfer")

    def has_cancel_permission(self, request: HttpRequest, obj=None) -> bool:
        # Cancelling a draft is a change of the document; no stock has moved.
        return request.user.has_perm("catalog.change_transfer")

    # The buttons a transfer's page shows: its state's, at the member's places (the views
    # themselves do not pre-check the place: the service refuses, and its message is shown).
    OFFERED = {
        "propose_fefo": (TransferState.DRAFT, "source"),
        "send_transfer": (TransferState.DRAFT, "source"),
        "cancel_transfer": (TransferState.DRAFT, "source"),
        "receive_transfer": (TransferState.SENT, "destination"),
        "packing_list": ((TransferState.SENT, TransferState.RECEIVED), None),
    }

    def get_actions_detail(self, request: HttpRequest, object_id):
        actions = super().get_actions_detail(request, object_id)
        transfer = self.get_object(request, object_id)
        if transfer is None:
            return actions
        offered = []
        for item in actions:
            states, place = self.OFFERED[item.method.original_function_name]
            if transfer.state not in (states if isinstance(states, tuple) else (states,)):
                continue
            if place and not stock.works_at(request.user, getattr(transfer, f"{place}_id")):
                continue
            offered.append(item)
        return offered

    # --- the actions ----------------------------------------------------------------------------------------
    def _transfer(self, request: HttpRequest, object_id) -> Transfer:
        return get_object_or_404(self.get_queryset(request).select_related("source", "destination"), pk=object_id)

    def _change_url(self, transfer: Transfer) -> str:
        return reverse(f"{self.admin_site.name}:catalog_transfer_change", args=[transfer.pk])

    def _page(self, request: HttpRequest, template: str, transfer: Transfer, title, **extra) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "transfer": transfer,
            "change_url": self._change_url(transfer),
            **extra,
        }
        return TemplateResponse(request, f"admin/catalog/transfer/{template}", context)

    def _not_in_state(self, request: HttpRequest, transfer: Transfer, *states: str):
        if transfer.state in states:
            return None
        self.message_user(
            request,
            _("Transfer %(transfer)s is %(state)s: this operation is not allowed.")
            % {"transfer": transfer.number, "state": transfer.get_state_display()},
            messages.WARNING,
        )
        return HttpResponseRedirect(self._change_url(transfer))

    @action(description=_("Propose FEFO"), url_path="propose", permissions=["propose"], icon="lightbulb")
    def propose_fefo(self, request: HttpRequest, object_id: str):
        transfer = self._transfer(request, object_id)
        refused = self._not_in_state(request, transfer, TransferState.DRAFT)
        if refused:
            return refused
        title = _("What %(transfer)s would send") % {"transfer": transfer.number}
        return self._page(request, "plan.html", transfer, title, plans=sending_plan(transfer), confirm=False)

    def _apply(self, request: HttpRequest, call, done: str) -> bool:
        """Run a stock service for the page: its refusal shown in its own words (nothing changed), else ``done``."""
        try:
            call()
        except CatalogError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return False
        self.message_user(request, done, messages.SUCCESS)
        return True

    @action(description=_("Send"), url_path="send", permissions=["send"], icon="local_shipping")
    def send_transfer(self, request: HttpRequest, object_id: str):
        transfer = self._transfer(request, object_id)
        refused = self._not_in_state(request, transfer, TransferState.DRAFT)
        if refused:
            return refused
        if request.method == "POST":
            self._apply(
                request,
                lambda: stock.transfer_send(transfer=transfer, user=request.user),
                _("%(transfer)s is on its way to %(place)s.")
                % {"transfer": transfer.number, "place": transfer.destination.name},
            )
            return HttpResponseRedirect(self._change_url(transfer))
        title = _("Send %(transfer)s") % {"transfer": transfer.number}
        return self._page(request, "plan.html", transfer, title, plans=sending_plan(transfer), confirm=True)

    @action(description=_("Receive"), url_path="receive", permissions=["receive"], icon="inventory")
    def receive_transfer(self, request: HttpRequest, object_id: str):
        transfer = self._transfer(request, object_id)
        refused = self._not_in_state(request, transfer, TransferState.SENT)
        if refused:
            return refused
        data = request.POST if request.method == "POST" else None
        lines = list(transfer.lines.select_related("medicine", "lot").order_by("id"))
        forms_ = [ReceiveLineForm(data, line=line) for line in lines]
        if data is not None and all(form.is_valid() for form in forms_):
            received = {form.line.pk: form.received() for form in forms_}
            # Refused, nothing was received: the page keeps what was typed, with the reason.
            if self._apply(
                request,
                lambda: stock.transfer_receive(transfer=transfer, received=received, user=request.user),
                _("%(transfer)s was received at %(place)s.")
                % {"transfer": transfer.number, "place": transfer.destination.name},
            ):
                return HttpResponseRedirect(self._change_url(transfer))
        title = _("Receive %(transfer)s") % {"transfer": transfer.number}
        rows = [
            {
                "form": form,
                "line": form.line,
                "sent": medicine_units(form.line.quantity, form.line.medicine),
                "expiry": format_date(form.line.lot.expiry_date),
            }
            for form in forms_
        ]
        return self._page(request, "receive.html", transfer, title, rows=rows)

    @action(description=_("Cancel the draft"), url_path="cancel", permissions=["cancel"], icon="cancel")
    def cancel_transfer(self, request: HttpRequest, object_id: str):
        transfer = self._transfer(request, object_id)
        refused = self._not_in_state(request, transfer, TransferState.DRAFT)
        if refused:
            return refused
        if request.method == "POST":
            self._apply(
                request,
                lambda: stock.transfer_cancel(transfer=transfer, user=request.user),
                _("%(transfer)s was cancelled.") % {"transfer": transfer.number},
            )
            return HttpResponseRedirect(self._change_url(transfer))
        title = _("Cancel %(transfer)s") % {"transfer": transfer.number}
        return self._page(request, "cancel.html", transfer, title)

    @action(description=_("Packing list"), url_path="packing-list", permissions=["packing_list"], icon="print")
    def packing_list(self, request: HttpRequest, object_id: str):
        transfer = get_object_or_404(
            self.get_queryset(request).select_related("source", "destination", "sent_by"), pk=object_id
        )
        refused = self._not_in_state(request, transfer, TransferState.SENT, TransferState.RECEIVED)
        if refused:
            return refused
        lines = [
            {
                "line": line,
                "expiry": format_date(line.lot.expiry_date) if line.lot_id else "",
                "quantity": medicine_units(line.quantity, line.medicine),
            }
            for line in transfer.lines.select_related("medicine", "lot").order_by("medicine__name", "id")
        ]
        context = {
            "transfer": transfer,
            "lines": lines,
            "sent_at": format_date(transfer.sent_at),
            "change_url": self._change_url(transfer),
            "title": _("Packing list %(transfer)s") % {"transfer": transfer.number},
        }
        return TemplateResponse(request, "admin/catalog/transfer/packing_list.html", context)
