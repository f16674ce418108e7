"""The PDF reports: HTML from a template, then WeasyPrint. Page numbers, the repeated table
header and the fingerprint in the footer come from the print CSS (templates/scoring/pdf.css)."""

from __future__ import annotations

import base64
import re
from fractions import Fraction
from typing import Any
from unicodedata import east_asian_width

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from campaigns.subjects import count_subjects
from core.chain import chain_head
from scoring import charts
from scoring.extensions import notes_for, sections_for
from scoring.presentation import (
    FlagList,
    Table,
    breakdown_note,
    cn_number,
    context,
    fmt_number,
    fmt_percent,
    pool_names,
    published_breakdown,
    sub_units,
)
from scoring.reports.weasy import html_to_pdf
from scoring.tally import CampaignTally

# Page geometry of templates/scoring/pdf.css: A4 less 14 mm margins, 9.5 pt text.
CONTENT_MM = 182
EM_MM = 9.5 * 25.4 / 72
CELL_PADDING_EM = 0.9  # 1.4 mm each side and the border
FLAG_EM = (8 / 9.5, 0.9)  # a flag label: its text at 8 pt, its padding and margin
KV_LABEL_MM = 45
FLEX_MIN_EM = 5.0  # the least a ranking's name or flags column keeps when the page is full
KV_MIN_MM = 110


def _html_to_pdf(html: str) -> bytes:
    return html_to_pdf(html)


def text_em(text: str, scale: float = 1.0) -> float:
    """The width of a line of text in em, roughly: Chinese characters 1 em, digits and Latin
    0.6 em (Noto Sans CJK)."""
    return scale * sum(1.0 if east_asian_width(c) in "WFA" else 0.6 for c in text)


def ranking_columns(table: Table, options: list[str], grades: bool) -> list[str]:
    """The widths of a ranking table's columns, in percent of the page.

    The PDF's ranking tables have a fixed layout (pdf.css): WeasyPrint then lays out each cell
    once, instead of measuring every cell's narrowest and widest width first, which was a third
    of the report's time. So the widths are worked out here as the automatic layout would:
    each column as wide as its widest text, the page's width shared in proportion. Where that
    is wider than the page (many dimensions, long names and posts, several flags), a figure
    never shrinks below its widest number and a heading wraps after two characters; the name
    and the flags, which wrap, give up the rest."""
    # A dimension's column is headed on two lines: the dimension, then 满意率.
    dims = [max(d, _("满意率"), key=text_em) for d in table.dimensions]
    percent = [_("百分制")] if table.percent else []
    header = [_("名次"), table.noun or _("单位"), _("得分"), *percent, _("满意率"), *dims,
              *options, _("未填"), _("废票")]
    header += [_("认定")] + ([_("等次")] if grades else [])
    heads = [text_em(h, 1.05) for h in header]  # bold
    data = [0.0] * len(header)
    for r in table.rows:
        cells = [str(r.rank or "—"), r.label, r.score, *([r.percent] if table.percent else []),
                 r.rate, *r.dimension_rates, *map(str, r.counts)]
        cells += [str(r.result.blank), str(r.result.spoiled)]
        flags = sum(text_em(label, FLAG_EM[0]) + FLAG_EM[1] for _f, label in r.flags)
        row = [text_em(c) for c in cells] + [flags]
        if grades:
            row.append(text_em(r.result.grade or ""))
        data = [max(w, c) for w, c in zip(data, row, strict=True)]
    natural = [max(h, d) + CELL_PADDING_EM for h, d in zip(heads, data, strict=True)]
    page = CONTENT_MM / EM_MM
    if sum(natural) > page:
        flex = {1, 6 + len(percent) + len(dims) + len(options)}  # the name and the flags
        need = [natural[i] if i in flex else max(data[i], min(heads[i], 2.1)) + CELL_PADDING_EM
                for i in range(len(header))]
        room = page - sum(need[i] for i in range(len(need)) if i not in flex)
        wanted = sum(natural[i] for i in flex)
        for i in flex:
            # Too many figures even for their numbers: every column then shrinks alike, the
            # name and the flags from no less than FLEX_MIN_EM.
            need[i] = max(FLEX_MIN_EM, room * natural[i] / wanted if room > 0 else 0)
        natural = need
    total = sum(natural)
    return [f"{w / total * 100:.2f}%" for w in natural]


def kv_width(rows: list[tuple[str, str]]) -> str:
    """The width of a two-column table of labels and texts (奖惩认定), fixed in pdf.css for the
    same reason: at least KV_MIN_MM, wider for long texts, at most the page; the long lists of
    units then wrap."""
    text = max((text_em(str(v)) for _k, v in rows), default=0)
    mm = KV_LABEL_MM + (text + CELL_PADDING_EM + 0.5) * EM_MM
    return "100%" if mm >= CONTENT_MM else f"{max(mm, KV_MIN_MM):.0f}mm"


