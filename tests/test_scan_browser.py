"""Browser test (issue 21): a clerk confirms the uncertain rows of a scanned ballot by keyboard
alone in Debian's Chromium, and the ballot is counted; the same screen at 360 px.

The ballots are the campaign's own printed PDF, rendered at 200 dpi and marked in their boxes
(a shaded box is what the reader cannot be sure of). Set PINGYI_SHOTS=/some/folder to also
save screenshots of the scan desk and the confirmation screen at 1280 and 360 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

pytest.importorskip("cv2")
pytest.importorskip("zxingcpp")
pytest.importorskip("pypdfium2")

from ballots.answers import KIND_SPOILED  # noqa: E402
from ballots.models import Ballot, ScanPage  # noqa: E402
from tests.scan_helpers import scanned  # noqa: E402, F401
from tests.test_paper_browser import CHROMIUM, browser, logged_in, shot  # noqa: E402, F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def test_a_clerk_confirms_uncertain_rows_by_keyboard_and_the_ballot_counts(
    browser, live_server, scanned, clerk, office  # noqa: F811
):
    camp, summary, plan, plan2 = scanned
    assert (summary.pages, summary.ballots, summary.to_confirm) == (2, 0, 2)
    page_row = ScanPage.objects.get(campaign=camp, serial="000001")
    page_row2 = ScanPage.objects.get(campaign=camp, serial="000002")
    assert [r[0] for r in page_row.rows if not r[2]] == [2]
    assert [r[0] for r in page_row2.rows if not r[2]] == [4]
    assert not Ballot.objects.filter(campaign=camp).exists()

    desk = logged_in(browser, live_server, office)
    desk.goto(live_server.url + reverse("scan_desk", args=[camp.slug]))
    assert "还有 2 页待处理" in desk.locator("main").inner_text()
    shot(desk, "scan-desk-1280", full_page=True)

    page = logged_in(browser, live_server, clerk)
    page.goto(live_server.url + reverse("scan_confirm", args=[camp.slug]))
    # Both pages on one screen, in scanning order, each with its one uncertain row.
    field_id = f"row-{page_row.pk}-2"
    field = page.locator(f"#{field_id}")
    assert page.locator("input.scan-key").count() == 2
    # The machine's reading is there to start from; the crop of the row is an image that loaded.
    assert field.input_value() in ("0", "2", "9")
    assert page.evaluate("document.querySelector('img.scan-crop').naturalWidth") > 100
    assert page.evaluate("document.activeElement.id") == field_id
    shot(page, "scan-confirm-1280")
    page.keyboard.type("3")
    assert page.evaluate("document.activeElement.id") == f"row-{page_row2.pk}-4"
    page.keyboard.type("9")  # several marks: spoiled
    assert page.evaluate("document.activeElement.id") == "scan-save"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "已确认 2 页,计入 2 张选票" in page.locator("main").inner_text()
    ballot = Ballot.objects.get(campaign=camp, serial="000001")
    assert ballot.source == Ballot.Source.PAPER and ballot.batch.kind == "scans"
    keys = {}
    options = list(camp.options.order_by("order", "id").values_list("id", flat=True))
    for i, vote in enumerate(ballot.votes()):
        keys[i] = options.index(vote.option_id) + 1 if vote.option_id else 0
    assert keys[2] == 3
    assert all(keys[r] == k for r, k in plan.items())
    second = Ballot.objects.get(campaign=camp, serial="000002").votes()
    assert second[4].option_id is None and second[4].kind == KIND_SPOILED  # not blank
    assert ScanPage.objects.filter(campaign=camp, status=ScanPage.Status.COUNTED).count() == 2
    # The supervisor's sample shows a page the machine read alone... here none: both pages
    # had a person, so the sample is empty and says so.
    desk.goto(live_server.url + reverse("scan_sample", args=[camp.slug]))
    assert "目前没有需要抽查的页面" in desk.locator("main").inner_text()


def test_the_confirmation_screen_fits_360px(browser, live_server, scanned, clerk):  # noqa: F811
    camp = scanned[0]
    page = logged_in(browser, live_server, clerk, width=360, height=800)
    page.goto(live_server.url + reverse("scan_confirm", args=[camp.slug]))
    # Nothing wider than the screen: the crop scales down, the key field stays beside it.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = page.locator("input.scan-key").first.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360
    shot(page, "scan-confirm-360", full_page=True)
    # The whole page on demand, in a tab of its own: the staff-only image view.
    with page.context.expect_page() as tab:
        page.locator("a", has_text="查看整页").first.click()
    image = tab.value
    image.wait_for_load_state()
    assert image.evaluate("document.images[0].naturalWidth") > 800


def test_a_supervisor_checks_a_sampled_page_against_its_image(
    browser, live_server, campaign_factory, office, settings, tmp_path  # noqa: F811
):
    from ballots.scan.services import scan_import
    from ballots.services import Layout
    from tests.scan_helpers import marked_pages, small_campaign

    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private"
    camp, pdf, layout = small_campaign(campaign_factory, office, slug="chouyang", ballots=1)
    plan = {row: 1 + row % 4 for row in range(len(Layout.of(camp).cells))}
    scan_import(campaign=camp, files=marked_pages(pdf, layout, [(plan, -1)], tmp_path),
                user=office)
    page = logged_in(browser, live_server, office)
    page.goto(live_server.url + reverse("scan_sample", args=[camp.slug]))
    text = page.locator("main").inner_text()
    # The machine's reading of every row beside the page's image.
    assert text.count("基本满意") >= 2 and "市人社局" in text
    assert page.evaluate("document.querySelector('main img').naturalWidth") > 800
    shot(page, "scan-sample-1280", full_page=True)
    with page.expect_navigation():
        page.locator("button", has_text="全部一致").click()
    assert "目前没有需要抽查的页面" in page.locator("main").inner_text()
    assert ScanPage.objects.get(campaign=camp).sample_ok is True
