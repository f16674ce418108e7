"""The phone ballot and the keying screen of a 两评一树 campaign in a real browser (Debian's
chromium, issue 17): the running count names leaders and the team, each leader shows the
post, the confirmation before sending speaks of 评议对象, and nothing is wider than 360 px.

Set PINGYI_SHOTS to a folder to keep the screenshots."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from tests.test_online_browser import phone
from tests.test_online_submit import one_code
from tests.test_paper_browser import browser, logged_in, shot  # noqa: F401  (fixture)
from tests.test_wording_ballot import COUNT, LEADERS, TEAM, liangping_subjects

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_phone_ballot_of_people_reads_right(live_server, browser, campaign_factory, office,  # noqa: F811
                                           clerk):
    camp = campaign_factory("liangping", slug="liangping-b", name="民政局两评一树测试")
    liangping_subjects(camp)
    campaign_set_status(campaign=camp, status=Campaign.Status.OPEN, user=office)
    code = one_code(camp)
    page = phone(browser)
    dialogs: list[str] = []

    def answer(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)

    page.goto(f"{live_server.url}/v/{camp.slug}/?c={code.code}")
    progress = page.locator(".ballot-progress [role=status]")
    assert progress.inner_text() == f"未评价 4 / {COUNT}"
    names = page.locator(".unit-name").all_inner_texts()
    assert names == [f"1. {TEAM}", *(f"{i}. {n}({p})" for i, (n, p) in enumerate(LEADERS, 2))]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "wording-ballot-people-360")
    shot(page, "wording-ballot-people-360-full", full_page=True)

    team = camp.units.get(name=TEAM)
    for dim in camp.dimensions.all():
        page.locator(f"input[name=u{team.pk}_d{dim.pk}]").first.check()
    assert page.locator("#unanswered").inner_text() == "3"
    page.locator("#submit-ballot").tap()
    assert len(dialogs) == 1 and "还有 3 个评议对象没有评价" in dialogs[0]
    assert "单位" not in dialogs[0]

    keying = logged_in(browser, live_server, clerk, width=1280, height=800)
    keying.goto(f"{live_server.url}/c/{camp.slug}/paper/")
    assert keying.locator("#k-count").inner_text() == COUNT
    assert keying.locator("#k-unit").inner_text() == f"{TEAM} · 工作评价"
    shot(keying, "wording-keying-people")
