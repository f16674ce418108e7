from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.models import Cleanup
from registry.presets import PRESETS
from registry.services import cleanup_create


class Command(BaseCommand):
    help = "Create a cleanup of 评比达标表彰项目 from a preset (document 003: pingbi)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preset", default="pingbi", choices=sorted(PRESETS))
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--year", required=True, type=int)
        parser.add_argument("--level", default=Cleanup.Level.CITY, choices=Cleanup.Level.values)
        parser.add_argument("--office", default="市清理规范评比达标表彰工作联席会议办公室")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            cleanup = cleanup_create(preset=opts["preset"], slug=opts["slug"],
                                     name=opts["name"], year=opts["year"],
                                     level=opts["level"], office=opts["office"])
        except ValidationError as exc:
            raise CommandError(";".join(exc.messages)) from exc
        self.stdout.write(f"已创建清理工作 {cleanup.slug}:{cleanup.name}({cleanup.year})")
