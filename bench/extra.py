"""Figures that need the reports, keyed entry and the online ballot.

Each `fig_*` runs in a fresh process (bench/one.py); `measure` runs them and makes the rows of
the table. The report and keying figures reuse the campaign the import figure made
("bench-import-1": 66 units, 10,834 valid ballots)."""

from __future__ import annotations

import io
import resource
import statistics
import time
from collections.abc import Callable
from html import escape
from html.parser import HTMLParser
from typing import Any

from bench import data
from bench.timing import timed as _timed


def fig_report_pdf(run: int) -> dict[str, Any]:
    """The ranking PDF of 66 units (tally, reconciliation and composition tables, HTML,
    WeasyPrint), no comment annex: the report a leader downloads first. Then its floor, timed
    in turns with it: WeasyPrint rendering the same cells as one plain table."""
    from pypdf import PdfReader

    from campaigns.models import Campaign
    from scoring.reports import build_report
    from scoring.reports import pdf as pdf_module
    from scoring.reports.weasy import html_to_pdf

    campaign = Campaign.objects.get(slug="bench-import-1")
    # The report's HTML, caught on its way to WeasyPrint (this render also warms the fonts
    # and templates: we measure the steady state).
    caught: list[str] = []
    render = pdf_module._html_to_pdf

    def catch(html: str) -> bytes:
        caught.append(html)
        return render(html)

    pdf_module._html_to_pdf = catch
    try:
        report = build_report(campaign, "pdf", comments=False)
    finally:
        pdf_module._html_to_pdf = render
    cells = report_cells(caught[0])
    plain = plain_table_html(cells)
    floor_pdf = html_to_pdf(plain)  # warm
    seconds, floor = [], []
    for _ in range(3):  # in turns, so that a change of the machine's speed hits both alike
        seconds += _timed(lambda: build_report(campaign, "pdf", comments=False), 1)
        floor += _timed(lambda: html_to_pdf(plain), 1)
    return {
        "seconds": seconds,
        "pages": len(PdfReader(io.BytesIO(report.data)).pages),
        "floor": statistics.median(floor),
        "ratio": statistics.median(seconds) / statistics.median(floor),
        "cells": sum(len(row) for row in cells),
        "floor_pages": len(PdfReader(io.BytesIO(floor_pdf)).pages),
    }


