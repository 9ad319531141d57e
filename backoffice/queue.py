"""The one way to send a Celery task: ``enqueue("catalog.imports.check", job.pk)``.

- **By name**, the name the task is registered under (its ``@shared_task(name=...)``,
  or ``<module>.<function>``): a service never imports its own app's ``tasks``
  module, which imports the service, so the two form no import cycle.
- **On commit** of the surrounding transaction (at once outside one): a worker
  never looks for a row that is not committed yet. ``on_commit=False`` sends now,
  for a caller that must know whether the task left (to release a claim, to
  tell the user the queue is down).
- **Returns the task id**, made before sending so a deferred send has one too;
  ``None`` when the broker refused a send made at once.
- **Catches only the broker's failure** (kombu's ``OperationalError``, raised
  once the publish retries of ``CELERY_TASK_PUBLISH_RETRY_POLICY`` are spent):
  the request that enqueued still succeeds and the log says what was lost. With
  eager tasks (``make run``, tests) an error of the task itself propagates from
  a send made at once; from a send on commit it is logged (a robust
  ``on_commit``): the data is committed by then, and an SMS gateway's failure
  must not turn the answer of a committed sign-up into an error.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from celery.utils import uuid
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def _task(name: str):
    tasks = current_app.tasks
    if name not in tasks:
        # A web process has imported only the tasks its code touched so far:
        # import every app's tasks module (CELERY_IMPORTS, autodiscovery) once.
        current_app.loader.import_default_modules()
    return tasks[name]


def enqueue(
    name: str,
    *args: Any,
    on_commit: bool = True,
    countdown: float | None = None,
    expires: Any = None,
    **kwargs: Any,
) -> str | None:
    """Send the task ``name`` with ``args``/``kwargs``; see the module docstring."""
    task = _task(name)
    task_id = uuid()

    def send() -> bool:
        try:
            task.apply_async(args=args, kwargs=kwargs, task_id=task_id, countdown=countdown, expires=expires)
        except OperationalError:
            logger.exception("Could not enqueue %s (broker unreachable)", name)
            return False
        return True

    if on_commit:
        transaction.on_commit(send, robust=True)
        return task_id
    return task_id if send() else None
