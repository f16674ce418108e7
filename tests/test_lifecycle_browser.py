"""Issue 16, done when: the whole lifecycle of a campaign, as the office's staff, in a browser,
without opening /admin/ once: create from a preset, edit its scale and instructions, import
units and representatives, fill
in the 公示 notice, codes and their slips, start, one online vote, a printed range, paper
keying, end, the PDF report, publish, and the public page seen logged out.

Paper keying is in it as the preset's campaign does it: each paper ballot is keyed twice
(double_entry) by two different clerks of the office, each logged in at the staff login page in
a browser of their own; the two passes of one serial from the printed range agree, and the
ballot is counted beside the online vote. The keying screen's own details (reloads, refused
serials, copies, phone widths) have their browser tests in tests/test_paper_browser.py."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from ballots.models import AccessCode, Ballot, KeyedEntry
from campaigns.models import Campaign
from core.models import AuditLog
from scoring.tally import tally_campaign
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


def log_in(page, base: str, username: str, next_path: str) -> None:  # type: ignore[no-untyped-def]
    """Through the staff login page (the fixtures' password is "pw-" + username)."""
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{next_path}")


def key_paper_ballot(page, serial: str, keys: str, done: str) -> None:  # type: ignore[no-untyped-def]
    """On the keying screen: the serial, Enter, one key per row, Enter; wait for `done`."""
    page.locator("#id_serial").focus()
    page.keyboard.type(serial)
    page.keyboard.press("Enter")
    page.keyboard.type(keys)
    assert page.locator("tr.k-row.k-done").count() == len(keys)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "t => document.getElementById('k-message').textContent.includes(t)", arg=done, timeout=WAIT
    )


def test_whole_lifecycle_as_office_staff_without_the_admin(
    live_server, browser, office, clerk, clerk2, tmp_path
):
    base = live_server.url
    visited: list[str] = []
    context, page = watched(browser, visited)

    # Log in through the staff login page.
    log_in(page, base, office.username, "/c/new/")

    # 1. A campaign from the qianren preset.
    page.check("#id_preset_qianren")
    page.fill("#id_name", "2026年千人评议机关")
    page.fill("#id_slug", SLUG)
    page.fill("#id_year", "2026")
    page.get_by_role("button", name="创建").click()
    page.wait_for_url(f"{base}/c/{SLUG}/")
    campaign = Campaign.objects.get(slug=SLUG)

    # 1b. The configuration from the checklist's 配置: the scale's weights and the ballot's
    # instructions (the voter sees them in step 6's ballot).
    page.locator('[data-step="scale"]').get_by_role("link", name="配置").click()
    page.wait_for_url(f"{base}/c/{SLUG}/setup/config/")
    page.fill("#id_options-0-weight", "10")
    page.fill("#id_instructions", "请在每个单位后选一项。")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{base}/c/{SLUG}/")
    assert campaign.options.first().weight == 10  # type: ignore[union-attr]

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
    assert "请在每个单位后选一项。" in voter.content()  # step 1b's instructions
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

    # 7b. Paper keying, twice: two clerks of the office (the clerk role, members of the
    # campaign's office), each logged in in a browser of their own, key the same numbered
    # ballot from that range with the same marks. The first pass waits; the second agrees and
    # the ballot is counted.
    assert campaign.double_entry
    assert campaign.office is not None
    assert {clerk, clerk2} <= set(campaign.office.members.all())
    printed = campaign.printed_ranges.get()
    serial = printed.fmt(17)
    n_rows = campaign.units.count()  # the preset asks one question per unit
    keys = ("21" * n_rows)[:n_rows]
    for clerk_user, done in ((clerk, "第一遍已保存"), (clerk2, "已计入选票")):
        clerk_context, keyer = watched(browser, visited)
        log_in(keyer, base, clerk_user.username, f"/c/{SLUG}/paper/")
        assert keyer.locator("tr.k-row").count() == n_rows
        key_paper_ballot(keyer, serial, keys, done)
        assert serial in keyer.locator("#k-message").inner_text()
        shot(keyer, f"lifecycle-keying-{clerk_user.username}")
        clerk_context.close()
        if clerk_user == clerk:  # one pass: nothing counted yet
            assert not Ballot.objects.filter(campaign=campaign, source="paper").exists()
    entries = KeyedEntry.objects.filter(campaign=campaign, serial=serial).order_by("pass_no")
    assert [(e.pass_no, e.clerk_id, e.status) for e in entries] == [
        (1, clerk.pk, "agreed"),
        (2, clerk2.pk, "agreed"),
    ]
    assert entries[0].answers == entries[1].answers == [int(k) for k in keys]
    paper = Ballot.objects.get(campaign=campaign, source="paper")
    assert (paper.serial, paper.status, paper.channel) == (serial, "valid", "社会随机评")
    assert Ballot.objects.filter(campaign=campaign, serial=serial).count() == 1
    options = list(campaign.options.order_by("order", "id"))  # key 1 is the first option
    votes = paper.votes()
    assert {v.kind for v in votes} == {"option"}
    assert Counter(v.option_id for v in votes) == Counter(options[int(k) - 1].pk for k in keys)
    # Counted: the online vote and the paper ballot, in the tally and on the results page.
    ballots = tally_campaign(campaign).ballots
    assert (ballots.total, ballots.valid, ballots.by_source) == (2, 2, {"online": 1, "paper": 1})
    page.goto(f"{base}/c/{SLUG}/results/")
    stats = dict(
        zip(
            page.locator("dl.stats dt").all_inner_texts(),
            page.locator("dl.stats dd").all_inner_texts(),
            strict=True,
        )
    )
    assert (stats["有效票"], stats["其中网上"], stats["其中纸质"]) == ("2", "1", "1"), stats

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
