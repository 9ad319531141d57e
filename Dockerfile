# The Dorixona back-office image: web (gunicorn), Celery worker and beat all run it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=backoffice.settings.production

# postgresql-client: pg_dump/pg_restore for scripts/backup.sh and restore.sh
# (the slim image's Debian ships a client at least as new as PostgreSQL 16).
# gettext: compilemessages for the uz/ru translations.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system dorixona \
    && useradd --system --gid dorixona --home-dir /app --shell /usr/sbin/nologin dorixona

WORKDIR /app
# Runtime dependencies only: tests and linters stay out of the image.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=dorixona:dorixona . .

# Static files are collected into the image (WhiteNoise serves them, hashed and
# compressed) and translations compiled, with throw-away settings values: the
# real secrets arrive only at run time.
RUN DJANGO_SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    sh -c 'python manage.py collectstatic --noinput \
        && if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then python manage.py compilemessages; fi' \
    && mkdir -p /app/media /app/private /backups \
    && chown -R dorixona:dorixona /app/media /app/private /app/staticfiles /backups

USER dorixona
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["python", "scripts/healthcheck.py"]

# Migrations run in the compose `web` command before this starts (docker-compose.yml).
CMD ["gunicorn", "backoffice.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
