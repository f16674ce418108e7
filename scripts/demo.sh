#!/usr/bin/env bash
# Quick start, step 1: set everything up and serve the demo.
#   PINGYI_DEMO_ADDR  address to listen on (default 127.0.0.1; 0.0.0.0 lets phones on the
#                     same network reach it)
#   PINGYI_DEMO_PORT  port (default 8000)
#   PINGYI_DEMO_RESET=1  give the demo logins a new password (otherwise they are kept in
#                     private/demo-logins.txt and printed again)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ADDR="${PINGYI_DEMO_ADDR:-127.0.0.1}"
PORT="${PINGYI_DEMO_PORT:-8000}"
# The development environment for manage.py in any shell (manage.py reads it when present;
# a production server has no such file): see README, "Common commands".
mkdir -p -m 0700 private
if [ ! -f private/dev.env ]; then
  printf '# Written by scripts/demo.sh for development; read by manage.py. Never on a server.\nDEBUG=1\n' \
    >private/dev.env
fi
export DEBUG="${DEBUG:-1}"
PY=.venv/bin/python
# Reachable from other machines: let requests for this machine's addresses in.
lan=""
if [ "$ADDR" != 127.0.0.1 ] && [ "$ADDR" != localhost ]; then
  if [ "$ADDR" = 0.0.0.0 ]; then
    lan="$(hostname -I 2>/dev/null || true)"
    [ -n "${lan// /}" ] || lan="$($PY -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect(("192.0.2.1", 9)); print(s.getsockname()[0])' 2>/dev/null || true)"
  else
    lan="$ADDR"
  fi
  hosts="127.0.0.1,localhost"
  origins=""
  for ip in $lan; do
    case "$ip" in *:*) continue ;; esac  # IPv6: skipped (phones are given the IPv4 URL)
    hosts="$hosts,$ip"
    origins="${origins:+$origins,}http://$ip:$PORT"
  done
  export ALLOWED_HOSTS="${ALLOWED_HOSTS:-$hosts}"
  [ -z "$origins" ] || export CSRF_TRUSTED_ORIGINS="${CSRF_TRUSTED_ORIGINS:-$origins}"
fi
# A database of version 0.1 (migrations before the apps were layered) cannot be migrated:
# keep it aside and build the demo anew.
if [ -f db.sqlite3 ] && $PY - <<'PYEOF'
import sqlite3, sys
try:
    rows = sqlite3.connect("db.sqlite3").execute(
        "SELECT 1 FROM django_migrations WHERE app='ballots' AND name='0005_ballot_answers'"
    ).fetchall()
except sqlite3.Error:  # empty or not a database: nothing to keep aside
    rows = []
sys.exit(0 if rows else 1)
PYEOF
then
  mv db.sqlite3 "db.sqlite3.v0.1-$(date +%Y%m%d%H%M%S)"
  echo "An older demo database was kept aside as db.sqlite3.v0.1-…; building a new one."
fi
$PY manage.py migrate --noinput -v0
$PY manage.py compilemessages -v0 >/dev/null 2>&1 || true
reset=()
[ "${PINGYI_DEMO_RESET:-0}" != 1 ] || reset=(--reset-passwords)
$PY manage.py demo --if-missing "${reset[@]}"
# The task worker runs long imports and big PDFs in the background.
$PY manage.py db_worker >/tmp/pingyi-worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT
shown="$ADDR"
[ "$ADDR" != 0.0.0.0 ] || shown=127.0.0.1
echo "Pingyi: http://$shown:$PORT/  (admin: http://$shown:$PORT/admin/)"
for ip in $lan; do
  case "$ip" in *:*) continue ;; esac
  echo "On a phone on the same network: http://$ip:$PORT/"
done
$PY manage.py runserver "$ADDR:$PORT" --noreload
