from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ballots.management.commands.print_ballots import campaign_of
from ballots.scan.export import export_scans


class Command(BaseCommand):
    help = (
        "Copy the campaign's scanned page images into DIR, named by serial and page, with "
        "扫描页清单.csv (each image's SHA-256, as listed in the notary's package)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")

    def handle(self, *args: Any, **opts: Any) -> None:
        campaign = campaign_of(opts["slug"])
        n = export_scans(campaign, opts["output"])
        self.stdout.write(f"已写入 {opts['output']}:{n} 页扫描图像及 扫描页清单.csv")
