"""Scanned ballots follow the paper rules (issue 21): a photocopy makes every ballot of its
serial invalid, a ballot lacking a page or whose pages disagree waits, a campaign cannot close
while pages wait, the reconciliation counts scanned ballots, a typed serial completes a page
whose QR code was blotted, and a stack is imported all or nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")

from ballots.models import Ballot, ScanPage  # noqa: E402
from ballots.paper.reconciliation import reconciliation  # noqa: E402
from ballots.scan.services import (  # noqa: E402
    ScanError,
    page_confirm,
    page_set_aside,
    page_set_serial,
    scan_import,
)
from ballots.services import Layout, ballot_create  # noqa: E402
from campaigns.models import Campaign  # noqa: E402
from campaigns.services import campaign_set_status  # noqa: E402
from tests.scan_helpers import marked_pages, small_campaign  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture
def printed(campaign_factory, office, settings, tmp_path):
    """A six-unit campaign with ballots 1..3 printed and scanned clean (one page each)."""
    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private"
    camp, pdf, layout = small_campaign(campaign_factory, office, slug="guize", ballots=3)
    n = len(Layout.of(camp).cells)
    plans = [({row: 1 + (row + b) % 4 for row in range(n)}, -1) for b in range(3)]
    files = marked_pages(pdf, layout, plans, tmp_path)
    return camp, layout, files, plans


def _copy(path, tmp_path, name):
    """A photocopy: the same page, a little darker and shifted (the same QR code)."""
    img = cv2.imread(str(path))
    img = np.roll((img * 0.93).astype(np.uint8), (6, 4), axis=(0, 1))
    out = tmp_path / name
    cv2.imwrite(str(out), img)
    return out, name


def test_a_photocopy_makes_both_ballots_invalid(printed, office, tmp_path):
    camp, _layout, files, _plans = printed
    copy = _copy(files[0][0], tmp_path, "copy.png")
    summary = scan_import(campaign=camp, files=[*files, copy], user=office)
    assert summary.ballots == 4
    same = Ballot.objects.filter(campaign=camp, serial="000001")
    assert same.count() == 2
    assert set(same.values_list("invalid_reason", flat=True)) == {"duplicate_serial"}
    assert Ballot.objects.get(campaign=camp, serial="000002").status == Ballot.Status.VALID


def test_a_serial_both_keyed_and_scanned_is_a_copy_too(printed, office):
    camp, _layout, files, plans = printed
    ballot_create(campaign=camp, source=Ballot.Source.PAPER, serial="000002",
                  marks=[plans[1][0][r] for r in range(len(plans[1][0]))])
    scan_import(campaign=camp, files=files, user=office)
    keyed_and_scanned = Ballot.objects.filter(campaign=camp, serial="000002")
    assert keyed_and_scanned.count() == 2
    assert {b.invalid_reason for b in keyed_and_scanned} == {"duplicate_serial"}


def test_closing_is_refused_while_a_page_waits_and_the_reconciliation_counts_scans(
    printed, office, tmp_path
):
    camp, layout, files, _plans = printed
    # The QR code of ballot 3 blotted out: its page waits for a person to type the serial.
    img = cv2.imread(str(files[2][0]))
    q = layout["pages"][0]["qr"]
    s = 200 / 72
    img[int(q["y"] * s) - 4 : int((q["y"] + q["height"]) * s) + 4,
        int(q["x"] * s) - 4 : int((q["x"] + q["width"]) * s) + 4] = 255
    cv2.imwrite(str(files[2][0]), img)
    summary = scan_import(campaign=camp, files=files, user=office)
    assert (summary.ballots, summary.unreadable) == (2, 1)
    page = ScanPage.objects.get(campaign=camp, status=ScanPage.Status.SERIAL)
    rec = reconciliation(camp)
    assert (rec.total.scanned, rec.total.scan_open, rec.total.returned) == (2, 1, 2)
    # Its serial unknown yet, the page counts outside every range; the range misses a paper.
    assert rec.balanced and rec.rows[0].not_back == 1 and rec.rows[-1].scan_open == 1
    with pytest.raises(ValidationError, match="扫描页"):
        campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED, user=office)
    with pytest.raises(ScanError):
        page_set_serial(page=page, serial="999", user=office)  # in no printed range
    page_set_serial(page=page, serial="3", user=office)  # padded like the range: 000003
    assert Ballot.objects.filter(campaign=camp, serial="000003").count() == 1
    rec = reconciliation(camp)
    assert (rec.total.scanned, rec.total.scan_open, rec.rows[0].not_back) == (3, 0, 0)
    campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED, user=office)


def test_a_page_confirmed_twice_or_incompletely_is_refused(printed, office, tmp_path):
    camp, layout, files, plans = printed
    from tests.scan_helpers import shade

    img = cv2.imread(str(files[0][0]))
    box = next(b for b in layout["pages"][0]["boxes"] if b["row"] == 1 and b["key"] == 3)
    shade(img, box, 200 / 72)
    cv2.imwrite(str(files[0][0]), img)
    scan_import(campaign=camp, files=files[:1], user=office)
    page = ScanPage.objects.get(campaign=camp)
    assert page.status == ScanPage.Status.CONFIRM
    unsure = [r[0] for r in page.rows if not r[2]]
    with pytest.raises(ScanError, match="未确认"):
        page_confirm(page=page, keys={}, user=office)
    with pytest.raises(ScanError, match="无效的键"):
        page_confirm(page=page, keys={r: 7 for r in unsure}, user=office)  # 4 options
    page_confirm(page=page, keys={r: 2 for r in unsure}, user=office)
    with pytest.raises(ScanError, match="他人"):
        page_confirm(page=page, keys={r: 2 for r in unsure}, user=office)
    assert Ballot.objects.filter(campaign=camp).count() == 1


def test_the_same_stack_twice_is_refused_and_nothing_is_kept(printed, office, settings):
    camp, _layout, files, _plans = printed
    scan_import(campaign=camp, files=files, user=office)
    images = sorted((settings.PINGYI_PRIVATE_FILES_ROOT / "scans").rglob("*.jpg"))
    with pytest.raises(ScanError, match="已经导入过"):
        scan_import(campaign=camp, files=files, user=office)
    assert ScanPage.objects.filter(campaign=camp).count() == 3
    assert sorted((settings.PINGYI_PRIVATE_FILES_ROOT / "scans").rglob("*.jpg")) == images


def test_a_page_set_aside_no_longer_blocks_closing(printed, office, tmp_path):
    camp, _layout, files, _plans = printed
    bad = tmp_path / "smudge.png"
    cv2.imwrite(str(bad), np.full((2339, 1654, 3), 120, np.uint8))  # a dark, markless sheet
    summary = scan_import(campaign=camp, files=[(bad, "smudge.png")], user=office)
    assert summary.unreadable == 1
    page = ScanPage.objects.get(campaign=camp)
    with pytest.raises(ScanError):
        page_set_aside(page=page, reason=" ", user=office)
    page_set_aside(page=page, reason="已手工录入", user=office)
    campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED, user=office)


def test_a_ballot_lacking_a_page_or_with_pages_that_disagree_waits(
    campaign_factory, office, settings, tmp_path
):
    from ballots.paper.printing import print_range
    from ballots.paper.ranges import range_create
    from demo.data import UNITS_000
    from tests.helpers import add_units

    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private"
    camp = campaign_factory("qianren", slug="liangye", name="两页选票")
    add_units(camp, dict(UNITS_000))
    campaign_set_status(campaign=camp, status=Campaign.Status.OPEN, user=office)
    rng = range_create(campaign=camp, first=1, last=2, user=office)
    pdf = print_range(rng)
    rng.refresh_from_db()
    assert len(rng.layout["pages"]) == 2
    n = len(Layout.of(camp).cells)
    plan = {row: 1 + row % 4 for row in range(n)}
    a1, a2, b1, b2 = marked_pages(pdf, rng.layout, [(plan, -1), (plan, -1)], tmp_path)
    # Page 1 of ballot 1 and page 2 of ballot 2: pages that disagree on the serial.
    summary = scan_import(campaign=camp, files=[a1, b2], user=office)
    assert (summary.ballots, summary.waiting) == (0, 2)
    assert not Ballot.objects.filter(campaign=camp).exists()
    with pytest.raises(ValidationError, match="扫描页"):
        campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED, user=office)
    # The missing pages come in a later stack: each ballot is completed, in ballot order.
    summary = scan_import(campaign=camp, files=[b1, a2], user=office)
    assert summary.ballots == 2
    for serial in ("000001", "000002"):
        votes = Ballot.objects.get(campaign=camp, serial=serial).votes()
        options = list(camp.options.order_by("order", "id").values_list("id", flat=True))
        assert [options.index(v.option_id) + 1 for v in votes] == [plan[r] for r in range(n)]
    assert not ScanPage.objects.filter(campaign=camp).exclude(status="counted").exists()


@pytest.mark.parametrize("key", [1, 3])
def test_the_same_option_on_every_row_is_read_as_marked(
    campaign_factory, office, settings, tmp_path, key
):
    """The voter satisfied with every unit: the column of marks is no empty level."""
    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private"
    camp, pdf, layout = small_campaign(campaign_factory, office, slug=f"quanbu{key}", ballots=1)
    n = len(Layout.of(camp).cells)
    files = marked_pages(pdf, layout, [({row: key for row in range(n)}, -1)], tmp_path)
    summary = scan_import(campaign=camp, files=files, user=office)
    assert (summary.confident, summary.ballots) == (1, 1)
    options = list(camp.options.order_by("order", "id").values_list("id", flat=True))
    votes = Ballot.objects.get(campaign=camp).votes()
    assert [v.option_id for v in votes] == [options[key - 1]] * n
