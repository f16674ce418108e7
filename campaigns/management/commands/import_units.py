from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Campaign
from campaigns.services import units_import, units_parse
from core.spreadsheets import SpreadsheetError


class Command(BaseCommand):
    help = "Import the units of a campaign from .xlsx (spec section 10): all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check and preview only")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=opts["slug"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"没有标识为 {opts['slug']} 的评议活动") from exc
        path: Path = opts["file"]
        if not path.is_file():
            raise CommandError(f"找不到文件 {path}")
        try:
            plan = units_parse(campaign, path, path.name)
            for warning in plan.warnings:
                self.stderr.write(f"警告:{warning}")
            self.stdout.write(
                f"{len(plan.rows)} 个单位,新类别 {len(plan.new_categories)} 个,"
                f"新登记单位 {len(plan.new_registry_units)} 个"
            )
            if opts["dry_run"]:
                return
            counts = units_import(campaign=campaign, plan=plan)
        except SpreadsheetError as exc:
            raise CommandError("导入失败,未导入任何数据:\n" + str(exc)) from exc
        except Exception as exc:
            if exc.__class__.__name__ == "ValidationError":
                raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
            raise
        self.stdout.write(
            f"已导入:新增 {counts['created']},更新 {counts['updated']},新类别 {counts['categories']}"
        )
