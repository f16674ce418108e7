from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.config import assessment_config
from assessments.models import Assessment


class Command(BaseCommand):
    help = "把考核的配置写成 JSON 文件(assessment.md 第 9 节)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", type=Path, required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        a = Assessment.objects.filter(slug=opts["slug"]).first()
        if a is None:
            raise CommandError(f"考核“{opts['slug']}”不存在")
        opts["output"].write_text(
            json.dumps(assessment_config(a), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8")
        self.stdout.write(f"已写出 {opts['output']}")
