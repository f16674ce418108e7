"""The PDF reports: HTML from a template, then WeasyPrint. Page numbers, the repeated table
header and the fingerprint in the footer come from the print CSS (templates/scoring/pdf.css)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from scoring import charts
from scoring.presentation import context
from scoring.tally import CampaignTally


def _html_to_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango at import, which pages and commands that never
    # print should not pay for.
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def ranking_pdf(
    t: CampaignTally, *, comments: bool = True, paper: Any = None, representatives: Any = None
) -> bytes:
    ctx = context(t)
    charts.attach_charts(ctx["tables"], Fraction(t.campaign.threshold))
    ctx |= {
        "generated_at": timezone.localtime(),
        "with_comments": comments,
        "comments": unit_comments(t) if comments else [],
        "paper": paper,
        "representatives": representatives,
        "phases": list(t.campaign.phases.order_by("order", "id")),
    }
    return _html_to_pdf(render_to_string("scoring/report_pdf.html", ctx))


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
    sheets = []
    for c in t.result.categories:
        for u in c.units:
            if unit_keys is not None and u.unit.key not in unit_keys:
                continue
            sheets.append(
                {
                    "category": c.category.name,
                    "ranked": total[c.category.key],
                    "u": u,
                    "row": next(r for tb in ctx["tables"] for r in tb.rows if r.result is u),
                    "comments": comments.get(u.unit.name, []),
                }
            )
    ctx |= {"sheets": sheets, "generated_at": timezone.localtime()}
    return _html_to_pdf(render_to_string("scoring/feedback_pdf.html", ctx))
