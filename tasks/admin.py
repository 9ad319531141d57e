"""Alerts in the admin: filters, severity badges, bulk acknowledge, run-the-scans-now (confirmed by POST).

Alerts are written by the scans only: every field is read-only here, and the
one thing a person does to an alert, acknowledging it, goes through
``tasks.services.alerts_acknowledge`` (recorded in the history).

A member sees the alerts of the places they work at (the administrator every
place's): the list, its place filter, the pages of single alerts and the
acknowledge action all read through ``get_queryset``.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import (
    ChoicesDropdownFilter,
    DropdownFilter,
    RangeDateTimeFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display

from backoffice.admin_history import HistoryAdmin
from backoffice.colours import SEVERITY_COLOURS
from backoffice.queue import enqueue
from catalog.stock import member_location_ids, visible_locations

from . import services
from .models import Alert, AlertDelivery, AlertKind, DeliveryStatus

STATE_COLOURS = {"open": "danger", "acknowledged": "warning", "resolved": "success"}
DELIVERY_COLOURS = {
    DeliveryStatus.SENT: "success",
    DeliveryStatus.SENDING: "info",
    DeliveryStatus.FAILED: "warning",
    DeliveryStatus.GAVE_UP: "danger",
}


class AlertStateFilter(DropdownFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("open", _("Open, not acknowledged")),
            ("acknowledged", _("Open, acknowledged")),
            ("resolved", _("Resolved")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True, acknowledged_at__isnull=True)
        if self.value() == "acknowledged":
            return queryset.filter(resolved_at__isnull=True, acknowledged_at__isnull=False)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class AlertLocationFilter(RelatedDropdownFilter):
    """The places the member works at (every place for the administrator)."""

    def field_choices(self, field, request, model_admin):
        return list(visible_locations(request.user).values_list("pk", "name"))


class AlertDeliveryInline(TabularInline):
    model = AlertDelivery
    extra = 0
    can_delete = False
    fields = ("channel", "target", "display_status", "attempts", "sent_at", "next_attempt_at", "last_error")
    readonly_fields = fields
    tab = True

    def has_add_permission(self, request, obj=None):
        return False

    @display(description=_("status"), label=DELIVERY_COLOURS)
    def display_status(self, obj: AlertDelivery):
        return obj.status, obj.get_status_display()


@admin.register(Alert)
class AlertAdmin(HistoryAdmin, ModelAdmin):
    list_display = (
        "display_alert",
        "location",
        "display_severity",
        "display_window",
        "display_state",
        "first_seen",
        "last_seen",
        "acknowledged_by",
    )
    list_filter = (
        AlertStateFilter,
        ("location", AlertLocationFilter),
        ("kind", ChoicesDropdownFilter),
        ("severity", ChoicesDropdownFilter),
        ("first_seen", RangeDateTimeFilter),
    )
    list_filter_submit = True
    list_select_related = ("medicine", "lot", "lot__medicine", "location", "acknowledged_by")
    search_fields = ("medicine__name", "lot__lot_number", "lot__medicine__name")
    date_hierarchy = None
    readonly_fields = (
        "kind",
        "severity",
        "medicine",
        "lot",
        "location",
        "window",
        "first_seen",
        "last_seen",
        "resolved_at",
        "acknowledged_by",
        "acknowledged_at",
    )
    fields = readonly_fields
    inlines = [AlertDeliveryInline]
    actions = ["acknowledge"]
    actions_list = ["run_scans"]
    actions_detail = ["acknowledge_one"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        queryset = super().get_queryset(request)
        places = member_location_ids(request.user)
        return queryset if places is None else queryset.filter(location_id__in=sorted(places))

    # --- permissions: alerts are written by the scans only ---------------------
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing on an alert's page is edited (a Save button there would only rewrite what the scan wrote):
        # the page is read-only and offers Acknowledge instead.
        return False

    def has_acknowledge_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("tasks.acknowledge_alert")

    def has_scan_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("tasks.change_alert")

    # --- columns -----------------------------------------------------------------
    @display(description=_("alert"), ordering="kind")
    def display_alert(self, obj: Alert) -> str:
        return str(obj)

    @display(description=_("severity"), ordering="severity", label=SEVERITY_COLOURS)
    def display_severity(self, obj: Alert):
        return obj.severity, obj.get_severity_display()

    @display(description=_("window"), ordering="window")
    def display_window(self, obj: Alert) -> str:
        if obj.kind == AlertKind.EXPIRY:
            return ngettext("%(days)s day", "%(days)s days", obj.window) % {"days": obj.window}
        return "—"

    @display(description=_("state"), label=STATE_COLOURS)
    def display_state(self, obj: Alert):
        if obj.resolved_at:
            return "resolved", _("Resolved")
        if obj.acknowledged_at:
            return "acknowledged", _("Acknowledged")
        return "open", _("Open")

    # --- actions -----------------------------------------------------------------
    @action(description=_("Acknowledge selected alerts"), permissions=["acknowledge"])
    def acknowledge(self, request: HttpRequest, queryset: QuerySet[Alert]):
        count = services.alerts_acknowledge(alert_ids=queryset.values_list("pk", flat=True), user=request.user)
        self.message_user(request, _("%(n)d alert(s) acknowledged.") % {"n": count}, messages.SUCCESS)

    @action(description=_("Acknowledge"), url_path="acknowledge", permissions=["acknowledge"], icon="done")
    def acknowledge_one(self, request: HttpRequest, object_id: str):
        alert = self.get_object(request, object_id)  # through get_queryset: an alert of the member's places
        if alert is None:
            return HttpResponseRedirect(reverse("admin:tasks_alert_changelist"))
        change_url = reverse("admin:tasks_alert_change", args=[alert.pk])
        if request.method != "POST":
            # A link only asks (as "Run the scans now" does): the change is made by this page's form.
            context = {
                **self.admin_site.each_context(request),
                "title": _("Acknowledge the alert"),
                "opts": self.model._meta,
                "alert": alert,
                "change_url": change_url,
            }
            return TemplateResponse(request, "admin/tasks/alert/confirm_acknowledge.html", context)
        if services.alerts_acknowledge(alert_ids=[alert.pk], user=request.user):
            self.message_user(request, _("The alert is acknowledged."), messages.SUCCESS)
        else:
            self.message_user(request, _("The alert had already been acknowledged."), messages.INFO)
        return HttpResponseRedirect(change_url)

    @action(description=_("Run the scans now"), permissions=["scan"], icon="radar")
    def run_scans(self, request: HttpRequest):
        if request.method != "POST":
            # The list button is a link: a GET (or a link on another site) only
            # asks; the scans start from this page's form, behind its CSRF token.
            context = {
                **self.admin_site.each_context(request),
                "title": _("Run the scans now"),
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "admin/tasks/alert/confirm_run_scans.html", context)
        # Sent now: the page says whether the queue took them.
        sent = [enqueue(name, on_commit=False) for name in ("tasks.scan_expiry", "tasks.scan_low_stock")]
        queued = None not in sent
        if queued:
            self.message_user(request, _("The scans have been started."), messages.SUCCESS)
        else:
            self.message_user(
                request,
                _("The task queue is unreachable; the scans will run at their next scheduled time."),
                messages.WARNING,
            )
        return HttpResponseRedirect(reverse("admin:tasks_alert_changelist"))
