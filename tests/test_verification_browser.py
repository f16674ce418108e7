"""Browser test (issue 20): staff publish the ballot file beside the 公示; on a phone, by
keyboard alone, a representative checks their receipt on the 公示 page; the files offered
there recount to the published fingerprint.

Set PINGYI_SHOTS=/some/folder to also save screenshots."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from ballots.models import AccessCode
from ballots.online.codes import new_code
from ballots.online.submit import ballot_submit
from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from scoring.models import Publication
from scoring.publication import results_publish
from tests.test_online_submit import all_satisfied, open_campaign
from tests.test_paper_browser import ARGS, CHROMIUM, browser, logged_in, shot  # noqa: F401
from tests.test_publication import close

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def published(campaign_factory, office):
    camp = open_campaign(campaign_factory)
    codes = [AccessCode.objects.create(campaign=camp, code=new_code()) for _i in range(12)]
    for c in codes:
        ballot_submit(campaign=camp, code=c.code, answers=all_satisfied(camp))
    campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED, user=office)
    close(camp)
    results_publish(campaign=camp, user=office)
    for c in codes:
        c.refresh_from_db()
    return camp, codes


def test_staff_publish_the_file_and_a_phone_checks_a_receipt_by_keyboard(
    browser, live_server, published, office, tmp_path  # noqa: F811
):
    camp, codes = published
    staff = logged_in(browser, live_server, office)
    staff.goto(live_server.url + reverse("results", args=[camp.slug]) + "#verification")
    staff.get_by_role("button", name="公开选票明细").click()
    staff.wait_for_selector("text=选票明细已公开")
    shot(staff, "verify-results-staff", full_page=True)
    assert Publication.objects.get(campaign=camp).ballots_published_at is not None

    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN",
                                  accept_downloads=True)
    page = context.new_page()
    page.goto(live_server.url + reverse("public_results", args=[camp.slug]))
    fingerprint = Publication.objects.get(campaign=camp).fingerprint
    assert fingerprint in page.locator("#verify-title + p").inner_text()
    # No horizontal scrolling on a phone, the 64-digit fingerprint included.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "verify-public-360", full_page=True)
    # The files and the program, downloaded as an outsider would, recount to the fingerprint.
    folder = tmp_path / "files"
    folder.mkdir()
    for name in ("manifest.json", "ballots.jsonl", "ballots.csv", "recount.zip"):
        with page.expect_download() as info:
            page.get_by_role("link", name=name).click()
        info.value.save_as(str((tmp_path if name == "recount.zip" else folder) / name))
    zipfile.ZipFile(tmp_path / "recount.zip").extractall(tmp_path)
    done = subprocess.run([sys.executable, "-S", "-m", "recount", "files", "--fingerprint"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.stdout.strip() == fingerprint, done.stderr
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["ballots"][
        "rows"] == 12

    # The receipt check, by keyboard only: the link, the field, Enter.
    page.get_by_role("link", name="核对我的回执号").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("input[name=receipt]")
    page.keyboard.press("Tab")
    for _i in range(10):  # Tab to the field, wherever the page puts it
        if page.evaluate("document.activeElement.name") == "receipt":
            break
        page.keyboard.press("Tab")
    page.keyboard.type(codes[4].receipt.lower().replace("-", " "))
    page.keyboard.press("Enter")
    page.wait_for_selector("#receipt-answer")
    assert "已收到" in page.locator("#receipt-answer").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "verify-receipt-360", full_page=True)
    page.fill("input[name=receipt]", "ABCDE-FGHJK")
    page.keyboard.press("Enter")
    page.wait_for_selector("#receipt-answer.alert-danger")
    shot(page, "verify-receipt-unknown-360", full_page=True)
    context.close()
