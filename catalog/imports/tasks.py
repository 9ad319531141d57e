"""Celery tasks of the import flow: each takes a job id and calls the engine (idempotent).

The engine sends them by name (``backoffice.queue.enqueue``), so it does not import this module.
"""

from celery import shared_task

from catalog.imports.engine import import_job_apply, import_job_check


@shared_task(name="catalog.imports.check")
def import_job_check_task(job_id: int) -> str:
    return import_job_check(job_id=job_id).state


@shared_task(name="catalog.imports.apply")
def import_job_apply_task(job_id: int) -> str:
    return import_job_apply(job_id=job_id).state
