"""Pages of an assessment (issue 18) for office staff, leaders and auditors: the list, the
overview (sections, which data are in, what is missing), the ranked result per category and
a unit's sheet. Every figure comes from assessments.adapter (the one way to the engine).

Access mirrors campaigns/access.py: an office's staff see their office's assessments; those
granted all offices see every one, including assessments without an office."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assessments import engine
from assessments.access import (
    assessed_in,
    assessment_for,
    entering_for,
    visible_assessments,
)
from assessments.adapter import Assessed, assess_assessment, measure_of
from assessments.finalise import (
    NOTICE_FIELDS,
    assessment_finalise,
    assessment_publish,
    assessment_reopen,
    assessment_unpublish,
    finalise_problems,
)
from assessments.models import Assessment, AssessmentUnit, Entry, Section
from assessments.words import band_meaning, flag_words, rules_in_words
from core.jobs import job_start
from core.permissions import perm_required
from scoring.tally import tally_campaign

VIEW = "assessments.view_assessment"

FLAG_CSS = {
    "honoured": "winner",
    "title": "winner",
    "accountability": "consecutive_last_place",
    "incomplete": "no_votes",
}


def _assessed(a: Assessment) -> tuple[Assessed | None, str]:
    """The result, or None and the reason it cannot be computed."""
    try:
        return assess_assessment(a), ""
    except engine.AssessmentError as exc:
        return None, str(exc)


def _flags(u: engine.UnitOutcome, rules: list[Any]) -> list[tuple[str, str]]:
    return [(FLAG_CSS.get(f, "vetoed"), flag_words(f, rules=rules, missing=u.missing))
            for f in u.flags]


def _value_label(a: Assessment) -> str:
    return _("扣分") if a.mode == Assessment.Mode.DEDUCTION else _("得分")


@perm_required(VIEW)
@require_GET
def assessment_list(request: HttpRequest) -> HttpResponse:
    """The office's assessments; for a source office's login those it reports to, for an
    assessed unit's login those it is in."""
    rows = visible_assessments(request.user).select_related("office").annotate(
        n_units=Count("units", distinct=True)
    )
    return render(request, "assessments/list.html", {
        "assessments": rows, "entering": entering_for(request.user),
        "assessed": assessed_in(request.user),
    })


@dataclass
class SectionRow:
    section: Section
    limit: str
    approved: int = 0
    pending: int = 0
    rejected: int = 0
    superseded: int = 0
    unlinked: bool = False


@dataclass
class SourceRow:
    source: str
    counts: Counter[str] = field(default_factory=Counter)
    missing: list[tuple[str, list[str]]] = field(default_factory=list)  # (section, units)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _limit(a: Assessment, s: Section) -> str:
    if a.mode == Assessment.Mode.WEIGHTED:
        return _("满分%(p)s分") % {"p": engine.shown(Fraction(s.max_points or 0))}
    if s.cap is None:
        return _("不封顶")
    return _("最多扣%(c)s分") % {"c": engine.shown(Fraction(s.cap))}


def _unlinked_words(a: Assessment, s: Section) -> str:
    """What an unlinked survey or rollup section does to the result (spec 2): a survey
    section, or a rollup in weighted mode, is missing for every unit; a rollup in deduction
    mode deducts nothing, silently, unless said."""
    if s.kind == Section.Kind.ROLLUP and a.mode == Assessment.Mode.DEDUCTION:
        return _("考核项目“%(s)s”尚未关联评议活动,目前各单位此项按不扣分计算。") % {"s": s.name}
    return _("考核项目“%(s)s”尚未关联评议活动,所有单位都缺此项,暂不能排名。") % {"s": s.name}


@perm_required(VIEW)
@require_GET
def assessment_overview(request: HttpRequest, slug: str) -> HttpResponse:
    a = assessment_for(request.user, slug)
    sections = list(a.sections.order_by("order", "id").select_related("campaign"))
    rows = {s.pk: SectionRow(s, _limit(a, s)) for s in sections}
    for s in sections:
        rows[s.pk].unlinked = (s.kind in (Section.Kind.SURVEY, Section.Kind.ROLLUP)
                               and s.campaign_id is None)
    entries = a.entries.annotate(is_superseded=Q(superseded_by__isnull=False))
    by_source: dict[str, SourceRow] = {}
    for section_id, source, status, superseded in entries.values_list(
        "section_id", "source", "status", "is_superseded"
    ):
        row = rows[section_id]
        key = "superseded" if superseded else status
        setattr(row, key, getattr(row, key) + 1)
        by_source.setdefault(source, SourceRow(source)).counts[key] += 1
    assessed, problem = _assessed(a)
    missing: list[tuple[AssessmentUnit | engine.Unit, str, list[str]]] = []
    missing_by_section: defaultdict[str, list[str]] = defaultdict(list)
    if assessed is not None:
        for c in assessed.result.categories:
            for u in c.units:
                if u.missing:
                    missing.append((u.unit, c.category.name, list(u.missing)))
                    for name in u.missing:
                        missing_by_section[name].append(u.unit.name)
    # Missing data per source office: the sections it provides that some units lack.
    for s in sections:
        if s.name in missing_by_section and s.kind in (Section.Kind.ITEMS, Section.Kind.SCORE):
            source = s.source or _("未指定提供单位")
            by_source.setdefault(source, SourceRow(source)).missing.append(
                (s.name, missing_by_section[s.name]))
    return render(request, "assessments/overview.html", {
        "assessment": a,
        "sections": list(rows.values()),
        "unlinked": [(r.section, _unlinked_words(a, r.section)) for r in rows.values()
                     if r.unlinked],
        "sources": sorted(by_source.values(), key=lambda r: r.source),
        "missing": missing,
        "problem": problem,
        "n_units": a.units.count(),
        "n_categories": a.categories.count(),
        "value_label": _value_label(a),
    })


