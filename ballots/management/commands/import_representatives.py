"""manage.py import_representatives SLUG FILE.xlsx — all or nothing, errors name row and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Campaign
from campaigns.representatives import (
    HEADER_HELP,
    composition,
    representatives_import,
    representatives_parse,
)
from core.spreadsheets import SpreadsheetError


class Command(BaseCommand):
    help = f"导入评议代表(.xlsx:{HEADER_HELP})"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--ignore-unknown-columns",
            action="store_true",
            help="忽略不认识的列(默认:有不认识的列则不导入)",
        )

    def handle(
        self, *args: Any, slug: str, file: Path, ignore_unknown_columns: bool, **options: Any
    ) -> None:
        try:
            campaign = Campaign.objects.get(slug=slug)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"没有标识为 {slug} 的评议活动") from exc
        if not file.is_file():
            raise CommandError(f"找不到文件 {file}")
        try:
            plan = representatives_parse(
                campaign, file, file.name, ignore_unknown=ignore_unknown_columns
            )
            batch = representatives_import(campaign=campaign, plan=plan, user=None)
        except SpreadsheetError as exc:
            raise CommandError("未导入任何代表:\n" + str(exc)) from exc
        for w in plan.warnings:
            self.stderr.write(f"提示:{w}")
        groups = ",".join(f"{g} {n} 人" for g, n in plan.by_group().items())
        self.stdout.write(f"已导入 {batch.rows} 名评议代表({groups};新聘 {plan.new_count} 人)")
        for w in composition(campaign).warnings:
            self.stdout.write(f"⚠ {w}")
