"""Pages of background jobs: progress (polled as JSON) and the finished file.

A job is its creator's (or a superuser's), and a job of a campaign only while they still hold
the permission its page required (`permission` in its params, core/jobs.py). The file is the
one way a generated file leaves the server (core/files.py); every download is audited."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from core.audit import audit
from core.models import BackgroundJob


@dataclass(frozen=True)
class _CampaignRef:
    """What the audit log records of a campaign (core knows no campaign model)."""

    pk: int
    slug: str


def _may_see(request: HttpRequest, job: BackgroundJob) -> bool:
    user = request.user
    if user.is_superuser:
        return True
    if job.created_by_id is None or job.created_by_id != user.pk:
        return False
    permission = job.params.get("permission")
    if permission:
        return user.has_perm(permission)
    # A job of a campaign that names no permission (made before they were recorded) is the
    # superusers' only: there is nothing to check a right to it against.
    return job.campaign_id is None


def _job_for(request: HttpRequest, job_id: str) -> BackgroundJob:
    job = get_object_or_404(BackgroundJob, pk=job_id)
    if not _may_see(request, job):
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
            "file_removed": job.get_file_removed_display() if job.file_removed else None,
            "redirect": _redirect_when_done(job),
        }
    )


def _redirect_when_done(job: BackgroundJob) -> str | None:
    """Where the job page goes once the job is done: back to the page that started it, unless
    the job made a file; then the page stays to offer it (or to say why it is gone), and
    links back instead."""
    if job.status != BackgroundJob.Status.DONE or job.result_file or job.file_removed:
        return None
    return job.params.get("redirect") or None


@login_required
@require_GET
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    back = job.params.get("redirect")
    if not (isinstance(back, str) and back.startswith("/") and not back.startswith("//")):
        back = None  # only a path of this site: the page links to it
    return render(request, "core/job.html", {"job": job, "back": back})


@login_required
@require_GET
def job_download(request: HttpRequest, job_id: str) -> HttpResponseBase:
    job = _job_for(request, job_id)
    if job.status != BackgroundJob.Status.DONE:
        raise Http404
    if not job.result_file:
        if job.file_removed:  # the job page says why the file is gone
            return redirect("job_page", job_id=job.pk)
        raise Http404
    name = job.result_name or "download"
    try:
        handle = job.result_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    campaign = (
        _CampaignRef(job.campaign_id, str(job.params.get("campaign_slug", "")))
        if job.campaign_id is not None
        else None
    )
    # What was handed out, to whom: the kind, the campaign and the file's name, never what the
    # file holds (code slips hold codes).
    audit(
        user=request.user,
        action="job.download",
        obj=job,
        campaign=campaign,
        object_repr=name,
        after={"kind": job.kind, "file": name},
    )
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["Cache-Control"] = "no-store"
    return response