@perm_required(VIEW)
@require_GET
def assessment_result(request: HttpRequest, slug: str) -> HttpResponse:
    a = assessment_for(request.user, slug)
    assessed, problem = _assessed(a)
    rules = list(a.rules.all())
    bands = list(a.bands.order_by("-minimum"))
    tables = []
    if assessed is not None:
        for c in assessed.result.categories:
            tables.append({
                "name": c.category.name,
                "honoured": c.category.honoured,
                "honoured_grade": c.category.honoured_grade,
                "rows": [{
                    "id": u.unit.key,
                    "name": u.unit.name,
                    "rank": u.rank,
                    "values": [engine.shown(v) for _n, v in u.sections],
                    "total": engine.shown(u.total),
                    "grade": u.grade or "",
                    "rectify": u.rectify,
                    "flags": _flags(u, rules),
                } for u in c.units],
            })
    return render(request, "assessments/result.html", {
        "assessment": a,
        "sections": [s.name for s in assessed.input.sections] if assessed else [],
        "tables": tables,
        "bands": [(b, band_meaning(b)) for b in bands],
        "rules": rules_in_words(a),
        "problem": problem,
        "fingerprint": assessed.fingerprint() if assessed else "",
        "value_label": _value_label(a),
        # What keeps it from being finalised, said before the button (as campaigns' 公示).
        "blocking": finalise_problems(a) if a.finalised_at is None and request.user.has_perm(
            "assessments.manage_assessment") else [],
        "notice_form": NoticeForm(instance=a),
    })


def _entry_state(e: Entry) -> tuple[bool, str]:
    """(counts, in words) for one entry."""
    if hasattr(e, "superseded_by"):
        return False, _("已被更正")
    if e.status == Entry.Status.APPROVED:
        return True, _("计入")
    if e.objection == Entry.Objection.ACCEPTED:
        return False, _("申诉成立,不计")
    return False, str(e.get_status_display())


def _entry_rows(au: AssessmentUnit) -> list[dict[str, Any]]:
    rows = []
    entries = (au.entries.select_related("section", "item", "superseded_by")
               .order_by("section__order", "section_id", "id"))
    for e in entries:
        counts, state = _entry_state(e)
        if e.score is not None:
            points = engine.shown(Fraction(e.score))
        else:
            per = e.points if e.item is None or e.item.points is None else e.item.points
            points = engine.shown(Fraction(per) * (e.count or 0)) if per is not None else "—"
        rows.append({"entry": e, "counts": counts, "state": state, "points": points,
                     "objection": e.get_objection_display() if e.objection else ""})
    return rows


def _sub_units(s: Section, au: AssessmentUnit) -> list[tuple[str, str]]:
    """(name, m in percent or 无有效票) of the unit's sub-units in the linked campaign."""
    if s.campaign is None:
        return []
    t = tally_campaign(s.campaign)
    children = set(s.campaign.units.filter(unit__parent_id=au.unit_id)
                   .values_list("pk", flat=True))
    out = []
    for c in t.result.categories:
        for u in c.units:
            if int(u.unit.key) in children:
                m = measure_of(s.measure, u, t.input.options)
                out.append((u.unit.name, _percent(m)))
    return out


def _percent(m: Fraction | None) -> str:
    return _("无有效票") if m is None else engine.shown(m) + "%"


