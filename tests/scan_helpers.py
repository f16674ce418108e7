"""Scanned pages for the scan tests: the campaign's own printed PDF rendered at 200 dpi, with
ticks drawn in the boxes a plan names and one row shaded (what the reader cannot be sure of)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")
pytest.importorskip("zxingcpp")
pytest.importorskip("pypdfium2")

from ballots.paper.printing import print_range  # noqa: E402
from ballots.paper.ranges import range_create  # noqa: E402
from ballots.scan.services import scan_import  # noqa: E402
from ballots.services import Layout  # noqa: E402
from bench import scanset  # noqa: E402
from campaigns.models import Campaign, CampaignUnit, Category, Unit  # noqa: E402
from campaigns.services import campaign_set_status  # noqa: E402

DPI = 200
UNITS = ["市发展改革委", "市教育局", "市公安局", "市民政局", "市财政局", "市人社局"]


def shade(img, box, s: float) -> None:
    """Light shading inside a box: not a pen's stroke, not nothing (an erased mark)."""
    x0, y0 = int((box["x"] + 1.5) * s), int((box["y"] + 1.5) * s)
    x1 = int((box["x"] + box["width"] - 1.5) * s)
    y1 = int((box["y"] + box["height"] - 1.5) * s)
    img[y0:y1, x0:x1] = 175


def marked_pages(pdf: bytes, layout: dict, plans: list[tuple[dict[int, int], int]], tmp: Path):
    """Page images of the first ballots, one per (plan, shaded row): the plan's boxes (row ->
    option key) ticked and one row shaded; the files, in scanning order."""
    rnd = random.Random(7)
    s = DPI / 72
    files = []
    page_maps = {p["page"]: p for p in layout["pages"]}
    per = len(page_maps)
    for i, img in enumerate(scanset.render(pdf, DPI)):
        if i >= per * len(plans):
            break
        plan, shaded_row = plans[i // per]
        img = np.ascontiguousarray(img)
        for box in page_maps[i % per + 1]["boxes"]:
            if plan.get(box["row"]) == box["key"]:
                scanset.draw_mark(img, box, "tick", s, rnd, (20, 20, 25), 1.0)
            if box["row"] == shaded_row and box["key"] == 2:
                shade(img, box, s)
        path = tmp / f"scan-{i + 1:03d}.png"
        cv2.imwrite(str(path), img)
        files.append((path, path.name))
    return files


def small_campaign(campaign_factory, office, slug="saomiao", ballots=2):
    """An open campaign of six units (a one-page ballot), its range 1..ballots printed: the
    campaign, the PDF and the range's box map."""
    camp = campaign_factory("qianren", slug=slug, name="扫描评议")
    cat = Category.objects.filter(campaign=camp).order_by("order").first()
    for n, name in enumerate(UNITS, start=1):
        CampaignUnit.objects.create(
            campaign=camp, category=cat, name=name, order=n,
            unit=Unit.objects.get_or_create(name=name)[0],
        )
    campaign_set_status(campaign=camp, status=Campaign.Status.OPEN, user=office)
    rng = range_create(campaign=camp, first=1, last=ballots, channel="社会随机评", user=office)
    pdf = print_range(rng)
    rng.refresh_from_db()
    return camp, pdf, rng.layout


@pytest.fixture
def scanned(campaign_factory, office, settings, tmp_path):
    """Two one-page ballots imported, each with one uncertain row: (campaign, summary, the
    plans ticked)."""
    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private"
    camp, pdf, layout = small_campaign(campaign_factory, office)
    cells = Layout.of(camp).cells
    plan = {row: 1 + row % 3 for row in range(len(cells))}
    plan.pop(2)  # row 2: shaded only, the reader cannot be sure
    plan2 = {row: 1 + row % 2 for row in range(len(cells))}
    plan2.pop(4)
    files = marked_pages(pdf, layout, [(plan, 2), (plan2, 4)], tmp=tmp_path)
    summary = scan_import(campaign=camp, files=files, user=office)
    return camp, summary, plan, plan2


