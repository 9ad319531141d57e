"""Settings for the test suite.

The database and Redis come from DATABASE_URL / REDIS_URL like everywhere
else, so CI runs the same suite against PostgreSQL and Redis.
"""

from .base import *  # noqa: F403
from .base import env

# Hashing with PBKDF2 at full strength makes a large suite crawl.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests opt in to a real worker explicitly; everything else runs eagerly.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
LANGUAGE_CODE = "en"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
