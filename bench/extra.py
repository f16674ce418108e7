"""Figures that need the reports, keyed entry and the online ballot.

Each `fig_*` runs in a fresh process (bench/one.py); `measure` runs them and makes the rows of
the table. The report and keying figures reuse the campaign the import figure made
("bench-import-1": 66 units, 10,834 valid ballots)."""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import data
from bench.timing import timed as _timed


def fig_report_pdf(run: int) -> dict[str, Any]:
    """The ranking PDF of 66 units (tally, reconciliation and composition tables, HTML,
    WeasyPrint), no comment annex: the report a leader downloads first."""
    from campaigns.models import Campaign
    from scoring.reports import build_report

    campaign = Campaign.objects.get(slug="bench-import-1")
    build_report(campaign, "pdf", comments=False)  # warm: fonts, templates
    seconds = _timed(lambda: build_report(campaign, "pdf", comments=False), 3)
    import io

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(build_report(campaign, "pdf", comments=False).data)).pages)
    return {"seconds": seconds, "pages": pages}


def fig_report_xlsx(run: int) -> dict[str, Any]:
    from campaigns.models import Campaign
    from scoring.reports import build_report

    campaign = Campaign.objects.get(slug="bench-import-1")
    build_report(campaign, "xlsx")
    seconds = _timed(lambda: build_report(campaign, "xlsx"), 3)
    return {"seconds": seconds}


def setup_100k(run: int) -> dict[str, Any]:
    """Setup (not a figure): 100,000 ballots × 66 units by COPY, one in ten with a comment."""
    from ballots.models import Ballot, Comment
    from campaigns.models import Campaign

    if Campaign.objects.filter(slug="bench-100k").exists():
        return {"seconds": [0.0]}
    t = time.perf_counter()
    campaign = data.make_campaign("bench-100k")
    data.copy_ballots(campaign, 100_000)
    units = list(campaign.units.values_list("id", flat=True))
    ids = Ballot.objects.filter(campaign=campaign).values_list("id", flat=True)[:10_000]
    Comment.objects.bulk_create(
        (
            Comment(
                ballot_id=bid,
                campaign=campaign,
                unit_id=units[i % len(units)],
                text=f"第{i}条意见:希望进一步提高办事效率,减少群众跑腿次数。",
            )
            for i, bid in enumerate(ids)
        ),
        batch_size=5000,
    )
    return {"seconds": [time.perf_counter() - t]}


def fig_report_xlsx_100k(run: int) -> dict[str, Any]:
    """Excel report of 100,000 ballots (with 10,000 comments): time and this process's peak."""
    from campaigns.models import Campaign
    from scoring.reports import build_report

    campaign = Campaign.objects.get(slug="bench-100k")
    t = time.perf_counter()
    report = build_report(campaign, "xlsx")
    return {"seconds": [time.perf_counter() - t], "bytes": len(report.data)}


def fig_keyed_entry(run: int) -> dict[str, Any]:
    """Server time of entry_key for one 66-unit ballot: each serial keyed by two clerks (the
    second pass compares and creates the ballot), on a campaign with 10,834 ballots."""
    import random

    from django.contrib.auth.models import Group, User

    from ballots.paper.keying import entry_key
    from ballots.paper.ranges import range_create
    from campaigns.models import Campaign
    from core.roles import CLERK

    campaign = Campaign.objects.get(slug="bench-import-1")
    clerks = []
    for name in (f"bench-clerk-{run}-a", f"bench-clerk-{run}-b"):
        user, _ = User.objects.get_or_create(username=name)
        user.groups.add(Group.objects.get(name=CLERK))
        clerks.append(User.objects.get(pk=user.pk))  # fresh permission cache
    base = 900_000 + run * 1_000
    range_create(campaign=campaign, first=base, last=base + 999, width=6, channel="基准")
    rng = random.Random(run)
    n_units = campaign.units.count()
    firsts, seconds = [], []
    for i in range(60):
        serial = f"{base + i:06d}"
        keys = "".join(rng.choice("1234") for _ in range(n_units))
        t = time.perf_counter()
        entry_key(campaign=campaign, clerk=clerks[0], serial=serial, keys=keys)
        firsts.append(time.perf_counter() - t)
        t = time.perf_counter()
        entry_key(campaign=campaign, clerk=clerks[1], serial=serial, keys=keys)
        seconds.append(time.perf_counter() - t)
    return {
        "seconds": firsts[10:] + seconds[10:],  # the first few warm the caches
        "first_pass": statistics.median(firsts[10:]),
        "second_pass": statistics.median(seconds[10:]),
    }


