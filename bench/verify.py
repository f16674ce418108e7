"""Figures of issue 20 (verifiable results), on the 11,436-ballot campaign of the import figure:

- the ballot file and its fingerprint (`build_ballot_file`: what every results page, report
  and 公示 now computes), against its floor: the bare read of the same ballots' columns and
  one SHA-256 over as many bytes as the file has, timed in turns with it;
- `python3 -m recount` on that file, a separate process with nothing but the standard
  library, against the same process doing nothing (`python3 -c pass`);
- one audit entry with its hash chain (`core.audit.audit`) against a bare INSERT of the same
  row, each in its own transaction."""

from __future__ import annotations

import hashlib
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.timing import timed as _timed

SLUG = "bench-import-1"
ROOT = Path(__file__).resolve().parent.parent


def _bare_read(campaign_id: int) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT source, serial, channel, group_id, district, status, invalid_reason, answers"
            " FROM ballots_ballot WHERE campaign_id = %s", [campaign_id])
        return len(cur.fetchall())


def fig_ballot_file(run: int) -> dict[str, Any]:
    from ballots.models import Ballot
    from campaigns.models import Campaign
    from scoring.ballot_file import build_ballot_file

    campaign = Campaign.objects.get(slug=SLUG)
    built = build_ballot_file(campaign)  # warm
    size = len(built.jsonl)

    def floor() -> None:
        _bare_read(campaign.pk)
        hashlib.sha256(built.jsonl).hexdigest()

    floor()
    seconds: list[float] = []
    floors: list[float] = []
    for _ in range(5):  # in turns, so that a change of the machine's speed hits both alike
        seconds += _timed(lambda: build_ballot_file(campaign), 1)
        floors += _timed(floor, 1)
    with tempfile.TemporaryDirectory() as tmp:
        built.write(Path(tmp))
        recount = _timed(lambda: subprocess.run(
            [sys.executable, "-m", "recount", tmp], cwd=ROOT, check=True,
            capture_output=True), 3)
        bare = _timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 3)
        out = subprocess.run([sys.executable, "-m", "recount", tmp, "--fingerprint"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout.strip()
    return {
        "seconds": seconds,
        "ballots": Ballot.objects.filter(campaign=campaign).count(),
        "bytes": size,
        "floor": statistics.median(floors),
        "ratio": statistics.median(seconds) / statistics.median(floors),
        "recount": statistics.median(recount),
        "python": statistics.median(bare),
        "same_fingerprint": out == built.fingerprint,
    }


def fig_audit_append(run: int) -> dict[str, Any]:
    from django.db import connection, transaction

    from core.audit import audit

    n = 200

    def chained() -> None:
        for i in range(n):
            with transaction.atomic():
                audit(user=None, action="bench.audit", object_repr=f"第 {i} 条", after={"i": i})

    def bare() -> None:
        with connection.cursor() as cur:
            for i in range(n):
                with transaction.atomic():
                    cur.execute(
                        "INSERT INTO core_auditlog (at, username, campaign_slug, action,"
                        " object_type, object_id, object_repr, before, after, reason,"
                        " prev_hash, campaign_prev_hash, hash) VALUES (CURRENT_TIMESTAMP, %s,"
                        " '', %s, '', '', %s, NULL, %s, '', '', '', %s)",
                        ["system", "bench.bare", f"第 {i} 条", f'{{"i": {i}}}', "x" * 64])

    chained()
    seconds: list[float] = []
    floors: list[float] = []
    for _ in range(3):
        seconds += [s / n for s in _timed(chained, 1)]
        floors += [s / n for s in _timed(bare, 1)]
    return {
        "seconds": seconds,
        "floor": statistics.median(floors),
        "ratio": statistics.median(seconds) / statistics.median(floors),
    }


FIGURES = {"ballot_file_10k": fig_ballot_file, "audit_append": fig_audit_append}


def fmt_s(x: float) -> str:
    if x < 0.01:
        return f"{x * 1000:.2f} ms"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def measure(env: dict[str, str], runs: int, wanted: Any, run: Any, Row: Any) -> list:
    rows = []
    if wanted("ballot_file_10k"):
        r = [run("ballot_file_10k", i, env) for i in range(1, runs + 1)]
        med = statistics.median(x for x in r for x in x["seconds"])
        first = r[0]
        ratio = statistics.median(x["ratio"] for x in r)
        rows += [
            Row("选票明细与计票指纹 build_ballot_file", f"{first['ballots']:,} 张 × 66",
                fmt_s(med), f"{max(x['peak_mb'] for x in r):.0f} MB", "≤ 1 s", med <= 1,
                f"文件 {first['bytes'] / 1e6:.1f} MB;结果页、报告和公示都要算一次"),
            Row("  与下限之比(裸读同样的列 + 同样字节的 SHA-256)",
                f"下限 {fmt_s(statistics.median(x['floor'] for x in r))}", f"{ratio:.1f}×", "",
                "≤ 3×", ratio <= 3, ""),
            Row("独立复核 python3 -m recount", f"{first['ballots']:,} 张 × 66",
                fmt_s(statistics.median(x["recount"] for x in r)), "", "≤ 10 s",
                statistics.median(x["recount"] for x in r) <= 10,
                f"另起进程,只用标准库;空进程 {fmt_s(statistics.median(x['python'] for x in r))};"
                f"指纹与系统一致:{'是' if all(x['same_fingerprint'] for x in r) else '否'}"),
        ]
    if wanted("audit_append"):
        r = [run("audit_append", i, env) for i in range(1, runs + 1)]
        med = statistics.median(x for x in r for x in x["seconds"])
        ratio = statistics.median(x["ratio"] for x in r)
        rows += [
            Row("审计日志写入一条(含哈希链)", "每条一个事务", fmt_s(med), "", "≤ 5 ms",
                med <= 0.005, ""),
            Row("  与裸 INSERT 之比", f"下限 {fmt_s(statistics.median(x['floor'] for x in r))}",
                f"{ratio:.1f}×", "", "无(参照)", None, "链要锁住链头一行、读两个链头、写回"),
        ]
    print(rows, flush=True)
    return rows
