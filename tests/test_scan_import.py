"""Scanned paper ballots to counted ballots (issue 21): ballots.scan.services on pages of the
campaign's own printed PDF (print_range keeps the real box map), marked with bench.scanset."""

from __future__ import annotations

import copy
import io
import json
import math
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")
pytest.importorskip("zxingcpp")
pytest.importorskip("pypdfium2")

from django.core.exceptions import ValidationError  # noqa: E402
from django.core.management import call_command  # noqa: E402

from ballots.models import Ballot, PrintedRange, ScanPage  # noqa: E402
from ballots.paper.printing import print_range  # noqa: E402
from ballots.paper.ranges import range_create  # noqa: E402
from ballots.scan import services as S  # noqa: E402
from ballots.services import Layout  # noqa: E402
from bench import scanset  # noqa: E402
from campaigns.models import Campaign  # noqa: E402
from campaigns.services import campaign_set_status  # noqa: E402
from tests.helpers import add_units  # noqa: E402

DPI = 150
COPIES = 6
SMALL = {"地方管理部门类": ["甲局", "乙局", "丙局"]}
_PRINTED: dict[str, tuple[bytes, dict[str, Any], str]] = {}


def _campaign(campaign_factory: Any, key: str, units: dict[str, Any]) -> Campaign:
    """A campaign with a printed range 1..COPIES; WeasyPrint once per module per kind."""
    camp = campaign_factory("qianren", slug=f"scan{key}", name=f"扫描{key}")
    add_units(camp, units)
    campaign_set_status(campaign=camp, status=Campaign.Status.OPEN)
    rng = range_create(campaign=camp, first=1, last=COPIES)
    if key not in _PRINTED:
        pdf = print_range(rng)
        rng.refresh_from_db()
        assert rng.layout is not None
        _PRINTED[key] = (pdf, rng.layout, rng.layout_version)
    else:
        # The same paper; the box map's ids are this campaign's (PostgreSQL does not reuse ids).
        _pdf, layout, version = _PRINTED[key]
        layout = copy.deepcopy(layout)
        cells = Layout.of(camp).cells
        options = list(camp.options.order_by("order", "id").values_list("id", flat=True))
        for page in layout["pages"]:
            for b in page["boxes"]:
                b["unit_id"], b["dimension_id"] = cells[b["row"]]
                b["option_id"] = options[b["key"] - 1]
        PrintedRange.objects.filter(pk=rng.pk).update(layout=layout, layout_version=version)
    return Campaign.objects.get(pk=camp.pk)


@pytest.fixture
def small(campaign_factory: Any) -> Campaign:
    return _campaign(campaign_factory, "small", SMALL)


@pytest.fixture
def big(campaign_factory: Any) -> Campaign:
    from demo.data import UNITS_000

    return _campaign(campaign_factory, "big", dict(UNITS_000))


_IMAGES: dict[str, list[np.ndarray]] = {}


def pages(key: str) -> list[np.ndarray]:
    if key not in _IMAGES:
        _IMAGES[key] = list(scanset.render(_PRINTED[key][0], DPI))
    return _IMAGES[key]


def marked(
    key: str,
    index: int,
    keys: dict[int, int],
    *,
    faint: frozenset[int] = frozenset(),
    upside_down: bool = False,
    blot_qr: bool = False,
) -> np.ndarray:
    """Page `index` of the printed PDF with key keys[row] marked in each row."""
    layout = _PRINTED[key][1]
    pg = layout["pages"][index % len(layout["pages"])]
    img = pages(key)[index].copy()
    s = DPI / 72
    rng = random.Random(index)
    for b in pg["boxes"]:
        if keys.get(b["row"]) == b["key"]:
            ink = (200, 200, 200) if b["row"] in faint else (20, 20, 20)
            scanset.draw_mark(img, b, "fill" if b["row"] in faint else "cross", s, rng, ink, 1.2)
    if blot_qr:
        q = pg["qr"]
        x0, y0 = int(q["x"] * s) - 4, int(q["y"] * s) - 4
        img[y0 : y0 + int(q["height"] * s) + 8, x0 : x0 + int(q["width"] * s) + 8] = 255
    if upside_down:
        img = cv2.rotate(img, cv2.ROTATE_180)
    return img


def write(tmp_path: Path, name: str, img: np.ndarray) -> Path:
    path = tmp_path / name
    cv2.imwrite(str(path), img)
    return path


