"""Issue 16, done when: the whole lifecycle of a campaign, as the office's staff, in a browser,
without opening /admin/ once: create from a preset, import units and representatives, fill
in the 公示 notice, codes and their slips, start, one online vote, a printed range, end,
the PDF report, publish, and the public page seen logged out.

Paper keying is not in it: the preset's campaign keys each paper ballot twice (double_entry),
by two different clerks, and the office's pages do not turn that off; the keying pages have
their own browser tests (tests/test_paper_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ballots.models import AccessCode, Ballot
from campaigns.models import Campaign
from core.models import AuditLog
from tests.helpers import xlsx_bytes
from tests.test_paper_browser import ARGS, CHROMIUM, shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]
WAIT = 30_000  # ms: no single wait longer
SLUG = "qianren-2026"
UNITS = [
    ("类别", "单位", "垂直管理", "一票否决"),
    ("地方管理部门类", "市教育局", "否", "否"),
    ("垂直管理部门类", "市税务局", "是", "否"),
    ("金融部门类", "市农商银行", "否", "否"),
]
REPS = [
    ("姓名", "代表类别", "片区", "单位及职务", "手机", "新聘"),
    ("张一", "服务对象", "东区", "个体户", "13800000001", "是"),
    ("李二", "服务对象", "西区", "教师", "13800000002", "否"),
    ("王三", "党政干部和各界代表", "东区", "干部", "13800000003", "是"),
]


@pytest.fixture(autouse=True)
def _upload_root(settings, tmp_path):
    settings.PINGYI_UPLOAD_ROOT = tmp_path / "uploads"


@pytest.fixture
def browser():
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()
            connections.close_all()  # the ORM's connection from Playwright's greenlet


def watched(browser, visited: list[str]):  # type: ignore[no-untyped-def]
    """A new page whose every request (pages, forms, polls, downloads) is noted."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(WAIT)
    context.on("request", lambda r: visited.append(r.url))
    return context, context.new_page()


def job_done(page) -> str:  # type: ignore[no-untyped-def]
    """On a job page: wait for its download link; fetch it; its content type."""
    assert re.search(r"/jobs/[0-9a-f-]{36}/$", page.url), page.url
    link = page.locator("#job-download a")
    link.wait_for(state="visible", timeout=WAIT)
    response = page.context.request.get(link.evaluate("a => a.href"), timeout=WAIT)
    assert response.status == 200
    return response.headers["content-type"]


def status_change(page, base: str, button: str) -> None:  # type: ignore[no-untyped-def]
    """开始评议 / 结束评议 from the checklist, its preflight page, then confirm."""
    page.goto(f"{base}/c/{SLUG}/")
    page.locator('[data-step="status"]').get_by_role("button", name=button).click()
    page.wait_for_load_state()
    assert page.locator("#blocks").count() == 0, page.locator("#blocks").inner_text()
    page.get_by_role("button", name=f"确认{button}").click()
    page.wait_for_url(f"{base}/c/{SLUG}/")


