from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.imports import entries_import
from assessments.models import Assessment
from core.spreadsheets import SpreadsheetError


class Command(BaseCommand):
    help = "导入考核的扣分和得分(assessment.md 第 7 节),全部通过或全部不导入"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **opts: Any) -> None:
        a = Assessment.objects.filter(slug=opts["slug"]).first()
        if a is None:
            raise CommandError(f"考核“{opts['slug']}”不存在")
        try:
            batch = entries_import(assessment=a, file=opts["file"], filename=opts["file"].name)
        except SpreadsheetError as exc:
            raise CommandError("文件有错误,未导入任何数据:\n" + str(exc)) from exc
        self.stdout.write(f"已导入 {batch.rows} 条")
