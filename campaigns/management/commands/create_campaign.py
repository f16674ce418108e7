from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Office
from campaigns.presets import PRESETS
from campaigns.services import campaign_create_from_preset


class Command(BaseCommand):
    help = "Create a campaign from a preset (qianren, wanren, zhengfeng, liangping)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preset", required=True, choices=sorted(PRESETS))
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--year", required=True, type=int)
        parser.add_argument(
            "--office",
            default="",
            help="评议办公室名称(不存在则新建);不填则只有可查看所有办公室的用户能看到",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        office = Office.objects.get_or_create(name=opts["office"])[0] if opts["office"] else None
        try:
            campaign = campaign_create_from_preset(
                preset=opts["preset"], slug=opts["slug"], name=opts["name"], year=opts["year"],
                office=office,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已创建评议活动 {campaign.slug}:{campaign.name}({campaign.year})")
