"""The joint meeting office's pages (issue 22): the cleanups, a cleanup's page (status,
phases, 《自查统计表》, rounds, 通报 and 公示), the reviewers' list with the screening flags,
an activity's page with its timeline and the decision form, a round's page. Each view checks
the permission, finds the cleanup through registry.access, validates a form and calls one
service."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.jobs import job_start
from registry.access import (
    MANAGE,
    REGISTER,
    REVIEW,
    VIEW,
    activity_for,
    cleanup_for,
    require,
    visible_cleanups,
)
from registry.forms import CleanupForm, DecisionForm, NoticeForm, ReasonForm, RoundForm
from registry.models import Activity, Cleanup, Decision, Organiser, Round
from registry.publication import cleanup_publish, cleanup_unpublish, notice_save, publish_problems
from registry.screening import screening_flags
from registry.services import (
    TRANSITIONS,
    cleanup_create,
    cleanup_set_status,
    decision_record,
    final_decisions,
    organiser_return,
    previous_decisions,
    round_add,
    round_carry_forward,
    round_close,
    status_problems,
    timeline,
)
from registry.stats import outcome_header, outcome_table, self_check_header, self_check_table


def _errors(request: HttpRequest, exc: ValidationError) -> None:
    for m in exc.messages:
        messages.error(request, m)


def _safe_next(request: HttpRequest) -> str:
    """The posted `next` if it is a path of this site, else ""."""
    nxt = request.POST.get("next", "")
    ok = nxt.startswith("/") and url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return nxt if ok else ""


def _back(request: HttpRequest, cleanup: Cleanup) -> HttpResponse:
    nxt = _safe_next(request)
    return redirect(nxt) if nxt else redirect("registry_cleanup", slug=cleanup.slug)


@login_required
@require_GET
def cleanup_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.has_perm(VIEW) or user.has_perm(REGISTER)):
        raise PermissionDenied
    cleanups = list(visible_cleanups(user))
    if not user.has_perm(VIEW) and len(cleanups) == 1:
        return redirect("registry_mine", slug=cleanups[0].slug)
    return render(request, "registry/list.html", {
        "cleanups": cleanups, "may_manage": user.has_perm(MANAGE),
        "department": not user.has_perm(VIEW)})


@login_required
@require_http_methods(["GET", "POST"])
def cleanup_new(request: HttpRequest) -> HttpResponse:
    require(request.user, MANAGE)
    form = CleanupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cleanup = cleanup_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已创建清理工作。"))
            return redirect("registry_cleanup", slug=cleanup.slug)
    return render(request, "registry/new.html", {"form": form})


@login_required
@require_GET
def cleanup_detail(request: HttpRequest, slug: str) -> HttpResponse:
    cleanup = cleanup_for(request.user, slug)
    if not request.user.has_perm(VIEW):
        return redirect("registry_mine", slug=slug)
    orgs, systems, total = self_check_table(cleanup)
    outcomes, outcome_total = outcome_table(cleanup)
    organisers = {o.name: o for o in cleanup.organisers.all()}
    targets = [(s, Cleanup.Status(s).label, status_problems(cleanup, s))
               for s in TRANSITIONS.get(cleanup.status, ())]
    rounds = list(cleanup.rounds.all())
    counts = {r.pk: r.decisions.count() for r in rounds}
    return render(request, "registry/detail.html", {
        "cleanup": cleanup, "phases": cleanup.phases.all(),
        "self_check": [(c, organisers.get(c.label)) for c in orgs], "systems": systems,
        "total": total, "header": self_check_header(),
        "outcomes": outcomes, "outcome_total": outcome_total,
        "outcome_header": outcome_header(),
        "rounds": [(r, counts[r.pk]) for r in rounds], "targets": targets,
        "round_form": RoundForm(), "notice_form": NoticeForm(instance=cleanup),
        "publish_problems": publish_problems(cleanup)
        if cleanup.status == Cleanup.Status.REVIEW else [],
        "may_manage": request.user.has_perm(MANAGE),
        "may_review": request.user.has_perm(REVIEW),
        "editable": not editing_problems_of(cleanup),
        "returnable": cleanup.status in (Cleanup.Status.SELF_CHECK, Cleanup.Status.REVIEW),
    })


def editing_problems_of(cleanup: Cleanup) -> bool:
    """Whether the office may still register or correct activities of this cleanup."""
    return cleanup.status not in (Cleanup.Status.PREPARING, Cleanup.Status.SELF_CHECK,
                                  Cleanup.Status.REVIEW)


@login_required
@require_POST
def cleanup_status(request: HttpRequest, slug: str) -> HttpResponse:
    require(request.user, MANAGE)
    cleanup = cleanup_for(request.user, slug)
    try:
        cleanup_set_status(cleanup=cleanup, status=request.POST.get("status", ""),
                           user=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("状态已更改。"))
    return _back(request, cleanup)


@login_required
@require_POST
def organiser_return_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    require(request.user, MANAGE)
    cleanup = cleanup_for(request.user, slug)
    organiser = get_object_or_404(Organiser, cleanup=cleanup, pk=pk)
    try:
        organiser_return(organiser=organiser, reason=request.POST.get("reason", ""),
                         user=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已退回“%(o)s”的自查。") % {"o": organiser.name})
    return _back(request, cleanup)


def _row(a: Activity, finals: dict[int, Any], rounds: list[Round],
         by_round: dict[tuple[int, int], Any]) -> dict[str, Any]:
    return {"a": a, "flags": screening_flags(a), "final": finals.get(a.pk),
            "steps": [by_round.get((r.pk, a.pk)) for r in rounds]}


@login_required
@require_GET
def activity_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The reviewers' list: every registered activity with its flags, each round's decision
    and the final one; filtered by organiser, by flag, by what is still undecided."""
    require(request.user, VIEW)
    cleanup = cleanup_for(request.user, slug)
    rounds = list(cleanup.rounds.all())
    by_round = {(d.round_id, d.activity_id): d for r in rounds
                for d in r.decisions.select_related("merged_into")}
    finals = final_decisions(cleanup)
    qs = (cleanup.activities.filter(status=Activity.Status.REGISTERED)
          .select_related("organiser", "proposal_merge_into"))
    organiser = request.GET.get("organiser", "")
    if organiser.isdigit():
        qs = qs.filter(organiser_id=int(organiser))
    rows = [_row(a, finals, rounds, by_round) for a in qs]
    show = request.GET.get("show", "")
    if show == "flagged":
        rows = [r for r in rows if r["flags"]]
    elif show == "undecided":
        rows = [r for r in rows if r["final"] is None]
    elif show in Decision.values:
        rows = [r for r in rows if r["final"] is not None and r["final"].decision == show]
    return render(request, "registry/activities.html", {
        "cleanup": cleanup, "rows": rows, "rounds": rounds,
        "organisers": cleanup.organisers.all(), "organiser": organiser, "show": show,
        "withdrawn": cleanup.activities.filter(status=Activity.Status.WITHDRAWN)
        .select_related("organiser"),
        "may_manage": request.user.has_perm(MANAGE),
        "editable": not editing_problems_of(cleanup),
    })


