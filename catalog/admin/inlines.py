"""Inlines shared by the catalogue's pages."""

from django.http import HttpRequest
from unfold.admin import TabularInline


class ReadOnlyTabularInline(TabularInline):
    """Rows shown as they are: nothing added, changed or deleted here (stock changes through its services)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