def test_whole_lifecycle_as_office_staff_without_the_admin(
    live_server, browser, office, tmp_path
):
    base = live_server.url
    visited: list[str] = []
    context, page = watched(browser, visited)

    # Log in through the staff login page.
    page.goto(f"{base}/accounts/login/?next=/c/new/")
    page.fill("#id_username", "office")
    page.fill("#id_password", "pw-office")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/c/new/")

    # 1. A campaign from the qianren preset.
    page.check("#id_preset_qianren")
    page.fill("#id_name", "2026年千人评议机关")
    page.fill("#id_slug", SLUG)
    page.fill("#id_year", "2026")
    page.get_by_role("button", name="创建").click()
    page.wait_for_url(f"{base}/c/{SLUG}/")
    campaign = Campaign.objects.get(slug=SLUG)

    # 2. Units, then representatives: upload, preview, confirm.
    for step, rows, sheet in (("units", UNITS, "单位"), ("representatives", REPS, "代表")):
        path = tmp_path / f"{step}.xlsx"
        path.write_bytes(xlsx_bytes({sheet: rows}))
        page.goto(f"{base}/c/{SLUG}/setup/{step}/")
        page.locator("#upload-form input[type=file]").set_input_files(str(path))
        page.get_by_role("button", name="上传并预览").click()
        page.get_by_role("button", name="确认导入").click()
        page.wait_for_url(f"{base}/c/{SLUG}/")
        assert page.locator(f'[data-step="{step}"]').get_attribute("data-done") == "1", step
    assert campaign.units.count() == 3 and campaign.representatives.count() == 3

    # 3. The 公示 notice on the rules page.
    page.goto(f"{base}/c/{SLUG}/setup/rules/")
    page.fill("#id_notice_from", "2026-12-20")
    page.fill("#id_notice_to", "2026-12-27")
    page.fill("#id_objection_phone", "0571-12345678")
    page.fill("#id_issuer", "市千人评议机关活动办公室")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{base}/c/{SLUG}/")

    # 4. A code for each representative, and their slips (a background job).
    page.goto(f"{base}/c/{SLUG}/codes/")
    page.get_by_role("button", name="每人生成一个评议码").click()
    page.wait_for_load_state()
    assert AccessCode.objects.filter(campaign=campaign).count() == 3
    page.get_by_role("button", name="生成评议码条 (PDF)").click()
    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]{36}/$"))
    assert job_done(page).startswith("application/pdf")

    # 5. Start: the preflight page, then confirm.
    status_change(page, base, "开始评议")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.OPEN

    # 6. One representative votes, in a browser of their own (the code from their slip).
    code = AccessCode.objects.filter(campaign=campaign).order_by("code").first()
    assert code is not None
    voter_context, voter = watched(browser, visited)
    voter.goto(f"{base}/v/{SLUG}/")
    voter.fill("#id_code", code.code)
    voter.get_by_role("button", name="开始评议").click()
    voter.wait_for_url(f"{base}/v/{SLUG}/ballot/")
    units = voter.locator("[data-unit]")
    assert units.count() == 3
    for i in range(3):
        units.nth(i).locator("label.opt").first.click()  # 满意
    voter.locator("#submit-ballot").click()
    voter.wait_for_url(f"{base}/v/{SLUG}/receipt/")
    assert voter.locator("#receipt-number").inner_text().strip()
    voter_context.close()
    assert Ballot.objects.filter(campaign=campaign).count() == 1

    # 7. A printed range, registered only (printed elsewhere).
    page.goto(f"{base}/c/{SLUG}/paper/print/")
    page.fill("#id_first", "1")
    page.fill("#id_last", "50")
    page.fill("#id_channel", "社会随机评")
    page.uncheck("#id_make_pdf")
    page.get_by_role("button", name="登记编号段").click()
    page.wait_for_url(f"{base}/c/{SLUG}/paper/print/")
    assert campaign.printed_ranges.count() == 1

    # 8. End.
    status_change(page, base, "结束评议")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CLOSED

    # 9. The PDF report (a background job), then publish.
    page.goto(f"{base}/c/{SLUG}/results/")
    page.get_by_role("button", name="下载 PDF 报告").click()
    page.wait_for_url(re.compile(r".*/jobs/[0-9a-f-]{36}/$"))
    assert job_done(page).startswith("application/pdf")
    page.goto(f"{base}/c/{SLUG}/results/")
    assert page.locator("#publish-problems").count() == 0
    page.get_by_role("button", name="公示结果").click()
    page.wait_for_url(f"{base}/c/{SLUG}/results/")
    page.get_by_role("link", name="查看公示页面").wait_for()
    shot(page, "lifecycle-results-published")
    context.close()

    # 10. The public page, logged out.
    public_context, public = watched(browser, visited)
    public.goto(f"{base}/p/{SLUG}/")
    assert public.url == f"{base}/p/{SLUG}/"
    body = public.locator("body").inner_text()
    assert "市教育局" in body and "市千人评议机关活动办公室" in body
    public_context.close()

    # Everything through the office's pages: not one request to the admin.
    assert visited and not [u for u in visited if "/admin/" in u]
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"units.import", "campaign.update"} <= actions