def rows_of(key: str) -> list[int]:
    return sorted({b["row"] for p in _PRINTED[key][1]["pages"] for b in p["boxes"]})


def answer(camp: Campaign, keys: dict[int, int]) -> set[tuple[int, int]]:
    layout = PrintedRange.objects.get(campaign=camp).layout
    assert layout is not None
    return {
        (b["unit_id"], b["option_id"])
        for p in layout["pages"]
        for b in p["boxes"]
        if keys.get(b["row"]) == b["key"]
    }


def got(ballot: Ballot) -> set[tuple[int, int]]:
    return {(v.unit_id, v.option_id) for v in ballot.votes() if v.option_id}


def imp(camp: Campaign, *paths: Path) -> S.Summary:
    return S.scan_import(campaign=camp, files=[(p, p.name) for p in paths], user=None)


def images_on_disk(settings: Any) -> list[Path]:
    root = Path(settings.PINGYI_PRIVATE_FILES_ROOT) / "scans"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_clean_stack_counted_and_command_summary(
    small: Campaign, tmp_path: Path, settings: Any
) -> None:
    n = len(rows_of("small"))
    truths, files = [], []
    for i in range(3):
        keys = {r: (r + i) % 4 + 1 for r in range(n)}
        truths.append(keys)
        files.append(write(tmp_path, f"p{i}.png", marked("small", i, keys, upside_down=i == 1)))
    buf = io.StringIO()
    call_command("scan_import", small.slug, *map(str, files), stdout=buf)
    out = json.loads(buf.getvalue())
    assert {k: out[k] for k in ("pages", "ballots", "confident", "to_confirm", "unreadable")} == {
        "pages": 3,
        "ballots": 3,
        "confident": 3,
        "to_confirm": 0,
        "unreadable": 0,
    }
    ballots = list(Ballot.objects.filter(campaign=small).order_by("serial"))
    assert [b.serial for b in ballots] == ["000001", "000002", "000003"]
    for b, keys in zip(ballots, truths, strict=True):
        assert b.source == Ballot.Source.PAPER
        assert b.batch is not None and b.batch.kind == "scans"
        assert b.status == Ballot.Status.VALID
        assert got(b) == answer(small, keys)
    assert set(ScanPage.objects.values_list("status", flat=True)) == {ScanPage.Status.COUNTED}
    # 9. images under the private root, not MEDIA_ROOT, mode 0600
    files_kept = images_on_disk(settings)
    assert len(files_kept) == 3
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.png"))
    for f in files_kept:
        assert (f.stat().st_mode & 0o777) == 0o600
    # 10. sample: ceil(1%) of 3 confident pages = 1
    due = S.sample_due(small)
    assert len(due) == math.ceil(3 * 0.01) == 1
    S.page_sample_record(page=due[0], agrees=True, note="", user=None)
    assert ScanPage.objects.get(pk=due[0].pk).sampled
    assert S.sample_due(small) == []
    with pytest.raises(S.ScanError):
        S.page_sample_record(page=due[0], agrees=False, note="", user=None)
    # 8. the same file again: refused, nothing saved
    before = (ScanPage.objects.count(), Ballot.objects.count(), len(images_on_disk(settings)))
    with pytest.raises(S.ScanError):
        imp(small, *files)
    assert before == (
        ScanPage.objects.count(),
        Ballot.objects.count(),
        len(images_on_disk(settings)),
    )


def test_not_an_image_refused(small: Campaign, tmp_path: Path, settings: Any) -> None:
    good = write(tmp_path, "ok.png", marked("small", 0, {0: 1}))
    bad = tmp_path / "notes.pdf"
    bad.write_text("hello, not a pdf")
    with pytest.raises(S.ScanError, match="notes.pdf"):
        imp(small, good, bad)
    assert ScanPage.objects.count() == 0 and Ballot.objects.count() == 0
    assert images_on_disk(settings) == []


