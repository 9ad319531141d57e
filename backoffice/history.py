"""Restoring an earlier version of a record: the one write a history page may make.

A restore writes only the fields a person edits in the record's form, listed by
its admin (``HistoryAdmin.history_restore_fields``), and only those that differ
from the record as it is now; the row is locked first and saved with
``update_fields``, so stock, sales counters and search columns written by the
services meanwhile are never put back. The version is recorded like any other
change: who did it and why.
"""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .exceptions import DomainError


class RestoreRefused(DomainError):
    """The version cannot be restored as it is; ``message`` says why (the history page shows it)."""

    code = "restore_refused"
    default_message = _("This version cannot be restored.")


def restorable_field(model: type[models.Model], name: str) -> models.Field:
    """The concrete, editable field ``name`` of ``model``; raises ``ValueError`` for anything else.

    Non-editable fields (quantities, counters, derived and search columns) are
    written by the services alone and are never restored.
    """
    field = model._meta.get_field(name)
    if not field.concrete or not field.editable or field.primary_key or field.many_to_many:
        raise ValueError(f"{model._meta.label}.{name} is not a field a restore may write")
    return field


def history_restore_changes(*, current: models.Model, version: models.Model, fields: tuple[str, ...]) -> dict:
    """``{field name: value}`` of ``version`` for the ``fields`` where it differs from ``current``.

    Foreign keys are given as attnames (``manufacturer_id``) so that a version
    naming a row deleted since is refused with a message, not a crash.
    """
    changes = {}
    for name in fields:
        field = restorable_field(type(current), name)
        old, now = getattr(version, field.attname), getattr(current, field.attname)
        if old == now:
            continue
        if field.is_relation and old is not None and not field.related_model._default_manager.filter(pk=old).exists():
            raise RestoreRefused(
                _("This version refers to a %(model)s that no longer exists: it cannot be restored."),
                model=field.related_model._meta.verbose_name,
            )
        changes[field.attname] = old
    candidate = copy.copy(current)
    for attname, value in changes.items():
        setattr(candidate, attname, value)
    try:
        # The model's own rules (unique codes, a category not inside itself) hold for a restore too.
        candidate.full_clean()
    except ValidationError as exc:
        raise RestoreRefused(_("This version cannot be restored: %(errors)s"), errors=" ".join(exc.messages)) from exc
    return changes


@transaction.atomic
def history_restore(*, obj: models.Model, changes: dict, user: User, reason: str) -> models.Model:
    """Write ``changes`` (attname -> value) to ``obj``'s row under its lock, recorded with ``user`` and ``reason``."""
    reason = (reason or "").strip()
    if not reason:
        raise RestoreRefused(_("Say why this version is restored."))
    model = type(obj)
    names = {field.attname: field.name for field in model._meta.concrete_fields}
    for attname in changes:
        restorable_field(model, names.get(attname, attname))
    locked = model._default_manager.select_for_update().get(pk=obj.pk)
    if not changes:
        return locked
    for attname, value in changes.items():
        setattr(locked, attname, value)
    locked._history_user = user
    locked._change_reason = reason[:100]
    locked.save(update_fields=list(changes))
    return locked
