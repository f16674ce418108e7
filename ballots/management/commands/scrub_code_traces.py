"""manage.py scrub_code_traces SLUG [--vacuum]: after an anonymous campaign closes, mark its
codes that voted as used and rewrite its ballots in random order (closing does both already;
this repeats them, e.g. after a failure), then VACUUM away the old row versions
(ballots.online.codes.codes_scrub_traces)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ballots import sql
from ballots.online.codes import codes_scrub_traces
from campaigns.models import Campaign


class Command(BaseCommand):
    help = "匿名评议结束后:标记已使用的评议码,打乱选票的存储顺序,使其不能与评议码对应"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--vacuum", action="store_true", help="随后 VACUUM 评议码表和选票表,清除旧的行版本"
        )

    def handle(self, *args: Any, slug: str, vacuum: bool, **options: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=slug)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"没有标识为 {slug} 的评议活动") from exc
        if not campaign.anonymous:
            raise CommandError("记名评议本就保存选票与评议码的关联,无需处理")
        if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.OPEN):
            raise CommandError("评议尚未结束:结束评议后再运行")
        n = codes_scrub_traces(campaign=campaign)
        self.stdout.write(f"已打乱 {n} 张选票的存储顺序,已使用的评议码均已标记")
        if vacuum and sql.vacuum_codes():
            self.stdout.write("已 VACUUM ballots_accesscode、ballots_ballot、ballots_comment")
