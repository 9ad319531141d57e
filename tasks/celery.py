"""The Celery application. Settings come from Django's, under ``CELERY_``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")

app = Celery("dorixona")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
