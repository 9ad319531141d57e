"""The import flow, one code path for the admin, the Celery task and the benchmark.

1. ``import_job_create``: the upload is size-checked, hashed (SHA-256) and kept in
   storage every process can read; an earlier job that applied (or is applying) the same
   file is noted.
2. ``import_job_check`` (the dry run): every row is checked set-based; the counts, the
   first rows and every error by line and column are stored on the job.
3. ``import_job_apply`` (the confirmation): in one transaction the file is read and
   checked again with the rows locked (stock may have moved since the preview), and
   written only if no row has an error: all rows or none.

Steps 2 and 3 run in a Celery worker when the file has more than
``IMPORT_ASYNC_ROWS`` rows (``import_job_start_check`` / ``import_job_confirm``
decide), with progress stored on the job (and, while the applying transaction is
open and the job row cannot show it to others, in the cache). When the broker
cannot be reached, the check ends as failed with the reason and a confirmation
is refused with its claim released: nothing waits for a task that was never sent.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backoffice.exceptions import DomainError
from backoffice.queue import enqueue
from catalog.exceptions import CatalogError, LinesRefused
from catalog.imports.base import MAX_STORED_ERRORS, Importer, Plan
from catalog.imports.parsing import FileRejected, count_data_rows, max_file_bytes, read_table
from catalog.imports.permissions import ImportForbidden, import_allowed, import_require
from catalog.imports.pricelist import PricelistImporter
from catalog.imports.receipt import ReceiptImporter
from catalog.imports.stocktake import StocktakeImporter
from catalog.models import ImportJob, ImportKind, ImportState, Location
from catalog.versioning import catalog_cache_bump

logger = logging.getLogger(__name__)

IMPORTERS: dict[str, type[Importer]] = {
    ImportKind.RECEIPT: ReceiptImporter,
    ImportKind.PRICELIST: PricelistImporter,
    ImportKind.STOCKTAKE: StocktakeImporter,
}
# The kinds that change stock at a place.
LOCATED_KINDS = (ImportKind.RECEIPT, ImportKind.STOCKTAKE)


class ImportNotAllowed(DomainError):
    """The job is not in a state that allows the step (already applied, another one applying)."""

    code = "import_not_allowed"


# What the user reads when the import itself broke (a bug, storage gone): the
# details are for engineers and go to the log with the traceback, not on screen.
UNEXPECTED_FAILURE = gettext_lazy(
    "The import stopped because of an unexpected error and nothing was written. The error has been logged; "
    "try again later or tell the administrator."
)

QUEUE_UNREACHABLE = gettext_lazy(
    "The task queue cannot be reached, so a file this large cannot be processed now. Nothing was written; "
    "try again in a minute."
)


def progress_cache_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def import_job_progress(job: ImportJob) -> int:
    """The live percentage: the cache while a transaction hides the job row's own value."""
    if job.state in (ImportState.VALIDATING, ImportState.APPLYING):
        cached = cache.get(progress_cache_key(job.pk))
        if cached is not None:
            return max(int(cached), job.progress)
    return job.progress


def _progress_reporter(job_id: int, *, in_transaction: bool):
    last = {"value": -1}

    def report(percent: int) -> None:
        percent = max(0, min(100, int(percent)))
        if percent - last["value"] < 5 and percent != 100:
            return
        last["value"] = percent
        cache.set(progress_cache_key(job_id), percent, timeout=3600)
        if not in_transaction:
            ImportJob.objects.filter(pk=job_id).update(progress=percent)

    return report


# --- 1. upload -----------------------------------------------------------------


