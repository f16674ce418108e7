"""The assessment's reports (issue 18): the 通报-style PDF and the Excel workbook, both from an
`Assessed` (assessments.adapter), so the figures are the engine's and the fingerprint the
result's.

They reuse the campaign reports' machinery: the workbook goes through
scoring.reports.excel.write_workbook (landscape, fit to width, repeated header row, text that
could become a formula stored as text), the PDF through templates/scoring/pdf.css and the
same WeasyPrint, with fixed-layout tables whose widths are worked out here."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import engine, words
from assessments.adapter import Assessed, counted_entries
from assessments.engine import shown
from assessments.models import Entry
from scoring.presentation import cn_number
from scoring.reports.excel import Percent, Sheet, num, write_workbook
from scoring.reports.pdf import CELL_PADDING_EM, EM_MM, FLAG_EM, text_em
from scoring.reports.weasy import html_to_pdf

# templates/scoring/pdf.css: A4 less 14 mm margins; the landscape page of a wide table.
PORTRAIT_MM = 182
LANDSCAPE_MM = 269
FLEX_MIN_EM = 6.0
HEAD_WRAP_EM = 4.2  # a heading wraps to four characters a line,
HEAD_MIN_EM = 2.2  # or two at the least
SLACK_EM = 0.3  # the widths of text_em are estimates: a little room so that "优秀" never wraps


def flags_of(u: engine.UnitOutcome) -> list[tuple[str, str]]:
    """(flag, words) of a unit, worded as the pages word them (assessments/words.py); 数据不全
    names the missing sections."""
    return [(f, words.flag_words(f, missing=u.missing)) for f in u.flags]


def mode_words(mode: str) -> str:
    return _("倒扣分制") if mode == "deduction" else _("加权综合")


# --- the rules in words -------------------------------------------------------------------


def rules_in_words(assessed: Assessed) -> list[str]:
    """The scheme in words, from the configuration: assessments.words, as the pages show it."""
    return words.rules_in_words(assessed.assessment)


# --- the shared figures -------------------------------------------------------------------


@dataclass(frozen=True)
class EntryLine:
    unit: str
    section: str
    item: str
    count: int | None
    points: Fraction | None  # per occurrence
    deduction: Fraction | None  # count × points
    score: Fraction | None
    source: str
    basis: str
    date: Any
    status: str


def entry_lines(assessed: Assessed) -> list[EntryLine]:
    """Every counted entry (approved, superseded by none), by unit and section."""
    qs = counted_entries(assessed.assessment).select_related("unit", "section", "item").order_by(
        "unit__category__order", "unit__order", "unit_id", "section__order", "section_id", "id")
    out = []
    for e in qs:
        status = e.get_status_display()
        if e.objection:
            status += "·" + str(Entry.Objection(e.objection).label)
        if e.score is not None:
            out.append(EntryLine(e.unit.name, e.section.name, _("得分"), None, None, None,
                                 Fraction(e.score), e.source, e.basis, e.date, status))
            continue
        assert e.item is not None and e.count is not None
        points = Fraction(e.item.points if e.item.points is not None else e.points or 0)
        out.append(EntryLine(e.unit.name, e.section.name, e.item.name, e.count, points,
                             e.count * points, None, e.source, e.basis, e.date, status))
    return out


def survey_figure(assessed: Assessed, section: str, unit_key: str) -> Fraction | None:
    return assessed.input.survey.get(section, {}).get(unit_key)


def sub_figures(assessed: Assessed, section: str, unit_key: str) -> tuple[Fraction, ...]:
    return assessed.input.rollup.get(section, {}).get(unit_key, ())


def issued_at(assessed: Assessed) -> Any:
    """The date in the sign-off: the finalisation's, else now."""
    a = assessed.assessment
    return timezone.localtime(a.finalised_at) if a.finalised_at else timezone.localtime()


# --- PDF ----------------------------------------------------------------------------------


