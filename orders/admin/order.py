"""Orders in the admin: the changelist and a sale's page (read-only: a completed sale is corrected by a return)."""

from django.contrib import admin
from unfold.admin import ModelAdmin

from orders.models import Order

from .shift_pages import shift_urls
from .till import till_urls


@admin.register(Order)
class OrderAdmin(ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        # Sales are made at the till, never through a form.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return till_urls(self) + shift_urls(self) + super().get_urls()
