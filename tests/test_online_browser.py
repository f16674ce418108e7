"""The online ballot in a real browser (Debian's chromium through Playwright): a 66-unit
ballot filled on a 360 px phone from the QR link to the receipt, surviving a reload; and a
small ballot filled by keyboard alone, checked through the accessibility tree (groups named
by their legends, radios by their labels).

Set PINGYI_SHOTS_DIR to a folder to keep screenshots of the pages (phone and desktop)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ballots.models import AccessCode, Ballot, Comment
from ballots.online.codes import receipt_of, voted_on
from campaigns.models import Campaign, CampaignUnit, Unit
from demo.data import UNITS_000
from tests.helpers import votes_of
from tests.test_online_submit import one_code, open_campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
SHOTS = os.environ.get("PINGYI_SHOTS_DIR")


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from django.db import connections

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()
            # Playwright's sync API runs the test in a greenlet with its own context, so the
            # ORM opened a connection of its own there: close it, or it outlives the test
            # database.
            connections.close_all()


def phone(browser):
    ctx = browser.new_context(
        viewport={"width": 360, "height": 800}, is_mobile=True, has_touch=True,
        device_scale_factor=1, locale="zh-CN",
    )
    return ctx.new_page()


def shot(page, name: str, full: bool = False) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=full)


def campaign_000(factory) -> Campaign:
    camp = open_campaign(factory, units=["占位"])
    camp.units.all().delete()
    for cat in camp.categories.all():
        for i, name in enumerate(UNITS_000[cat.name]):
            CampaignUnit.objects.create(
                campaign=camp, category=cat, name=name, order=i,
                unit=Unit.objects.get_or_create(name=name)[0],
            )
    camp.instructions = "请在每个单位后选择一项。可以对单位提出意见和建议。"
    camp.save(update_fields=["instructions"])
    assert camp.units.count() == 66
    return camp


def test_phone_fills_a_66_unit_ballot_and_reads_the_receipt(live_server, browser, campaign_factory):
    camp = campaign_000(campaign_factory)
    code = one_code(camp)
    page = phone(browser)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))

    # The QR link: the code leaves the address bar at once.
    page.goto(f"{live_server.url}/v/{camp.slug}/?c={code.code}")
    assert page.url == f"{live_server.url}/v/{camp.slug}/ballot/"
    assert page.locator("#unanswered").inner_text() == "66"
    shot(page, "ballot-360")
    # Nothing is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    labels = ["满意", "基本满意", "不满意"]
    units = list(camp.units.order_by("category__order", "order"))
    # Tap targets are at least 44 px high.
    box = page.locator(f"#unit-{units[0].pk} label.opt").first.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44

    for i, unit in enumerate(units[:30]):
        page.locator(f"#unit-{unit.pk} label.opt", has_text=labels[i % 3]).first.tap()
    assert page.locator("#unanswered").inner_text() == "36"

    # A dropped connection or a reload loses nothing: answers come back from the browser.
    page.reload()
    assert page.locator("#unanswered").inner_text() == "36"
    assert page.locator(f"input[name=u{units[29].pk}]:checked").count() == 1

    for i, unit in enumerate(units[30:65], start=30):
        option = page.locator(f"#unit-{unit.pk} label.opt", has_text=labels[i % 3]).first
        option.scroll_into_view_if_needed()
        option.tap()
    # An optional comment on one unit, and a general one.
    page.locator(f"#unit-{units[3].pk} details summary").tap()
    page.fill(f"#id_c{units[3].pk}", "办事窗口太少")
    page.fill("#id_general", "总体满意")
    assert page.locator("#unanswered").inner_text() == "1"
    shot(page, "ballot-360-filled", full=False)

    page.locator("#submit-ballot").tap()
    page.wait_for_url(f"{live_server.url}/v/{camp.slug}/receipt/")
    # The one unanswered unit was confirmed as 弃权 before anything was sent.
    assert len(dialogs) == 1 and "还有 1 个单位没有评价" in dialogs[0] and "弃权" in dialogs[0]
    shot(page, "receipt-360")
    receipt = page.locator("#receipt-number").inner_text().strip()
    code.refresh_from_db()
    assert voted_on(code) is not None and receipt == receipt_of(code)
    ballot = Ballot.objects.get(campaign=camp)
    votes = votes_of(ballot)
    assert len(votes) == 66
    assert sum(1 for v in votes if v[1] == "弃权") == 1
    assert sum(1 for v in votes if v[1] == "满意") == 22
    assert set(Comment.objects.values_list("text", flat=True)) == {"办事窗口太少", "总体满意"}
    # The draft is gone from the browser once the receipt is shown.
    assert page.evaluate("localStorage.length") == 0
    assert code.code not in page.url

    # The back button and a resubmission give the same receipt, and still one ballot.
    page.go_back()
    if "/ballot/" in page.url and page.locator("#submit-ballot").count():
        page.locator("#submit-ballot").tap()
        page.wait_for_url(f"{live_server.url}/v/{camp.slug}/receipt/")
    assert page.locator("#receipt-number").inner_text().strip() == receipt
    assert Ballot.objects.filter(campaign=camp).count() == 1


def test_keyboard_alone_and_screen_reader_names(live_server, browser, campaign_factory):
    camp = open_campaign(campaign_factory)
    code = one_code(camp)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{live_server.url}/v/{camp.slug}/")
    shot(page, "enter-1280")
    page.keyboard.type(code.code.lower())  # the code field has the focus
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/v/{camp.slug}/ballot/")
    shot(page, "ballot-1280", full=True)

    # Screen reader: each unit is a group named by its legend; each option a named radio.
    for n, unit in enumerate(camp.units.order_by("order"), start=1):
        group = page.get_by_role("group", name=f"{n}. {unit.name}", exact=True)
        assert group.count() == 1
        for label in ("满意", "基本满意", "不满意", "弃权"):
            assert group.get_by_role("radio", name=label, exact=True).count() == 1
    assert page.get_by_role("group", name="地方管理部门类", exact=True).count() == 1

    # Keyboard: Tab into each unit's radio group, arrow to 基本满意 (second option).
    answered = 0
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "[document.activeElement.type, document.activeElement.name, document.activeElement.id]"
        )
        if focused[0] == "radio" and not page.locator(f"input[name={focused[1]}]:checked").count():
            page.keyboard.press("ArrowRight")
            answered += 1
        if focused[2] == "submit-ballot":
            break
    assert answered == 3 and focused[2] == "submit-ballot"
    assert page.locator("#unanswered").inner_text() == "0"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/v/{camp.slug}/receipt/")
    shot(page, "receipt-1280")
    ballot = Ballot.objects.get()
    assert sum(1 for v in votes_of(ballot) if v[1] == "基本满意") == 3
    assert voted_on(AccessCode.objects.get(pk=code.pk)) is not None


def test_wanren_dimensions_as_columns_on_desktop_and_phone(live_server, browser, campaign_factory):
    camp = open_campaign(campaign_factory, preset="wanren")
    code = one_code(camp)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{live_server.url}/v/{camp.slug}/?c={code.code}")
    unit = camp.units.order_by("order").first()
    dims = page.locator(f"#unit-{unit.pk} fieldset.dim")
    assert dims.count() == 5
    tops = {round(dims.nth(i).bounding_box()["y"]) for i in range(5)}
    assert len(tops) == 1  # five columns side by side
    shot(page, "ballot-dimensions-1280")
    small = phone(browser)
    small.goto(f"{live_server.url}/v/{camp.slug}/ballot/")  # a new browser: needs the code
    assert small.url.endswith(f"/v/{camp.slug}/")
    small.fill("#id_code", code.code)
    small.locator("button", has_text="开始评议").tap()
    small.wait_for_url(f"{live_server.url}/v/{camp.slug}/ballot/")
    assert small.evaluate("document.documentElement.scrollWidth") <= 360
    shot(small, "ballot-dimensions-360")
