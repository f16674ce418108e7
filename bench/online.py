"""Online submissions through gunicorn on loopback, with the load generator (bench/load.py) in
another process: sustained throughput with 50 clients, a burst of 200 simultaneous
submissions, and afterwards the count of ballots against the acknowledged submissions."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import data

ROOT = Path(__file__).resolve().parent.parent
PLAN = data.CACHE / "online-plan.json"
SUSTAINED = 6_000  # codes for the sustained run: at 250/s, 24 s of load
BURST = 200


def fig_online_setup(run: int) -> dict[str, Any]:
    """Setup (not a figure): an open 66-unit campaign and its unnamed codes."""
    from ballots.online.codes import codes_unnamed
    from campaigns.models import Campaign

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
    PLAN.write_text(
        json.dumps(
            {
                "slug": slug,
                "units": units,
                "options": options,
                "sustained": codes[:SUSTAINED],
                "burst": codes[SUSTAINED:],
            }
        )
    )
    return {"seconds": [0.0]}


def fig_online_count(run: int) -> dict[str, Any]:
    from ballots.models import AccessCode, Ballot

    slug = f"bench-online-{run}"
    return {
        "seconds": [0.0],
        "ballots": Ballot.objects.filter(campaign__slug=slug).count(),
        "used_codes": AccessCode.objects.filter(campaign__slug=slug, status="used").count(),
    }


FIGURES = {"online_setup": fig_online_setup, "online_count": fig_online_count}


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
        port = _free_port()
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "evalsite.wsgi",
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
            out = subprocess.run(
                [sys.executable, "-m", "bench.load", str(port), str(PLAN)],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            load = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            server.terminate()
            server.wait(timeout=30)
        count = run("online_count", i, env)
        load["ballots"] = count["ballots"]
        load["used_codes"] = count["used_codes"]
        results.append(load)
        print(load, flush=True)
    rate = statistics.median(r["sustained"]["rate"] for r in results)
    p99 = statistics.median(r["sustained"]["p99"] for r in results)
    errors = sum(r["sustained"]["errors"] + r["burst"]["errors"] for r in results)
    burst = statistics.median(r["burst"]["all_done"] for r in results)
    exact = all(r["ballots"] == r["sustained"]["ok"] + r["burst"]["ok"] for r in results)
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
        Row("  p99 延迟", "", f"{p99 * 1000:.0f} ms", "", "≤ 400 ms", p99 <= 0.4),
        Row("  错误", "", str(errors), "", "0", errors == 0),
        Row(
            "网上提交(突发)", f"{BURST} 张同时提交", f"{burst:.2f} s", "", "全部 ≤ 2 s", burst <= 2
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