def table_columns(header: Sequence[str], rows: Sequence[Sequence[float]], flex: set[int], *,
                  landscape: bool = True) -> tuple[list[str], bool]:
    """Widths in percent of a fixed-layout table (as scoring.reports.pdf.ranking_columns),
    and whether it needs a landscape page. `rows` hold each cell's width in em. Each column is
    as wide as its widest text; when that is wider than the page, headings wrap (to four
    characters a line, or two on a full landscape page) and the `flex` columns (names, flags,
    long texts) share what is left: on a landscape page, if allowed, when portrait leaves
    them too little."""
    heads = [text_em(h, 1.05) for h in header]
    data = [0.0] * len(header)
    for r in rows:
        data = [max(w, c) for w, c in zip(data, r, strict=True)]
    pad = CELL_PADDING_EM + SLACK_EM
    natural = [max(h, d) + pad for h, d in zip(heads, data, strict=True)]
    tries = [(PORTRAIT_MM, HEAD_WRAP_EM)]
    tries += [(LANDSCAPE_MM, HEAD_WRAP_EM), (LANDSCAPE_MM, HEAD_MIN_EM)] if landscape else [
        (PORTRAIT_MM, HEAD_MIN_EM)]
    for n, (page_mm, head_em) in enumerate(tries):
        page = page_mm / EM_MM
        if sum(natural) <= page:
            return _percent(natural), page_mm == LANDSCAPE_MM
        need = [natural[i] if i in flex else max(data[i], min(heads[i], head_em)) + pad
                for i in range(len(header))]
        room = page - sum(need[i] for i in range(len(need)) if i not in flex)
        if room >= FLEX_MIN_EM * len(flex) or n == len(tries) - 1:
            wanted = sum(natural[i] for i in flex) or 1.0
            for i in flex:
                need[i] = max(FLEX_MIN_EM, room * natural[i] / wanted)
            return _percent(need), page_mm == LANDSCAPE_MM
    raise AssertionError("unreachable")


def _percent(widths: list[float]) -> list[str]:
    total = sum(widths)
    return [f"{w / total * 100:.2f}%" for w in widths]


def _ranked_table(assessed: Assessed, c: engine.CategoryOutcome, number: str) -> dict[str, Any]:
    names = [s.name for s in assessed.input.sections]
    header = [_("名次"), _("单位"), *names, _("总分"), _("等次"), _("认定")]
    rows, widths = [], []
    for u in c.units:
        flags = flags_of(u)
        cells = [str(u.rank or "—"), u.unit.name, *[shown(v) for _n, v in u.sections],
                 shown(u.total), u.grade or "—"]
        rows.append({"cells": cells, "flags": flags, "incomplete": u.total is None})
        flag_em = max((text_em(t, FLAG_EM[0]) + FLAG_EM[1] for _f, t in flags), default=0.0)
        widths.append([*map(text_em, cells), flag_em])
    cols, landscape = table_columns(header, widths, {1, len(header) - 1})
    graded = Counter(u.grade for u in c.units if u.grade)
    honoured = [u.unit.name for u in c.units if engine.FLAG_HONOURED in u.flags]
    return {"number": number, "name": c.category.name, "header": header, "rows": rows,
            "columns": cols, "landscape": landscape, "graded": graded, "honoured": honoured,
            "units": len(c.units)}


def _annex(assessed: Assessed, lines: list[EntryLine]) -> list[dict[str, Any]]:
    """Each unit's deductions: its counted entries, then what the survey sections took."""
    by_unit: dict[str, list[EntryLine]] = {}
    for e in lines:
        by_unit.setdefault(e.unit, []).append(e)
    deduction = assessed.input.mode == "deduction"
    out = []
    for c in assessed.result.categories:
        for u in c.units:
            rows = []
            for e in by_unit.get(u.unit.name, []):
                if e.score is not None:
                    rows.append([e.section, e.item, "—", shown(e.score), e.source, e.basis])
                else:
                    rows.append([e.section, e.item, f"{e.count} × {shown(e.points)}",
                                 shown(e.deduction), e.source, e.basis])
            for s, (name, value) in zip(assessed.input.sections, u.sections, strict=True):
                if s.kind == "survey":
                    m = survey_figure(assessed, name, u.unit.key)
                    what = _("满意率 %(m)s") if s.measure == "satisfaction" else _("百分制 %(m)s")
                    rows.append([name, what % {"m": shown(m)}, "—", shown(value),
                                 _("评议结果"), _("低于%(t)s每个百分点扣%(p)s分")
                                 % {"t": shown(s.threshold) + ("%" if s.measure == "satisfaction" else _("分")),
                                    "p": shown(s.per_point)}
                                 if deduction else _("满分 × 得分 ÷ 100")])
                elif s.kind == "rollup":
                    subs = sub_figures(assessed, name, u.unit.key)
                    figs = (_("下级单位 %(f)s") % {"f": "、".join(shown(m) for m in subs)}
                            if subs else _("无下级单位有效票"))
                    rows.append([name, figs, "—", shown(value),
                                 _("评议结果"), _("逐个下级单位计算")])
            out.append({"unit": u.unit.name, "category": c.category.name, "rows": rows,
                        "total": shown(u.total), "grade": u.grade or "—"})
    return out


