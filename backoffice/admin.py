"""Third-party models on the Dorixona site, restyled with Unfold.

Apps such as django-otp, django-axes and django-celery-beat register their
models with plain ``ModelAdmin`` classes; here they are re-registered on
Unfold's base class so every page of the admin looks and behaves the same.
"""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django_celery_beat.admin import ClockedScheduleAdmin, CrontabScheduleAdmin, PeriodicTaskAdmin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from unfold.admin import ModelAdmin

for model in (
    Group,
    TOTPDevice,
    AccessAttempt,
    AccessLog,
    AccessFailureLog,
    PeriodicTask,
    IntervalSchedule,
    CrontabSchedule,
    SolarSchedule,
    ClockedSchedule,
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin, ModelAdmin):
    """Role groups are written by ``manage.py sync_roles`` from accounts/roles.py."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TOTPDevice)
class UnfoldTOTPDeviceAdmin(TOTPDeviceAdmin, ModelAdmin):
    pass


@admin.register(AccessAttempt)
class UnfoldAccessAttemptAdmin(AccessAttemptAdmin, ModelAdmin):
    """Deleting an attempt unlocks that phone on that IP: the administrator's unlock."""

    def cleanup_expired_attempts(self, request, queryset):
        # django-axes' action reads the attributes its handler sets on a login
        # request; an admin request has none, and the action failed with a 500.
        AxesProxyHandler.update_request(request)
        return super().cleanup_expired_attempts(request, queryset)

    cleanup_expired_attempts.short_description = AccessAttemptAdmin.cleanup_expired_attempts.short_description
    # It deletes attempts: whoever may delete them (the administrator).
    cleanup_expired_attempts.allowed_permissions = ("delete",)


@admin.register(AccessLog)
class UnfoldAccessLogAdmin(AccessLogAdmin, ModelAdmin):
    pass


@admin.register(AccessFailureLog)
class UnfoldAccessFailureLogAdmin(AccessFailureLogAdmin, ModelAdmin):
    pass


@admin.register(PeriodicTask)
class UnfoldPeriodicTaskAdmin(PeriodicTaskAdmin, ModelAdmin):
    # The library's template runs an inline script the content security policy blocks.
    change_form_template = "admin/django_celery_beat/periodictask/change_form.html"


@admin.register(IntervalSchedule)
class UnfoldIntervalScheduleAdmin(ModelAdmin):
    pass


@admin.register(CrontabSchedule)
class UnfoldCrontabScheduleAdmin(CrontabScheduleAdmin, ModelAdmin):
    pass


@admin.register(SolarSchedule)
class UnfoldSolarScheduleAdmin(ModelAdmin):
    pass


@admin.register(ClockedSchedule)
class UnfoldClockedScheduleAdmin(ClockedScheduleAdmin, ModelAdmin):
    pass
