"""Delete spreadsheets left staged (previewed, never confirmed) for longer than a day.

Uploading runs the same clean-up as it goes; this command is for a daily timer, so a file
nobody confirmed does not wait on disk for the next upload."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.uploads import uploads_expire


class Command(BaseCommand):
    help = "Delete staged uploads (and stray files in PINGYI_UPLOAD_ROOT) older than --hours."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hours", type=float, default=24.0)

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["hours"] < 0:
            raise CommandError("--hours must not be negative")
        n = uploads_expire(timedelta(hours=opts["hours"]))
        self.stdout.write(f"已删除 {n} 个过期的上传文件")
