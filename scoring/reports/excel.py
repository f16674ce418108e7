"""The Excel report: each sheet is an exporter that yields rows (as in pretix), written by one
write-only workbook writer, so memory stays flat however many comments there are.

Numbers are stored as numbers (full precision, formatted for reading); text that a
spreadsheet could take for a formula (= + - @ …) is stored as text."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ballots.models import Comment
from scoring import engine
from scoring.ballot_file import ballot_fingerprint
from scoring.extensions import sections_for
from scoring.presentation import (
    INVALID_LABELS,
    SOURCE_LABELS,
    Table,
    breakdown_note,
    flagged,
    ordered_flags,
    published_breakdown,
    rules_in_words,
    slice_label,
    sub_units,
    tables,
)
from scoring.tally import CampaignTally

SCORE = "0.00##"
PERCENT = "0.00%"
INTEGER = "0"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
TITLE_FONT = Font(bold=True, size=14)


class Percent(float):
    """A float the writer formats as a percentage."""


class Score(float):
    """A float the writer formats with up to four decimals."""


def num(x: Fraction | None, kind: type[float] = Score) -> float | None:
    return None if x is None else kind(float(x))


@dataclass
class Sheet:
    title: str
    header: list[str]
    rows: Iterable[list[Any]]
    widths: list[int] = field(default_factory=list)
    preamble: list[list[Any]] = field(default_factory=list)  # lines above the header
    chart: Callable[[Any, int, int], None] | None = None  # (worksheet, first row, last row)


def sheet_title(name: str, taken: set[str]) -> str:
    """Excel's rules: 31 characters, none of []:*?/\\, unique (case-insensitively)."""
    base = BAD_SHEET_CHARS.sub("_", name)[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f"~{n}"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _cell(ws: Any, value: Any, *, bold: bool = False) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        # A comment like "=HYPERLINK(...)" must stay what the representative typed.
        c = WriteOnlyCell(ws, value=value)
        c.data_type = "s"
        return c
    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, Percent):
        c.number_format = PERCENT
    elif isinstance(value, Score):
        c.number_format = SCORE
    elif isinstance(value, int) and not isinstance(value, bool):
        c.number_format = INTEGER
    if bold:
        c.font = HEADER_FONT
    return c


def write_workbook(sheets: Iterable[Sheet], out: io.BufferedIOBase | Any) -> None:
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    for sheet in sheets:
        ws = wb.create_sheet(sheet_title(sheet.title, taken))
        for i, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        # Frozen header: the panes must be set before the first row is written.
        ws.freeze_panes = f"A{len(sheet.preamble) + 2}"
        # Printed: landscape, as wide as the paper (as many pages down as it takes), the header
        # row again at the top of every page.
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = f"{len(sheet.preamble) + 1}:{len(sheet.preamble) + 1}"
        for line in sheet.preamble:
            cells = [_cell(ws, v) for v in line]
            if cells:
                cells[0].font = TITLE_FONT
            ws.append(cells)
        header = []
        for v in sheet.header:
            c = _cell(ws, v, bold=True)
            c.fill = HEADER_FILL
            c.alignment = Alignment(horizontal="center", wrap_text=True)
            header.append(c)
        ws.append(header)
        first = len(sheet.preamble) + 2
        last = first - 1
        for row in sheet.rows:
            ws.append([_cell(ws, v) for v in row])
            last += 1
        if sheet.chart is not None and last >= first:
            sheet.chart(ws, first, last)
    wb.save(out)


# --- the sheets ---------------------------------------------------------------------------


def _labels(t: CampaignTally) -> list[str]:
    return [o.label for o in t.input.options]


def summary_sheet(t: CampaignTally, entry_mode: str) -> Sheet:
    c = t.campaign
    b = t.ballots

    def rows() -> Iterator[list[Any]]:
        yield [_("评议活动"), c.name]
        yield [_("年度"), c.year]
        yield [_("计分方式"), _("累计得分") if c.aggregation == "sum" else _("平均得分")]
        yield [_("纸质票录入方式"), entry_mode]
        yield [_("选票总数"), b.total]
        for source, n in sorted(b.by_source.items()):
            yield [_("其中%(s)s") % {"s": SOURCE_LABELS.get(source, source)}, n]
        yield [_("有效票"), b.valid]
        yield [_("无效票"), b.invalid]
        for reason, n in b.invalid_reasons.items():
            yield [_("无效:%(r)s") % {"r": INVALID_LABELS.get(reason, reason)}, n]
        for fl in flagged(t):
            yield [fl.heading, "、".join(u.unit.name for _c, u in fl.units) or _("无")]
        yield [_("计票指纹"), ballot_fingerprint(c)]

    return Sheet(
        _("汇总"),
        [_("项目"), _("内容")],
        rows(),
        widths=[22, 90],
        preamble=[[c.name + " " + _("评议结果")]],
    )


