from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.imports import units_import
from assessments.models import Assessment
from core.spreadsheets import SpreadsheetError


class Command(BaseCommand):
    help = "导入参加考核的单位(评议活动的单位表格式)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **opts: Any) -> None:
        a = Assessment.objects.filter(slug=opts["slug"]).first()
        if a is None:
            raise CommandError(f"考核“{opts['slug']}”不存在")
        try:
            counts = units_import(assessment=a, file=opts["file"])
        except SpreadsheetError as exc:
            raise CommandError("文件有错误,未导入任何数据:\n" + str(exc)) from exc
        self.stdout.write(f"已导入:新增 {counts['created']},更新 {counts['updated']}")
