"""The benchmark suite: `python -m bench [--write] [--only NAME ...]` (scripts/bench.sh runs it).

It works on its own database, derived from DATABASE_URL (PostgreSQL: a database named
pingyi_bench on the same server; otherwise a SQLite file in /tmp), so it never touches data.
Each figure runs in fresh processes; the table gives the median of the runs, the peak resident
memory of the process, and the target of issue 7 for 2 cores on PostgreSQL. Beneath a figure,
a row "与…之比" gives it against its floor, the least the same work costs without Pingyi
(measured in the same process, in turns with it where it repeats), and a target for that
ratio: this machine's speed changes threefold between days, the ratio much less
(bench/NOTES.md, "How these figures were taken")."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from bench.timing import calibration_seconds

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    figure: str
    size: str
    median: str
    peak: str
    target: str
    met: bool | None
    note: str = ""


def bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlparse(url)
        # BENCH_DB_NAME lets two people bench on one server without resetting each other.
        return urlunparse(
            parts._replace(path="/" + os.environ.get("BENCH_DB_NAME", "pingyi_bench"))
        )
    # The same for SQLite files: two runs on one machine would otherwise share one.
    name = os.environ.get("BENCH_DB_NAME", "pingyi-bench")
    return f"sqlite:////tmp/{name}.sqlite3"


def reset_database(url: str, env: dict[str, str]) -> None:
    if url.startswith("sqlite"):
        Path(urlparse(url).path).unlink(missing_ok=True)
    else:
        import psycopg

        admin = urlunparse(urlparse(url)._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            name = urlparse(url).path.lstrip("/")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def run(name: str, run_no: int, env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.one", name, str(run_no)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )


def fmt_s(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="write BENCHMARKS.md")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    url = bench_database_url()
    pg = url.startswith("postgres")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "evalsite.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TESTING", None)
    print(f"Database: {'PostgreSQL' if pg else 'SQLite'} ({url})", flush=True)
    reset_database(url, env)
    want = set(args.only) if args.only else None
    rows: list[Row] = []
    speed_before = calibration_seconds()

    def wanted(name: str) -> bool:
        return want is None or name in want

    # The import's first run also makes the campaign the other figures use.
    if wanted("import_xlsx"):
        imports = [run("import_xlsx", i, env) for i in range(1, args.runs + 1)]
        med = statistics.median(r["seconds"][0] for r in imports)
        peak = max(r["import_peak_mb"] for r in imports)
        rows.append(
            Row(
                "纸质票导入 import_ballots (.xlsx)",
                f"{imports[0]['ballots']:,} 张 × 66",
                fmt_s(med),
                f"{peak:.0f} MB",
                "≤ 10 s, ≤ 300 MB",
                med <= 10 and peak <= 300,
            )
        )
        ratio = statistics.median(r["ratio"] for r in imports)
        read = statistics.median(r["floor_read"] for r in imports)
        write = statistics.median(r["floor_write"] for r in imports)
        rows.append(
            Row(
                "  与下限之比(读表 + 裸写入)",
                f"下限 {fmt_s(statistics.median(r['floor'] for r in imports))}",
                f"{ratio:.1f}×",
                "",
                "≤ 2×",
                ratio <= 2,
                f"读同一张表(同一流式读取器){fmt_s(read)},"
                f"{'裸 COPY' if pg else '裸 executemany'} 同样 "
                f"{imports[0]['floor_rows']:,} 行 {fmt_s(write)}",
            )
        )
        print(rows[-2:], flush=True)
    else:
        run("import_setup", 1, env)

    if wanted("tally_10k"):
        t = [run("tally_10k", i, env) for i in range(1, args.runs + 1)]
        med = statistics.median(x for r in t for x in r["seconds"])
        rows.append(
            Row(
                "统计 tally(SQL + 引擎)",
                f"{t[0]['valid']:,} 张有效 × 66",
                fmt_s(med),
                f"{max(r['peak_mb'] for r in t):.0f} MB",
                "≤ 300 ms",
                med <= 0.3,
            )
        )
        rows.append(group_by_row(t))
        print(rows[-2:], flush=True)

    if wanted("tally_1m"):
        if pg:
            load = run("load_million", 1, env)
            t = [run("tally_1m", i, env) for i in range(1, args.runs + 1)]
            med = statistics.median(x for r in t for x in r["seconds"])
            rows.append(
                Row(
                    "统计 tally(SQL + 引擎)",
                    "1,000,000 张 × 66",
                    fmt_s(med),
                    f"{max(r['peak_mb'] for r in t):.0f} MB",
                    "≤ 5 s",
                    med <= 5,
                    f"COPY 装载 {load['seconds'][0]:.0f} s(不计入)",
                )
            )
            rows.append(group_by_row(t))
            print(rows[-2:], flush=True)
        else:
            rows.append(
                Row(
                    "统计 tally",
                    "1,000,000 张 × 66",
                    "—",
                    "",
                    "≤ 5 s",
                    None,
                    "仅在 PostgreSQL 上测量",
                )
            )

    if wanted("crafted"):
        c = [run("crafted", i, env) for i in range(1, args.runs + 1)]
        med = {n: statistics.median(dict(r["files"])[n] for r in c) for n, _s in c[0]["files"]}
        worst = max(med, key=med.__getitem__)
        peak = max(r["peak_mb"] for r in c)
        rows.append(
            Row(
                "拒收构造的 .xlsx(最慢一个)",
                f"{len(med)} 次(7 个文件 × 2 种读取)",
                fmt_s(med[worst]),
                f"{peak:.0f} MB",
                "≤ 2 s, ≤ 200 MB",
                med[worst] <= 2 and peak <= 200,
                worst,
            )
        )
        print(rows[-1:], flush=True)

    if wanted("slips_1000"):
        s = [run("slips_1000", i, env) for i in range(1, args.runs + 1)]
        med = statistics.median(x for r in s for x in r["seconds"])
        rows.append(
            Row(
                "评议码条 PDF(印章法)",
                "1,000 张",
                fmt_s(med),
                f"{max(r['peak_mb'] for r in s):.0f} MB",
                "≤ 10 s",
                med <= 10,
            )
        )
        print(rows[-1:], flush=True)

    from bench import extra  # figures that need the web stack (online, reports, keying)

    rows += extra.measure(env, args.runs, pg, wanted, run, Row)
    from bench import assess  # issue 18: the assessment's computation

    rows += assess.measure(env, args.runs, wanted, run, Row)
    from bench import verify  # issue 20: the ballot file, recount and the audit chain

    rows += verify.measure(env, args.runs, wanted, run, Row)
    if wanted("scan_2000"):
        rows += scan_rows(run("scan_2000", 1, env))
    speed_after = calibration_seconds()
    rows.append(
        Row(
            "机器速度参照(固定的纯 Python 计算)",
            "开始 / 结束时",
            f"{fmt_s(speed_before)} / {fmt_s(speed_after)}",
            "",
            "无(参照)",
            None,
            "与 Pingyi 代码无关;两次测量相比,先看此行",
        )
    )

    print_table(rows)
    if args.write:
        write_markdown(rows, pg)


def group_by_row(t: list[dict]) -> Row:
    """The tally against its floor, a bare GROUP BY over the same valid ballots' answers in
    the same process (bench/figures.py, `_bare_group_by`)."""
    ratio = statistics.median(r["ratio"] for r in t)
    bare = statistics.median(r["bare_median"] for r in t)
    return Row(
        "  与裸 GROUP BY 之比", f"裸查询 {fmt_s(bare)}", f"{ratio:.1f}×", "", "≤ 1.5×", ratio <= 1.5
    )


def scan_rows(r: dict) -> list[Row]:
    """Issue 21: 2,000 generated scanned pages read once (bench/scan.py; one run, for it
    reads 2,000 pages in 2 worker processes and its accuracy figures do not vary by run)."""
    return [
        Row(
            "扫描票识读(2 进程)",
            f"{r['pages']:,} 页",
            f"{r['pages_per_s']:.1f} 页/秒",
            f"{r['reader_peak_mb']:.0f} MB",
            "≥ 10 页/秒, ≤ 500 MB",
            r["pages_per_s"] >= 10 and r["reader_peak_mb"] <= 500,
            f"三个进程合计 {r['total_peak_mb']:.0f} MB",
        ),
        Row(
            "  确信读错 / 交人确认的行",
            f"{r['rows']:,} 行",
            f"{r['wrong_confident']} / {r['pct_uncertain']:.2f}%",
            "",
            "0 / ≤ 2%",
            r["wrong_confident"] == 0 and r["pct_uncertain"] <= 2,
            f"另有黑白扫描 {r['rescan_pages']} 页({r['rescan_rows']:,} 行)退回以灰度重扫,"
            f"不计入此比例(计入则 {r['pct_uncertain_all']:.1f}%);"
            f"二维码未读 {r['qr_unread']} 页均待输入编号,未配准 {r['unregistered']} 页",
        ),
    ]


def print_table(rows: list[Row]) -> None:
    print()
    for r in rows:
        mark = "—" if r.met is None else ("达标" if r.met else "未达标")
        print(
            f"{r.figure:<34} {r.size:<22} {r.median:>10} {r.peak:>8}  {r.target:<28} {mark}"
            f"  {r.note}"
        )


def write_markdown(rows: list[Row], pg: bool) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Measured {datetime.date.today().isoformat()} with `bash scripts/bench.sh` on "
        f"{'PostgreSQL' if pg else 'SQLite'}.",
        "",
        f"Machine: {machine()}.",
        "",
        "Median of the runs; peak memory is the peak resident size of the process that did "
        "the work (Django included). Targets are issue 7's, for 2 cores on PostgreSQL; each "
        "row “与…之比” gives the figure above it against its floor, measured in the same run, "
        "with a target for the ratio (see “How these figures were taken”).",
        "",
        "| figure | size | median | peak memory | target | met | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mark = "—" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            f"| {r.figure} | {r.size} | {r.median} | {r.peak} | {r.target} | {mark} | {r.note} |"
        )
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")
    print("wrote BENCHMARKS.md")


if __name__ == "__main__":
    main()
