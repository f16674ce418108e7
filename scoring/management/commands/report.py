"""`manage.py report SLUG --format pdf|xlsx -o FILE`: the reports of issue 6, for operators and
scripts (`feedback` gives the one-page 反馈单 of each unit, or of the units named by --unit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Campaign
from scoring.reports import FORMATS, build_report


class Command(BaseCommand):
    help = "Write the results report of a campaign (PDF, Excel, or feedback sheets)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=FORMATS, required=True)
        parser.add_argument("-o", "--output", required=True, help="file to write")
        parser.add_argument(
            "--no-comments", action="store_true", help="leave out the annex of comments"
        )
        parser.add_argument(
            "--unit", action="append", default=None, help="feedback: only this unit (repeatable)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=opts["slug"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"没有标识为“{opts['slug']}”的评议活动") from exc
        unit_keys = None
        if opts["unit"]:
            found = dict(campaign.units.filter(name__in=opts["unit"]).values_list("name", "id"))
            missing = [n for n in opts["unit"] if n not in found]
            if missing:
                raise CommandError("不是本次评议的被评单位:" + "、".join(missing))
            unit_keys = [str(found[n]) for n in opts["unit"]]
        report = build_report(
            campaign, opts["format"], comments=not opts["no_comments"], unit_keys=unit_keys
        )
        out = Path(opts["output"])
        out.write_bytes(report.data)
        self.stdout.write(f"{out} ({len(report.data):,} bytes)")