def test_photocopy_and_keyed_plus_scanned(small: Campaign, tmp_path: Path) -> None:
    from ballots.services import ballot_create

    keys = {0: 1, 1: 2, 2: 3}
    a = write(tmp_path, "a.png", marked("small", 0, keys))
    b = write(tmp_path, "b.png", marked("small", 0, keys))  # the same serial 000001 twice
    s = imp(small, a, b)
    assert s.ballots == 2
    both = Ballot.objects.filter(campaign=small, serial="000001")
    assert both.count() == 2
    assert {(x.status, x.invalid_reason) for x in both} == {
        (Ballot.Status.INVALID, "duplicate_serial")
    }
    n = len(rows_of("small"))
    ballot_create(campaign=small, source=Ballot.Source.PAPER, marks=[1] * n, serial="000002")
    imp(small, write(tmp_path, "c.png", marked("small", 1, keys)))
    two = Ballot.objects.filter(campaign=small, serial="000002")
    assert two.count() == 2
    assert {x.invalid_reason for x in two} == {"duplicate_serial"}
    from ballots.paper.reconciliation import reconciliation

    rec = reconciliation(small)
    assert (rec.total.scanned, rec.total.returned, rec.total.invalid) == (3, 4, 4)
    assert rec.total.scan_open == 0 and rec.total.balanced
    assert all(r.balanced for r in rec.rows)


def test_two_pages_wait_for_each_other(big: Campaign, tmp_path: Path) -> None:
    assert len(_PRINTED["big"][1]["pages"]) == 2
    keys = {r: r % 4 + 1 for r in rows_of("big")}
    # pages 0,1 = serial 1 p1,p2; 2,3 = serial 2
    s = imp(big, write(tmp_path, "s1p1.png", marked("big", 0, keys)))
    assert (s.ballots, s.waiting) == (0, 1)
    p1 = ScanPage.objects.get(campaign=big)
    assert (p1.status, p1.serial, p1.page_no) == (ScanPage.Status.WAITING, "000001", 1)
    # p1 of serial 2 with p2 of serial 3: both wait
    s = imp(
        big,
        write(tmp_path, "s2p1.png", marked("big", 2, keys)),
        write(tmp_path, "s3p2.png", marked("big", 5, keys, upside_down=True)),
    )
    assert (s.ballots, s.waiting) == (0, 2)
    rec = __import__("ballots.paper.reconciliation", fromlist=["x"]).reconciliation(big)
    assert rec.total.scan_open == 3 and rec.total.scanned == 0
    with pytest.raises(ValidationError, match="扫描"):
        campaign_set_status(campaign=big, status=Campaign.Status.CLOSED)
    s = imp(big, write(tmp_path, "s1p2.png", marked("big", 1, keys)))
    assert s.ballots == 1
    ballot = Ballot.objects.get(campaign=big)
    assert ballot.serial == "000001" and ballot.status == Ballot.Status.VALID
    assert got(ballot) == answer(big, keys)
    assert ScanPage.objects.filter(ballot=ballot).count() == 2
    assert ScanPage.objects.filter(status=ScanPage.Status.WAITING).count() == 2
    rec = __import__("ballots.paper.reconciliation", fromlist=["x"]).reconciliation(big)
    assert (rec.total.scanned, rec.total.scan_open) == (1, 2)
    assert rec.total.balanced and all(r.balanced for r in rec.rows)
    for p in ScanPage.objects.filter(status=ScanPage.Status.WAITING):
        S.page_set_aside(page=p, reason="另一页丢失,手工录入", user=None)
    campaign_set_status(campaign=big, status=Campaign.Status.CLOSED)


def test_uncertain_row_confirmed(small: Campaign, tmp_path: Path) -> None:
    keys = {0: 1, 1: 2, 2: 3}
    s = imp(small, write(tmp_path, "f.png", marked("small", 0, keys, faint=frozenset({1}))))
    page = ScanPage.objects.get(campaign=small)
    if s.to_confirm == 0:  # the reader settled it: make the row uncertain by hand
        page.rows = [[r[0], r[1], 0 if r[0] == 1 else r[2], *r[3:]] for r in page.rows]
        page.status, page.marks = ScanPage.Status.CONFIRM, None
        Ballot.objects.filter(campaign=small).delete()
        page.ballot = None
        page.save()
    assert page.status == ScanPage.Status.CONFIRM
    assert not Ballot.objects.filter(campaign=small).exists()
    with pytest.raises(ValidationError, match="扫描"):
        campaign_set_status(campaign=small, status=Campaign.Status.CLOSED)
    unsure = [r[0] for r in page.rows if not r[2]]
    assert unsure == [1]
    with pytest.raises(S.ScanError, match=re.escape("第 2 行(乙局)")):
        S.page_confirm(page=page, keys={}, user=None)
    with pytest.raises(S.ScanError):  # a key that is no option
        S.page_confirm(page=page, keys={1: 7}, user=None)
    assert ScanPage.objects.get(pk=page.pk).status == ScanPage.Status.CONFIRM
    made = S.page_confirm(page=page, keys={r: keys.get(r, 0) for r in unsure}, user=None)
    assert len(made) == 1 and got(made[0]) == answer(small, keys)
    with pytest.raises(S.ScanError):
        S.page_confirm(page=page, keys={r: 1 for r in unsure}, user=None)
    campaign_set_status(campaign=small, status=Campaign.Status.CLOSED)


