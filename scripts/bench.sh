#!/usr/bin/env bash
# The benchmark suite (issue 7), kept out of the test run: `bash scripts/bench.sh`.
# Uses DATABASE_URL when set (PostgreSQL or SQLite); otherwise the PostgreSQL server at
# 127.0.0.1:5432, or a throwaway cluster when none answers. Writes BENCHMARKS.md.
# Extra arguments go to `python -m bench` (e.g. --only import_xlsx tally_10k, --runs 5).
# Each figure is printed beside its floor, measured in the same run, and their ratio: this
# machine's speed changes threefold between days, the ratios much less (bench/NOTES.md).
# The online floor runs gunicorn on bench/bare_wsgi.py, the same way as the real run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
PY=.venv/bin/python

if [ -z "${DATABASE_URL:-}" ]; then
  if psql -h 127.0.0.1 -p 5432 -U postgres -Atc "select 1" >/dev/null 2>&1; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    port=55442
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
    tmp=$(mktemp -d /tmp/pingyi-bench-pg.XXXXXX)
    chown postgres "$tmp"
    runuser -u postgres -- "$bindir/initdb" -D "$tmp/data" --auth=trust -U postgres -E UTF8 >/dev/null
    runuser -u postgres -- "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w \
      -o "-h 127.0.0.1 -p $port -k $tmp -c max_connections=300" start >/dev/null
    trap 'runuser -u postgres -- "$bindir/pg_ctl" -D "$tmp/data" -m fast stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  fi
fi
$PY -m bench --write "$@"
