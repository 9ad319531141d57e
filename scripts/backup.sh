#!/usr/bin/env bash
# Back up the database and all media: scripts/backup.sh [DEST_DIR]
#
# Writes DEST_DIR/dorixona-<UTC time>.dump (pg_dump custom format: compressed,
# restorable table by table) and DEST_DIR/dorixona-<UTC time>-media.tar.gz
# (every public and private file, read through Django's storages, so local disk
# and S3 alike). Needs DATABASE_URL (postgres://...) and the same storage
# settings as the app; pg_dump must be at least as new as the server.
# In the compose stack: docker compose exec web scripts/backup.sh /backups
set -euo pipefail
cd "$(dirname "$0")/.."

DEST="${1:-${BACKUP_DIR:-backups}}"
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}"
: "${DATABASE_URL:?DATABASE_URL must point at the PostgreSQL database to back up}"
case "$DATABASE_URL" in
    postgres://*|postgresql://*) ;;
    *) echo "backup.sh backs up PostgreSQL only (DATABASE_URL=${DATABASE_URL%%:*}://...)" >&2; exit 2 ;;
esac

mkdir -p "$DEST"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
dump="$DEST/dorixona-$stamp.dump"
media="$DEST/dorixona-$stamp-media.tar.gz"

# Written under a temporary name and renamed at the end, so a half-written
# backup is never mistaken for a good one.
pg_dump --format=custom --no-owner --no-privileges --dbname="$DATABASE_URL" --file="$dump.part"
"$PYTHON" manage.py media_backup --output="$media.part"
mv "$dump.part" "$dump"
mv "$media.part" "$media"
echo "database: $dump"
echo "media:    $media"
