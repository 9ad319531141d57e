#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh: scripts/restore.sh DUMP [MEDIA_TAR]
#
# Restores DUMP into the database DATABASE_URL names, which should be a fresh,
# empty database (createdb -T template0 -E UTF8 NAME); objects that exist are
# dropped first. Everything runs in one transaction: a failed restore leaves
# the database as it was. Then puts the media archive back into the
# configured storages and verifies the stock ledger (check_stock_ledger):
# a non-zero exit means the restored data is not consistent.
set -euo pipefail
cd "$(dirname "$0")/.."

DUMP="${1:?usage: scripts/restore.sh DUMP [MEDIA_TAR]}"
MEDIA="${2:-}"
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python )}"
: "${DATABASE_URL:?DATABASE_URL must point at the database to restore into}"

pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
    --dbname="$DATABASE_URL" "$DUMP"
echo "database restored from $DUMP"

# A dump from an older release gets the newer migrations; a current one has nothing to apply.
"$PYTHON" manage.py migrate --noinput

if [ -n "$MEDIA" ]; then
    "$PYTHON" manage.py media_restore --input="$MEDIA"
fi

"$PYTHON" manage.py check_stock_ledger
