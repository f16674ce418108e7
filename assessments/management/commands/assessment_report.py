"""`manage.py assessment_report SLUG --format pdf|xlsx -o FILE`: an assessment's 通报-style PDF
or its Excel workbook (assessments/reports.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.adapter import assess_assessment
from assessments.engine import AssessmentError
from assessments.models import Assessment
from assessments.reports import assessment_pdf, assessment_workbook


class Command(BaseCommand):
    help = "写出考核结果报告(PDF 通报或 Excel 工作簿)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["pdf", "xlsx"], required=True)
        parser.add_argument("-o", "--output", required=True, help="file to write")

    def handle(self, *args: Any, **opts: Any) -> None:
        a = Assessment.objects.filter(slug=opts["slug"]).first()
        if a is None:
            raise CommandError(f"考核“{opts['slug']}”不存在")
        try:
            done = assess_assessment(a)
        except AssessmentError as exc:
            raise CommandError(str(exc)) from exc
        data = assessment_pdf(done) if opts["format"] == "pdf" else assessment_workbook(done)
        out = Path(opts["output"])
        out.write_bytes(data)
        self.stdout.write(f"{out} ({len(data):,} bytes)")
