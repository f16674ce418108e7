from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.spreadsheets import SpreadsheetError
from registry.imports import registration_import
from registry.models import Cleanup


class Command(BaseCommand):
    help = "Import a 自查登记表 (.xlsx, layout in registry/imports.py) into a cleanup, as the office."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("file")

    def handle(self, *args: Any, **opts: Any) -> None:
        cleanup = Cleanup.objects.filter(slug=opts["slug"]).first()
        if cleanup is None:
            raise CommandError(f"没有标识为 {opts['slug']} 的清理工作")
        try:
            counts = registration_import(cleanup=cleanup, file=opts["file"])
        except (SpreadsheetError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已导入:新登记 {counts['created']} 项,更正 {counts['updated']} 项")
