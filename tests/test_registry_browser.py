"""Browser test (issue 22) in Debian's Chromium through Playwright: a department registers an
activity on a phone (360 px, keyboard), the reviewers' list and an activity's timeline, the
published list for anyone, phone-wide too. Set PINGYI_SHOTS=/some/folder to keep screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_user

CHROMIUM = "/usr/bin/chromium"
WAIT = 30_000
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]


def no_sideways_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_department_form_on_a_phone_the_reviewers_list_and_the_published_list(live_server):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    from core.roles import DEPARTMENT, OFFICE
    from demo.registry_demo import _build, _users
    from registry.models import Activity
    from registry.services import account_link, cleanup_create, cleanup_set_status, organiser_add
    from tests.test_paper_browser import ARGS, logged_in, shot

    users = _users("pw-demo")
    done = _build(users)
    current = cleanup_create(preset="pingbi", slug="pb2026", name="2026年清理规范评比达标表彰活动",
                             year=2026, office="市联席会议办公室")
    cleanup_set_status(cleanup=current, status="self_check")
    dept = make_user("jiaoyuju2", DEPARTMENT)
    account_link(organiser=organiser_add(cleanup=current, name="市教育局"), account=dept)
    base = live_server.url
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            # 1. The department on its phone: its page, then the form, by keyboard.
            phone = logged_in(browser, live_server, dept, width=360, height=800)
            phone.set_default_timeout(WAIT)
            phone.goto(f"{base}/reg/")  # one cleanup: straight to its own page
            assert phone.url.endswith("/reg/pb2026/mine/")
            assert no_sideways_scroll(phone)
            shot(phone, "department_page_360", full_page=True)
            phone.get_by_role("link", name="登记一个项目").click()
            phone.get_by_label("项目名称").focus()
            phone.keyboard.type("全市中小学艺术节优秀节目评比")
            phone.get_by_label("系统", exact=True).select_option("government")
            phone.get_by_label("评比", exact=True).check()
            phone.get_by_label("基层", exact=True).check()
            phone.get_by_label("举办周期").select_option("yearly")
            phone.get_by_label("依据类别").select_option("local")
            phone.get_by_label("依据文件及文号").fill("市教育局文件")
            phone.get_by_label("以各种名目收费").check()
            phone.get_by_label("保留", exact=True).check()
            assert no_sideways_scroll(phone)
            shot(phone, "department_form_360", full_page=True)
            phone.get_by_role("button", name="保存", exact=True).click()
            errors = phone.locator(".invalid-feedback").all_inner_texts()
            assert any("须说明具体理由" in e for e in errors)
            phone.get_by_label("理由", exact=True).focus()
            phone.keyboard.type("丰富校园文化生活")
            phone.keyboard.press("Tab")
            phone.get_by_role("button", name="保存", exact=True).press("Enter")
            phone.wait_for_url("**/reg/pb2026/mine/")
            assert "全市中小学艺术节优秀节目评比" in phone.content()
            assert "以各种名目收费" in phone.content()  # the screening flag, shown to it too
            shot(phone, "department_page_after_360", full_page=True)
            assert Activity.objects.get(cleanup=current).created_by == dept

            # 2. The reviewers' list and an activity's timeline, on a desktop screen.
            staff = logged_in(browser, live_server, users["jiwei"], width=1280, height=900)
            staff.set_default_timeout(WAIT)
            staff.goto(f"{base}/reg/{done.slug}/activities/")
            assert staff.locator("tr[data-activity]").count() == 20
            shot(staff, "reviewers_list_1280", full_page=True)
            staff.goto(f"{base}/reg/{done.slug}/")
            shot(staff, "cleanup_page_1280", full_page=True)
            changed = Activity.objects.get(cleanup=done, name="全市青年岗位能手评比")
            staff.goto(f"{base}/reg/{done.slug}/activities/{changed.pk}/")
            assert staff.locator("#timeline li").count() == 5
            shot(staff, "activity_timeline_1280", full_page=True)

            # 3. The office creating a campaign meanwhile, on a phone: the freeze asks for the
            # registered activity or a reason.
            office = make_user("office", OFFICE, staff=True)
            small_office = logged_in(browser, live_server, office, width=360, height=800)
            small_office.goto(f"{base}/c/new/")
            assert "清理规范期间不得举办新的评比达标表彰活动" in small_office.content()
            small_office.locator("#freeze-note").scroll_into_view_if_needed()
            assert no_sideways_scroll(small_office)
            shot(small_office, "campaign_new_freeze_360")

            # 4. The published list, for anyone, on a desktop and a phone.
            public = browser.new_context(viewport={"width": 1280, "height": 900},
                                         locale="zh-CN").new_page()
            public.goto(f"{base}/p/reg/{done.slug}/")
            assert "保留的评比达标表彰项目公示" in public.content()
            shot(public, "published_list_1280", full_page=True)
            small = browser.new_context(viewport={"width": 360, "height": 800},
                                        locale="zh-CN").new_page()
            small.goto(f"{base}/p/reg/{done.slug}/")
            assert no_sideways_scroll(small)
            shot(small, "published_list_360", full_page=True)
        finally:
            browser.close()
            connections.close_all()
