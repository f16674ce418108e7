"""The scanned pages of a campaign for the notary or a dispute: a list of every page with the
SHA-256 of its image (in the notary's package), and the images themselves on disk
(`manage.py export_scans SLUG -o DIR`: the package would be gigabytes with them)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.utils.translation import gettext as _

from ballots.models import ScanPage
from ballots.scan import store
from campaigns.models import Campaign

HEADER = ("文件", "编号", "页码", "状态", "人工确认行数", "来源", "图像SHA-256")


def export_name(page: ScanPage) -> str:
    """The image's name when handed over: serial and page first, then enough of its id to
    tell copies of one serial apart."""
    serial = page.serial or _("无编号")
    return f"{serial}-p{page.page_no or 0}-{str(page.pk)[:8]}.jpg"


def _pages(campaign: Campaign) -> list[ScanPage]:
    return list(
        ScanPage.objects.filter(campaign=campaign).order_by("serial", "page_no", "batch_id", "seq")
    )


def scans_index_csv(campaign: Campaign) -> bytes | None:
    """The list of scanned pages (UTF-8 with BOM, opens in Excel), or None without any."""
    pages = _pages(campaign)
    if not pages:
        return None
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADER)
    for p in pages:
        writer.writerow([
            export_name(p), p.serial, p.page_no or "", p.get_status_display(),
            p.confirmed_rows, p.source_name.lstrip("=+-@'"), p.image_sha256,
        ])
    return "\ufeff".encode() + buf.getvalue().encode()


def export_scans(campaign: Campaign, folder: Path) -> int:
    """Copy every page image into `folder` with the list beside them; how many."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = _pages(campaign)
    for p in pages:
        (folder / export_name(p)).write_bytes(store.image_bytes(p.image))
    index = scans_index_csv(campaign)
    if index is not None:
        (folder / "扫描页清单.csv").write_bytes(index)
    return len(pages)