def test_confirm_keys_9_and_0(small: Campaign) -> None:
    assert S.mark_of_key(0, 4) == S.UNMARKED
    assert S.mark_of_key(9, 4) == S.SEVERAL
    with pytest.raises(S.ScanError):
        S.mark_of_key(7, 4)


def test_blotted_qr_serial_typed(small: Campaign, tmp_path: Path) -> None:
    keys = {0: 2, 1: 3, 2: 1}
    s = imp(small, write(tmp_path, "q.png", marked("small", 3, keys, blot_qr=True)))
    assert s.ballots == 0
    page = ScanPage.objects.get(campaign=small)
    assert page.status == ScanPage.Status.SERIAL, page.problem
    from ballots.paper.reconciliation import reconciliation

    assert reconciliation(small).total.scan_open == 1
    with pytest.raises(ValidationError, match="扫描"):
        campaign_set_status(campaign=small, status=Campaign.Status.CLOSED)
    with pytest.raises(S.ScanError):
        S.page_set_serial(page=page, serial="999999", user=None)
    with pytest.raises(S.ScanError):
        S.page_set_serial(page=page, serial="abc", user=None)
    made = S.page_set_serial(page=page, serial="4", user=None)
    assert len(made) == 1 and made[0].serial == "000004"
    assert got(made[0]) == answer(small, keys)
    campaign_set_status(campaign=small, status=Campaign.Status.CLOSED)


def test_reader_column_majority_not_read_blank(small: Campaign) -> None:
    """Most rows marked in one column (the voter who is satisfied with everyone): that
    column's median is a mark, and must not be taken for its empty level."""
    from ballots.scan.reader import read_page

    keys = {0: 2, 1: 2, 2: 1}
    read = read_page(marked("small", 3, keys), {_PRINTED["small"][2]: _PRINTED["small"][1]})
    for r in read.rows:
        assert not r.certain or r.mark == keys[r.row], (r.row, r.mark)


def test_unread_page_blocks_close_until_set_aside(
    small: Campaign, tmp_path: Path, settings: Any
) -> None:
    from ballots.paper.reconciliation import reconciliation

    junk = np.full((1700, 1200, 3), 255, np.uint8)
    cv2.putText(junk, "NOT A BALLOT", (100, 400), cv2.FONT_HERSHEY_SIMPLEX, 4, (0, 0, 0), 8)
    cv2.rectangle(junk, (100, 600), (1000, 1400), (0, 0, 0), 6)
    s = imp(small, write(tmp_path, "junk.png", junk))
    assert (s.pages, s.unreadable, s.ballots) == (1, 1, 0)
    page = ScanPage.objects.get(campaign=small)
    assert page.status == ScanPage.Status.UNREAD and page.problem
    assert reconciliation(small).total.scan_open == 1
    with pytest.raises(ValidationError, match="扫描"):
        campaign_set_status(campaign=small, status=Campaign.Status.CLOSED)
    with pytest.raises(S.ScanError):  # a reason is required
        S.page_set_aside(page=page, reason=" ", user=None)
    S.page_set_aside(page=page, reason="不是选票", user=None)
    assert reconciliation(small).total.scan_open == 0
    campaign_set_status(campaign=small, status=Campaign.Status.CLOSED)
    # Closed: no import, and the images read are not left behind.
    kept = images_on_disk(settings)
    with pytest.raises(S.ScanError):
        imp(small, write(tmp_path, "late.png", marked("small", 0, {0: 1})))
    assert images_on_disk(settings) == kept
    with pytest.raises(S.ScanError):
        S.page_set_aside(page=page, reason="again", user=None)
