"""Long work (big imports, long PDFs) as background tasks with a progress bar.

A `BackgroundJob` row carries the progress that pages poll; the work itself runs in the task
worker (`manage.py db_worker`, django-tasks' database backend: no broker needed). A job names
its handler by dotted path, so the worker needs no registry:

    job = job_start(kind="ballot_import", handler="ballots.intake.imports.run_import_job",
                    campaign=c, user=request.user, params={...})
    # handler(job: BackgroundJob, progress: Progress) -> None; it may call
    # progress(done, total, message) and job_finish_file(job, name, data).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from core.models import BackgroundJob

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


def job_start(
    *,
    kind: str,
    handler: str,
    campaign: Any,
    user: Any,
    params: dict[str, Any] | None = None,
) -> BackgroundJob:
    job = BackgroundJob.objects.create(
        kind=kind,
        campaign_id=campaign.pk if campaign is not None else None,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        params={**(params or {}), "handler": handler},
    )
    # Enqueue after commit: the worker must see the job row (and any uploaded file).
    transaction.on_commit(lambda: run_job.enqueue(str(job.pk)))
    return job


def _progress_for(job_id: Any) -> Progress:
    def progress(done: int, total: int, message: str = "") -> None:
        BackgroundJob.objects.filter(pk=job_id).update(done=done, total=total, message=message)

    return progress


def job_finish_file(job: BackgroundJob, name: str, data: bytes) -> None:
    job.result_name = name
    job.result_file.save(name, ContentFile(data), save=False)
    BackgroundJob.objects.filter(pk=job.pk).update(
        result_file=job.result_file.name, result_name=name
    )


@task()
def run_job(job_id: str) -> None:
    job = BackgroundJob.objects.get(pk=job_id)
    BackgroundJob.objects.filter(pk=job.pk).update(status=BackgroundJob.Status.RUNNING)
    try:
        handler = import_string(job.params["handler"])
        handler(job, _progress_for(job.pk))
    except Exception as exc:
        log.exception("background job %s failed", job_id)
        BackgroundJob.objects.filter(pk=job.pk).update(
            status=BackgroundJob.Status.FAILED, message=str(exc)[:2000],
            finished_at=timezone.now(),
        )
        return
    job.refresh_from_db(fields=["message", "params"])
    BackgroundJob.objects.filter(pk=job.pk).update(
        status=BackgroundJob.Status.DONE, finished_at=timezone.now()
    )