@login_required
@require_http_methods(["GET", "POST"])
def activity_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """An activity: what was registered, the screening flags, its timeline; reviewers record
    a round's decision here. For the office and reviewers (and leaders, auditors): a department
    follows its own activities on its page, and learns the outcome with the 公示."""
    require(request.user, VIEW)
    cleanup = cleanup_for(request.user, slug)
    activity, as_office = activity_for(request.user, cleanup, pk)
    may_review = request.user.has_perm(REVIEW)
    form = None
    if may_review and cleanup.status == Cleanup.Status.REVIEW:
        initial: dict[str, Any] = {}
        wanted = request.GET.get("round", "")
        open_rounds = list(cleanup.rounds.filter(closed_at__isnull=True))
        chosen = next((r for r in open_rounds if str(r.pk) == wanted),
                      open_rounds[0] if open_rounds else None)
        if chosen is not None:
            initial["round"] = chosen.pk
            current = chosen.decisions.filter(activity=activity).first()
            if current is not None:
                initial.update(decision=current.decision, merged_into=current.merged_into_id,
                               reason=current.reason)
            elif (prev := previous_decisions(chosen).get(activity.pk)) is not None:
                initial.update(decision=prev.decision, merged_into=prev.merged_into_id)
        form = DecisionForm(request.POST or None, activity=activity, initial=initial)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            try:
                decision_record(round=d["round"], activity=activity, decision=d["decision"],
                                merged_into=d["merged_into"], reason=d["reason"],
                                user=request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已记录“%(r)s”的意见。") % {"r": d["round"].name})
                nxt = _safe_next(request)
                if nxt:
                    return redirect(nxt)
                return redirect("registry_activity", slug=slug, pk=activity.pk)
    return render(request, "registry/activity.html", {
        "cleanup": cleanup, "a": activity, "flags": screening_flags(activity),
        "events": timeline(activity), "form": form, "as_office": as_office,
        "merged_here": activity.merged_by.select_related("round", "activity__organiser"),
        "campaigns": activity.campaigns.all() if hasattr(activity, "campaigns") else [],
        "next": request.GET.get("next", ""),
    })


@login_required
@require_POST
def round_new(request: HttpRequest, slug: str) -> HttpResponse:
    require(request.user, REVIEW)
    cleanup = cleanup_for(request.user, slug)
    form = RoundForm(request.POST)
    if form.is_valid():
        try:
            round_add(cleanup=cleanup, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("已增加审核轮次。"))
    else:
        for errs in form.errors.values():
            for e in errs:
                messages.error(request, str(e))
    return _back(request, cleanup)


@login_required
@require_http_methods(["GET", "POST"])
def round_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A round: each activity's decision here beside the one before; 同意上一轮意见 for the
    rest, and closing the round."""
    require(request.user, VIEW)
    cleanup = cleanup_for(request.user, slug)
    rnd = get_object_or_404(Round, cleanup=cleanup, pk=pk)
    if request.method == "POST":
        require(request.user, REVIEW)
        try:
            if request.POST.get("action") == "carry":
                n = round_carry_forward(round=rnd, user=request.user)
                messages.success(request, _("已为 %(n)d 个项目记录意见。") % {"n": n})
            elif request.POST.get("action") == "close":
                round_close(round=rnd, user=request.user)
                messages.success(request, _("本轮审核已结束。"))
            else:
                raise Http404
        except ValidationError as exc:
            _errors(request, exc)
        return redirect("registry_round", slug=slug, pk=rnd.pk)
    earlier = previous_decisions(rnd)
    here = {d.activity_id: d for d in rnd.decisions.select_related("merged_into")}
    rows: list[dict[str, Any]] = [
        {"a": a, "flags": screening_flags(a), "before": earlier.get(a.pk), "here": here.get(a.pk)}
        for a in cleanup.activities.filter(status=Activity.Status.REGISTERED)
        .select_related("organiser")]
    changed = sum(1 for r in rows if r["here"] and r["before"]
                  and r["here"].decision != r["before"].decision)
    return render(request, "registry/round.html", {
        "cleanup": cleanup, "round": rnd, "rows": rows, "changed": changed,
        "missing": sum(1 for r in rows if r["here"] is None),
        "may_review": request.user.has_perm(REVIEW)
        and cleanup.status == Cleanup.Status.REVIEW and rnd.closed_at is None,
        "here_url": reverse("registry_round", args=[slug, rnd.pk]),
    })


@login_required
@require_POST
def publication(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    require(request.user, MANAGE)
    cleanup = cleanup_for(request.user, slug)
    try:
        if action == "notice":
            form = NoticeForm(request.POST, instance=Cleanup.objects.get(pk=cleanup.pk))
            if not form.is_valid():
                raise ValidationError([e for errs in form.errors.values() for e in errs])
            notice_save(cleanup=cleanup, user=request.user, **form.cleaned_data)
            messages.success(request, _("公示信息已保存。"))
        elif action == "publish":
            cleanup_publish(cleanup=cleanup, user=request.user)
            messages.success(request, _("保留项目名单已公示。"))
        elif action == "withdraw":
            reason = ReasonForm(request.POST)
            cleanup_unpublish(cleanup=cleanup, user=request.user,
                              reason=reason.data.get("reason", ""))
            messages.success(request, _("已撤回公示。"))
        else:
            raise Http404
    except ValidationError as exc:
        _errors(request, exc)
    return _back(request, cleanup)


@login_required
@require_POST
def report_start(request: HttpRequest, slug: str) -> HttpResponse:
    require(request.user, VIEW)
    cleanup = cleanup_for(request.user, slug)
    fmt = request.POST.get("format", "")
    if fmt not in ("pdf", "xlsx"):
        raise Http404
    job = job_start(kind=str(_("清理结果通报 PDF") if fmt == "pdf" else _("清理结果通报 Excel")),
                    handler="registry.exports.run_report_job", campaign=None,
                    user=request.user, permission=VIEW,
                    params={"slug": cleanup.slug, "format": fmt})
    return redirect("job_page", job_id=job.pk)
