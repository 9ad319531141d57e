"""History pages in the reader's language: field names, values and the reasons the system records.

simple-history's list prints each ``history_list_display`` column under its
attribute name (``status_reason``) and its raw value (``True``, ``None``,
``available``), and its changes column the raw values too. Here a value is
shown as the change form shows it: a choice's label, yes/no, a date as lists
write it, a dash for nothing. Reasons written by the system (not typed by a
person) are short codes, rendered at reading time, so each reader sees them in
their own language.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.template_utils import HistoricalRecordContextHelper

from catalog.formatting import format_date, group_thousands
from catalog.models import MovementKind
from catalog.stock import EXPIRY_SWEEP_REASON

# Reasons the services record by code (``default_change_reason``, a movement's kind): how each is read.
SYSTEM_REASONS = {
    EXPIRY_SWEEP_REASON: gettext_lazy("Expiry sweep"),
    "acknowledged": gettext_lazy("Acknowledged"),
    "demo data": gettext_lazy("Demo data"),
    # Recorded as their English text (older rows hold the same words).
    "Counter sale": gettext_lazy("Counter sale"),
    "Stocktake": gettext_lazy("Stocktake"),
    **{kind.value: kind.label for kind in MovementKind},
}


def reason_display(reason: str | None) -> str:
    if not reason:
        return ""
    return str(SYSTEM_REASONS.get(reason, reason))


def value_display(model: type[models.Model], name: str, value) -> str:
    """``value`` of ``model``'s field ``name`` as a reader sees it."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    if value is None or value == "":
        return "—"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, datetime.date):
        return format_date(value)
    if isinstance(value, int):
        return group_thousands(value)
    if isinstance(value, Decimal):
        whole = int(value)
        return group_thousands(whole) if value == whole else f"{group_thousands(whole)},{str(value).split('.')[1]}"
    return str(value)


def field_label(model: type[models.Model], name: str) -> str:
    try:
        return capfirst(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return capfirst(name.replace("_", " "))


class LocalisedRecordContextHelper(HistoricalRecordContextHelper):
    """The changes column with values as the reader sees them (labels, yes/no, dates)."""

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if isinstance(field, models.ForeignKey):
            return "—" if value is None else str(value)  # simple-history passes the related object
        if isinstance(field, models.ManyToManyField):
            return super().prepare_delta_change_value(change, value)
        return value_display(self.model, change.field, value)
