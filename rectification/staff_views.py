"""Staff pages of the rectification loop (issue 19): opening cases from a campaign's or an
assessment's result and from comments, the ledger (整改台账) with its export, and a case's page
where staff review a plan and accept a completion. Each page checks the permission (403),
then finds the campaign or assessment through campaigns.access / assessments.access (404 for
another office's), then calls one service of rectification/services.py."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from assessments.access import assessment_for
from assessments.models import Assessment
from ballots.models import Ballot, Comment
from campaigns.access import campaign_for
from campaigns.models import Campaign, Unit
from core.audit import audit
from core.roles import ACCEPTOR
from rectification.exports import ledger_workbook
from rectification.followup import before_after, followup_create
from rectification.models import Case, Plan
from rectification.services import (
    Proposal,
    case_accept,
    case_open,
    deadline_months_set,
    default_deadline,
    ledger,
    plan_review,
    proposals_for_assessment,
    proposals_for_campaign,
    settings_of,
)
from scoring.presentation import flag_label, fmt_percent

MANAGE = "rectification.manage_cases"
VIEW = "rectification.view_case"
REMIND_DAYS = 30  # reminders: cases due within a month, or overdue
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(user: Any, *any_of: str) -> None:
    if not any(user.has_perm(p) for p in any_of):
        raise PermissionDenied


def acceptor_choices() -> QuerySet[Any]:
    """The accounts with the 验收人 role (人大代表、政协委员、监督员)."""
    return get_user_model().objects.filter(groups__name=ACCEPTOR, is_active=True).order_by(
        "username").distinct()


def _person(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


class OpenForm(forms.Form):
    """The deadline and acceptors of the cases opened together."""

    deadline = forms.DateField(label=gettext_lazy("整改时限"),
                               widget=forms.DateInput(format="%Y-%m-%d",
                                                      attrs={"type": "date",
                                                             "class": "form-control"}))
    acceptors = forms.ModelMultipleChoiceField(
        label=gettext_lazy("验收人"), required=False, queryset=get_user_model().objects.none(),
        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["acceptors"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = acceptor_choices()
        field.label_from_instance = _person  # type: ignore[assignment,method-assign]

    def clean_deadline(self) -> dt.date:
        d: dt.date = self.cleaned_data["deadline"]
        if d <= timezone.localdate():
            raise ValidationError(_("整改时限须晚于今天。"))
        return d


class MonthsForm(forms.Form):
    deadline_months = forms.IntegerField(
        label=gettext_lazy("整改期限(月)"), min_value=1, max_value=36,
        widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}))


def _key(p: Proposal) -> str:
    return f"{p.unit_id}:{p.flag}"


def source_label(flag: str) -> str:
    """What opened a case, in words: 末位, 重点整改, <dimension>重点整改, 意见建议, 等次."""
    if flag == "comment":
        return _("意见建议")
    if flag.startswith("grade:"):
        return _("考核等次:%(g)s") % {"g": flag.removeprefix("grade:")}
    return flag_label(flag)


def _proposal_rows(proposals: list[Proposal]) -> list[tuple[str, Proposal, str]]:
    return [(_key(p), p, source_label(p.flag)) for p in proposals]


def _open_picked(request: HttpRequest, proposals: list[Proposal], form: OpenForm, *,
                 campaign: Campaign | None = None,
                 assessment: Assessment | None = None) -> int:
    """Open the proposals ticked on the page, each with its (edited) problem text."""
    picked = set(request.POST.getlist("pick"))
    by_key = {_key(p): p for p in proposals}
    if not picked & by_key.keys():
        form.add_error(None, _("请至少勾选一项。"))
        return 0
    units = Unit.objects.in_bulk([by_key[k].unit_id for k in picked if k in by_key])
    opened = 0
    for key in [k for k in by_key if k in picked]:  # in the page's order
        p = by_key[key]
        problem = request.POST.get(f"problem:{key}", p.problem).strip()
        try:
            case_open(unit=units[p.unit_id], unit_name=p.unit_name, flag=p.flag,
                      problem=problem, deadline=form.cleaned_data["deadline"],
                      user=request.user, campaign=campaign, assessment=assessment,
                      acceptors=list(form.cleaned_data["acceptors"]))
        except ValidationError as exc:
            for m in exc.messages:
                messages.error(request, f"{p.unit_name}:{m}")
        else:
            opened += 1
    return opened


@transaction.atomic
def _comments(campaign: Campaign) -> list[tuple[Any, list[str]]]:
    """Each unit's comments, texts only, ordered by text: never the ballot, its time or
    anything else that could point to who wrote it (as on the unit results page)."""
    texts: dict[int, list[str]] = defaultdict(list)
    qs = (Comment.objects.filter(campaign=campaign, unit__isnull=False,
                                 ballot__status=Ballot.Status.VALID)
          .order_by("unit_id", "text").values_list("unit_id", "text"))
    for unit_id, text in qs:
        texts[unit_id].append(text)
    units = campaign.units.select_related("category").order_by("category__order", "order", "id")
    return [(cu, texts[cu.pk]) for cu in units if texts.get(cu.pk)]


@login_required
@require_http_methods(["GET", "POST"])
def campaign_cases(request: HttpRequest, slug: str) -> HttpResponse:
    """立项: the result's proposals, ticked and opened together; the deadline months; cases
    chosen from comments."""
    _require(request.user, MANAGE)
    campaign = campaign_for(request.user, slug)
    months = settings_of(campaign).deadline_months
    action = request.POST.get("action") if request.method == "POST" else None
    form = OpenForm(request.POST if action == "open" else None,
                    initial={"deadline": default_deadline(campaign)}, prefix="open")
    months_form = MonthsForm(request.POST if action == "months" else None,
                             initial={"deadline_months": months})
    comment_form = OpenForm(request.POST if action == "comment" else None,
                            initial={"deadline": default_deadline(campaign)}, prefix="comment")
    comment_error: tuple[str, str] | None = None
    proposals = proposals_for_campaign(campaign)
    if action == "months" and months_form.is_valid():
        deadline_months_set(campaign=campaign,
                            months=months_form.cleaned_data["deadline_months"], user=request.user)
        messages.success(request, _("整改期限已改为%(m)s个月。") % {
            "m": months_form.cleaned_data["deadline_months"]})
        return redirect("rectification_campaign", slug=slug)
    if action == "open" and form.is_valid():
        if n := _open_picked(request, proposals, form, campaign=campaign):
            messages.success(request, _("已立项%(n)s项整改事项。") % {"n": n})
            return redirect("rectification_ledger", slug=slug)
    if action == "comment":
        cu = get_object_or_404(campaign.units.select_related("unit"),
                               pk=request.POST.get("cu") or 0)
        problem = request.POST.get("problem", "")
        if comment_form.is_valid():
            try:
                case_open(unit=cu.unit, unit_name=cu.name, flag="comment", problem=problem,
                          deadline=comment_form.cleaned_data["deadline"], user=request.user,
                          campaign=campaign,
                          acceptors=list(comment_form.cleaned_data["acceptors"]))
            except ValidationError as exc:
                comment_error = (str(cu.pk), " ".join(exc.messages))
            else:
                messages.success(request, _("已就“%(u)s”的意见立项。") % {"u": cu.name})
                return redirect("rectification_ledger", slug=slug)
        else:
            comment_error = (str(cu.pk), " ".join(
                str(m) for ms in comment_form.errors.values() for m in ms))
    return render(request, "rectification/staff/campaign.html", {
        "campaign": campaign, "form": form, "months_form": months_form,
        "comment_form": comment_form, "comment_error": comment_error,
        "proposals": _proposal_rows(proposals),
        "picked": set(request.POST.getlist("pick")) if action == "open" else None,
        "comments": _comments(campaign),
        "cases": Case.objects.filter(campaign=campaign).count(),
        "acceptors": acceptor_choices().exists(),
        "default_deadline": default_deadline(campaign).isoformat(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def assessment_cases(request: HttpRequest, slug: str) -> HttpResponse:
    """立项 from an assessment: the grades whose consequence requires rectification."""
    _require(request.user, MANAGE)
    assessment = assessment_for(request.user, slug)
    form = OpenForm(request.POST or None, initial={"deadline": default_deadline(None)},
                    prefix="open")
    proposals = proposals_for_assessment(assessment)
    if request.method == "POST" and form.is_valid():
        if n := _open_picked(request, proposals, form, assessment=assessment):
            messages.success(request, _("已立项%(n)s项整改事项。") % {"n": n})
            return redirect("rectification_assessment", slug=slug)
    cases = ledger(Case.objects.filter(assessment=assessment))
    return render(request, "rectification/staff/assessment.html", {
        "assessment": assessment, "form": form,
        "proposals": _proposal_rows(proposals),
        "picked": set(request.POST.getlist("pick")) if request.method == "POST" else None,
        "rows": cases, "acceptors": acceptor_choices().exists(),
    })


def reminders(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cases not yet accepted that are overdue or due within REMIND_DAYS, soonest first."""
    return sorted((r for r in rows if r["status"] != Case.Status.ACCEPTED
                   and r["days_to_deadline"] <= REMIND_DAYS),
                  key=lambda r: (r["days_to_deadline"], r["unit"]))


