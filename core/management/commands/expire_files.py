"""Delete generated files (reports, printed ballots, exports) past their lifetime.

Starting a job runs the same clean-up as it goes; this command is for a daily timer, so a file
does not wait on disk for the next job. Code slips are not touched by it: they go when their
campaign closes (ballots/receivers.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.files import job_files_expire


class Command(BaseCommand):
    help = (
        "Delete job files older than PINGYI_FILE_EXPIRY_DAYS (and stray files in "
        "PINGYI_PRIVATE_FILES_ROOT as old)."
    )

    def handle(self, *args: Any, **opts: Any) -> None:
        n = job_files_expire()
        self.stdout.write(f"已删除 {n} 个过期的生成文件")
