"""Scan import end to end (issue 21): `ballots.scan.services.scan_import` on the 2,000-page
generated stack of bench.scan (one scanner PDF), into the bench database: reading, keeping
every page image, recording pages and counting ballots, in the one process a background job
has. Prints JSON: the import's summary, seconds, pages/s, peak memory, bytes kept per page,
and what the queues hold afterwards (what staff must do).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pingyi_scanbench \\
        DEBUG=1 .venv/bin/python -m bench.scan_import [PAGES]

The database is migrated and the campaign made if missing; a campaign of the same slug is
deleted first, so runs can repeat. The pages are bench.scan's (made there on first use).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SLUG = "scanbench"


def measure(pages: int) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalsite.settings")
    os.environ.setdefault("DEBUG", "1")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count

    call_command("migrate", verbosity=0)
    from bench.scan import build

    folder = build(pages)
    doc = json.loads((folder / "layout.json").read_text(encoding="utf-8"))

    from ballots.models import Ballot, PrintedRange, ScanPage
    from ballots.scan import store
    from bench.data import make_campaign
    from campaigns.models import Campaign

    Campaign.objects.filter(slug=SLUG).delete()
    campaign = make_campaign(SLUG)
    # The range as bench.scan printed it: its box map is the set's, the campaign's units the
    # same 66 in the same order, under this database's ids.
    from ballots.services import Layout

    cells = Layout.of(campaign).cells
    for page in doc["pages"]:
        for box in page["boxes"]:
            box["unit_id"], box["dimension_id"] = cells[box["row"]]
    PrintedRange.objects.create(
        campaign=campaign, first=doc["serials"]["from"], last=doc["serials"]["to"],
        count=doc["serials"]["to"] - doc["serials"]["from"] + 1,
        layout=doc, layout_version=doc["version"],
    )
    with tempfile.TemporaryDirectory() as private:
        settings.PINGYI_PRIVATE_FILES_ROOT = Path(private)
        from ballots.scan.services import scan_import

        started = time.perf_counter()
        summary = scan_import(
            campaign=campaign, files=[(folder / "scans.pdf", "scans.pdf")], user=None
        )
        seconds = time.perf_counter() - started
        kept = sum(p.stat().st_size for p in (store.root() / str(campaign.pk)).iterdir())
        queues = dict(
            ScanPage.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id"))
        )
        per_page = [
            sum(1 for r in rows if not r[2])
            for rows in ScanPage.objects.filter(campaign=campaign, status=ScanPage.Status.CONFIRM)
            .order_by("batch_id", "seq").values_list("rows", flat=True)
        ]
        unsure_rows = sum(per_page)
        # Confirmation screens as ballots.scan.views packs them (whole pages, <= 10 rows).
        from ballots.scan.views import ROWS_PER_SCREEN

        screens, room = 0, 0
        for n in per_page:
            if screens == 0 or room + n > ROWS_PER_SCREEN:
                screens, room = screens + 1, n
            else:
                room += n
        # What people then do (inside the folder: the page images are still needed).
        settled = _settle(campaign, folder) if os.environ.get("SETTLE", "1") == "1" else {}
    ballots = Ballot.objects.filter(campaign=campaign)
    return {
        "after_people": settled,
        "summary": summary.as_json(),
        "seconds": round(seconds, 1),
        "pages_per_s": round(summary.pages / seconds, 1),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "kept_kb_per_page": round(kept / 1024 / max(1, summary.pages - summary.blank), 1),
        "queues": queues,
        "rows_to_confirm": unsure_rows,
        "confirmation_screens": screens,
        "ballots": ballots.count(),
        "duplicate_serial": ballots.filter(invalid_reason=Ballot.Reason.DUPLICATE_SERIAL).count(),
    }


def _settle(campaign: Any, folder: Path) -> dict[str, Any]:
    """Play the people's part from the truth: type every unread serial, confirm every
    uncertain row as the voter marked it; then check every counted ballot against the truth
    (rows the machine was sure of must equal it) and its stored answers against the one
    reading of its pages' marks."""
    from ballots.models import Ballot, ScanPage
    from ballots.scan.services import key_of_mark, page_confirm, page_set_serial
    from ballots.services import Layout
    from bench.scanset import read_truth

    truths = read_truth(folder / "truth.jsonl")

    def truth_of(page: ScanPage) -> Any:
        return truths[int(page.source_name.rsplit("p", 1)[1]) - 1]

    started = time.perf_counter()
    for page in ScanPage.objects.filter(campaign=campaign, status=ScanPage.Status.SERIAL):
        page_set_serial(page=page, serial=truth_of(page).serial, user=None)
    for page in ScanPage.objects.filter(campaign=campaign, status=ScanPage.Status.CONFIRM):
        marks = {row: mark for row, mark, _amb in truth_of(page).rows}
        keys = {r[0]: key_of_mark(marks[r[0]]) for r in page.rows if not r[2]}
        page_confirm(page=page, keys=keys, user=None)
    seconds = time.perf_counter() - started
    wrong = checked = 0
    for page in ScanPage.objects.filter(campaign=campaign, status=ScanPage.Status.COUNTED):
        truth = {row: mark for row, mark, _amb in truth_of(page).rows}
        for r in page.rows:
            if r[2]:
                checked += 1
                wrong += int((page.marks or {})[str(r[0])] != truth[r[0]])
    layout = Layout.of(campaign)
    mismatched = 0
    for ballot in Ballot.objects.filter(campaign=campaign).prefetch_related("scan_pages"):
        settled = [0] * len(layout.cells)
        for page in ballot.scan_pages.all():
            for row, mark in (page.marks or {}).items():
                settled[int(row)] = mark
        mismatched += int(layout.read(settled).answers != list(ballot.answers))
    from django.db.models import Count

    return {
        "seconds": round(seconds, 1),
        "queues": dict(
            ScanPage.objects.filter(campaign=campaign).values_list("status")
            .annotate(n=Count("id"))
        ),
        "confident_rows_checked": checked,
        "confident_rows_wrong": wrong,
        "ballots_not_as_their_pages": mismatched,
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(json.dumps(measure(n), ensure_ascii=False))
