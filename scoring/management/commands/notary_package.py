"""`manage.py notary_package SLUG -o FILE.zip`: the notary's package (公证材料包), as the
auditor's button on the results page makes it (scoring.verification.notary_package)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Campaign
from core.audit import audit
from scoring.verification import notary_filename, notary_package


class Command(BaseCommand):
    help = "Write the notary's package of a campaign: ballot file, reports, audit log, README."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", help="the .zip to write (default: its own name)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=opts["slug"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"没有标识为 {opts['slug']} 的评议活动") from exc
        path = Path(opts["output"] or notary_filename(campaign))
        path.write_bytes(notary_package(campaign))
        audit(user=None, action="notary.package", campaign=campaign, object_repr=path.name)
        self.stdout.write(f"公证材料包 → {path}")
