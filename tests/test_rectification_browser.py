"""Issue 19, done when: the whole loop in a browser. Staff open the cases from the results;
the unit's contact (on a phone) sees only its own unit and submits a plan; an acceptor
approves it; the contact files the completion report; the acceptor accepts; staff publish the
整改公示 from the ledger and create the follow-up survey; the public page shows the case."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from assessments.models import UnitAccount
from campaigns.models import Campaign
from core.roles import ACCEPTOR, CONTACT
from rectification.models import Case
from tests.conftest import default_office, make_user
from tests.test_assessment_commands import survey_campaign

CHROMIUM = "/usr/bin/chromium"
WAIT = 30_000


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.django_db(transaction=True)
def test_the_whole_rectification_loop_in_a_browser(live_server, office, tmp_path):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    from tests.test_paper_browser import ARGS, logged_in, shot

    survey_campaign(tmp_path)
    Campaign.objects.filter(slug="pz").update(office=default_office())
    pz = Campaign.objects.get(slug="pz")
    acceptor = make_user("daibiao", ACCEPTOR)
    contact = make_user("bingju", CONTACT)
    UnitAccount.objects.create(user=contact, unit=pz.units.get(name="丙局").unit)
    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            staff = logged_in(browser, live_server, office)
            staff.set_default_timeout(WAIT)
            # 1. Staff open every proposed case, with the acceptor.
            staff.goto(base + reverse("rectification_campaign", args=["pz"]))
            staff.locator("#proposals .acceptors input").first.check()
            staff.locator("#proposals button").click()
            staff.wait_for_url(base + reverse("rectification_ledger", args=["pz"]))
            case = Case.objects.get(campaign=pz, unit_name="丙局")
            assert case.acceptors.filter(pk=acceptor.pk).exists()
            # 2. The contact, on a phone, sees only its unit and submits a plan.
            phone = logged_in(browser, live_server, contact, width=360, height=800)
            phone.set_default_timeout(WAIT)
            phone.goto(base + reverse("rect_my_cases"))
            listing = phone.content()
            assert "丙局" in listing and "乙局" not in listing
            phone.click(f"[data-case='{case.pk}']")
            phone.fill("#id_problems", "窗口服务态度生硬")
            phone.fill("#id_m0_text", "开展窗口礼仪培训")
            phone.fill("#id_m0_owner", "办公室主任")
            phone.fill("#id_m0_deadline", "2099-03-01")
            phone.click("#plan-form button")
            phone.wait_for_selector(".alert-success")
            # 3. The acceptor approves the plan.
            judge = logged_in(browser, live_server, acceptor)
            judge.set_default_timeout(WAIT)
            judge.goto(base + reverse("rect_case", args=[case.pk]))
            judge.click("#review-form button[value='approve']")
            judge.wait_for_selector(".alert-success")
            # 4. The contact files the completion report.
            phone.goto(base + reverse("rect_case", args=[case.pk]))
            phone.check("#report-form input[value='completion']")
            phone.fill("#id_text", "培训全部完成,群众回访满意")
            phone.click("#report-form button")
            phone.wait_for_selector(".alert-success")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 360
            shot(phone, "rect-loop-contact-360", full_page=True)
            # 5. The acceptor accepts.
            judge.goto(base + reverse("rect_case", args=[case.pk]))
            judge.fill("#note", "整改到位,同意验收")
            judge.click("#accept-form button[value='accept']")
            judge.wait_for_selector(".alert-success")
            # 6. Staff publish the 整改公示 and create the follow-up from the ledger.
            staff.goto(base + reverse("rectification_ledger", args=["pz"]))
            staff.click("#ledger-actions form[action$='publish/'] button")
            staff.wait_for_selector("#ledger-actions a[href$='/rectification/']")
            staff.click("#ledger-actions form[action$='followup/'] button")
            staff.wait_for_url(base + reverse("campaign_detail", args=["pz-hkk"]))
            shot(staff, "rect-loop-followup-1280", full_page=True)
            public = browser.new_page()
            public.goto(base + reverse("rectification_public", args=["pz"]))
            text = public.content()
            assert "丙局" in text and "开展窗口礼仪培训" in text and "整改到位,同意验收" in text
            assert "办公室主任" not in text
        finally:
            browser.close()
            connections.close_all()
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED
    assert Campaign.objects.get(slug="pz-hkk").units.filter(name="丙局").exists()
