"""The import log and the import/export pages: upload -> preview -> confirm, templates, exports.

Pages hang off the ``ImportJob`` admin (``get_urls``); the Medicine and Lot
changelists reach them through ``ImportExportActionsMixin`` buttons. Each import
kind needs the permission of what it changes (``catalog.imports.permissions``):
the pages offer only the kinds a person may run and refuse the others, before
an upload is stored. Reading the import log needs ``catalog.view_importjob``,
exporting ``catalog.export_catalog``; anyone else gets 403.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminFileFieldWidget, UnfoldAdminSelectWidget, UnfoldBooleanWidget

from backoffice.colours import IMPORT_STATE_COLOURS
from catalog.exports import CONTENT_TYPES, DATASETS, export_filename, template_rows, write_csv, write_xlsx
from catalog.imports.engine import (
    IMPORTERS,
    LOCATED_KINDS,
    ImportNotAllowed,
    import_job_confirm,
    import_job_create,
    import_job_progress,
    import_job_start_check,
)
from catalog.imports.messages import render as render_message
from catalog.imports.parsing import FileRejected
from catalog.imports.permissions import ImportForbidden, import_allowed, import_kinds_allowed
from catalog.models import ImportJob, ImportKind, ImportState, Location, Medicine
from catalog.stock import visible_locations, works_at

EXPORT_PERMISSION = "catalog.export_catalog"
FORMATS = [("xlsx", "Excel (.xlsx)"), ("csv", "CSV (UTF-8)")]


# The preview stores its columns and each row's result as codes; they are named in the reader's language.
PREVIEW_HEADERS = {
    "sku / barcode": _("SKU / barcode"),
    "sku": _("SKU"),
    "medicine": _("medicine"),
    "name": _("name"),
    "lot_number": _("lot number"),
    "location": _("location"),
    "expiry_date": _("expiry date"),
    "quantity": _("quantity"),
    "purchase_price": _("purchase price"),
    "supplier": _("supplier"),
    "price": _("price"),
    "changes": _("changes"),
    "quantity on hand": _("quantity on hand"),
    "counted_quantity": _("counted quantity"),
}
# What became of one row of the file (a row is feminine in Russian: «новая», «обновлена»).
PREVIEW_RESULTS = {
    "new": ("success", pgettext_lazy("import row", "new")),
    "updated": ("info", pgettext_lazy("import row", "updated")),
    "unchanged": ("default", pgettext_lazy("import row", "unchanged")),
    "error": ("danger", pgettext_lazy("import row", "error")),
    "example": ("default", _("template example, skipped")),
}


def preview_header(name: str) -> str:
    return PREVIEW_HEADERS.get(name, name)


def preview_column(name: str) -> str:
    """A file's column as the reader reads it, with the header the file uses: "yaroqlilik muddati (expiry_date)"."""
    shown = str(preview_header(name))
    return shown if shown == name else f"{shown} ({name})"