def category_sheet(t: CampaignTally, table: Table) -> Sheet:
    """One category's ranking, from its table (scoring.presentation.tables): the names as
    shown (a leader with the post), a column per dimension where there are several."""
    cat = table.category
    labels = _labels(t)
    dims = table.dimensions
    percent = [_("百分制")] if table.percent else []
    header = [_("名次"), table.noun, _("得分"), *percent, _("满意率"),
              *[_("%(d)s满意率") % {"d": d} for d in dims]]
    header += [*labels, _("未填"), _("废票"), _("认定")]
    grades = bool(t.input.grade_bands)  # 等次 only where the campaign grades units
    if grades:
        header.append(_("等次"))

    def rows() -> Iterator[list[Any]]:
        for r in table.rows:
            u = r.result
            counts = dict(u.counts)
            by_dim = {b.key: b.satisfaction_rate for b in u.by_dimension}
            yield [
                u.rank,
                r.label,
                num(u.score),
                *([num(engine.percent_of(u.counts, t.input.options))] if table.percent else []),
                num(u.satisfaction_rate, Percent),
                *[num(by_dim.get(d), Percent) for d in dims],
                *[counts.get(label, 0) for label in labels],
                u.blank,
                u.spoiled,
                "、".join(label for _f, label in ordered_flags(u.flags, u.unit.kind)),
                *([u.grade or ""] if grades else []),
            ]

    ranked = sum(1 for u in cat.units if u.score is not None)

    def chart(ws: Any, first: int, last: int) -> None:
        if not ranked:
            return
        bar = BarChart()
        bar.type = "bar"  # horizontal: long Chinese names stay readable
        bar.title = _("%(c)s 得分") % {"c": cat.category.name}
        bar.y_axis.title = _("得分")
        bar.legend = None
        end = first + ranked - 1
        bar.add_data(
            Reference(ws, min_col=3, min_row=first - 1, max_row=end), titles_from_data=True
        )
        bar.set_categories(Reference(ws, min_col=2, min_row=first, max_row=end))
        bar.x_axis.scaling.orientation = "maxMin"  # rank 1 at the top, as in the table
        bar.height = max(7.5, 0.5 * ranked + 2)
        bar.width = 18
        ws.add_chart(bar, f"{get_column_letter(len(header) + 2)}2")

    return Sheet(
        cat.category.name,
        header,
        rows(),
        widths=[6, 26, 10, *[9] * len(percent), 10, *[12] * len(dims), *[9] * len(labels), 7, 7,
                24,
                *([8] if grades else [])],
        preamble=[
            [
                _("%(c)s(%(q)s)") % {"c": cat.category.name, "q": table.quotas}
            ]
        ],
        chart=chart,
    )


def votes_sheet(t: CampaignTally) -> Sheet:
    """票数明细: one row per unit × dimension × option (and blank, spoiled)."""
    labels = _labels(t)
    has_dims = any(u.by_dimension for c in t.result.categories for u in c.units)

    def rows() -> Iterator[list[Any]]:
        for c in t.result.categories:
            for u in c.units:
                parts: list[tuple[str, Any]] = (
                    [(b.key, b) for b in u.by_dimension] if has_dims else [(_("全部"), u)]
                )
                for dim, part in parts:
                    counts = dict(part.counts)
                    for label in labels:
                        yield [c.category.name, u.unit.name, dim, label, counts.get(label, 0)]
                    yield [c.category.name, u.unit.name, dim, _("未填"), part.blank]
                    yield [c.category.name, u.unit.name, dim, _("废票"), part.spoiled]

    return Sheet(
        _("票数明细"),
        [_("类别"), _("单位"), _("评议内容"), _("等次"), _("票数")],
        rows(),
        widths=[18, 26, 14, 10, 9],
    )