FIGURES = {
    "report_pdf": fig_report_pdf,
    "report_xlsx": fig_report_xlsx,
    "setup_100k": setup_100k,
    "report_xlsx_100k": fig_report_xlsx_100k,
    "keyed_entry": fig_keyed_entry,
}


def fmt_s(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def measure(env: dict[str, str], runs: int, pg: bool, wanted: Any, run: Any, Row: Any) -> list:
    rows = []
    if wanted("report_pdf"):
        r = [run("report_pdf", i, env) for i in range(1, runs + 1)]
        med = statistics.median(x for x in r for x in x["seconds"])
        rows.append(
            Row(
                "排名 PDF 报告",
                f"66 个单位,{r[0]['pages']} 页",
                fmt_s(med),
                f"{max(x['peak_mb'] for x in r):.0f} MB",
                "≤ 1 s",
                med <= 1,
            )
        )
        print(rows[-1], flush=True)
    if wanted("report_xlsx"):
        r = [run("report_xlsx", i, env) for i in range(1, runs + 1)]
        med = statistics.median(x for x in r for x in x["seconds"])
        rows.append(
            Row(
                "Excel 报告",
                "10,834 张有效票",
                fmt_s(med),
                f"{max(x['peak_mb'] for x in r):.0f} MB",
                "≤ 5 s",
                med <= 5,
            )
        )
        print(rows[-1], flush=True)
    if wanted("report_xlsx_100k"):
        if pg:
            load = run("setup_100k", 1, env)
            r = [run("report_xlsx_100k", i, env) for i in range(1, runs + 1)]
            med = statistics.median(x for x in r for x in x["seconds"])
            peak = max(x["peak_mb"] for x in r)
            rows.append(
                Row(
                    "Excel 报告(后台任务)",
                    "100,000 张,10,000 条意见",
                    fmt_s(med),
                    f"{peak:.0f} MB",
                    "峰值 ≤ 300 MB",
                    peak <= 300,
                    f"COPY 装载 {load['seconds'][0]:.0f} s(不计入)",
                )
            )
        else:
            rows.append(
                Row(
                    "Excel 报告",
                    "100,000 张",
                    "—",
                    "",
                    "峰值 ≤ 300 MB",
                    None,
                    "仅在 PostgreSQL 上测量",
                )
            )
        print(rows[-1], flush=True)
    if wanted("keyed_entry"):
        r = [run("keyed_entry", i, env) for i in range(1, runs + 1)]
        med = statistics.median(x for x in r for x in x["seconds"])
        first = statistics.median(x["first_pass"] for x in r)
        second = statistics.median(x["second_pass"] for x in r)
        rows.append(
            Row(
                "纸质票录入(服务器端)",
                "66 个单位,双人录入",
                fmt_s(med),
                f"{max(x['peak_mb'] for x in r):.0f} MB",
                "≤ 50 ms",
                med <= 0.05,
                f"第一遍 {fmt_s(first)},第二遍(比对并生成选票){fmt_s(second)}",
            )
        )
        print(rows[-1], flush=True)
    try:
        from bench import online
    except ImportError:
        return rows
    return rows + online.measure(env, runs, pg, wanted, run, Row)
