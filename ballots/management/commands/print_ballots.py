from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ballots.models import PrintedRange
from ballots.paper.cells import PaperError
from ballots.paper.printing import print_range
from ballots.paper.ranges import range_create
from campaigns.models import Campaign


def campaign_of(slug: str) -> Campaign:
    try:
        return Campaign.objects.get(slug=slug)
    except Campaign.DoesNotExist as exc:
        raise CommandError(f"没有标识为 {slug} 的评议活动") from exc


class Command(BaseCommand):
    help = (
        "Print the numbered ballots FROM..TO of a campaign as one PDF (issue 21): records the "
        "printed range, or reuses an identical one, and keeps its box map (print_layout)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--from", dest="first", type=int, required=True, metavar="N")
        parser.add_argument("--to", dest="last", type=int, required=True, metavar="M")
        parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.pdf")
        parser.add_argument("--width", type=int, default=6, help="digits of a serial (6)")
        parser.add_argument("--channel", default="", help="who the range is issued to")
        parser.add_argument("--district", default="", help="where the range is issued")

    def handle(self, *args: Any, **opts: Any) -> None:
        campaign = campaign_of(opts["slug"])
        first, last = opts["first"], opts["last"]
        channel, district = opts["channel"].strip(), opts["district"].strip()
        # Printing the same range again (a lost file, a reprint) must not record it twice;
        # anything else that touches its serials is refused by range_create as an overlap.
        rng = PrintedRange.objects.filter(
            campaign=campaign,
            first=first,
            last=last,
            width=opts["width"],
            channel=channel,
            district=district,
        ).first()
        if rng is None:
            try:
                rng = range_create(
                    campaign=campaign,
                    first=first,
                    last=last,
                    width=opts["width"],
                    channel=channel,
                    district=district,
                )
            except PaperError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"已登记编号段 {rng.label()}({rng.count} 份)")
        else:
            self.stdout.write(f"沿用已登记的编号段 {rng.label()}")
        started = time.perf_counter()
        try:
            pdf = print_range(rng)
        except ValueError as exc:  # a campaign without units
            raise CommandError(str(exc)) from exc
        opts["output"].write_bytes(pdf)
        self.stdout.write(
            f"已写入 {opts['output']}:{rng.count} 份选票,版面 {rng.layout_version},"
            f"用时 {time.perf_counter() - started:.1f} 秒"
        )