def chart_image(svg: str) -> SafeString:
    """An inline SVG chart as an <img> of the same SVG. WeasyPrint then reads the SVG apart
    from the page, instead of parsing and styling each of its elements with the page's HTML:
    the same picture, drawn faster."""
    if not svg:
        return mark_safe("")
    title = re.search(r"<title>(.*?)</title>", svg)
    alt = title.group(1) if title else ""  # escaped already
    data = base64.b64encode(svg.encode()).decode()
    return mark_safe(f'<img class="chart" alt="{alt}" src="data:image/svg+xml;base64,{data}">')  # noqa: S308


def ranking_pdf(
    t: CampaignTally, *, comments: bool = True, paper: Any = None, representatives: Any = None
) -> bytes:
    ctx = context(t)
    charts.attach_charts(ctx["tables"], Fraction(t.campaign.threshold))
    for table in ctx["tables"]:
        table.score_svg = chart_image(table.score_svg)
        table.rate_svg = chart_image(table.rate_svg)
        table.pdf_columns = ranking_columns(table, ctx["options"], bool(t.input.grade_bands))
    pools = pool_names(t)
    for table in ctx["tables"] if pools else []:
        table.pools = pool_table(t, table, pools)
    flagged: list[FlagList] = ctx["flagged"]
    subs = sorted(sub_units(ctx["tables"]), key=lambda s: s[1])  # stable: under each parent in table order
    ctx |= {
        # The audit log's chain head as the report is made: a printed report pins the log
        # (core/chain.py), so a later rewrite of any entry before it shows.
        "audit_head": chain_head(t.campaign.pk),
        "pools": pools,
        "pool_note": breakdown_note(t, "pool") if pools else "",
        "sub_units": subs,
        "sub_units_number": cn_number(len(ctx["tables"]) + 4),
        # What the apps built on the results add (scoring/extensions.py), numbered on.
        "extra_sections": [
            (cn_number(len(ctx["tables"]) + 4 + bool(subs) + i), section)
            for i, section in enumerate(sections_for(t.campaign))
        ],
        "flagged": [(fl, kv_width(fl.by_category())) for fl in flagged],
        "summary_width": kv_width(ctx["summary"]),
        "generated_at": timezone.localtime(),
        "with_comments": comments,
        "comments": unit_comments(t) if comments else [],
        "paper": paper,
        "representatives": representatives,
        "phases": list(t.campaign.phases.order_by("order", "id")),
    }
    return _html_to_pdf(render_to_string("scoring/report_pdf.html", ctx))


def pool_table(
    t: CampaignTally, table: Table, pools: list[str]
) -> list[tuple[str, list[str], list[str]]]:
    """Each subject's satisfaction rate and score per review pool and together."""
    out = []
    for r in table.rows:
        by = {b.key: b for b in published_breakdown(t, r.result, "pool")}
        rates = [fmt_percent(by[p].satisfaction_rate) if p in by else "—" for p in pools]
        scores = [fmt_number(by[p].score) if p in by else "—" for p in pools]
        out.append((r.label, [*rates, r.rate], [*scores, r.score]))
    return out


def unit_comments(t: CampaignTally, unit_key: str | None = None) -> list[tuple[str, list[str]]]:
    """(unit name, [texts]) in table order; texts only, sorted, so no order of writing shows."""
    from ballots.models import Comment

    qs = Comment.objects.filter(campaign=t.campaign, ballot__status="valid", unit__isnull=False)
    if unit_key is not None:
        qs = qs.filter(unit_id=int(unit_key))
    by_unit: dict[str, list[str]] = {}
    for unit_id, text in qs.order_by("unit_id", "text").values_list("unit_id", "text"):
        by_unit.setdefault(str(unit_id), []).append(text)
    return [(u.name, by_unit[u.key]) for u in t.input.units if u.key in by_unit]


def feedback_pdf(t: CampaignTally, unit_keys: list[str] | None = None) -> bytes:
    """反馈单: one page per unit with its figures and the comments about it."""
    ctx = context(t)
    total = {c.category.key: sum(1 for u in c.units if u.rank) for c in t.result.categories}
    comments = dict(unit_comments(t))
    notes = notes_for(t.campaign)
    of = {
        c.category.key: "" if all(u.unit.kind == "单位" for u in c.units)
        else count_subjects(u.unit.kind for u in c.units if u.rank)
        for c in t.result.categories
    }
    sheets = []
    for c in t.result.categories:
        for u in c.units:
            if unit_keys is not None and u.unit.key not in unit_keys:
                continue
            sheets.append(
                {
                    "category": c.category.name,
                    "ranked": total[c.category.key],
                    # "共 2 名领导干部" where the category's subjects are not all units.
                    "of": of[c.category.key],
                    "u": u,
                    "row": next(r for tb in ctx["tables"] for r in tb.rows if r.result is u),
                    "comments": comments.get(u.unit.name, []),
                    "notes": notes.get(int(u.unit.registry_id), []) if u.unit.registry_id
                    else [],
                }
            )
    ctx |= {"sheets": sheets, "generated_at": timezone.localtime()}
    return _html_to_pdf(render_to_string("scoring/feedback_pdf.html", ctx))
