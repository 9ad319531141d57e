"""Read-only admin pages: records written by their services (stock, sales, payments), shown as they are."""

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Nothing added, changed or deleted through the admin's forms; for a ModelAdmin or an inline."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