ANNEX_HEADER = ("考核项目", "扣分事项", "次数 × 分值", "扣分", "提供单位", "依据")


def assessment_pdf(assessed: Assessed) -> bytes:
    a, inp = assessed.assessment, assessed.input
    deduction = inp.mode == "deduction"
    tables = [_ranked_table(assessed, c, cn_number(i + 2))
              for i, c in enumerate(assessed.result.categories)]
    lines = entry_lines(assessed)
    annex = _annex(assessed, lines)
    annex_header = [_(h) for h in ANNEX_HEADER]
    if not deduction:
        annex_header[3] = _("扣分/得分")
    annex_widths = [[text_em(x) for x in r] for unit in annex for r in unit["rows"]]
    annex_cols, _l = table_columns(annex_header, annex_widths or [[0.0] * 6], {1, 4, 5},
                                  landscape=False)
    units = [u for c in assessed.result.categories for u in c.units]
    graded = Counter(u.grade for u in units if u.grade)
    summary = [
        (_("考核方式"), mode_words(inp.mode)),
        (_("参加考核单位"), _("%(n)s个") % {"n": len(units)}),
        *[(b.label, _("%(n)s个") % {"n": graded.get(b.label, 0)}) for b in inp.bands],
        (_("数据不全"), _("%(n)s个") % {"n": sum(1 for u in units if u.total is None)}),
        (_("先进单位"), "、".join(u.unit.name for u in units if engine.FLAG_HONOURED in u.flags)
         or _("无")),
    ]
    for flag in ("title", "accountability"):
        said = words.rule_flag_words(flag)
        named = [u.unit.name for u in units if flag in u.flags]
        if named or any(r.flag == flag for r in inp.rules):
            summary.append((said, "、".join(named) or _("无")))
    band_rows = [(b.label, _("%(m)s分及以上") % {"m": shown(b.minimum)}, b.consequence or "—",
                  _("是") if b.rectify else _("否"), graded.get(b.label, 0)) for b in inp.bands]
    n = len(tables) + 2
    ctx = {
        "a": a,
        "title": _("%(y)s年度%(n)s结果通报") % {"y": a.year, "n": a.name}
        if str(a.year) not in a.name else _("%(n)s结果通报") % {"n": a.name},
        "mode": mode_words(inp.mode),
        "summary": summary,
        "tables": tables,
        "bands_number": cn_number(n),
        "rules_number": cn_number(n + 1),
        "bands": band_rows,
        "rules": rules_in_words(assessed),
        "annex": annex,
        "annex_header": annex_header,
        "annex_columns": annex_cols,
        "fingerprint": assessed.fingerprint(),
        "issuer": a.office.name if a.office is not None else "",
        "issued_at": issued_at(assessed),
        "generated_at": timezone.localtime(),
    }
    return html_to_pdf(render_to_string("assessments/report_pdf.html", ctx))


# --- Excel --------------------------------------------------------------------------------


def _summary_sheet(assessed: Assessed) -> Sheet:
    a, inp = assessed.assessment, assessed.input
    names = [s.name for s in inp.sections]
    kind = _("扣分") if inp.mode == "deduction" else _("得分")

    def rows() -> Iterator[list[Any]]:
        for c in assessed.result.categories:
            for u in c.units:
                yield [c.category.name, u.rank, u.unit.name, *[num(v) for _n, v in u.sections],
                       num(u.total), u.grade or "", "、".join(t for _f, t in flags_of(u))]

    return Sheet(
        _("汇总"),
        [_("类别"), _("名次"), _("单位"), *[f"{n}{kind}" for n in names], _("总分"), _("等次"),
         _("认定")],
        rows(),
        widths=[16, 6, 24, *[11] * len(names), 9, 8, 30],
        preamble=[[f"{a.name}({a.year})" + _("考核结果"),
                   _("考核方式:%(m)s;结果指纹:%(f)s")
                   % {"m": mode_words(inp.mode), "f": assessed.fingerprint()}]],
    )


