"""Pages of background jobs: progress (polled as JSON) and the finished file."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from core.models import BackgroundJob


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
    return render(request, "core/job.html", {"job": _job_for(request, job_id)})


@login_required
@require_GET
def job_download(request: HttpRequest, job_id: str) -> FileResponse:
    job = _job_for(request, job_id)
    if job.status != BackgroundJob.Status.DONE or not job.result_file:
        raise Http404
    return FileResponse(job.result_file.open("rb"), as_attachment=True,
                        filename=job.result_name or job.result_file.name.rsplit("/", 1)[-1])
