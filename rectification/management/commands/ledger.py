"""`manage.py ledger SLUG --format json|xlsx [-o FILE]`: a campaign's 整改台账.

A contract: the JSON is exactly `rectification.services.ledger` over the campaign's cases (a
list of cases with unit, source flag, status, deadline, days overdue, measures and
acceptance); the workbook is the ledger page's export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Campaign
from rectification.exports import ledger_workbook
from rectification.models import Case
from rectification.services import ledger


class Command(BaseCommand):
    help = "Print or write a campaign's rectification ledger (整改台账)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["json", "xlsx"], default="json")
        parser.add_argument("-o", "--output", help="file to write (required for xlsx)")

    def handle(self, *args: Any, **opts: Any) -> None:
        campaign = Campaign.objects.filter(slug=opts["slug"]).first()
        if campaign is None:
            raise CommandError(f"no campaign {opts['slug']!r}")
        rows = ledger(Case.objects.filter(campaign=campaign))
        out = opts["output"]
        if opts["format"] == "xlsx":
            if not out:
                raise CommandError("--format xlsx needs -o FILE")
            Path(out).write_bytes(ledger_workbook(rows, f"{campaign.name} 整改台账"))
            return
        text = json.dumps(rows, ensure_ascii=False, indent=2)
        if out:
            Path(out).write_text(text + "\n", encoding="utf-8")
        else:
            self.stdout.write(text)
