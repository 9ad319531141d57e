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
# Each test's connections as before persistent connections: closed at the end of every request.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Local disk, whatever a developer's .env says, so the suite never writes to a
# real bucket; the S3 tests (backoffice/tests/test_storage_s3.py) configure
# their local S3 server themselves and start their Celery worker with
# TEST_STORAGE_FROM_ENV=1 so that it uses the same one.
if not env.bool("TEST_STORAGE_FROM_ENV", default=False):
    from backoffice.storage_config import local_storages

    STORAGES = local_storages(media_root=MEDIA_ROOT, private_root=PRIVATE_MEDIA_ROOT)  # noqa: F405