@perm_required(VIEW)
@require_GET
def assessment_unit(request: HttpRequest, slug: str, unit_id: int) -> HttpResponse:
    a = assessment_for(request.user, slug)
    au = get_object_or_404(a.units.select_related("category", "unit"), pk=unit_id)
    assessed, problem = _assessed(a)
    outcome = None
    if assessed is not None:
        outcome = next((u for c in assessed.result.categories for u in c.units
                        if u.unit.key == str(au.pk)), None)
    sections = list(a.sections.order_by("order", "id").select_related("campaign"))
    values = dict(outcome.sections) if outcome else {}
    section_rows: list[dict[str, Any]] = []
    surveys: list[dict[str, Any]] = []
    for s in sections:
        section_rows.append({"section": s, "value": engine.shown(values.get(s.name)),
                             "missing": bool(outcome and s.name in outcome.missing)})
        if s.kind == Section.Kind.SURVEY:
            m = assessed.input.survey.get(s.name, {}).get(str(au.pk)) if assessed else None
            surveys.append({"section": s, "campaign": s.campaign, "m": _percent(m),
                            "subs": []})
        elif s.kind == Section.Kind.ROLLUP:
            surveys.append({"section": s, "campaign": s.campaign, "m": "",
                            "subs": _sub_units(s, au)})
    band = None
    if outcome and outcome.grade:
        band = a.bands.filter(label=outcome.grade).first()
    ranked = 0
    if assessed is not None:
        ranked = sum(1 for c in assessed.result.categories for u in c.units
                     if u.rank is not None and u.unit.category_key == str(au.category_id))
    return render(request, "assessments/unit.html", {
        "assessment": a,
        "au": au,
        "outcome": outcome,
        "ranked": ranked,
        "total": engine.shown(outcome.total) if outcome else "—",
        "flags": _flags(outcome, list(a.rules.all())) if outcome else [],
        "meaning": band_meaning(band),
        "section_rows": section_rows,
        "surveys": surveys,
        "entries": _entry_rows(au),
        "problem": problem,
        "value_label": _value_label(a),
    })


@perm_required(VIEW)
@require_POST
def assessment_report_start(request: HttpRequest, slug: str) -> HttpResponse:
    """The PDF or the workbook, built in the background and downloaded from the job page by
    the user who asked (core/jobs.py checks the permission again there)."""
    a = assessment_for(request.user, slug)
    fmt = request.POST.get("format", "")
    if fmt not in ("pdf", "xlsx"):
        raise Http404
    job = job_start(
        kind=str(_("考核 PDF 报告") if fmt == "pdf" else _("考核 Excel 报告")),
        handler="assessments.reports.run_report_job", campaign=None, user=request.user,
        permission=VIEW, params={"slug": a.slug, "format": fmt},
    )
    return redirect("job_page", job_id=job.pk)


MANAGE = "assessments.manage_assessment"


class NoticeForm(forms.ModelForm):
    """The 公示's notice fields, filled in on the result page when publishing."""

    class Meta:
        model = Assessment
        fields = NOTICE_FIELDS
        widgets = {"notice_from": forms.DateInput(attrs={"type": "date"}),
                   "notice_to": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for f in self.fields.values():
            f.widget.attrs.setdefault("class", "form-control form-control-sm")
STEPS = {
    "finalise": lambda a, user, reason: assessment_finalise(assessment=a, user=user),
    "reopen": lambda a, user, reason: assessment_reopen(assessment=a, user=user, reason=reason),
    "publish": lambda a, user, reason: assessment_publish(assessment=a, user=user,
                                                          notice=reason),
    "unpublish": lambda a, user, reason: assessment_unpublish(assessment=a, user=user,
                                                              reason=reason),
}


@perm_required(MANAGE)
@require_POST
def assessment_step(request: HttpRequest, slug: str, step: str) -> HttpResponse:
    """定稿 / 撤销定稿 / 公示 / 撤回公示: each through its one service (assessments/finalise.py)."""
    if step not in STEPS:
        raise Http404
    a = assessment_for(request.user, slug)
    form = NoticeForm(request.POST) if step == "publish" else None
    if form is not None and not form.is_valid():
        for field, errors in form.errors.items():
            for e in errors:
                messages.error(request, f"{form.fields[field].label}:{e}")
        return redirect("assessment_result", slug=a.slug)
    try:
        STEPS[step](a, request.user,
                    form.cleaned_data if form is not None else request.POST.get("reason", ""))
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("已完成。"))
    return redirect("assessment_result", slug=a.slug)


@require_GET
def assessment_public(request: HttpRequest, slug: str) -> HttpResponse:
    """The 公示: the fixed copy made when it was published, for anyone, nothing else."""
    a = get_object_or_404(Assessment, slug=slug, published_at__isnull=False)
    copy = a.publication
    categories = [
        {"name": c["name"], "units": [
            {**u, "flags": [flag_words(f) for f in u["flags"]]} for u in c["units"]]}
        for c in copy.get("categories", [])
    ]
    return render(request, "assessments/public.html", {
        "assessment": a, "categories": categories, "fingerprint": copy.get("fingerprint", ""),
        "office": a.office,
    })
