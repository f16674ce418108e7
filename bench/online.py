"""Online submissions through gunicorn on loopback, with the load generator (bench/load.py) in
another process: sustained throughput with 50 clients, a burst of 200 simultaneous
submissions, and afterwards the count of ballots against the acknowledged submissions.

Each run also measures the floor: the same load against a bare endpoint (bench/bare_wsgi.py:
a CSRF-checked POST inserting one ballot-sized row) behind the same gunicorn with the same
workers. The two alternate which goes first, so that a drift of the machine's speed within a
run does not always favour one."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench import data

ROOT = Path(__file__).resolve().parent.parent
PLAN = data.CACHE / "online-plan.json"
BARE_PLAN = data.CACHE / "online-plan-bare.json"
SUSTAINED = 6_000  # codes for the sustained run: at 250/s, 24 s of load
BURST = 200
LOCAL_HOSTS = (None, "", "127.0.0.1", "localhost", "::1")


def fig_online_setup(run: int) -> dict[str, Any]:
    """Setup (not a figure): an open 66-unit campaign and its unnamed codes; for the floor, an
    empty scratch table of the ballot table's columns with a primary key (as any Django
    model's table has) and nothing else: no other index, no foreign key, no check."""
    from django.db import connection

    from ballots.models import Ballot
    from ballots.online.codes import codes_unnamed
    from bench.bare_wsgi import BARE_TABLE, PREFIX
    from campaigns.models import Campaign

    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {BARE_TABLE}")
        cur.execute(
            f"CREATE TABLE {BARE_TABLE} (LIKE {Ballot._meta.db_table} INCLUDING DEFAULTS, "
            "PRIMARY KEY (id), UNIQUE (token))"
        )

    slug = f"bench-online-{run}"
    Campaign.objects.filter(slug=slug).delete()
    campaign = data.make_campaign(slug)
    codes: list[str] = []
    while len(codes) < SUSTAINED + BURST:
        n = min(5000, SUSTAINED + BURST - len(codes))
        codes += [c.code for c in codes_unnamed(campaign=campaign, count=n, group=None, user=None)]
    options = list(campaign.options.order_by("order").values_list("id", flat=True))
    units = list(campaign.units.order_by("id").values_list("id", flat=True))
    data.CACHE.mkdir(exist_ok=True)
    plan = {
        "slug": slug,
        "units": units,
        "options": options,
        "sustained": codes[:SUSTAINED],
        "burst": codes[SUSTAINED:],
    }
    PLAN.write_text(json.dumps(plan))
    # The same bodies (the codes are only text to the bare view) to the bare path.
    BARE_PLAN.write_text(json.dumps(plan | {"page": PREFIX, "action": PREFIX}))
    return {"seconds": [0.0]}


def fig_online_count(run: int) -> dict[str, Any]:
    from django.db import connection

    from ballots.models import Ballot
    from ballots.online.codes import used_code_ids
    from bench.bare_wsgi import BARE_TABLE
    from campaigns.models import Campaign

    slug = f"bench-online-{run}"
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {BARE_TABLE}")
        bare_rows = cur.fetchone()[0]
    return {
        "seconds": [0.0],
        "ballots": Ballot.objects.filter(campaign__slug=slug).count(),
        # An anonymous code's row is written only when voting closes; until then the
        # application knows a used code by its token among the ballots.
        "used_codes": len(used_code_ids(Campaign.objects.get(slug=slug))),
        "bare_rows": bare_rows,
    }


