from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.presets import PRESETS
from campaigns.services import campaign_create_from_preset


class Command(BaseCommand):
    help = "Create a campaign from a preset (qianren, wanren, zhengfeng, liangping)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preset", required=True, choices=sorted(PRESETS))
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--year", required=True, type=int)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            campaign = campaign_create_from_preset(
                preset=opts["preset"], slug=opts["slug"], name=opts["name"], year=opts["year"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已创建评议活动 {campaign.slug}:{campaign.name}({campaign.year})")
