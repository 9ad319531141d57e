"""Roles and what each staff role may do: the one table of record.

``ROLE_PERMISSIONS`` maps a staff role to ``{"app_label.model": actions}``
where an action is ``view``/``add``/``change``/``delete`` or a custom
permission codename declared in that model's ``Meta.permissions``.
``accounts.services.staff.roles_sync`` turns this table into one Django group per
staff role with exactly these permissions; it runs after every ``migrate``
and from ``manage.py sync_roles``. Extend the table when a model is added.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    COURIER = "courier", _("Courier")
    OPERATOR = "operator", _("Operator")
    PHARMACIST = "pharmacist", _("Pharmacist")
    INVENTORY = "inventory", _("Inventory staff")
    ADMIN = "admin", _("Administrator")


# Roles that work in the admin. Customers and couriers never enter it.
STAFF_ROLES: frozenset[str] = frozenset({Role.OPERATOR, Role.PHARMACIST, Role.INVENTORY, Role.ADMIN})
# Roles that receive API tokens (customers' app, couriers' app).
API_ROLES: frozenset[str] = frozenset({Role.CUSTOMER, Role.COURIER})

VIEW = ("view",)
VIEW_CHANGE = ("view", "change")
ALL = ("view", "add", "change", "delete")

# Models shared by every staff role: reading history and their own devices is
# part of any admin work.
_COMMON: dict[str, tuple[str, ...]] = {}

# Where stock is, and what is on its way there: every staff role reads it (an
# operator tells a customer which branch has a medicine and when more arrives).
# The places themselves are the administrator's to keep.
_PLACES_READ: dict[str, tuple[str, ...]] = {
    "catalog.location": VIEW,
    "catalog.lotstock": VIEW,
    "catalog.medicinestock": VIEW,
    "catalog.transfer": VIEW,
    "catalog.transferline": VIEW,
}

# Sales: every staff role reads them (an operator answers "was it paid?", inventory reconciles the
# ledger against them). Selling, confirming controlled drugs and taking returns are the pharmacist's.
_SALES_READ: dict[str, tuple[str, ...]] = {
    "orders.order": VIEW,
    "orders.orderline": VIEW,
    "orders.shift": VIEW,
    "orders.return": VIEW,
    "payments.payment": VIEW,
    "payments.refund": VIEW,
}

ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.PHARMACIST: {
        **_COMMON,
        **_PLACES_READ,
        # Pharmacists staff the branches goods arrive at: they check what came
        # and receive it. Drafting and sending (picking lots off the shelves of
        # the source) is inventory's work.
        "catalog.transfer": (*VIEW, "receive_transfer"),
        "catalog.category": ALL,
        "catalog.manufacturer": ALL,
        "catalog.activesubstance": ALL,
        "catalog.medicine": ALL,
        "catalog.medicinesubstance": ALL,
        "catalog.lot": (*VIEW_CHANGE, "quarantine_lot", "recall_lot", "write_off_lot"),
        "catalog.stockmovement": VIEW,
        # Price-list imports (they change medicines, which pharmacists may): the import log and previews.
        "catalog.importjob": VIEW,
        "tasks.alert": (*VIEW_CHANGE, "acknowledge_alert"),
        **_SALES_READ,
        # The counter: a pharmacist opens their shift (add), sells, confirms controlled drugs (they are the
        # pharmacist the rule asks for), takes returns and closes their own shift (change). Closing another
        # cashier's shift (close_any_shift) is the administrator's.
        "orders.order": (*VIEW, "sell", "confirm_controlled", "accept_return"),
        "orders.shift": ("view", "add", "change"),
        "orders.prescription": VIEW,
        "orders.controlledentry": VIEW,
    },
    Role.OPERATOR: {
        **_COMMON,
        **_PLACES_READ,
        **_SALES_READ,
        "catalog.category": VIEW,
        "catalog.manufacturer": VIEW,
        "catalog.activesubstance": VIEW,
        "catalog.medicine": VIEW,
        "catalog.medicinesubstance": VIEW,
        "catalog.lot": VIEW,
        "catalog.stockmovement": VIEW,
        "tasks.alert": VIEW,
    },
    Role.INVENTORY: {
        **_COMMON,
        **_PLACES_READ,
        # Inventory staff move stock between places: they draft, send and
        # receive transfers (a warehouse receives returns from the branches).
        # Delete is granted with the rest but no admin offers it: a transfer is
        # cancelled, never removed.
        "catalog.transfer": (*ALL, "send_transfer", "receive_transfer"),
        "catalog.transferline": ALL,
        "catalog.category": VIEW,
        "catalog.manufacturer": VIEW,
        "catalog.activesubstance": VIEW,
        "catalog.medicine": VIEW,
        "catalog.medicinesubstance": VIEW,
        "catalog.lot": (*ALL, "write_off_lot", "adjust_stock"),
        "catalog.stockmovement": VIEW,
        # Import log and exports (catalog/admin/imports.py). Which imports they may run follows
        # from what each changes (catalog/imports/permissions.py): add_lot receipts, adjust_stock stocktakes.
        "catalog.importjob": (*ALL, "export_catalog"),
        "tasks.alert": VIEW,
        **_SALES_READ,
        # The controlled-drug register is reconciled against the shelves by inventory too.
        "orders.controlledentry": VIEW,
    },
    # The administrator is a superuser: every permission, including users and roles.
    Role.ADMIN: {},
}


def is_staff_role(role: str) -> bool:
    return role in STAFF_ROLES


def group_name(role: str) -> str:
    """The Django group that carries ``role``'s permissions."""
    return f"role:{role}"