FIGURES: dict[str, Callable[[int], dict[str, Any]]] = {
    "online_setup": fig_online_setup,
    "online_count": fig_online_count,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, timeout: float = 30) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def _serve_and_load(app: str, plan: Path, workers: int, env: dict[str, str]) -> dict:
    """gunicorn serving `app`, the load generator's run of `plan` against it, and its result.
    The real run and the floor both come through here: the same server, the same flags."""
    port = _free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            app,
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
            # As README's deployment: the app (and its URLconf, evalsite/wsgi.py) is
            # loaded once before the workers fork, so no worker loads it under load.
            "--preload",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_for(port)
        django_before = _cpu_seconds(_process_group(server.pid))
        out = subprocess.run(
            [sys.executable, "-m", "bench.load", str(port), str(plan)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        load = json.loads(out.stdout.strip().splitlines()[-1])
        # Read while the workers and their database sessions still live.
        django = _cpu_seconds(_process_group(server.pid)) - django_before
        # Only a server on this machine has its sessions in this /proc.
        local = urlparse(env["DATABASE_URL"]).hostname in LOCAL_HOSTS
        database = _cpu_seconds(_backends(env["DATABASE_URL"])) if local else None
    finally:
        server.terminate()
        server.wait(timeout=30)
    done = load["sustained"]["ok"] + load["burst"]["ok"]
    load["cpu_ms"] = {
        "django": django / done * 1000,
        "database": None if database is None else database / done * 1000,
    }
    return load


# CPU seconds per submission, besides the rates: on a machine whose other users come and go,
# the rate of each run depends on what they did meanwhile, while the CPU each submission
# costs (the gunicorn processes' and their PostgreSQL sessions', read from /proc) hardly does.
def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue  # gone already: not counted
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _process_group(master: int) -> list[int]:
    """gunicorn's master and its workers."""
    pids = [master]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return pids


def _backends(url: str) -> list[int]:
    """The PostgreSQL sessions on the bench database other than this one: the workers'
    (persistent connections, CONN_MAX_AGE), as nothing else uses it while the load runs."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def measure(env: dict[str, str], runs: int, pg: bool, wanted: Any, run: Any, Row: Any) -> list:
    if not wanted("online"):
        return []
    if not pg:
        return [Row("网上提交", "50 并发", "—", "", "≥ 250 张/秒", None, "仅在 PostgreSQL 上测量")]
    workers = int(os.environ.get("BENCH_GUNICORN_WORKERS", str(2 * (os.cpu_count() or 2) + 1)))
    # Production-like: DEBUG off, static files collected (the manifest the pages refer to).
    env = {**env, "STATIC_ROOT": str(data.CACHE / "static")}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    results = []
    for i in range(1, runs + 1):
        run("online_setup", i, env)
        apps = [("real", "evalsite.wsgi", PLAN), ("bare", "bench.bare_wsgi", BARE_PLAN)]
        if i % 2 == 0:
            apps.reverse()
        loads = {kind: _serve_and_load(app, plan, workers, env) for kind, app, plan in apps}
        load = loads["real"]
        count = run("online_count", i, env)
        load["ballots"] = count["ballots"]
        load["used_codes"] = count["used_codes"]
        load["bare"] = loads["bare"] | {"rows": count["bare_rows"]}
        results.append(load)
        print(load, flush=True)
    rate = statistics.median(r["sustained"]["rate"] for r in results)
    p99 = statistics.median(r["sustained"]["p99"] for r in results)
    errors = sum(r["sustained"]["errors"] + r["burst"]["errors"] for r in results)
    burst = statistics.median(r["burst"]["all_done"] for r in results)
    exact = all(r["ballots"] == r["sustained"]["ok"] + r["burst"]["ok"] for r in results)
    bare_rate = statistics.median(r["bare"]["sustained"]["rate"] for r in results)
    share = statistics.median(
        r["sustained"]["rate"] / r["bare"]["sustained"]["rate"] for r in results
    )
    cpu = statistics.median(sum(filter(None, r["cpu_ms"].values())) for r in results)
    bare_cpu = statistics.median(sum(filter(None, r["bare"]["cpu_ms"].values())) for r in results)
    cpu_of = "gunicorn" if results[0]["cpu_ms"]["database"] is None else "gunicorn + PostgreSQL"
    bare_p99 = statistics.median(r["bare"]["sustained"]["p99"] for r in results)
    bare_burst = statistics.median(r["bare"]["burst"]["all_done"] for r in results)
    bare_errors = sum(
        r["bare"]["sustained"]["errors"] + r["bare"]["burst"]["errors"] for r in results
    )
    # The floor counts only if it did the same work: every submission acknowledged and stored.
    bare_exact = all(
        r["bare"]["rows"] == r["bare"]["sustained"]["ok"] + r["bare"]["burst"]["ok"]
        for r in results
    )
    return [
        Row(
            "网上提交(持续)",
            f"50 并发,{SUSTAINED:,} 张",
            f"{rate:.0f} 张/秒",
            "",
            "≥ 250 张/秒",
            rate >= 250,
            f"gunicorn {workers} 个进程",
        ),
        Row(
            "  与裸端点之比",
            f"裸端点 {bare_rate:.0f} 张/秒",
            f"{share:.0%}",
            "",
            "≥ 50%",
            # No verdict when the floor itself failed: the ratio would mean nothing.
            share >= 0.5 if bare_errors == 0 and bare_exact else None,
            f"同一 gunicorn、{workers} 个进程、同样负载:校验 CSRF 并插入一行同样大小的记录;"
            f"裸端点错误 {bare_errors},"
            f"行数{'等于' if bare_exact else '不等于'}确认数;"
            f"每张 CPU({cpu_of}){cpu:.1f} ms,裸端点 {bare_cpu:.1f} ms"
            f"(比值 {bare_cpu / cpu:.0%})",
        ),
        Row(
            "  p99 延迟",
            "",
            f"{p99 * 1000:.0f} ms",
            "",
            "≤ 400 ms",
            p99 <= 0.4,
            f"裸端点 {bare_p99 * 1000:.0f} ms",
        ),
        Row("  错误", "", str(errors), "", "0", errors == 0),
        Row(
            "网上提交(突发)",
            f"{BURST} 张同时提交",
            f"{burst:.2f} s",
            "",
            "全部 ≤ 2 s",
            burst <= 2,
            f"裸端点 {bare_burst:.2f} s({burst / bare_burst:.1f}×)",
        ),
        Row(
            "  选票数 = 确认提交数",
            "",
            "相等" if exact else "不等",
            "",
            "完全相等",
            exact,
            "; ".join(f"{r['ballots']}={r['sustained']['ok']}+{r['burst']['ok']}" for r in results),
        ),
    ]
