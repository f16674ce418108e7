"""`manage.py export_ballots SLUG -o DIR`: the public ballot file (recount/README.md, a
contract): DIR/manifest.json, DIR/ballots.csv and DIR/ballots.jsonl."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Campaign
from scoring.ballot_file import ballot_file_problems, build_ballot_file


class Command(BaseCommand):
    help = "Write a campaign's ballot file for recounting: manifest.json, ballots.csv, ballots.jsonl."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", required=True, help="the folder to write into")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=opts["slug"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"没有标识为 {opts['slug']} 的评议活动") from exc
        problems = ballot_file_problems(campaign)
        if problems:
            raise CommandError("\n".join(problems))
        built = build_ballot_file(campaign)
        built.write(Path(opts["output"]))
        self.stdout.write(f"{built.rows} 张选票 → {opts['output']}")
        self.stdout.write(f"计票指纹 fingerprint: {built.fingerprint}")