def import_job_create(
    *, kind: str, filename: str, data: bytes, user, language: str = "", location: Location | None = None
) -> ImportJob:
    """Keep the upload and open its job.

    ``location`` is where a receipt or a stocktake happens (rows may name
    another place in their ``location`` column); whether the member works there
    is checked by the dry run and again at the confirmation, by the stock core's
    rule. Raises ``ImportForbidden`` when ``user`` may not run this kind
    (nothing is stored), ``FileRejected`` for an oversized or empty file.
    """
    if kind not in IMPORTERS:
        raise ValueError(f"unknown import kind {kind!r}")
    # Before anything is stored: the permission of what this kind changes.
    import_require(user=user, kind=kind)
    if len(data) > max_file_bytes():
        raise FileRejected(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(len(data) / 1048576, 1), "limit": round(max_file_bytes() / 1048576, 1)}
        )
    if not data.strip():
        raise FileRejected(_("The file is empty."))
    checksum = hashlib.sha256(data).hexdigest()
    job = ImportJob(
        kind=kind,
        original_name=filename[:255],
        size=len(data),
        checksum=checksum,
        created_by=user,
        language=language or translation.get_language() or settings.LANGUAGE_CODE,
        total_rows=count_data_rows(data, filename),
        duplicate_of=_earlier_applied(kind, checksum),
        location=location if kind in LOCATED_KINDS else None,
    )
    safe_name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in filename)[-100:] or "upload"
    job.file.save(safe_name, ContentFile(data), save=False)
    job.save()
    return job


def _earlier_applied(kind: str, checksum: str, exclude_pk: int | None = None) -> ImportJob | None:
    """The job that already applied this file, or is applying it now (that one first: it must finish)."""
    jobs = ImportJob.objects.filter(
        kind=kind, checksum=checksum, state__in=[ImportState.APPLYING, ImportState.DONE]
    ).select_related("applied_by", "created_by")
    if exclude_pk:
        jobs = jobs.exclude(pk=exclude_pk)
    return jobs.order_by(F("applied_at").desc(nulls_first=True), "-pk").first()


