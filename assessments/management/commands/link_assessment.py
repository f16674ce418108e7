from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.config import section_link
from assessments.models import Assessment
from campaigns.models import Campaign


class Command(BaseCommand):
    help = "把考核的评议结果类项目(survey 或 rollup)关联到一次评议活动"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--section", required=True)
        parser.add_argument("--campaign", required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        a = Assessment.objects.filter(slug=opts["slug"]).first()
        campaign = Campaign.objects.filter(slug=opts["campaign"]).first()
        if a is None or campaign is None:
            raise CommandError("考核或评议活动不存在")
        try:
            section_link(assessment=a, section=opts["section"], campaign=campaign)
        except ValidationError as exc:
            raise CommandError(";".join(exc.messages)) from exc
        self.stdout.write(f"已把“{opts['section']}”关联到 {campaign.slug}")
