from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.config import assessment_create
from assessments.models import Assessment


class Command(BaseCommand):
    help = "创建考核:由预设(--preset)或配置文件(--config,assessment.md 第 9 节)"

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--preset")
        source.add_argument("--config", type=Path)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name")
        parser.add_argument("--year", type=int)
        parser.add_argument("--previous", help="上一年度考核的标识;不填则按系列自动查找")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["preset"]:
            from assessments.presets import PRESETS, preset_config

            if opts["preset"] not in PRESETS:
                raise CommandError(f"未知的预设“{opts['preset']}”,可选:{', '.join(sorted(PRESETS))}")
            if not (opts["name"] and opts["year"]):
                raise CommandError("由预设创建时须给出 --name 和 --year")
            config = preset_config(opts["preset"], opts["year"])
            config["preset"] = opts["preset"]
        else:
            try:
                config = json.loads(opts["config"].read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"无法读取配置文件:{exc}") from exc
        if opts["name"]:
            config["name"] = opts["name"]
        previous = None
        if opts["previous"]:
            previous = Assessment.objects.filter(slug=opts["previous"]).first()
            if previous is None:
                raise CommandError(f"上一年度考核“{opts['previous']}”不存在")
        try:
            a = assessment_create(config=config, slug=opts["slug"], year=opts["year"],
                                  previous=previous)
        except ValidationError as exc:
            raise CommandError("配置有误,未创建:\n" + "\n".join(exc.messages)) from exc
        self.stdout.write(f"已创建考核 {a.slug}({a.name},{a.year})"
                          + (f",上一年度 {a.previous.slug}" if a.previous else ""))
