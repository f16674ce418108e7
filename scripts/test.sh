#!/usr/bin/env bash
# Quick start, step 2: the whole test suite, on SQLite and then on PostgreSQL, plus ruff.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
PY=.venv/bin/python

echo "== ruff"
.venv/bin/ruff check .

echo "== makemigrations --check"
DEBUG=1 $PY manage.py makemigrations --check --dry-run >/dev/null

echo "== mypy"
DEBUG=1 .venv/bin/mypy

# Two processes (the machines have two cores); the tests that open hundreds of connections run
# in one of them, one after another (xdist_group "db-races").
XDIST=(-n "${PINGYI_TEST_WORKERS:-2}" --dist loadgroup)

echo "== tests on SQLite"
env -u DATABASE_URL $PY -m pytest "${XDIST[@]}" "$@"

echo "== tests on PostgreSQL"
PGHOST_=127.0.0.1
PGPORT_="${PINGYI_PG_PORT:-5432}"
maxconn=$(psql -h "$PGHOST_" -p "$PGPORT_" -U postgres -Atc "show max_connections" 2>/dev/null || echo 0)
if [ "${maxconn:-0}" -lt 450 ]; then
  # No server answers, or it allows too few connections for the 200-submission race test
  # beside the other test process (two xdist workers share the server):
  # start a throwaway cluster as the postgres user (it refuses to run as root).
  PGPORT_="${PINGYI_PG_PORT:-55432}"
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  tmp=$(mktemp -d /tmp/pingyi-pg.XXXXXX)
  chown postgres "$tmp"
  runuser -u postgres -- "$bindir/initdb" -D "$tmp/data" --auth=trust -U postgres -E UTF8 >/dev/null
  runuser -u postgres -- "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w \
    -o "-h 127.0.0.1 -p $PGPORT_ -k $tmp -c max_connections=500" start >/dev/null
  trap 'runuser -u postgres -- "$bindir/pg_ctl" -D "$tmp/data" -m fast stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
fi
DATABASE_URL="postgres://postgres@$PGHOST_:$PGPORT_/pingyi" TEST_DATABASE_NAME="test_pingyi_$$" \
  $PY -m pytest "${XDIST[@]}" "$@"
