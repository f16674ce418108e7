"""Long work (big imports, long PDFs) as background tasks with a progress bar.

A `BackgroundJob` row carries the progress that pages poll; the work itself runs in the task
worker (`manage.py db_worker`, django-tasks' database backend: no broker needed). A job names
its handler by dotted path, so the worker needs no registry:

    job = job_start(kind="ballot_import", handler="ballots.intake.imports.run_import_job",
                    campaign=c, user=request.user, permission="campaigns.configure_campaign",
                    params={...})
    # handler(job: BackgroundJob, progress: Progress) -> None; it may call
    # progress(done, total, message) and job_finish_file(job, name, data).

A job of a campaign names the permission its page required (`permission`): its progress and
its file are then only for its creator (or a superuser) while they still hold it. Its file is
private and does not stay (core/files.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from core.files import file_lifetime, job_files_expire
from core.models import BackgroundJob

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


def job_start(
    *,
    kind: str,
    handler: str,
    campaign: Any,
    user: Any,
    permission: str | None = None,
    params: dict[str, Any] | None = None,
) -> BackgroundJob:
    """`permission` ("app.codename"): what the page starting the job required; required for a
    job of a campaign, and checked again whenever its page or file is asked for."""
    if campaign is not None and not permission:
        raise ValueError("a campaign's job needs the permission it requires (permission=...)")
    authenticated = getattr(user, "is_authenticated", False)
    if permission and authenticated and not user.has_perm(permission):
        raise PermissionDenied
    # Opportunistically: old files go as new ones are asked for (also `manage.py expire_files`).
    job_files_expire()
    extra: dict[str, Any] = {"handler": handler}
    if permission:
        extra["permission"] = permission
    if campaign is not None:
        extra["campaign_slug"] = campaign.slug  # for the audit log of its downloads
    job = BackgroundJob.objects.create(
        kind=kind,
        campaign_id=campaign.pk if campaign is not None else None,
        created_by=user if authenticated else None,
        params={**(params or {}), **extra},
    )
    # Enqueue after commit: the worker must see the job row (and any uploaded file).
    transaction.on_commit(lambda: run_job.enqueue(str(job.pk)))
    return job


def _progress_for(job_id: Any) -> Progress:
    def progress(done: int, total: int, message: str = "") -> None:
        BackgroundJob.objects.filter(pk=job_id).update(done=done, total=total, message=message)

    return progress


def job_finish_file(job: BackgroundJob, name: str, data: bytes, *, expires: bool = True) -> None:
    """Keep the job's file privately under a random name; `name` is the one the download gives.
    It expires PINGYI_FILE_EXPIRY_DAYS from now, or with `expires=False` lives until its domain
    removes it (code slips: when the campaign closes, ballots/receivers.py)."""
    previous = job.result_file.name if job.result_file else ""
    job.result_name = name
    job.result_file.save(name, ContentFile(data), save=False)
    job.expires_at = timezone.now() + file_lifetime() if expires else None
    job.file_removed = ""
    BackgroundJob.objects.filter(pk=job.pk).update(
        result_file=job.result_file.name,
        result_name=name,
        expires_at=job.expires_at,
        file_removed="",
    )
    if previous and previous != job.result_file.name:
        job.result_file.storage.delete(previous)


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
