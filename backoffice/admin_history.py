"""The history pages of every history-tracked admin, made safe to leave open to readers.

django-simple-history's version page (``…/history/<id>/``) checks only the
*view* permission, and its POST saves every field of the old version through
the admin form: prices, prescription flags, a lot's expiry, and with them the
sales counter and stock read from the version. (``SIMPLE_HISTORY_REVERT_DISABLED``
only hides the button; the POST still saves.) ``HistoryAdmin`` replaces that POST:

- reading a version needs the view permission, as before, and shows it read-only;
- restoring needs the change permission *and* an admin that lists the fields a
  restore may write (``history_restore_fields``); an admin that lists none —
  stock, alerts, users — offers no restore at all;
- a restore writes the version, not what was posted, only where it differs, with
  a required reason, through ``restore_version`` (``backoffice.history`` by
  default; an admin whose model has its own update service overrides it);
- a save from the change form that changes nothing writes no history row.

Every admin of a model with ``HistoricalRecords`` uses it (the role matrix test
checks that).
"""

from __future__ import annotations

import copy

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.widgets import UnfoldAdminTextareaWidget

from .history import RestoreRefused, history_restore, history_restore_changes, restorable_field
from .history_display import LocalisedRecordContextHelper, field_label, reason_display, value_display


def normalise_line_endings(value):
    """Browsers send a textarea's lines ending in CR LF; the database keeps LF, so an untouched text stays equal."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


class LineEndingsTextField(forms.CharField):
    def to_python(self, value):
        return super().to_python(normalise_line_endings(value))


class RestoreReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for restoring this version"),
        max_length=100,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2}),
        help_text=_("Recorded in the history with the change."),
        # A CharField strips its value, so a reason of blanks is "required" too.
        error_messages={"required": _("Say why this version is restored.")},
    )


class HistoryAdmin(SimpleHistoryAdmin):
    """Base of every history-tracked admin: read-only versions, restores that need the change permission."""

    # Fields a restore may write: the ones a person edits in the form. Empty: no restore.
    history_restore_fields: tuple[str, ...] = ()
    object_history_form_template = "admin/history/object_history_form.html"

    def __init__(self, model, admin_site) -> None:
        super().__init__(model, admin_site)
        try:
            for name in self.history_restore_fields:
                restorable_field(model, name)
        except (ValueError, FieldDoesNotExist) as exc:
            raise ImproperlyConfigured(f"{type(self).__name__}.history_restore_fields: {exc}") from exc

    # --- the change form --------------------------------------------------------------
    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.TextField) and not db_field.choices:
            kwargs.setdefault("form_class", LineEndingsTextField)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        if change and not form.has_changed():
            # Nothing to record: a save would add a history row claiming a change.
            return
        super().save_model(request, obj, form, change)

    # --- history pages ----------------------------------------------------------------
    object_history_list_template = "admin/history/object_history_list.html"

    def get_historical_record_context_helper(self, request: HttpRequest, historical_record):
        return LocalisedRecordContextHelper(self.model, historical_record)

    def set_history_delta_changes(self, request: HttpRequest, historical_records, **kwargs) -> None:
        super().set_history_delta_changes(request, historical_records, **kwargs)
        # The page's own columns, named and shown in the reader's language (see backoffice.history_display).
        columns = self.get_history_list_display(request)
        labels = [field_label(self.model, name) for name in columns]
        for record in historical_records:
            record.display_cells = [
                (
                    label,
                    getattr(record, name)
                    if callable(getattr(self, name, None))
                    else value_display(self.model, name, getattr(record, name, None)),
                )
                for label, name in zip(labels, columns, strict=True)
            ]
            record.display_reason = reason_display(record.history_change_reason)

    def history_view(self, request: HttpRequest, object_id, extra_context=None):
        columns = [field_label(self.model, name) for name in self.get_history_list_display(request)]
        return super().history_view(request, object_id, {"history_columns": columns, **(extra_context or {})})

    def history_restore_allowed(self, request: HttpRequest, obj=None) -> bool:
        return bool(self.history_restore_fields) and self.has_change_permission(request, obj)

    def revert_disabled(self, request: HttpRequest, obj=None) -> bool:
        return not self.history_restore_allowed(request, obj)

    def restore_version(self, request: HttpRequest, *, obj, changes: dict, reason: str):
        """Write a restore; override to go through the model's own update service."""
        return history_restore(obj=obj, changes=changes, user=request.user, reason=reason)

    def history_form_view(self, request: HttpRequest, object_id, version_id, extra_context=None):
        if request.method == "POST":
            return self._restore(request, object_id, version_id)
        return self._version_page(request, object_id, version_id, RestoreReasonForm(), extra_context)

    def _version_page(self, request, object_id, version_id, restore_form, extra_context=None):
        # simple-history's own view renders the version; it would save on a POST, so it only ever sees a GET.
        if request.method != "GET":
            request = copy.copy(request)
            request.method = "GET"
        context = {
            "restore_form": restore_form,
            "restore_fields": [self.model._meta.get_field(name).verbose_name for name in self.history_restore_fields],
            **(extra_context or {}),
        }
        return super().history_form_view(request, object_id, version_id, extra_context=context)

    def _restore(self, request: HttpRequest, object_id, version_id):
        history_model = getattr(self.model, self.model._meta.simple_history_manager_attribute).model
        pk_name = self.model._meta.pk.attname
        version = get_object_or_404(history_model, **{pk_name: unquote(object_id), "history_id": version_id})
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            # A deleted record has versions but nothing to restore into.
            raise Http404
        if not self.history_restore_allowed(request, obj):
            raise PermissionDenied
        form = RestoreReasonForm(request.POST)
        if form.is_valid():
            try:
                changes = history_restore_changes(
                    current=obj, version=version.instance, fields=tuple(self.history_restore_fields)
                )
                self.restore_version(request, obj=obj, changes=changes, reason=form.cleaned_data["reason"])
            except RestoreRefused as exc:
                messages.error(request, exc.message)
            else:
                if changes:
                    self.log_change(request, obj, [{"changed": {"fields": sorted(changes)}}])
                    messages.success(
                        request,
                        _("The version of %(date)s was restored.")
                        % {"date": version.history_date.strftime("%d.%m.%Y %H:%M")},
                    )
                else:
                    messages.info(request, _("This version is the same as the record now: nothing was changed."))
                opts = self.model._meta
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
                )
        return self._version_page(request, object_id, version_id, form)
