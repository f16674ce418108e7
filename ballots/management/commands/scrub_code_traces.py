"""manage.py scrub_code_traces SLUG [--vacuum]: end the transaction-id link between used codes
and ballots of an anonymous campaign (see ballots.online.codes.codes_scrub_traces)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ballots import sql
from ballots.online.codes import codes_scrub_traces
from campaigns.models import Campaign


class Command(BaseCommand):
    help = "匿名评议:重写已使用评议码的事务号,使其不能与选票对应(结束评议后运行)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--vacuum", action="store_true", help="随后 VACUUM 评议码表,清除旧的行版本"
        )

    def handle(self, *args: Any, slug: str, vacuum: bool, **options: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=slug)
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"没有标识为 {slug} 的评议活动") from exc
        if not campaign.anonymous:
            raise CommandError("记名评议本就保存选票与评议码的关联,无需处理")
        n = codes_scrub_traces(campaign=campaign)
        self.stdout.write(f"已重写 {n} 个已使用的评议码")
        if vacuum and sql.vacuum_codes():
            self.stdout.write("已 VACUUM ballots_accesscode")
