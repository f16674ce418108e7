#!/usr/bin/env bash
# Quick start, step 1: set everything up and serve the demo at http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export DEBUG="${DEBUG:-1}"
PY=.venv/bin/python
# A database of version 0.1 (migrations before the apps were layered) cannot be migrated:
# keep it aside and build the demo anew.
if [ -f db.sqlite3 ] && $PY - <<'PYEOF'
import sqlite3, sys
rows = sqlite3.connect("db.sqlite3").execute(
    "SELECT 1 FROM django_migrations WHERE app='ballots' AND name='0005_ballot_answers'"
).fetchall()
sys.exit(0 if rows else 1)
PYEOF
then
  mv db.sqlite3 "db.sqlite3.v0.1-$(date +%Y%m%d%H%M%S)"
  echo "An older demo database was kept aside as db.sqlite3.v0.1-…; building a new one."
fi
$PY manage.py migrate --noinput -v0
$PY manage.py compilemessages -v0 >/dev/null 2>&1 || true
$PY manage.py demo --if-missing
# The task worker runs long imports and big PDFs in the background.
$PY manage.py db_worker >/tmp/pingyi-worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT
echo "Pingyi: http://127.0.0.1:8000/  (admin: http://127.0.0.1:8000/admin/)"
exec_server() { $PY manage.py runserver 127.0.0.1:8000 --noreload; }
exec_server
