"""The rectification pages of a unit's contact (单位联络员) and of an acceptor (验收人), issue 19.

A contact's account is bound to one registry unit (assessments.models.UnitAccount) and sees
only that unit: its cases, its comments (texts only, sorted), its results and feedback sheet.
An acceptor sees only the cases assigned to them. Any other case is a 404, never a 403, so a
guessed id tells nothing. Every change goes through rectification/services.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from assessments.access import visible_assessments
from ballots.models import Ballot, Comment
from campaigns.access import visible_campaigns
from campaigns.models import Campaign, CampaignUnit, Unit
from core.audit import audit
from rectification.models import Case, Plan, Report
from rectification.services import case_accept, plan_review, plan_submit, report_submit
from scoring import engine
from scoring.presentation import flag_label, fmt_number, fmt_percent
from scoring.tally import tally_campaign

REPORT = "rectification.report_rectification"
ACCEPT = "rectification.accept_rectification"
MANAGE = "rectification.manage_cases"
MEASURE_ROWS = 5
# A unit sees its results, comments and feedback sheet once the evaluation is over.
FINISHED = (Campaign.Status.CLOSED, Campaign.Status.PUBLISHED)


# --- who may see what -----------------------------------------------------------------------

def contact_unit(user: Any) -> Unit | None:
    """The registry unit of a contact's account (None for anyone else)."""
    account = getattr(user, "assessment_unit", None)
    if account is None or not user.has_perm(REPORT):
        return None
    unit: Unit = account.unit
    return unit


def _contact_unit_or_404(user: Any) -> Unit:
    unit = contact_unit(user)
    if unit is None:
        raise Http404
    return unit


def _staff_sees(user: Any, case: Case) -> bool:
    if not user.has_perm(MANAGE):
        return False
    if case.campaign is not None:
        return visible_campaigns(user).filter(pk=case.campaign.pk).exists()
    return case.assessment is not None and visible_assessments(user).filter(
        pk=case.assessment.pk).exists()


def case_role(user: Any, case: Case) -> str | None:
    """"contact" (the unit's own contact), "acceptor" (assigned), "staff" (manages cases of
    a campaign or assessment they see), or None."""
    unit = contact_unit(user)
    if unit is not None and unit.pk == case.unit_id:
        return "contact"
    if user.has_perm(ACCEPT) and case.acceptors.filter(pk=user.pk).exists():
        return "acceptor"
    if _staff_sees(user, case):
        return "staff"
    return None


def _case_or_404(request: HttpRequest, pk: int) -> tuple[Case, str]:
    case = get_object_or_404(Case.objects.select_related("campaign", "assessment", "unit"),
                             pk=pk)
    role = case_role(request.user, case)
    if role is None:
        raise Http404
    return case, role


# --- what a page shows ----------------------------------------------------------------------

def source_label(flag: str) -> str:
    if flag.startswith(engine.FLAG_KEY_RECTIFICATION_ON):
        return _("重点整改(%(d)s)") % {"d": flag.removeprefix(engine.FLAG_KEY_RECTIFICATION_ON)}
    if flag.startswith("grade:"):
        return _("考核等次:%(g)s") % {"g": flag.removeprefix("grade:")}
    if flag == "comment":
        return _("意见建议")
    return flag_label(flag)


@dataclass
class Row:
    case: Case
    origin: str
    source: str
    days_left: int
    overdue: bool

    @property
    def late(self) -> int:
        return max(0, -self.days_left)


def rows_of(cases: QuerySet[Case], today: dt.date) -> list[Row]:
    out = []
    for c in cases.select_related("campaign", "assessment"):
        origin = c.campaign.name if c.campaign else (c.assessment.name if c.assessment else "")
        left = (c.deadline - today).days
        out.append(Row(c, origin, source_label(c.source_flag), left,
                       left < 0 and c.status != Case.Status.ACCEPTED))
    return out


@login_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    """A contact's list: every case of its unit, from all campaigns and assessments."""
    unit = _contact_unit_or_404(request.user)
    rows = rows_of(Case.objects.filter(unit=unit), timezone.localdate())
    return render(request, "rectification/contact/list.html",
                  {"unit": unit, "rows": rows, "mode": "contact"})


