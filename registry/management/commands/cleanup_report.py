from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.exports import outcome_pdf, outcome_workbook
from registry.models import Cleanup


class Command(BaseCommand):
    help = "Write a cleanup's 通报 (outcome per organiser, retained list) as PDF or Excel."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["pdf", "xlsx"], default="xlsx")
        parser.add_argument("-o", "--output", required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        cleanup = Cleanup.objects.filter(slug=opts["slug"]).first()
        if cleanup is None:
            raise CommandError(f"没有标识为 {opts['slug']} 的清理工作")
        data = outcome_pdf(cleanup) if opts["format"] == "pdf" else outcome_workbook(cleanup)
        Path(opts["output"]).write_bytes(data)
        self.stdout.write(f"已写入 {opts['output']}")
