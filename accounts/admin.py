from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.decorators import action, display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from backoffice.admin_history import HistoryAdmin
from catalog.models import NOT_SELLING_KINDS, Location

from .models import User
from .phone import format_phone, normalize_phone
from .roles import Role, is_staff_role
from .selectors import second_factor_status
from .services.staff import staff_devices_reset


class PhoneFormMixin:
    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data.get("phone"))
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class LocationsFormMixin:
    """Where a staff member works: they see and move the stock of these places only (the administrator: all)."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("locations") and not is_staff_role(cleaned.get("role") or ""):
            self.add_error("locations", _("Only staff work at a location."))
        return cleaned


class StaffUserCreationForm(PhoneFormMixin, LocationsFormMixin, UserCreationForm):
    class Meta:
        model = User
        fields = ("phone", "first_name", "last_name", "role", "locations")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A role decides what the person may see and change: the administrator chooses one, nothing is
        # preselected (the model's default, customer, is for sign-ups through the API).
        role = self.fields["role"]
        role.choices = [("", "---------"), *Role.choices]
        role.initial = None
        role.required = True


class StaffUserChangeForm(PhoneFormMixin, LocationsFormMixin, UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


ROLE_COLOURS = {
    Role.ADMIN: "danger",
    Role.PHARMACIST: "success",
    Role.INVENTORY: "info",
    Role.OPERATOR: "warning",
    Role.CUSTOMER: "default",
    Role.COURIER: "default",
}


@admin.register(User)
class UserAdmin(HistoryAdmin, DjangoUserAdmin, ModelAdmin):
    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = (
        "display_phone", "first_name", "last_name", "display_role", "display_locations", "is_active", "last_login",
    )  # fmt: skip
    list_filter = (("role", ChoicesDropdownFilter), ("locations", RelatedDropdownFilter), "is_active")
    list_filter_submit = True
    search_fields = ("phone", "first_name", "last_name")
    ordering = ("phone",)
    readonly_fields = ("last_login", "date_joined", "display_second_factor")
    fieldsets = (
        (None, {"fields": ("phone", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "email", "address")}),
        (_("Role"), {"fields": ("role", "is_active", "locations")}),
        (_("Two-factor login"), {"fields": ("display_second_factor",)}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("phone", "first_name", "last_name", "role", "locations", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ()
    actions_detail = ["reset_second_factor"]
    history_list_display = ["role", "is_active"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("locations")

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "locations":
            # Transit is where goods wait between places: nobody works there.
            kwargs["queryset"] = Location.objects.exclude(kind__in=NOT_SELLING_KINDS).order_by("name", "id")
            # A tick per place: a chain's branches and warehouses fit on the page, and no script is needed.
            kwargs["widget"] = UnfoldAdminCheckboxSelectMultipleWidget
            kwargs["help_text"] = _(
                "Where this person works: they see and move the stock of these places only. "
                "The administrator works everywhere."
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @display(description=_("locations"))
    def display_locations(self, obj: User) -> str:
        if obj.role == Role.ADMIN:
            return str(_("Every location"))
        return ", ".join(place.name for place in obj.locations.all())

    @display(description=_("Second factor"))
    def display_second_factor(self, obj: User) -> str:
        """Enrolled or not, with which authenticators, how many backup codes are left and when one was last used."""
        status = second_factor_status(obj)
        return render_to_string("accounts/second_factor_status.html", {"status": status})

    @display(description=_("Phone"), ordering="phone")
    def display_phone(self, obj: User) -> str:
        return format_phone(obj.phone)

    @display(description=_("Role"), ordering="role", label=ROLE_COLOURS)
    def display_role(self, obj: User):
        return obj.role, obj.get_role_display()

    @action(description=_("Reset two-factor devices"), permissions=["reset_second_factor"], icon="phonelink_erase")
    def reset_second_factor(self, request: HttpRequest, object_id: str):
        user = self.get_object(request, object_id)
        if request.method != "POST":
            # A reset locks the person out of the admin until they enrol again: confirm first.
            context = {
                **self.admin_site.each_context(request),
                "title": _("Reset two-factor devices"),
                "subject": user,
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "accounts/confirm_reset_second_factor.html", context)
        removed = staff_devices_reset(user=user)
        self.log_change(request, user, "Two-factor devices reset")
        messages.success(
            request,
            _("%(user)s will set up a new authenticator at the next login (%(count)d devices removed).")
            % {"user": user, "count": removed},
        )
        return redirect(reverse("admin:accounts_user_change", args=[object_id]))

    def has_reset_second_factor_permission(self, request: HttpRequest, object_id=None) -> bool:
        return request.user.is_superuser
