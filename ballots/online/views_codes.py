"""Staff pages of online voting: the codes (generate, revoke, reissue, download, slips), failed
code attempts, and the composition of the representatives."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ballots.models import AccessCode, CodeAttempt
from ballots.online.codes import (
    CodeError,
    attempt_wait_minutes,
    code_reissue,
    code_revoke,
    codes_for_representatives,
    codes_unnamed,
    codes_xlsx,
    normalise,
    used_code_ids,
)
from ballots.online.forms import (
    GenerateForm,
    ReasonForm,
)
from ballots.online.slips import SLIPS_HANDLER, code_link, slip_codes
from campaigns.access import campaign_for
from campaigns.models import Campaign
from campaigns.representatives import composition
from core.audit import audit
from core.clients import client_address
from core.jobs import job_start
from core.models import BackgroundJob
from core.permissions import perm_required


def _codes_qs(campaign: Campaign) -> QuerySet[AccessCode]:
    return AccessCode.objects.filter(campaign=campaign).select_related(
        "representative", "group", "replaces"
    )


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


# What the slips form offers (templates/ballots/codes/codes.html); anything else is refused,
# never read as "all".
SLIP_CHOICES = ("all", "named", "unnamed")
RECENT_SLIP_JOBS = 5


def _slip_jobs(request: HttpRequest, campaign: Campaign) -> list[dict[str, object]]:
    """The campaign's latest slip jobs this user may open (core/views.py: their own, or all
    for a superuser), with their download while the file is kept."""
    jobs = BackgroundJob.objects.filter(campaign_id=campaign.pk, params__handler=SLIPS_HANDLER)
    if not request.user.is_superuser:
        jobs = jobs.filter(created_by_id=request.user.pk)
    labels = {"all": _("全部未使用"), "named": _("仅记名"), "unnamed": _("仅不记名")}
    return [
        {
            "job": job,
            "which": labels.get(str(job.params.get("which")), ""),
            "download": (
                reverse("job_download", args=[job.pk])
                if job.status == BackgroundJob.Status.DONE and job.result_file
                else None
            ),
        }
        for job in jobs.order_by("-created_at")[:RECENT_SLIP_JOBS]
    ]


@perm_required("campaigns.manage_codes")
@require_http_methods(["GET"])
def codes(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    qs = _codes_qs(campaign)
    counts = dict(qs.values("status").annotate(n=Count("id")).values_list("status", "n"))
    # In an anonymous campaign a code that voted is still "active" in its row until voting
    # closes (ballots/online/submit.py); the application knows it by its token.
    voted = used_code_ids(campaign)
    voted_active = qs.filter(pk__in=voted, status=AccessCode.Status.ACTIVE).count()
    counts[AccessCode.Status.ACTIVE] = counts.get(AccessCode.Status.ACTIVE, 0) - voted_active
    counts[AccessCode.Status.USED] = counts.get(AccessCode.Status.USED, 0) + voted_active
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()
    listed = qs
    if status == AccessCode.Status.USED:
        listed = listed.filter(Q(status=status) | Q(pk__in=voted))
    elif status == AccessCode.Status.ACTIVE:
        listed = listed.filter(status=status).exclude(pk__in=voted)
    elif status in AccessCode.Status.values:
        listed = listed.filter(status=status)
    if q:
        normal = normalise(q)
        listed = listed.filter(
            Q(representative__name__icontains=q) | Q(code=normal or q) | Q(code__icontains=q)
        )
    listed = listed.order_by("group__order", "representative__name", "code")
    page = Paginator(listed, 50).get_page(request.GET.get("page"))
    for code in page:
        if code.pk in voted:
            code.status = AccessCode.Status.USED  # shown, never saved
    return render(
        request,
        "ballots/codes/codes.html",
        {
            "campaign": campaign,
            "counts": {s: counts.get(s, 0) for s in AccessCode.Status.values},
            "total": sum(counts.values()),
            "reps_without": campaign.representatives.exclude(
                codes__status__in=[AccessCode.Status.ACTIVE, AccessCode.Status.USED]
            ).count(),
            "page": page,
            "status": status,
            "q": q,
            "statuses": AccessCode.Status.choices,
            "generate_form": GenerateForm(campaign=campaign, initial={"kind": "unnamed"}),
            "reason_form": ReasonForm(),
            "failures": CodeAttempt.objects.filter(campaign=campaign).count(),
            "slip_jobs": _slip_jobs(request, campaign),
        },
    )


@perm_required("campaigns.manage_codes")
@require_POST
def codes_generate(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    form = GenerateForm(request.POST, campaign=campaign)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                # ErrorList yields its messages as str; the stubs say ValidationError | str.
                messages.error(request, str(e))
        return redirect("codes", slug=slug)
    try:
        if form.cleaned_data["kind"] == "named":
            made = codes_for_representatives(campaign=campaign, user=request.user)
        else:
            made = codes_unnamed(
                campaign=campaign,
                count=form.cleaned_data["count"],
                group=form.cleaned_data["group"],
                user=request.user,
            )
    except CodeError as exc:
        messages.error(request, str(exc))
    else:
        if made:
            messages.success(request, _("已生成 %(n)d 个评议码。") % {"n": len(made)})
        else:
            messages.info(request, _("每位评议代表都已有评议码,没有生成新的。"))
    return redirect("codes", slug=slug)


@perm_required("campaigns.manage_codes")
@require_POST
def code_change(request: HttpRequest, slug: str, code_id: str, action: str) -> HttpResponse:
    if action not in ("revoke", "reissue"):
        raise Http404
    campaign = campaign_for(request.user, slug)
    code = get_object_or_404(_codes_qs(campaign), pk=code_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写原因"))
        return redirect("codes", slug=slug)
    reason = form.cleaned_data["reason"]
    try:
        if action == "revoke":
            code_revoke(code=code, user=request.user, reason=reason)
            messages.success(request, _("评议码 %(c)s 已作废。") % {"c": code.code})
        else:
            new = code_reissue(code=code, user=request.user, reason=reason)
            messages.success(
                request,
                _("已作废 %(old)s,补发新评议码 %(new)s。") % {"old": code.code, "new": new.code},
            )
    except CodeError as exc:
        messages.error(request, str(exc))
    return redirect("codes", slug=slug)


@perm_required("campaigns.manage_codes")
@require_http_methods(["GET"])
def codes_download(request: HttpRequest, slug: str) -> HttpResponse:
    """The .xlsx list of codes with their ballot links, for mail-merge."""
    campaign = campaign_for(request.user, slug)
    which = request.GET.get("status", AccessCode.Status.ACTIVE)
    qs = _codes_qs(campaign)
    if which in AccessCode.Status.values:
        qs = qs.filter(status=which)
    else:
        which = "all"
    base = _base(request)
    data = codes_xlsx(campaign, qs, lambda c: code_link(base, campaign, c.code))
    # Who took the list, which part and how many: never the codes themselves.
    audit(
        user=request.user,
        action="codes.download",
        obj=campaign,
        after={"status": which, "count": qs.count(), "client": client_address(request)},
    )
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = content_disposition_header(True, f"{campaign.slug}-评议码.xlsx")
    assert disposition is not None  # None only for an inline response without a filename
    response["Content-Disposition"] = disposition
    response["Cache-Control"] = "no-store"
    return response


@perm_required("campaigns.manage_codes")
@require_POST
def codes_slips(request: HttpRequest, slug: str) -> HttpResponse:
    """Printable slips as a PDF, made in the background (a few hundred pages take a while)."""
    campaign = campaign_for(request.user, slug)
    which = request.POST.get("which", "all")
    if which not in SLIP_CHOICES:
        return HttpResponseBadRequest(_("打印范围无效。"))
    chosen = slip_codes(campaign, which)
    if not chosen:
        messages.error(request, _("没有可打印的未使用评议码。"))
        return redirect("codes", slug=slug)
    job = job_start(
        kind=_("打印评议码条"),
        handler=SLIPS_HANDLER,
        campaign=campaign,
        user=request.user,
        permission="campaigns.manage_codes",
        params={
            "campaign_id": campaign.pk,
            "base": _base(request),
            "which": which,
            "redirect": reverse("codes", args=[slug]),
        },
    )
    audit(
        user=request.user,
        action="codes.slips",
        obj=campaign,
        after={
            "which": which,
            "count": len(chosen),
            "job": str(job.pk),
            "client": client_address(request),
        },
    )
    return redirect("job_page", job_id=job.pk)


@perm_required("campaigns.manage_codes")
@require_http_methods(["GET"])
def code_attempts(request: HttpRequest, slug: str) -> HttpResponse:
    """Recent wrong codes by client address, so staff can tell a typo from an attack."""
    campaign = campaign_for(request.user, slug)
    since = timezone.now() - dt.timedelta(hours=24)
    recent = CodeAttempt.objects.filter(Q(campaign=campaign) | Q(campaign__isnull=True))
    by_client = (
        recent.filter(at__gte=since)
        .values("client")
        .annotate(n=Count("id"), last=Max("at"), first=Min("at"))
        .order_by("-n", "-last")[:100]
    )
    return render(
        request,
        "ballots/codes/attempts.html",
        {
            "campaign": campaign,
            "by_client": by_client,
            "latest": recent.order_by("-at")[:200],
            "limit": settings.PINGYI_CODE_ATTEMPTS_PER_WINDOW,
            "window_minutes": settings.PINGYI_CODE_WINDOW_SECONDS // 60,
            "blocked": {row["client"] for row in by_client if attempt_wait_minutes(row["client"])},
        },
    )


COMPOSITION_PERMS = (
    "campaigns.manage_codes",
    "campaigns.configure_campaign",
    "campaigns.view_results",
)


@login_required
@require_http_methods(["GET"])
def representatives(request: HttpRequest, slug: str) -> HttpResponse:
    """The composition check of the campaign's representatives, for staff and leaders."""
    if not any(request.user.has_perm(p) for p in COMPOSITION_PERMS):
        raise PermissionDenied
    campaign = campaign_for(request.user, slug)
    return render(
        request,
        "ballots/codes/composition.html",
        {"campaign": campaign, "c": composition(campaign)},
    )
