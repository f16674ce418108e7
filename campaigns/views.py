from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from campaigns.models import BackgroundJob, Campaign


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Staff see every campaign; the public sees only published ones (and the code entry)."""
    campaigns = Campaign.objects.annotate(
        n_units=Count("units", distinct=True),
        n_valid=Count("ballots", filter=Q(ballots__status="valid"), distinct=True),
    ).order_by("-year", "name")  # Meta.ordering is not applied to GROUP BY queries
    can_see_all = request.user.is_authenticated and (
        request.user.has_perm("campaigns.view_campaign")
        or request.user.has_perm("campaigns.view_results")
    )
    if not can_see_all:
        campaigns = campaigns.filter(status=Campaign.Status.PUBLISHED)
    return render(
        request, "campaigns/home.html", {"campaigns": campaigns, "can_see_all": can_see_all}
    )


@login_required
@require_GET
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    if not (
        request.user.has_perm("campaigns.view_campaign")
        or request.user.has_perm("campaigns.view_results")
    ):
        raise PermissionDenied
    campaign = get_object_or_404(
        Campaign.objects.prefetch_related("phases", "categories", "options", "dimensions",
                                          "groups"),
        slug=slug,
    )
    stats = campaign.ballots.aggregate(
        total=Count("id"),
        valid=Count("id", filter=Q(status="valid")),
        online=Count("id", filter=Q(source="online")),
        paper=Count("id", filter=Q(source="paper")),
    )
    units_by_category = campaign.categories.annotate(n=Count("units"))
    return render(
        request,
        "campaigns/detail.html",
        {"campaign": campaign, "stats": stats, "units_by_category": units_by_category},
    )


def _job_for(request: HttpRequest, job_id: str) -> BackgroundJob:
    job = get_object_or_404(BackgroundJob, pk=job_id)
    if not request.user.is_superuser and job.created_by_id != request.user.pk:
        raise PermissionDenied
    return job


@login_required
@require_GET
def job_status(request: HttpRequest, job_id: str) -> JsonResponse:
    job = _job_for(request, job_id)
    return JsonResponse(
        {
            "status": job.status,
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "message": job.message,
            "download": (
                reverse("job_download", args=[job.pk])
                if job.status == "done" and job.result_file
                else None
            ),
            "redirect": job.params.get("redirect") if job.status == "done" else None,
        }
    )


@login_required
@require_GET
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    return render(request, "campaigns/job.html", {"job": _job_for(request, job_id)})


@login_required
@require_GET
def job_download(request: HttpRequest, job_id: str) -> HttpResponse:
    from django.http import FileResponse, Http404

    job = _job_for(request, job_id)
    if job.status != BackgroundJob.Status.DONE or not job.result_file:
        raise Http404
    return FileResponse(job.result_file.open("rb"), as_attachment=True,
                        filename=job.result_name or job.result_file.name.rsplit("/", 1)[-1])