@login_required
def ledger_page(request: HttpRequest, slug: str) -> HttpResponse:
    """整改台账: every case of the campaign, reminders first; ?format=xlsx downloads it."""
    _require(request.user, MANAGE, VIEW)
    campaign = campaign_for(request.user, slug)
    rows = ledger(Case.objects.filter(campaign=campaign))
    if request.GET.get("format") == "xlsx":
        data = ledger_workbook(rows, _("%(c)s 整改台账") % {"c": campaign.name})
        audit(user=request.user, action="rectification.ledger_export", obj=campaign)
        response = HttpResponse(data, content_type=XLSX)
        name = f"{campaign.slug}-ledger-{timezone.localdate().isoformat()}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["status_label"]] += 1
    rect = settings_of(campaign)
    # Before and after (回头看): this campaign's satisfaction beside the follow-up's.
    changes: dict[int, tuple[str, str]] = {}
    if rect.followup_id is not None:
        units = dict(Case.objects.filter(campaign=campaign).values_list("id", "unit_id"))
        rates = before_after(campaign)
        changes = {pk: tuple(fmt_percent(x) for x in rates.get(u, (None, None)))  # type: ignore[misc]
                   for pk, u in units.items()}
    return render(request, "rectification/staff/ledger.html", {
        "campaign": campaign, "rows": [{**r, "change": changes.get(r["id"])} for r in rows],
        "reminders": reminders(rows),
        "overdue": sum(1 for r in rows if r["days_overdue"]),
        "counts": sorted(counts.items()), "remind_days": REMIND_DAYS,
        "manage": request.user.has_perm(MANAGE), "rect": rect,
        "followup_slug": f"{campaign.slug}-hkk",
    })


