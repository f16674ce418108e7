from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Office
from campaigns.presets import PRESETS
from campaigns.services import campaign_create_from_preset
from registry.models import Activity


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
        parser.add_argument("--activity", type=int, default=None,
                            help="所依据的登记项目(评比达标表彰项目)的编号;清理规范期间必填,"
                                 "或用 --override-reason 说明例外理由")
        parser.add_argument("--override-reason", default="",
                            help="清理规范期间不关联登记项目的例外理由(记入审计日志)")

    def handle(self, *args: Any, **opts: Any) -> None:
        office = Office.objects.get_or_create(name=opts["office"])[0] if opts["office"] else None
        activity = None
        if opts["activity"] is not None:
            activity = Activity.objects.filter(pk=opts["activity"]).first()
            if activity is None:
                raise CommandError(f"没有编号为 {opts['activity']} 的登记项目")
        try:
            campaign = campaign_create_from_preset(
                preset=opts["preset"], slug=opts["slug"], name=opts["name"], year=opts["year"],
                office=office, activity=activity,
                activity_override_reason=opts["override_reason"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已创建评议活动 {campaign.slug}:{campaign.name}({campaign.year})")