def _section_sheet(assessed: Assessed, index: int, raw: dict[tuple[str, str], Fraction]
                   ) -> Sheet:
    s = assessed.input.sections[index]
    value = _("扣分") if assessed.input.mode == "deduction" else _("得分")
    extra: list[str] = []
    if s.kind == "items":
        extra = [_("扣分事项合计"), _("次数合计")]
    elif s.kind == "survey":
        extra = [_("满意率") if s.measure == "satisfaction" else _("百分制")]
    elif s.kind == "rollup":
        extra = [_("下级单位数"), _("下级单位") + (_("满意率") if s.measure == "satisfaction"
                                                  else _("百分制"))]
    counts: Counter[str] = Counter()
    for d in assessed.input.deductions:
        if d.section == s.name:
            counts[d.unit_key] += d.count

    def rows() -> Iterator[list[Any]]:
        for c in assessed.result.categories:
            for u in c.units:
                v = u.sections[index][1]
                row: list[Any] = [c.category.name, u.unit.name, num(v)]
                if s.kind == "items":
                    row += [num(raw.get((u.unit.key, s.name), Fraction(0))), counts[u.unit.key]]
                elif s.kind == "survey":
                    m = survey_figure(assessed, s.name, u.unit.key)
                    row += [None if m is None else Percent(float(m / 100))]
                elif s.kind == "rollup":
                    subs = sub_figures(assessed, s.name, u.unit.key)
                    row += [len(subs), "、".join(shown(m) for m in subs)]
                if v is None:
                    row.append(_("缺"))
                yield row

    return Sheet(s.name, [_("类别"), _("单位"), value, *extra],
                 rows(), widths=[16, 24, 10, *[14] * len(extra), 6])


def _entries_sheet(assessed: Assessed) -> Sheet:
    def rows() -> Iterator[list[Any]]:
        for e in entry_lines(assessed):
            yield [e.unit, e.section, e.item, e.count, num(e.points), num(e.deduction),
                   num(e.score), e.source, e.basis, e.date, e.status]

    return Sheet(
        _("扣分明细"),
        [_("单位"), _("考核项目"), _("扣分事项"), _("次数"), _("每次扣分"), _("扣分"), _("得分"),
         _("提供单位"), _("依据"), _("日期"), _("状态")],
        rows(),
        widths=[20, 16, 40, 6, 9, 8, 8, 18, 22, 11, 12],
    )


def assessment_sheets(assessed: Assessed) -> Iterator[Sheet]:
    raw: dict[tuple[str, str], Fraction] = {}
    for d in assessed.input.deductions:
        raw[(d.unit_key, d.section)] = raw.get((d.unit_key, d.section), Fraction(0)) + (
            d.count * d.points)
    yield _summary_sheet(assessed)
    for i in range(len(assessed.input.sections)):
        yield _section_sheet(assessed, i, raw)
    yield _entries_sheet(assessed)
    yield Sheet(_("规则"), [_("序号"), _("规则")],
                ([i, t] for i, t in enumerate(rules_in_words(assessed), start=1)),
                widths=[6, 120])


def assessment_workbook(assessed: Assessed) -> bytes:
    buf = io.BytesIO()
    write_workbook(assessment_sheets(assessed), buf)
    return buf.getvalue()


__all__ = ["assessment_pdf", "assessment_workbook", "rules_in_words"]


def run_report_job(job: Any, progress: Any) -> None:
    """Background job behind the result page's download buttons (params: slug, format)."""
    from assessments.adapter import assess_assessment
    from assessments.models import Assessment
    from core.audit import audit
    from core.jobs import job_finish_file

    assessment = Assessment.objects.get(slug=job.params["slug"])
    fmt = job.params["format"]
    progress(0, 2, _("正在计算考核结果"))
    done = assess_assessment(assessment)
    progress(1, 2, _("正在生成报告"))
    data = assessment_pdf(done) if fmt == "pdf" else assessment_workbook(done)
    name = f"{assessment.slug}-{assessment.year}.{fmt}"
    job_finish_file(job, name, data)
    audit(user=job.created_by, action="assessment.report", obj=assessment, object_repr=name,
          after={"format": fmt, "fingerprint": done.fingerprint()})
    progress(2, 2, _("报告已生成,可以下载"))
