"""Who may run which import: the permission of what each kind changes, not of the import tool.

A price list creates and reprices medicines, sets their prescription flag,
creates manufacturers and rewrites substances, so it needs those permissions;
a stocktake adjusts stock; a receipt adds lots. ``accounts/roles.py`` grants
them. Checked by the engine at every step
(upload, confirmation, the worker's apply) and by the admin pages before them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from backoffice.exceptions import DomainError
from catalog.models import ImportKind

IMPORT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ImportKind.RECEIPT: ("catalog.add_lot",),
    # A price list also creates the manufacturers it names and rewrites each medicine's substances.
    ImportKind.PRICELIST: (
        "catalog.add_medicine",
        "catalog.change_medicine",
        "catalog.add_manufacturer",
        "catalog.add_medicinesubstance",
        "catalog.change_medicinesubstance",
        "catalog.delete_medicinesubstance",
    ),
    ImportKind.STOCKTAKE: ("catalog.adjust_stock",),
}
# What each kind changes, in the refusal's words.
CHANGES = {
    ImportKind.RECEIPT: _("receive stock into lots"),
    ImportKind.PRICELIST: _("add and change medicines and their prices"),
    ImportKind.STOCKTAKE: _("adjust stock after a count"),
}


class ImportForbidden(DomainError):
    """``user`` may not run an import of ``kind``; ``message`` says what it would need."""

    code = "import_forbidden"
    default_message = _("Your role may not run this import (%(kind)s): it needs the right to %(changes)s.")

    def __init__(self, *, kind: str) -> None:
        self.kind = kind
        self.permissions = IMPORT_PERMISSIONS[kind]
        super().__init__(kind=ImportKind(kind).label, changes=CHANGES[kind])


def import_allowed(user, kind: str) -> bool:
    if kind not in IMPORT_PERMISSIONS or user is None or not user.is_active:
        return False
    return user.has_perms(IMPORT_PERMISSIONS[kind])


def import_kinds_allowed(user) -> list[str]:
    """The import kinds ``user`` may run, in the order of ``ImportKind``."""
    return [kind for kind in ImportKind.values if import_allowed(user, kind)]


def import_require(*, user, kind: str) -> None:
    if not import_allowed(user, kind):
        raise ImportForbidden(kind=kind)


def may_import(request) -> bool:
    """The sidebar's "New import": shown to whoever may run at least one kind."""
    return bool(import_kinds_allowed(request.user))
