"""Places that hold stock: branches and warehouses, kept by the administrator and seen by the staff.

The chain's transit place is the stock core's own (created on the first
transfer): it is listed, never created or edited by hand.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import BooleanRadioFilter, ChoicesDropdownFilter
from unfold.decorators import display

from backoffice.admin_history import HistoryAdmin
from backoffice.history import RestoreRefused
from catalog import services
from catalog.exceptions import CatalogError
from catalog.models import NOT_SELLING_KINDS, Location, LocationKind

LOCATION_KIND_COLOURS = {
    LocationKind.BRANCH: "success",
    LocationKind.WAREHOUSE: "info",
    LocationKind.TRANSIT: "default",
    LocationKind.QUARANTINE: "warning",
}


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = [
            "name", "code", "kind", "is_active", "is_public", "address", "region", "district",
            "latitude", "longitude", "phone", "opening_hours",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:
            self.fields["kind"].choices = [
                (value, label) for value, label in self.fields["kind"].choices if value not in NOT_SELLING_KINDS
            ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and "is_active" in self.changed_data and not cleaned.get("is_active"):
            try:
                services.location_check_may_close(location=self.instance)
            except CatalogError as exc:
                self.add_error("is_active", exc.message)
        return cleaned


@admin.register(Location)
class LocationAdmin(HistoryAdmin, ModelAdmin):
    form = LocationForm
    list_display = (
        "display_name",
        "code",
        "display_kind",
        "region",
        "district",
        "phone",
        "opening_hours",
        "display_staff",
        "is_active",
        "is_public",
    )
    list_display_links = ("display_name",)
    list_filter = (
        ("kind", ChoicesDropdownFilter),
        ("region", ChoicesDropdownFilter),
        ("is_active", BooleanRadioFilter),
        ("is_public", BooleanRadioFilter),
    )
    list_filter_submit = True
    search_fields = ("name", "code", "address", "district")
    search_help_text = _("Name, code, address or district.")
    ordering = ("name", "id")
    readonly_fields = ("created_at",)
    history_list_display = ["is_active", "is_public", "address"]
    # The kind stays out: a restore never turns a branch into a warehouse under its stock.
    history_restore_fields = (
        "name", "code", "address", "region", "district", "phone", "opening_hours",
        "latitude", "longitude", "is_active", "is_public",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("name", "code", "kind", "is_active", "is_public")}),
        (_("Address"), {"fields": ("address", "region", "district")}),
        (_("On the map"), {"fields": ("latitude", "longitude")}),
        (_("Contact and hours"), {"fields": ("phone", "opening_hours")}),
        (_("Record"), {"fields": ("created_at",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(staff_count=Count("staff", distinct=True))

    # Transit is where goods wait between a sending and a receipt, a quarantine where a place's unfit
    # returns are kept aside: the stock core creates them and moves stock through them. Edited or removed
    # by hand, transfers in flight or the units set aside would lose their place.
    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.kind in NOT_SELLING_KINDS:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.kind in NOT_SELLING_KINDS:
            return False
        return super().has_delete_permission(request, obj)

    def restore_version(self, request: HttpRequest, *, obj: Location, changes: dict, reason: str):
        if changes.get("is_active") is False:
            try:
                services.location_check_may_close(location=obj)
            except CatalogError as exc:
                raise RestoreRefused(exc.message) from exc
        return super().restore_version(request, obj=obj, changes=changes, reason=reason)

    @display(description=_("name"), ordering="name")
    def display_name(self, obj: Location) -> str:
        return str(obj)

    @display(description=_("kind"), ordering="kind", label=LOCATION_KIND_COLOURS)
    def display_kind(self, obj: Location):
        return obj.kind, obj.get_kind_display()

    @display(description=_("staff"), ordering="staff_count")
    def display_staff(self, obj: Location) -> int:
        return obj.staff_count
