"""Generated files (reports, code slips, printed ballots, exports): private and short-lived.

A job's file (`core.jobs.job_finish_file`) is kept in one private folder,
`settings.PINGYI_PRIVATE_FILES_ROOT` (outside MEDIA_ROOT, served by no URL), under a random
name. The only way out is the job download view (core/views.py), which checks who asks and
writes the download to the audit log; the human file name stays in the job row
(`result_name`) for the download's Content-Disposition.

No file stays for good. A file expires `PINGYI_FILE_EXPIRY_DAYS` after it was made
(`job_files_expire`: whenever a job starts, and `manage.py expire_files` from a daily timer).
A file that its campaign still needs, code slips until voting ends, is made with
`expires=False`, and the domain that made it removes it when the campaign closes
(ballots/receivers.py) with `job_files_remove`. Either way the job's row stays and says why
its file is gone.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

if TYPE_CHECKING:
    from core.models import BackgroundJob

log = logging.getLogger(__name__)


class PrivateFileStorage(FileSystemStorage):
    """FileSystemStorage in PINGYI_PRIVATE_FILES_ROOT (read at each use, so moving the folder
    in the settings, or a test, moves it here), files 0600, folders 0700. Its `url` is the
    job's download view, never a path under MEDIA_URL."""

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @property  # a cached_property upstream: read anew here
    def base_location(self) -> str:
        return str(settings.PINGYI_PRIVATE_FILES_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        from core.models import BackgroundJob

        job = BackgroundJob.objects.filter(result_file=name).only("pk").first() if name else None
        if job is None:
            raise ValueError("This file is not accessible via a URL.")
        return reverse("job_download", args=[job.pk])


@cache
def private_files() -> PrivateFileStorage:
    """The storage of BackgroundJob.result_file (a callable, so migrations name it, not its
    folder)."""
    return PrivateFileStorage()


def job_file_name(instance: Any, filename: str) -> str:
    """A random name on disk: the human one (a campaign's slug, 评议码条) says what the file
    holds, and a name that can be guessed can be asked for. Only a plain suffix is kept."""
    suffix = Path(filename).suffix.lower()
    return secrets.token_hex(16) + (suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else "")


def file_lifetime() -> timedelta:
    return timedelta(days=settings.PINGYI_FILE_EXPIRY_DAYS)


def _delete_after_commit(name: str) -> None:
    # After the commit: if the transaction rolls back, the row still names the file.
    transaction.on_commit(lambda: private_files().delete(name))


def job_files_remove(jobs: models.QuerySet[BackgroundJob], reason: str) -> int:
    """Delete the files of these jobs, recording `reason` (BackgroundJob.FileRemoved) on each
    row; the files go once the transaction commits. Returns the number of files removed."""
    return len(_remove(jobs, reason))


def _remove(jobs: models.QuerySet[BackgroundJob], reason: str) -> set[str]:
    from core.models import BackgroundJob

    with transaction.atomic():
        rows = list(jobs.exclude(result_file="").values_list("pk", "result_file"))
        if not rows:
            return set()
        BackgroundJob.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            result_file="", file_removed=reason, expires_at=None
        )
        for _, name in rows:
            _delete_after_commit(name)
    log.info("removed %d generated file(s): %s", len(rows), reason)
    return {name for _, name in rows}


def job_files_expire(now: Any = None) -> int:
    """Remove the files of jobs past their `expires_at`, and any file in the folder that no
    job names (a job that crashed while saving, a deleted campaign's jobs) once it is as old
    as a file's lifetime. Returns the number of files deleted."""
    from core.models import BackgroundJob

    now = now or timezone.now()
    expired_jobs = BackgroundJob.objects.filter(expires_at__lt=now).exclude(result_file="")
    # Checked with a cheap query first: this runs whenever a job starts, and rarely finds any.
    removed: set[str] = set()
    if expired_jobs.exists():
        removed = _remove(expired_jobs, BackgroundJob.FileRemoved.EXPIRED)
    deleted = len(removed)
    root = Path(private_files().location)
    if not root.is_dir():
        return deleted
    # The files just removed go after their commit, not here (a rollback keeps them).
    owned = removed | set(
        BackgroundJob.objects.exclude(result_file="").values_list("result_file", flat=True)
    )
    deleted += sweep_stray_files(root, owned, file_lifetime().total_seconds())
    if deleted:
        log.info("expired %d generated file(s)", deleted)
    return deleted


def sweep_stray_files(root: Path, owned: set[str], older_than_seconds: float) -> int:
    """Delete the files in `root` that no row owns (left by a crash) and that are older than
    `older_than_seconds`; return how many. Shared by generated files and staged uploads."""
    deleted = 0
    oldest = time.time() - older_than_seconds
    for path in root.iterdir():
        try:
            if path.is_file() and path.name not in owned and path.stat().st_mtime < oldest:
                path.unlink()
                deleted += 1
        except FileNotFoundError:  # removed meanwhile by another process
            continue
    return deleted
