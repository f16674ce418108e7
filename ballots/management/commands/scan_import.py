from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ballots.management.commands.print_ballots import campaign_of
from ballots.scan.services import ScanError, scan_import


class Command(BaseCommand):
    help = (
        "Read a scanner's files (multi-page PDF, TIFF, PNG, JPEG or a zip of them, in scanning "
        "order) into the campaign's scanned pages (issue 21): ballots the machine is sure of "
        "are counted, the rest wait on the confirmation screen. Prints a JSON summary: "
        '{"pages", "ballots", "confident", "to_confirm", "unreadable", "waiting", "batch"}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")

    def handle(self, *args: Any, **opts: Any) -> None:
        campaign = campaign_of(opts["slug"])
        files = []
        for path in opts["files"]:
            if not path.is_file():
                raise CommandError(f"找不到文件:{path}")
            files.append((path, path.name))

        def progress(done: int, total: int, message: str) -> None:
            if done % 50 == 0:
                print(message, file=sys.stderr, flush=True)

        try:
            summary = scan_import(campaign=campaign, files=files, user=None, progress=progress)
        except ScanError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(summary.as_json(), ensure_ascii=False))
