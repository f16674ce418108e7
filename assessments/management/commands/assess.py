from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.adapter import assess_assessment
from assessments.engine import AssessmentError, shown
from assessments.models import Assessment
from assessments.words import flag_words


class Command(BaseCommand):
    help = "计算考核结果:assessment.md 第 6 节的 JSON,或按类别的中文表格"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["json", "table"], default="table")

    def handle(self, *args: Any, **opts: Any) -> None:
        a = Assessment.objects.filter(slug=opts["slug"]).first()
        if a is None:
            raise CommandError(f"考核“{opts['slug']}”不存在")
        try:
            done = assess_assessment(a)
        except AssessmentError as exc:
            raise CommandError(str(exc)) from exc
        if opts["format"] == "json":
            self.stdout.write(json.dumps(done.json(), ensure_ascii=False, indent=2))
            return
        w = self.stdout.write
        w(f"{a.name}({a.year})")
        for c in done.result.categories:
            w("")
            w(c.category.name)
            names = [s.name for s in done.input.sections]
            w("\t".join(["名次", "单位", *names, "总分", "等次", "认定"]))
            for u in c.units:
                flags = "、".join(flag_words(f, missing=u.missing) for f in u.flags)
                w("\t".join([str(u.rank or "—"), u.unit.name, *[shown(v) for _n, v in u.sections],
                             shown(u.total), u.grade or "—", flags]))