@login_required
@require_GET
def to_accept(request: HttpRequest) -> HttpResponse:
    """An acceptor's list: the cases assigned to them, and only those."""
    if not request.user.has_perm(ACCEPT):
        raise Http404
    rows = rows_of(Case.objects.filter(acceptors=request.user.pk), timezone.localdate())
    return render(request, "rectification/contact/list.html", {"rows": rows, "mode": "acceptor"})


# --- forms ----------------------------------------------------------------------------------

def _styled(form: forms.Form) -> None:
    for f in form.fields.values():
        f.widget.attrs.setdefault("class", "form-select" if isinstance(
            f.widget, forms.Select) else "form-control")


class PlanForm(forms.Form):
    """查摆问题 and up to MEASURE_ROWS measures (text, owner, deadline); blank rows ignored."""

    problems = forms.CharField(label=gettext_lazy("查摆问题"), max_length=5000,
                               widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(MEASURE_ROWS):
            self.fields[f"m{i}_text"] = forms.CharField(
                label=gettext_lazy("措施"), required=False, max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}))
            self.fields[f"m{i}_owner"] = forms.CharField(
                label=gettext_lazy("责任人"), required=False, max_length=100)
            self.fields[f"m{i}_deadline"] = forms.DateField(
                label=gettext_lazy("时限"), required=False,
                widget=forms.DateInput(attrs={"type": "date"}))
        _styled(self)

    def measure_rows(self) -> list[tuple[int, list[forms.BoundField]]]:
        return [(i + 1, [self[f"m{i}_text"], self[f"m{i}_owner"], self[f"m{i}_deadline"]])
                for i in range(MEASURE_ROWS)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        measures = []
        for i in range(MEASURE_ROWS):
            text = (data.get(f"m{i}_text") or "").strip()
            owner = (data.get(f"m{i}_owner") or "").strip()
            deadline = data.get(f"m{i}_deadline")
            if not (text or owner or deadline) and f"m{i}_deadline" not in self.errors:
                continue
            if not (text and owner and deadline):
                raise ValidationError(_("第 %(n)d 条措施:请写明措施、责任人和时限。")
                                      % {"n": i + 1})
            measures.append((text, owner, deadline))
        if not measures:
            raise ValidationError(_("至少写一条措施,每条措施都要有责任人和时限。"))
        data["measures"] = measures
        return data


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=Report.Kind.choices,
                             widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
    text = forms.CharField(label=gettext_lazy("内容"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 4}))
    attachment = forms.FileField(label=gettext_lazy("附件(PDF、JPG、PNG,可不附)"),
                                 required=False, widget=forms.ClearableFileInput(
                                     attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("text", "attachment"):
            self.fields[name].widget.attrs.setdefault("class", "form-control")


# --- the case page --------------------------------------------------------------------------

def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for m in exc.messages:
        messages.error(request, m)


@login_required
@require_http_methods(["GET", "POST"])
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The case: problem, deadline, the plans (returned ones with their reason), the reports
    and the acceptance. The contact submits the plan and the reports; an acceptor (or staff)
    reviews the plan and accepts or sends back the completion."""
    case, role = _case_or_404(request, pk)
    plan_form = PlanForm()
    report_form = ReportForm(initial={"kind": Report.Kind.PROGRESS})
    if request.method == "POST":
        action = request.POST.get("action", "")
        if role == "contact" and action == "plan":
            plan_form = PlanForm(request.POST)
            if plan_form.is_valid():
                d = plan_form.cleaned_data
                try:
                    plan_submit(case=case, problems=d["problems"], measures=d["measures"],
                                user=request.user)
                except ValidationError as exc:
                    _errors(request, exc)
                else:
                    messages.success(request, _("整改方案已提交,待审核。"))
                    return redirect("rect_case", pk=case.pk)
        elif role == "contact" and action == "report":
            report_form = ReportForm(request.POST, request.FILES)
            if report_form.is_valid():
                d = report_form.cleaned_data
                try:
                    report_submit(case=case, kind=d["kind"], text=d["text"],
                                  attachment=d.get("attachment"), user=request.user)
                except ValidationError as exc:
                    _errors(request, exc)
                else:
                    messages.success(request, _("已报送整改完成报告,待验收。")
                                     if d["kind"] == Report.Kind.COMPLETION
                                     else _("已报送整改进展。"))
                    return redirect("rect_case", pk=case.pk)
        elif role in ("acceptor", "staff") and action in ("approve", "return"):
            plan = get_object_or_404(case.plans, pk=request.POST.get("plan") or 0,
                                     status=Plan.Status.SUBMITTED)
            try:
                plan_review(plan=plan, approve=action == "approve",
                            reason=request.POST.get("reason", ""), user=request.user)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("已同意整改方案。") if action == "approve"
                                 else _("已退回整改方案。"))
            return redirect("rect_case", pk=case.pk)
        elif role in ("acceptor", "staff") and action in ("accept", "send_back"):
            try:
                case_accept(case=case, accept=action == "accept",
                            note=request.POST.get("note", ""), user=request.user)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("已验收。") if action == "accept"
                                 else _("已退回继续整改。"))
            return redirect("rect_case", pk=case.pk)
        else:
            raise Http404
    today = timezone.localdate()
    days_left = (case.deadline - today).days
    plans = list(case.plans.prefetch_related("measures").order_by("-submitted_at", "-id"))
    return render(request, "rectification/contact/case.html", {
        "case": case,
        "role": role,
        "source": source_label(case.source_flag),
        "origin": case.campaign or case.assessment,
        "days_left": days_left,
        "overdue": days_left < 0 and case.status != Case.Status.ACCEPTED,
        "late": max(0, -days_left),
        "plans": plans,
        "reports": case.reports.order_by("-submitted_at", "-id"),
        "plan_form": plan_form,
        "report_form": report_form,
        "S": Case.Status,
    })


@login_required
@require_GET
def report_attachment(request: HttpRequest, pk: int, rid: int) -> FileResponse:
    """A report's attachment, to the unit's contact, the case's acceptors and staff managing
    cases; every download is in the log."""
    case, _role = _case_or_404(request, pk)
    report = get_object_or_404(Report, pk=rid, case=case)
    if not report.attachment:
        raise Http404
    audit(user=request.user, action="case.attachment_download", obj=report,
          campaign=case.campaign, object_repr=report.attachment_name)
    return FileResponse(report.attachment.open("rb"), as_attachment=True,
                        filename=report.attachment_name or "attachment")


# --- the unit's own page --------------------------------------------------------------------

def _evaluated_in(unit: Unit) -> QuerySet[CampaignUnit]:
    return CampaignUnit.objects.filter(unit=unit, campaign__status__in=FINISHED).select_related(
        "campaign", "category").order_by("-campaign__year", "campaign__name", "id")


@login_required
@require_GET
def my_unit(request: HttpRequest) -> HttpResponse:
    """The unit's results per campaign it was evaluated in (finished ones), the comments about
    it (texts only, sorted by text, from valid ballots: nothing that could point to a writer)
    and its feedback sheet."""
    unit = _contact_unit_or_404(request.user)
    campaigns = []
    for cu in _evaluated_in(unit):
        u = tally_campaign(cu.campaign).unit(cu.pk)
        comments = list(
            Comment.objects.filter(campaign=cu.campaign, unit=cu,
                                   ballot__status=Ballot.Status.VALID)
            .order_by("text").values_list("text", flat=True))
        campaigns.append({
            "cu": cu,
            "rank": u.rank if u else None,
            "score": fmt_number(u.score) if u else "—",
            "rate": fmt_percent(u.satisfaction_rate) if u else "—",
            "flags": [flag_label(f) for f in u.flags] if u else [],
            "comments": comments,
        })
    return render(request, "rectification/contact/unit.html",
                  {"unit": unit, "campaigns": campaigns})


@login_required
@require_GET
def my_feedback(request: HttpRequest, cu_id: int) -> HttpResponse:
    """The unit's own 反馈单 (one page, built on demand), audited."""
    from scoring.reports import build_report

    unit = _contact_unit_or_404(request.user)
    cu = get_object_or_404(_evaluated_in(unit), pk=cu_id)
    report = build_report(cu.campaign, "feedback", unit_keys=[str(cu.pk)])
    audit(user=request.user, action="case.feedback_download", obj=cu, campaign=cu.campaign)
    response = HttpResponse(report.data, content_type=report.content_type)
    response["Content-Disposition"] = content_disposition_header(True, report.filename) or ""
    return response