def preview_changes(names: str) -> str:
    """A price list row's changed fields ("price, category_id") by the names the medicine page gives them."""
    shown = []
    for name in filter(None, (part.strip() for part in str(names).split(","))):
        try:
            shown.append(str(Medicine._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            shown.append(str(preview_header(name)))
    return ", ".join(shown)


def preview_values(columns: list[str], values: list) -> list:
    changes = columns.index("changes") if "changes" in columns else None
    return [preview_changes(value) if index == changes else value for index, value in enumerate(values)]


def preview_result(status: str):
    tone, text = PREVIEW_RESULTS.get(status, ("default", status))
    return render_to_string("unfold/helpers/label.html", {"type": tone, "text": text})


def can_import(request: HttpRequest) -> bool:
    """May run at least one kind of import (the sidebar entry, the import log's button)."""
    return bool(import_kinds_allowed(request.user))


def can_export(request: HttpRequest) -> bool:
    return request.user.has_perm(EXPORT_PERMISSION)


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Import"), choices=ImportKind.choices, widget=UnfoldAdminSelectWidget)
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.none(),
        required=False,
        widget=UnfoldAdminSelectWidget,
        help_text=_(
            "Where the stock is received or counted (a price list has no location). A row may name another "
            "location you work at in a “location” column, by its code or name. Receipts count packs, as "
            "delivered; a stocktake counts whole packs and, for a medicine sold by the part, loose parts in "
            "a “parts” column."
        ),
    )
    import_file = forms.FileField(
        label=_("File"),
        widget=UnfoldAdminFileFieldWidget(attrs={"accept": ".csv,.xlsx,text/csv"}),
        help_text=_("CSV (UTF-8 or Windows-1251, comma or semicolon) or Excel .xlsx; the first row names the columns."),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # Offered: the kinds this person may run; any other is refused in clean_kind with the reason.
        allowed = import_kinds_allowed(user)
        self.fields["kind"].widget.choices = [(value, label) for value, label in ImportKind.choices if value in allowed]
        # Offered: the places this person works at; a member of one place has it chosen already.
        places = visible_locations(user)
        self.fields["location"].queryset = places
        only = list(places[:2])
        self.only_place = only[0] if len(only) == 1 else None
        if self.only_place and not self.initial.get("location"):
            self.initial["location"] = self.only_place.pk

    def clean_kind(self) -> str:
        kind = self.cleaned_data["kind"]
        if not import_allowed(self.user, kind):
            raise forms.ValidationError(ImportForbidden(kind=kind).message)
        return kind

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") in LOCATED_KINDS and not cleaned.get("location") and "location" not in self.errors:
            # A member of one place never has to name it, as the stock services do not ask either.
            cleaned["location"] = self.only_place
            if self.only_place is None:
                self.add_error("location", _("Choose where the stock is received or counted."))
        if cleaned.get("kind") not in LOCATED_KINDS:
            cleaned["location"] = None
        return cleaned


class ConfirmForm(forms.Form):
    confirm_duplicate = forms.BooleanField(
        label=_("Import it again"),
        required=False,
        widget=UnfoldBooleanWidget,
        help_text=_("This exact file was applied before: tick to apply it once more."),
    )


class ExportForm(forms.Form):
    dataset = forms.ChoiceField(
        label=_("Data"), choices=[(k, d.title) for k, d in DATASETS.items()], widget=UnfoldAdminSelectWidget
    )
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.none(),
        required=False,
        empty_label=_("All my locations"),
        widget=UnfoldAdminSelectWidget,
        help_text=_("Lots, stock levels and the expiry report: one location, or every location you work at."),
    )
    file_format = forms.ChoiceField(label=_("Format"), choices=FORMATS, widget=UnfoldAdminSelectWidget)

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = visible_locations(user)


def export_locations(request: HttpRequest) -> list[Location]:
    """The places a stock export lists: ``?location=<id>`` if the member works there, else all of theirs."""
    places = visible_locations(request.user)
    wanted = request.GET.get("location")
    if not wanted:
        return list(places)
    if not wanted.isdigit():
        raise PermissionDenied
    place = places.filter(pk=int(wanted)).first()
    if place is None:
        # Not a place of theirs (or none at all): its stock is not theirs to export.
        raise PermissionDenied
    return [place]


@admin.register(ImportJob)
class ImportJobAdmin(ModelAdmin):
    """The import log: who imported which file when, with what result. Read-only."""

    list_display = (
        "created_at",
        "kind",
        "location",
        "original_name",
        "created_by",
        "display_state",
        "total_rows",
        "new_rows",
        "updated_rows",
        "unchanged_rows",
        "error_rows",
        "applied_at",
    )
    list_display_links = ("created_at", "original_name")
    list_filter = ("kind", "state", "location")
    list_select_related = ("created_by", "location")
    search_fields = ("original_name", "checksum")
    readonly_fields = [f.name for f in ImportJob._meta.fields]
    actions_list = ["new_import", "export_data"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_new_import_permission(self, request, obj=None) -> bool:
        return can_import(request)

    def has_export_data_permission(self, request, obj=None) -> bool:
        return can_export(request)

    @display(description=_("state"), label=IMPORT_STATE_COLOURS)
    def display_state(self, obj: ImportJob):
        return obj.state, obj.get_state_display()

    @action(description=_("New import"), icon="upload", url_path="new-import", permissions=["new_import"])
    def new_import(self, request: HttpRequest):
        return redirect("admin:catalog_importjob_upload")

    @action(description=_("Export"), icon="download", url_path="export-data", permissions=["export_data"])
    def export_data(self, request: HttpRequest):
        return redirect("admin:catalog_importjob_export")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method != "GET":
            # The log is read-only: a POST here must not look like a save that went through.
            raise PermissionDenied
        return redirect("admin:catalog_importjob_preview", object_id)

    # --- urls ---------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="catalog_importjob_upload"),
            path("<int:job_id>/preview/", view(self.preview_view), name="catalog_importjob_preview"),
            path("<int:job_id>/confirm/", view(self.confirm_view), name="catalog_importjob_confirm"),
            path("<int:job_id>/status.json", view(self.status_view), name="catalog_importjob_status"),
            path("<int:job_id>/file/", view(self.file_view), name="catalog_importjob_file"),
            path("template/<str:kind>.<str:file_format>", view(self.template_view), name="catalog_importjob_template"),
            path("export/", view(self.export_view), name="catalog_importjob_export"),
            path(
                "export/<str:dataset>.<str:file_format>",
                view(self.export_file_view),
                name="catalog_importjob_export_file",
            ),
        ] + super().get_urls()

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def _require(self, request, check) -> None:
        if not check(request):
            raise PermissionDenied

    # --- upload -------------------------------------------------------------
    def upload_view(self, request: HttpRequest) -> HttpResponse:
        self._require(request, can_import)
        allowed = import_kinds_allowed(request.user)
        initial_kind = request.GET.get("kind") if request.GET.get("kind") in allowed else allowed[0]
        form = UploadForm(
            request.POST or None, request.FILES or None, initial={"kind": initial_kind}, user=request.user
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            try:
                from catalog.imports.parsing import max_file_bytes

                if upload.size > max_file_bytes():
                    raise FileRejected(
                        _("The file is %(size)s MB; the limit is %(limit)s MB.")
                        % {"size": round(upload.size / 1048576, 1), "limit": round(max_file_bytes() / 1048576, 1)}
                    )
                job = import_job_create(
                    kind=form.cleaned_data["kind"],
                    filename=upload.name,
                    data=upload.read(),
                    user=request.user,
                    language=get_language(),
                    location=form.cleaned_data.get("location"),
                )
            except ImportForbidden as exc:
                form.add_error("kind", exc.message)
            except FileRejected as exc:
                form.add_error("import_file", exc.message)
            else:
                import_job_start_check(job=job)
                return redirect("admin:catalog_importjob_preview", job.pk)
        guides = []
        for kind, importer in IMPORTERS.items():
            if kind not in allowed:
                continue
            _header, _examples, guide = template_rows(importer)
            guides.append(
                {"kind": kind, "title": ImportKind(kind).label, "summary": importer.summary, "rows": guide[1:]}
            )
        return TemplateResponse(
            request,
            "admin/catalog/importjob/upload.html",
            self._context(request, form=form, guides=guides, title=_("New import")),
        )

    # --- preview / confirm --------------------------------------------------
    def preview_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        self._require(request, lambda r: r.user.has_perm("catalog.view_importjob"))
        job = get_object_or_404(
            ImportJob.objects.select_related("created_by", "applied_by", "duplicate_of", "location"), pk=job_id
        )
        errors_table = {
            "headers": [_("line"), _("column"), _("message")],
            # Each error in the reader's language, whoever uploaded the file.
            "rows": [
                [e["line"] or "—", preview_column(e["column"]) if e["column"] else "—", render_message(e)]
                for e in job.errors[:500]
            ],
        }
        preview = job.preview or {}
        columns = preview.get("columns", [])
        rows_table = {
            "headers": [_("line"), _("result"), *(preview_header(name) for name in columns)],
            "rows": [
                [r["line"], preview_result(r["status"]), *preview_values(columns, r["values"])]
                for r in preview.get("rows", [])
            ],
        }
        context = self._context(
            request,
            job=job,
            title=str(job),
            errors_table=errors_table,
            rows_table=rows_table,
            progress=max(import_job_progress(job), 1),
            confirm_form=ConfirmForm(),
            # The write refuses a member who does not work at the job's place; the button is not offered either.
            can_confirm=job.state == ImportState.READY
            and import_allowed(request.user, job.kind)
            and (job.location is None or works_at(request.user, job.location)),
            running=job.state in (ImportState.UPLOADED, ImportState.VALIDATING, ImportState.APPLYING),
            more_errors=max(0, len(job.errors) - 500) + max(0, preview.get("errors_total", 0) - len(job.errors)),
        )
        return TemplateResponse(request, "admin/catalog/importjob/preview.html", context)

    def confirm_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        self._require(request, can_import)
        if request.method != "POST":
            return redirect("admin:catalog_importjob_preview", job_id)
        job = get_object_or_404(ImportJob, pk=job_id)
        self._require(request, lambda r: import_allowed(r.user, job.kind))
        form = ConfirmForm(request.POST)
        form.is_valid()
        try:
            job = import_job_confirm(
                job=job, user=request.user, confirm_duplicate=form.cleaned_data.get("confirm_duplicate", False)
            )
        except ImportForbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except ImportNotAllowed as exc:
            messages.error(request, exc.message)
            return redirect("admin:catalog_importjob_preview", job_id)
        if job.state == ImportState.DONE:
            messages.success(
                request,
                _("Import applied: %(new)s new, %(updated)s updated, %(unchanged)s unchanged.")
                % {"new": job.new_rows, "updated": job.updated_rows, "unchanged": job.unchanged_rows},
            )
        elif job.state in (ImportState.INVALID, ImportState.FAILED):
            messages.error(request, job.message or _("Nothing was written: see the errors below."))
        return redirect("admin:catalog_importjob_preview", job_id)

    def status_view(self, request: HttpRequest, job_id: int) -> JsonResponse:
        self._require(request, lambda r: r.user.has_perm("catalog.view_importjob"))
        job = get_object_or_404(ImportJob, pk=job_id)
        return JsonResponse(
            {
                "state": job.state,
                "state_display": job.get_state_display(),
                "progress": import_job_progress(job),
                "finished": job.is_finished,
                "counts": {
                    "total": job.total_rows,
                    "new": job.new_rows,
                    "updated": job.updated_rows,
                    "unchanged": job.unchanged_rows,
                    "error": job.error_rows,
                },
            }
        )

    def file_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        job = get_object_or_404(ImportJob, pk=job_id)
        self._require(request, lambda r: import_allowed(r.user, job.kind))
        return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.original_name)

    # --- templates and exports --------------------------------------------------
    def template_view(self, request: HttpRequest, kind: str, file_format: str) -> HttpResponse:
        self._require(request, lambda r: import_allowed(r.user, kind))
        if kind not in IMPORTERS or file_format not in CONTENT_TYPES:
            raise PermissionDenied
        header, examples, guide = template_rows(IMPORTERS[kind])
        filename = f"dorixona-{kind}-template.{file_format}"
        if file_format == "csv":
            body = b"".join(write_csv(header, examples))
        else:
            body = write_xlsx(header, examples, sheet_title=str(ImportKind(kind).label), guide=guide)
        response = HttpResponse(body, content_type=CONTENT_TYPES[file_format])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def export_view(self, request: HttpRequest) -> HttpResponse:
        self._require(request, can_export)
        form = ExportForm(
            request.POST or None, initial={"dataset": request.GET.get("dataset", "medicines")}, user=request.user
        )
        if request.method == "POST" and form.is_valid():
            url = reverse(
                "admin:catalog_importjob_export_file",
                args=[form.cleaned_data["dataset"], form.cleaned_data["file_format"]],
            )
            location = form.cleaned_data.get("location")
            return redirect(f"{url}?location={location.pk}" if location else url)
        return TemplateResponse(
            request, "admin/catalog/importjob/export.html", self._context(request, form=form, title=_("Export"))
        )

    def export_file_view(self, request: HttpRequest, dataset: str, file_format: str) -> HttpResponse:
        self._require(request, can_export)
        if dataset not in DATASETS or file_format not in CONTENT_TYPES:
            raise PermissionDenied
        spec = DATASETS[dataset]
        locations = export_locations(request) if spec.by_location else []
        suffix = locations[0].code if spec.by_location and request.GET.get("location") else ""
        filename = export_filename(dataset, file_format, suffix=suffix)
        rows = spec.rows(locations)
        if file_format == "csv":
            response = StreamingHttpResponse(
                write_csv(spec.header, rows, language=get_language()), content_type=CONTENT_TYPES["csv"]
            )
        else:
            response = HttpResponse(
                write_xlsx(spec.header, rows, sheet_title=str(spec.title)), content_type=CONTENT_TYPES["xlsx"]
            )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ImportExportActionsMixin:
    """Import and Export buttons for a changelist: list ``"import_data"``/``"export_data"`` in ``actions_list``.

    ``import_kind`` preselects the import (``"receipt"``, ``"stocktake"``,
    ``"pricelist"``); ``export_dataset`` the export (``"medicines"``, ``"lots"``,
    ``"stock"``, ``"expiry"``).
    """

    import_kind = ImportKind.RECEIPT
    export_dataset = "medicines"

    def has_import_data_permission(self, request, obj=None) -> bool:
        return import_allowed(request.user, self.import_kind)

    def has_export_data_permission(self, request, obj=None) -> bool:
        return can_export(request)

    @action(description=_("Import"), icon="upload", url_path="import-data", permissions=["import_data"])
    def import_data(self, request: HttpRequest):
        return redirect(f"{reverse('admin:catalog_importjob_upload')}?kind={self.import_kind}")

    @action(description=_("Export"), icon="download", url_path="export-data", permissions=["export_data"])
    def export_data(self, request: HttpRequest):
        return redirect(f"{reverse('admin:catalog_importjob_export')}?dataset={self.export_dataset}")