@login_required
@require_POST
def followup_start(request: HttpRequest, slug: str) -> HttpResponse:
    """回头看: the follow-up survey over the units with cases (rectification/followup.py)."""
    _require(request.user, MANAGE)
    campaign = campaign_for(request.user, slug)
    try:
        follow = followup_create(campaign=campaign, slug=request.POST.get("slug", ""),
                                 user=request.user,
                                 reuse_representatives=request.POST.get("reuse") == "on")
    except (ValidationError, ValueError) as exc:
        for m in getattr(exc, "messages", [str(exc)]):
            messages.error(request, m)
        return redirect("rectification_ledger", slug=slug)
    messages.success(request, _("已建立整改落实情况测评,请生成评议码或印制选票后开始评议。"))
    return redirect("campaign_detail", slug=follow.slug)


def attachment_url(case: Case, report_id: int) -> str:
    """A report's attachment, served (and logged) by the contacts' view, which staff may use."""
    return reverse("rect_report_attachment", args=[case.pk, report_id])


def _case_for(user: Any, pk: int) -> Case:
    case = get_object_or_404(Case.objects.select_related("campaign", "assessment"), pk=pk)
    if case.campaign is not None:
        campaign_for(user, case.campaign.slug)
    elif case.assessment is not None:
        assessment_for(user, case.assessment.slug)
    else:  # pragma: no cover - the check constraint forbids it
        raise Http404
    return case


@login_required
@require_http_methods(["GET", "POST"])
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A case for staff: its plans (review the one submitted), its reports with attachments,
    and acceptance (accept, or send back with reasons)."""
    _require(request.user, MANAGE, VIEW)
    case = _case_for(request.user, pk)
    if request.method == "POST":
        if not request.user.has_perm(MANAGE):
            raise PermissionDenied
        action = request.POST.get("action")
        text = request.POST.get("text", "")
        try:
            if action in ("approve", "return"):
                plan = case.plans.filter(status=Plan.Status.SUBMITTED).last()
                if plan is None:
                    raise ValidationError(_("没有待审的整改方案。"))
                plan_review(plan=plan, approve=action == "approve", reason=text,
                            user=request.user)
            elif action in ("accept", "send_back"):
                case_accept(case=case, accept=action == "accept", note=text, user=request.user)
            else:
                raise Http404
        except ValidationError as exc:
            for m in exc.messages:
                messages.error(request, m)
        else:
            messages.success(request, _("已处理。"))
            return redirect("rectification_staff_case", pk=case.pk)
    row = ledger(Case.objects.filter(pk=case.pk))[0]
    plans = list(case.plans.prefetch_related("measures").select_related("reviewed_by"))
    reports = [(r, attachment_url(case, r.pk) if r.attachment else "")
               for r in case.reports.all()]
    return render(request, "rectification/staff/case.html", {
        "case": case, "row": row, "plans": plans, "reports": reports,
        "acceptors": list(case.acceptors.all()), "manage": request.user.has_perm(MANAGE),
        "source": source_label(case.source_flag),
    })