def breakdown_sheet(t: CampaignTally, title: str, what: str, attr: str) -> Sheet:
    """One row per unit × slice of the ballots (channel, group, district), the slices merged
    as on the unit pages (scoring.presentation.published_breakdown: the tally's suppression,
    其他 last). The title line carries the note when slices were merged, so the header row is
    always the second."""
    labels = _labels(t)

    def rows() -> Iterator[list[Any]]:
        for c in t.result.categories:
            for u in c.units:
                for b in published_breakdown(t, u, attr):
                    counts = dict(b.counts)
                    yield [
                        c.category.name,
                        u.unit.name,
                        slice_label(b.key),
                        num(b.score),
                        num(b.satisfaction_rate, Percent),
                        *[counts.get(label, 0) for label in labels],
                        b.blank,
                        b.spoiled,
                    ]

    return Sheet(
        title,
        [_("类别"), _("单位"), what, _("得分"), _("满意率"), *labels, _("未填"), _("废票")],
        rows(),
        widths=[18, 26, 14, 10, 10, *[9] * len(labels), 7, 7],
        preamble=[[title, breakdown_note(t, attr)]],
    )


def sub_units_sheet(tabs: list[Table]) -> Sheet | None:
    """下级评议对象: the sections, windows, stations and leaders with their parent (None when
    the campaign has none), each parent's together."""
    subs = sorted(sub_units(tabs), key=lambda s: s[1])
    if not subs:
        return None
    dims = tabs[0].dimensions

    def rows() -> Iterator[list[Any]]:
        for cat, parent, r in subs:
            u = r.result
            by_dim = {b.key: b.satisfaction_rate for b in u.by_dimension}
            yield [
                parent,
                r.label,
                r.kind_label,
                cat,
                u.rank,
                num(u.score),
                num(u.satisfaction_rate, Percent),
                *[num(by_dim.get(d), Percent) for d in dims],
                r.flag_text,
            ]

    return Sheet(
        _("下级评议对象"),
        [_("上级单位"), _("评议对象"), _("类型"), _("类别"), _("名次"), _("得分"), _("满意率"),
         *[_("%(d)s满意率") % {"d": d} for d in dims], _("认定")],
        rows(),
        widths=[24, 26, 10, 18, 6, 10, 10, *[12] * len(dims), 24],
    )


def comments_sheet(t: CampaignTally) -> Sheet:
    names = {u.key: u.name for u in t.input.units}

    def rows() -> Iterator[list[Any]]:
        # Only the unit and the text: nothing that could point back to a ballot or a person.
        # Ordered by unit then text (not by time of writing) for the same reason.
        qs = (
            Comment.objects.filter(campaign=t.campaign, ballot__status="valid")
            .order_by("unit__category__order", "unit__order", "unit_id", "text")
            .values_list("unit_id", "text")
        )
        for unit_id, text in qs.iterator(chunk_size=2000):
            name = names.get(str(unit_id), "") if unit_id is not None else _("总体意见")
            yield [name, text]

    return Sheet(_("意见建议"), [_("单位"), _("意见和建议")], rows(), widths=[26, 100])


def rules_sheet(t: CampaignTally) -> Sheet:
    rules = rules_in_words(t.campaign)
    return Sheet(
        _("规则说明"),
        [_("序号"), _("规则")],
        ([i, text] for i, text in enumerate(rules, start=1)),
        widths=[6, 110],
    )


def sheets(
    t: CampaignTally,
    entry_mode: str,
    *,
    comments: bool = True,
    paper: dict[str, Any] | None = None,
    representatives: dict[str, Any] | None = None,
) -> Iterator[Sheet]:
    yield summary_sheet(t, entry_mode)
    if representatives:
        yield Sheet(
            _("代表构成"),
            [str(h) for h in representatives["header"]],
            [*representatives["rows"], *([w] for w in representatives["warnings"])],
            widths=[24, 9, 10, 12, 10],
        )
    if paper:
        yield Sheet(
            _("纸质票核对"),
            [str(h) for h in paper["header"]],
            paper["rows"],
            widths=[24, *[9] * (len(paper["header"]) - 1)],
        )
    tabs = tables(t)
    for table in tabs:
        yield category_sheet(t, table)
    for section in sections_for(t.campaign):  # what apps built on the results add
        yield Sheet(section.title, list(section.header), [list(r) for r in section.rows],
                    widths=[18, *[24] * (len(section.header) - 1)])
    if (subs := sub_units_sheet(tabs)) is not None:
        yield subs
    yield votes_sheet(t)
    yield breakdown_sheet(t, _("分渠道"), _("渠道"), "channel")
    yield breakdown_sheet(t, _("分类别"), _("代表类别"), "group")
    if any(u.by_pool for c in t.result.categories for u in c.units):
        yield breakdown_sheet(t, _("分评议范围"), _("评议范围"), "pool")
    if any(u.by_district for c in t.result.categories for u in c.units):
        yield breakdown_sheet(t, _("分片区"), _("片区"), "district")
    if comments:
        yield comments_sheet(t)
    yield rules_sheet(t)
