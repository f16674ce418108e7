from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ballots.management.commands.print_ballots import campaign_of
from ballots.models import PrintedRange
from ballots.paper.printing import range_layout


class Command(BaseCommand):
    help = (
        "Write the box map of the printed range FROM..TO as JSON (issue 21): per page of a "
        "ballot its size and each box's rectangle in points from the top left, with its unit, "
        "dimension and option (format: ballots.paper.layout)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--from", dest="first", type=int, required=True, metavar="N")
        parser.add_argument("--to", dest="last", type=int, required=True, metavar="M")
        parser.add_argument("-o", "--output", type=Path, required=True, metavar="layout.json")

    def handle(self, *args: Any, **opts: Any) -> None:
        campaign = campaign_of(opts["slug"])
        rng = PrintedRange.objects.filter(
            campaign=campaign, first=opts["first"], last=opts["last"]
        ).first()
        if rng is None:
            raise CommandError(
                f"没有登记 {opts['first']}–{opts['last']} 的编号段;"
                f"请先用 manage.py print_ballots {campaign.slug} --from {opts['first']} "
                f"--to {opts['last']} -o FILE.pdf 印制"
            )
        if not rng.layout:
            # Not printed here (yet): the map is the one a print made now would have.
            self.stderr.write(f"编号段 {rng.label()} 尚未在本系统印制,版面按当前配置计算")
        try:
            doc = range_layout(rng)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        opts["output"].write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
        self.stdout.write(f"已写入 {opts['output']}:版面 {doc['version']},{len(doc['pages'])} 页")