class _Cells(HTMLParser):
    """Every table cell of a document: (tag, text with its spaces collapsed), row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, str]]] = []
        self._tag: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._tag, self._text = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._tag is not None:
            self.rows[-1].append((self._tag, " ".join("".join(self._text).split())))
            self._tag = None

    def handle_data(self, data: str) -> None:
        if self._tag is not None:  # text inside a cell, its flag labels' included
            self._text.append(data)


def report_cells(html: str) -> list[list[tuple[str, str]]]:
    parser = _Cells()
    parser.feed(html)
    return [row for row in parser.rows if row]


# The report's page, body font and cell box (templates/scoring/pdf.css), nothing else: no
# classes, colours, charts, running headers or page counters.
PLAIN_CSS = """
@page { size: A4; margin: 18mm 14mm 20mm 14mm; }
html { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; font-size: 9.5pt; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { border: 0.5pt solid #999; padding: 1mm 1.4mm; vertical-align: top; }
"""


def plain_table_html(rows: list[list[tuple[str, str]]]) -> str:
    """The report's cells, with their texts and header cells (bold: the same two fonts), as
    one plain table as wide as the report's widest row; a shorter row's last cell spans the
    rest. Fixed layout, as the report's big tables have, so the floor is not charged for
    WeasyPrint measuring every cell twice (auto layout), work the report avoids."""
    width = max(len(row) for row in rows)
    lines = []
    for row in rows:
        cells = []
        for i, (tag, text) in enumerate(row):
            span = width - len(row) + 1 if i == len(row) - 1 else 1
            colspan = f' colspan="{span}"' if span > 1 else ""
            cells.append(f"<{tag}{colspan}>{escape(text)}</{tag}>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<style>{PLAIN_CSS}</style></head><body><table>\n"
        + "\n".join(lines)
        + "\n</table></body></html>"
    )


def fig_report_xlsx(run: int) -> dict[str, Any]:
    """The Excel report of 10,834 ballots, and its floor timed in turns with it: the counts
    the workbook shows, by a bare GROUP BY with the breakdowns' columns, and the workbook's
    cells written by openpyxl's write-only mode with no styles, widths or chart."""
    from campaigns.models import Campaign
    from scoring.reports import build_report, excel

    campaign = Campaign.objects.get(slug="bench-import-1")
    caught: list[list[list[Any]]] = []
    write = excel.write_workbook

    def catch(sheets: Any, out: Any) -> None:
        sheets = list(sheets)
        for sheet in sheets:
            sheet.rows = [list(row) for row in sheet.rows]
            caught.append([*sheet.preamble, sheet.header, *sheet.rows])
        write(sheets, out)

    excel.write_workbook = catch  # build_report imports it when called
    try:
        build_report(campaign, "xlsx")  # also warms the caches
    finally:
        excel.write_workbook = write

    def floor() -> None:
        from bench.figures import _bare_group_by

        _bare_group_by(campaign.id, SLICES)
        write_only_workbook(caught)

    floor()
    seconds, floors, writes = [], [], []
    for _ in range(3):  # in turns, so that a change of the machine's speed hits both alike
        seconds += _timed(lambda: build_report(campaign, "xlsx"), 1)
        floors += _timed(floor, 1)
        writes += _timed(lambda: write_only_workbook(caught), 1)
    return {
        "seconds": seconds,
        "floor": statistics.median(floors),
        "floor_write": statistics.median(writes),
        "ratio": statistics.median(seconds) / statistics.median(floors),
        "cells": sum(len(row) for sheet in caught for row in sheet),
    }


# The ballot columns the Excel report's tally counts by (scoring/tally.py, BALLOT_SLICES).
SLICES = ("group_id", "channel", "district")


def write_only_workbook(sheets: list[list[list[Any]]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for i, rows in enumerate(sheets, start=1):
        ws = wb.create_sheet(f"S{i}")
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


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
    # The floor of the peak: this process before the report, with Django, the report's modules
    # (openpyxl's included) and a connection; what the report adds is the rest.
    import openpyxl  # noqa: F401

    import scoring.reports.excel  # noqa: F401

    campaign.units.count()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    report = build_report(campaign, "xlsx")
    return {
        "seconds": [time.perf_counter() - t],
        "bytes": len(report.data),
        "peak_before_mb": before,
    }


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


FIGURES: dict[str, Callable[[int], dict[str, Any]]] = {
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
        ratio = statistics.median(x["ratio"] for x in r)
        rows.append(
            Row(
                "  与纯表格 PDF 之比",
                f"下限 {fmt_s(statistics.median(x['floor'] for x in r))}",
                f"{ratio:.1f}×",
                "",
                "≤ 3×",
                ratio <= 3,
                f"WeasyPrint 排同样 {r[0]['cells']:,} 个单元格(同样文字与字体)的一张表,"
                f"{r[0]['floor_pages']} 页",
            )
        )
        print(rows[-2:], flush=True)
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
        ratio = statistics.median(x["ratio"] for x in r)
        rows.append(
            Row(
                "  与下限之比(裸 GROUP BY + 只写)",
                f"下限 {fmt_s(statistics.median(x['floor'] for x in r))}",
                f"{ratio:.1f}×",
                "",
                "≤ 2×",
                ratio <= 2,
                f"按渠道、类别、片区的裸 GROUP BY,加 openpyxl 只写模式写同样 "
                f"{r[0]['cells']:,} 个单元格(其中写入 "
                f"{fmt_s(statistics.median(x['floor_write'] for x in r))})",
            )
        )
        print(rows[-2:], flush=True)
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
                    f"COPY 装载 {load['seconds'][0]:.0f} s(不计入);报告前进程已占 "
                    f"{max(x['peak_before_mb'] for x in r):.0f} MB",
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
