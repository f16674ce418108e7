"""Browser test (issue 5): two clerks key a 66-unit paper ballot by keyboard alone, in
Debian's Chromium through Playwright; the second, blind pass agrees and the ballot is counted.
A reload in the middle of the first pass loses nothing.

Set PINGYI_SHOTS=/some/folder to also save screenshots at 1280x900 and 360x800."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from ballots.models import Ballot, KeyedEntry
from ballots.paper.ranges import range_create
from campaigns.models import Campaign, CampaignUnit, Category, Unit
from campaigns.services import campaign_set_status
from demo.data import UNITS_000
from scoring.tally import tally_campaign

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# 66 keystrokes: all four options, blanks (0 and space) and one "several marks" (9).
KEYS = ("1234" * 16)[:60] + "10 921"
assert len(KEYS) == 66


@pytest.fixture
def camp66(campaign_factory, office):
    camp = campaign_factory("qianren", slug="qianren", name="千人评议机关")
    cats = {c.name: c for c in Category.objects.filter(campaign=camp)}
    n = 0
    for cat, names in UNITS_000.items():
        for name in names:
            n += 1
            CampaignUnit.objects.create(
                campaign=camp,
                category=cats[cat],
                name=name,
                order=n,
                unit=Unit.objects.get_or_create(name=name)[0],
            )
    campaign_set_status(campaign=camp, status=Campaign.Status.OPEN, user=office)
    range_create(campaign=camp, first=1, last=5000, channel="社会随机评", user=office)
    return camp


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
            # The test body runs in Playwright's greenlet, where the ORM opened a connection
            # of its own: close it, or it outlives the PostgreSQL test database.
            connections.close_all()


def logged_in(browser, live_server, user, width=1280, height=900):
    c = Client()
    c.force_login(user)
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.add_cookies(
        [{"name": "sessionid", "value": c.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context.new_page()


def shot(page, name, full_page=False):
    folder = os.environ.get("PINGYI_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def test_two_clerks_key_a_66_unit_ballot_by_keyboard_and_it_counts(
    browser, live_server, camp66, clerk, clerk2
):
    url = live_server.url + reverse("paper_entry", args=[camp66.slug])
    page = logged_in(browser, live_server, clerk)
    page.goto(url)
    # The serial field has the focus: no mouse from here on.
    page.keyboard.type("123")
    page.keyboard.press("Enter")
    page.keyboard.type(KEYS[:30])
    assert page.locator("tr.k-row.k-current").get_attribute("data-i") == "30"
    assert page.locator("#k-category").inner_text() == "地方管理部门类"
    shot(page, "keying-1280-midway")
    # A reload (or a crash of the tab) loses nothing: serial, keys and position come back.
    page.reload()
    assert page.locator("#id_serial").input_value() == "123"
    assert page.locator("tr.k-row.k-current").get_attribute("data-i") == "30"
    assert page.locator("tr.k-row.k-done").count() == 30
    assert "已恢复" in page.locator("#k-message").inner_text()
    page.keyboard.type(KEYS[30:50])
    assert page.locator("#k-category").inner_text() == "垂直管理部门类"
    page.keyboard.type(KEYS[50:])
    assert page.locator("#k-category").inner_text() == "金融部门类"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('k-message').textContent.includes('第一遍已保存')"
    )
    shot(page, "keying-1280-saved")
    # Saved: the screen is clear and ready for the next ballot, with the focus on the serial.
    assert page.locator("#id_serial").input_value() == ""
    assert page.locator("tr.k-row.k-done").count() == 0
    assert page.evaluate("document.activeElement.id") == "id_serial"
    assert KeyedEntry.objects.get().answers == [int(k) if k != " " else 0 for k in KEYS]
    assert not Ballot.objects.exists()

    second = logged_in(browser, live_server, clerk2)
    second.goto(url)
    second.keyboard.type("000123")
    second.keyboard.press("Enter")
    second.keyboard.type(KEYS)
    second.keyboard.press("Enter")
    second.wait_for_function(
        "() => document.getElementById('k-message').textContent.includes('已计入选票')"
    )
    ballot = Ballot.objects.get()
    assert (ballot.serial, ballot.status, ballot.channel) == ("000123", "valid", "社会随机评")
    assert tally_campaign(camp66).ballots.valid == 1
    kinds = [v.kind for v in ballot.votes()]
    assert kinds.count("spoiled") == 1 and len(kinds) == 66


def test_screens_at_phone_width_and_a_refused_serial(browser, live_server, camp66, clerk):
    page = logged_in(browser, live_server, clerk, width=360, height=800)
    page.goto(live_server.url + reverse("paper_entry", args=[camp66.slug]))
    # No sideways scrolling at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.keyboard.type("999999")
    page.keyboard.press("Enter")
    page.keyboard.type(KEYS)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('k-message').textContent.includes('不在已印制')"
    )
    # Refused: the keys stay, the serial is selected for correction.
    assert page.locator("tr.k-row.k-done").count() == 66
    assert page.evaluate("document.activeElement.id") == "id_serial"
    shot(page, "keying-360-refused")
    shot(page, "keying-360-refused-full", full_page=True)
    page.keyboard.type("42")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('k-message').textContent.includes('第一遍已保存')"
    )
    assert KeyedEntry.objects.get().serial == "000042"


def test_supervisor_pages_fit_a_phone(browser, live_server, camp66, office, clerk, clerk2):
    from ballots.paper.keying import entry_key

    keys = KEYS.replace(" ", "0")
    entry_key(campaign=camp66, clerk=clerk, serial="7", keys=keys)
    entry_key(campaign=camp66, clerk=clerk2, serial="7", keys="3" + keys[1:40] + "2" + keys[41:])
    entry_key(campaign=camp66, clerk=clerk, serial="8", keys=keys)
    entry = KeyedEntry.objects.filter(serial="000007").first()
    pages = {
        "disputes": reverse("paper_disputes", args=[camp66.slug]),
        "dispute": reverse("paper_dispute", args=[camp66.slug, entry.pk]),
        "reconciliation": reverse("reconciliation", args=[camp66.slug]),
        "print": reverse("paper_print", args=[camp66.slug]),
        "ballots": reverse("paper_ballots", args=[camp66.slug]) + "?serial=7",
    }
    for width, height in ((1280, 900), (360, 800)):
        page = logged_in(browser, live_server, office, width=width, height=height)
        for name, path in pages.items():
            page.goto(live_server.url + path)
            # No sideways scrolling of the page (wide tables scroll inside their own box).
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            shot(page, f"paper-{name}-{width}", full_page=True)
        page.context.close()
    # The dispute page shows the two differing rows side by side.
    page = logged_in(browser, live_server, office)
    page.goto(live_server.url + pages["dispute"])
    assert page.locator("tr.table-warning").count() == 2


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (360, 800)])
def test_a_typed_serial_is_checked_and_a_copy_needs_a_tick(
    browser, live_server, camp66, clerk, clerk2, width, height
):
    from ballots.paper.keying import entry_key

    keys = KEYS.replace(" ", "0")
    entry_key(campaign=camp66, clerk=clerk, serial="7", keys=keys)
    entry_key(campaign=camp66, clerk=clerk2, serial="7", keys=keys)
    page = logged_in(browser, live_server, clerk, width=width, height=height)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + reverse("paper_entry", args=[camp66.slug]))
    # Out of range: said as soon as the serial is left, before any key is pressed.
    page.keyboard.type("999999")
    page.keyboard.press("Enter")
    check = page.locator("#k-serial-check")
    check.wait_for(state="visible")
    assert "不在已印制的编号段内" in check.inner_text()
    assert page.locator("#k-confirm").is_hidden()
    # Already counted: the warning and the confirmation box appear.
    page.keyboard.press("Escape")
    page.keyboard.type("7")
    assert check.is_hidden()  # a changed serial drops the old answer
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('k-serial-check').textContent.includes('已有一张计入的选票')"
    )
    assert page.locator("#k-confirm").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"keying-{width}-counted-serial", full_page=True)
    # Keyed without the tick: refused, the keys stay, the focus goes to the box.
    page.keyboard.type(keys)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('k-message').textContent.includes('两张都将作无效')"
    )
    assert page.evaluate("document.activeElement.id") == "id_confirm_copy"
    assert page.locator("tr.k-row.k-done").count() == 66
    assert KeyedEntry.objects.count() == 2
    # Space ticks it, Enter saves: a first pass of the copy, the genuine ballot untouched.
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('k-message').textContent.includes('第一遍已保存')"
    )
    assert "已有选票" in page.locator("#k-message").inner_text()
    assert page.locator("#k-confirm").is_hidden() and check.is_hidden()
    copy = KeyedEntry.objects.get(copy_no=2)
    assert (copy.serial, copy.pass_no) == ("000007", 1)
    assert Ballot.objects.get().status == "valid"
    # Nothing refused by the Content-Security-Policy (the 409 above is the expected refusal).
    assert [e for e in errors if "Content Security Policy" in e or "Refused" in e] == []
