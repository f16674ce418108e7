"""Check that the audit log has not been edited, pruned or added to behind the application's
back: walk a hash chain (core/chain.py) and compare its end with the chain's head.

    manage.py verify_audit            the whole log
    manage.py verify_audit SLUG       one campaign's entries
    manage.py verify_audit --json     the same, as JSON

Exit status 0 when the chain is whole, 1 when it is broken (the first broken entry is named
on standard error), 2 when no campaign's entries carry SLUG."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Max
from django.utils import timezone

from core.chain import verify
from core.models import AuditLog


def campaign_id_of(slug: str) -> int | None:
    """The campaign the entries call SLUG (core knows campaigns only by what the log says);
    when a slug was used again after a campaign was deleted, the newest campaign."""
    found = AuditLog.objects.filter(campaign_slug=slug, campaign_id__isnull=False).aggregate(
        latest=Max("campaign_id")
    )
    return found["latest"]


class Command(BaseCommand):
    help = "Verify the audit log's hash chain (the whole log, or one campaign's entries)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", help="a campaign's slug (default: the whole log)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        slug = opts.get("slug")
        campaign_id = None
        if slug:
            campaign_id = campaign_id_of(slug)
            if campaign_id is None:
                raise CommandError(f"审计日志中没有活动 {slug} 的记录", returncode=2)
        result = verify(campaign_id)
        if opts["json"]:
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
        elif result.ok:
            self.stdout.write(f"审计日志完整:{result.entries} 条记录,链尾 {result.head or '(空)'}")
        if result.ok:
            return
        broken = result.broken
        assert broken is not None
        if not opts["json"]:
            at = timezone.localtime(broken.at).isoformat(sep=" ") if broken.at else "—"
            self.stderr.write(
                f"审计日志不完整:第 {broken.id} 条记录({broken.reason}),"
                f"时间 {at},操作 {broken.action or '—'}"
                f";此前 {result.entries} 条记录无误"
            )
        sys.exit(1)
