"""Spreadsheet import jobs: the import log and the state a dry run leaves for its confirmation.

An ``ImportJob`` holds everything a later request or a Celery worker needs to
continue an import: the uploaded file (in the default storage, under a private
prefix, so every web and worker process can read it), its SHA-256, the preview
counts and the per-cell errors. Nothing is kept in a process-local temp folder.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def import_storage():
    """The ``private`` storage (no public URL) when configured, else a private prefix of the default one."""
    from django.core.files.storage import default_storage, storages

    if "private" in settings.STORAGES:
        return storages["private"]
    return default_storage


def import_upload_to(instance: "ImportJob", filename: str) -> str:
    # Storage appends a suffix if two uploads share a name; it never overwrites.
    from django.utils import timezone

    prefix = "imports" if "private" in settings.STORAGES else "private/imports"
    return f"{prefix}/{instance.kind}/{timezone.now():%Y/%m/%d}/{filename}"


class ImportKind(models.TextChoices):
    RECEIPT = "receipt", _("Stock receipt")
    PRICELIST = "pricelist", _("Catalogue / price list")
    STOCKTAKE = "stocktake", _("Stocktake")


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Checking")
    READY = "ready", _("Ready to apply")
    INVALID = "invalid", _("Has errors")
    APPLYING = "applying", _("Applying")
    DONE = "done", _("Applied")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    kind = models.CharField(_("import"), max_length=16, choices=ImportKind.choices)
    state = models.CharField(_("state"), max_length=16, choices=ImportState.choices, default=ImportState.UPLOADED)
    file = models.FileField(_("file"), upload_to=import_upload_to, storage=import_storage, max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size, bytes"), default=0)
    checksum = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    # The language the user worked in: messages made by a worker are written in it.
    language = models.CharField(_("language"), max_length=8, blank=True)

    # Where a receipt or a stocktake happens (rows may name another place they work at);
    # empty for a price list, or for a file whose every row names its place.
    location = models.ForeignKey(
        "catalog.Location",
        verbose_name=_("location"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True, db_index=True)
    validated_at = models.DateTimeField(_("checked"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    # An earlier applied job with the same file: applying again needs an explicit yes.
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("same file as"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duplicate_confirmed = models.BooleanField(_("applied again on purpose"), default=False)

    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    new_rows = models.PositiveIntegerField(_("new"), default=0)
    updated_rows = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_rows = models.PositiveIntegerField(_("unchanged"), default=0)
    error_rows = models.PositiveIntegerField(_("with errors"), default=0)
    # {"columns": [...], "rows": [{"line": 2, "status": "new", "values": [...]}, ...]}: the first rows shown.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    # [{"line": 5, "column": "expiry_date", "message": "..."}, ...]; line 0 = the whole file.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)

    progress = models.PositiveSmallIntegerField(_("progress, %"), default=0)
    task_id = models.CharField(_("task"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("import log")
        ordering = ["-created_at", "-id"]
        permissions = [("export_catalog", _("Can export medicines, lots and stock reports"))]
        indexes = [models.Index(fields=["kind", "checksum"], name="importjob_kind_checksum_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.original_name}"

    @property
    def reference(self) -> str:
        """What the ledger rows written by this job carry in ``StockMovement.reference``."""
        return f"import:{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.state in {ImportState.READY, ImportState.INVALID, ImportState.DONE, ImportState.FAILED}