def _lock_same_file(kind: str, checksum: str) -> None:
    """Serialise the duplicate check and claim of every job of one file until the transaction ends.

    PostgreSQL: a transaction-level advisory lock keyed on (kind, checksum), held
    only by confirmations. Not the job rows (``FOR UPDATE``): the worker keeps
    the applying job's row locked for its whole transaction, so a confirmation
    would hang behind a large file instead of being told to wait. SQLite needs
    nothing: its transactions begin IMMEDIATE (settings), so writers take turns.
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"import-job:{kind}:{checksum}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])


def _read(job: ImportJob, *, confirming: bool = False) -> Importer:
    with job.file.open("rb") as handle:
        data = handle.read()
    table = read_table(data, job.original_name)
    del data
    basis = (job.preview or {}).get("basis", {}) if confirming else None
    # Who acts: the uploader checks, whoever confirms writes (and must work at the places too).
    user = job.applied_by if confirming else job.created_by
    return IMPORTERS[job.kind](table, basis=basis, user=user, location=job.location)


def _store_plan(job: ImportJob, plan: Plan, importer: Importer) -> None:
    job.total_rows = plan.total
    job.new_rows = plan.counts["new"]
    job.updated_rows = plan.counts["updated"]
    job.unchanged_rows = plan.counts["unchanged"]
    job.error_rows = plan.counts["error"]
    job.errors = plan.errors[:MAX_STORED_ERRORS]
    job.preview = {"columns": importer.preview_columns(), "rows": plan.preview_rows, "errors_total": len(plan.errors)}
    if plan.basis:
        job.preview["basis"] = plan.basis


def _store_refusal(job: ImportJob, exc: CatalogError) -> None:
    lines = exc.lines if isinstance(exc, LinesRefused) else []
    job.errors = [
        {"line": line.ref if isinstance(line.ref, int) else 0, "column": "", "message": line.error.message}
        for line in lines[:MAX_STORED_ERRORS]
    ] or [{"line": 0, "column": "", "message": exc.message}]
    job.error_rows = len({error["line"] for error in job.errors} - {0})
    job.state = ImportState.INVALID
    job.message = _("Nothing was written: the stock could not take these rows.")


def _store_rejection(job: ImportJob, exc: FileRejected) -> None:
    job.errors = [{"line": 0, "column": "", "message": exc.message}]
    job.error_rows = 0
    job.new_rows = job.updated_rows = job.unchanged_rows = 0
    job.preview = {"columns": [], "rows": [], "errors_total": 1}
    job.message = exc.message


# --- 2. dry run -----------------------------------------------------------------


def import_job_check(*, job_id: int) -> ImportJob:
    """The dry run. Idempotent: a job already checked is returned as it is."""
    claimed = ImportJob.objects.filter(pk=job_id, state__in=[ImportState.UPLOADED, ImportState.VALIDATING]).update(
        state=ImportState.VALIDATING, progress=1
    )
    job = ImportJob.objects.get(pk=job_id)
    if not claimed:
        return job
    report = _progress_reporter(job_id, in_transaction=False)
    try:
        with translation.override(job.language or settings.LANGUAGE_CODE):
            try:
                importer = _read(job)
                plan = importer.plan(progress=report)
            except FileRejected as exc:
                _store_rejection(job, exc)
                job.state = ImportState.INVALID
            else:
                _store_plan(job, plan, importer)
                job.state = ImportState.READY if plan.is_valid else ImportState.INVALID
                job.message = ""
        job.validated_at = timezone.now()
        job.progress = 100
        job.save()
    except Exception:
        # Whatever broke, the job ends: left "checking", its progress bar would poll forever.
        job = _fail(job_id, "check")
    finally:
        cache.delete(progress_cache_key(job_id))
    return job


def _fail(job_id: int, step: str) -> ImportJob:
    """End a job as failed after an unexpected error: the traceback to the log, a plain message to the user."""
    logger.exception("import job %s: the %s failed unexpectedly", job_id, step)
    job = ImportJob.objects.get(pk=job_id)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        message = str(UNEXPECTED_FAILURE)
    ImportJob.objects.filter(pk=job_id).update(
        state=ImportState.FAILED, message=message, progress=100, validated_at=job.validated_at or timezone.now()
    )
    job.refresh_from_db()
    return job


def import_job_start_check(*, job: ImportJob) -> ImportJob:
    """Check now, or in a worker when the file is large; returns the job (refreshed)."""
    if job.total_rows > settings.IMPORT_ASYNC_ROWS:
        # Sent now, not on commit: a refused send must end the job here, not leave it waiting.
        task_id = enqueue("catalog.imports.check", job.pk, on_commit=False)
        if task_id is None:
            # Not left "uploaded" with a progress bar that never moves: said, and ended.
            ImportJob.objects.filter(pk=job.pk, state=ImportState.UPLOADED).update(
                state=ImportState.FAILED, message=str(QUEUE_UNREACHABLE)
            )
        else:
            ImportJob.objects.filter(pk=job.pk).update(task_id=task_id)
        job.refresh_from_db()
        return job
    return import_job_check(job_id=job.pk)


# --- 3. confirmation ----------------------------------------------------------------


def import_job_confirm(*, job: ImportJob, user, confirm_duplicate: bool = False) -> ImportJob:
    """Claim a checked job for applying and apply it now or in a worker.

    Refused when ``user`` may not run this kind (``ImportForbidden``), when the
    job is not ready, or when the same file was applied before and
    ``confirm_duplicate`` is not given.
    """
    import_require(user=user, kind=job.kind)
    with transaction.atomic():
        # The check and the claim together: two confirmations of the same file
        # cannot both find no earlier job and both apply it.
        _lock_same_file(job.kind, job.checksum)
        duplicate = _earlier_applied(job.kind, job.checksum, exclude_pk=job.pk)
        refused = duplicate is not None and (duplicate.state == ImportState.APPLYING or not confirm_duplicate)
        if refused:
            # Held as a duplicate: its page shows the earlier job and, once that is done, "Import it again".
            ImportJob.objects.filter(pk=job.pk, state=ImportState.READY).update(duplicate_of=duplicate)
            claimed = 0
        else:
            claimed = ImportJob.objects.filter(pk=job.pk, state=ImportState.READY).update(
                state=ImportState.APPLYING,
                applied_by=user,
                duplicate_of=duplicate,
                duplicate_confirmed=bool(duplicate),
                progress=0,
            )
    if refused and duplicate.state == ImportState.APPLYING:
        # Not even with "Import it again": whether a second time is wanted is decided once the first is done.
        raise ImportNotAllowed(
            _(
                "This file is being applied right now (confirmed by %(user)s). Wait until it finishes, "
                "then decide whether to import it again."
            )
            % {"user": duplicate.applied_by or duplicate.created_by}
        )
    if refused:
        raise ImportNotAllowed(
            _("This file was already imported on %(date)s by %(user)s. Tick “Import it again” to apply it once more.")
            % {
                "date": timezone.localtime(duplicate.applied_at).strftime("%Y-%m-%d %H:%M")
                if duplicate.applied_at
                else "",
                "user": duplicate.applied_by or duplicate.created_by,
            }
        )
    if not claimed:
        job.refresh_from_db()
        if job.state in (ImportState.APPLYING, ImportState.DONE):
            return job
        raise ImportNotAllowed(
            _("This import is not ready to apply (state: %(state)s).") % {"state": job.get_state_display()}
        )
    job.refresh_from_db()
    if job.total_rows > settings.IMPORT_ASYNC_ROWS:
        # Sent now (the claim above is committed): a refused send must release the claim here.
        task_id = enqueue("catalog.imports.apply", job.pk, on_commit=False)
        if task_id is None:
            # Release the claim, or the job would stay "applying" with nobody applying it.
            ImportJob.objects.filter(pk=job.pk, state=ImportState.APPLYING).update(
                state=ImportState.READY, applied_by=None, duplicate_of=None, duplicate_confirmed=False
            )
            raise ImportNotAllowed(QUEUE_UNREACHABLE)
        ImportJob.objects.filter(pk=job.pk).update(task_id=task_id)
        job.refresh_from_db()
        return job
    return import_job_apply(job_id=job.pk)


def import_job_apply(*, job_id: int) -> ImportJob:
    """Apply a claimed job in one transaction: all rows, or none and the errors stored.

    Idempotent: an applied job is returned unchanged, so a task redelivered after a
    worker died half-way (its transaction rolled back) simply runs again.
    """
    report = _progress_reporter(job_id, in_transaction=True)
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if job.state != ImportState.APPLYING:
                return job
            if not import_allowed(job.applied_by, job.kind):
                # The permission was checked at the confirmation; a worker applies
                # later, so it checks again whoever the job is applied for.
                job.state = ImportState.FAILED
                with translation.override(job.language or settings.LANGUAGE_CODE):
                    job.message = ImportForbidden(kind=job.kind).message
                job.save()
                return job
            with translation.override(job.language or settings.LANGUAGE_CODE):
                try:
                    importer = _read(job, confirming=True)
                    plan = importer.plan(lock=True, progress=lambda p: report(p // 2))
                except FileRejected as exc:
                    _store_rejection(job, exc)
                    job.state = ImportState.INVALID
                    job.save()
                    return job
                _store_plan(job, plan, importer)
                if not plan.is_valid:
                    # Stock moved since the preview: nothing is written, the new errors are shown.
                    job.state = ImportState.INVALID
                    job.message = _("The data changed since the check: fix the rows below and upload again.")
                    job.save()
                    return job
                try:
                    with transaction.atomic():
                        importer.apply(
                            plan, user=job.applied_by, reference=job.reference, progress=lambda p: report(50 + p // 2)
                        )
                except CatalogError as exc:
                    # The stock core refused what the locked check let through: its words, nothing written.
                    _store_refusal(job, exc)
                    job.save()
                    return job
                # The importers write set-based (bulk_create/bulk_update: no post_save), so
                # the public API's cached pages are invalidated here, once, on commit.
                catalog_cache_bump()
                job.state = ImportState.DONE
                job.applied_at = timezone.now()
                job.progress = 100
                job.message = ""
                job.save()
    except Exception:
        # The transaction has rolled back: nothing of the import was written.
        job = _fail(job_id, "apply")
    finally:
        cache.delete(progress_cache_key(job_id))
    return job
