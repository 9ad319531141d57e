"""Inlines shared by the catalogue's pages."""

from unfold.admin import TabularInline

from backoffice.admin_readonly import ReadOnlyAdminMixin


class ReadOnlyTabularInline(ReadOnlyAdminMixin, TabularInline):
    """Rows shown as they are: nothing added, changed or deleted here (stock changes through its services)."""

    extra = 0
    can_delete = False
