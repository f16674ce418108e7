"""No English left in Chinese pages (issue 16): every admin changelist, rendered in zh-hans
for a superuser with rows in every table, names its filters and columns in Chinese; the
language menu names each language in itself; /favicon.ico answers; and the home page logs no
error in a real browser (Debian's chromium, as in tests/test_online_browser.py)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from ballots.models import AccessCode, Ballot, CodeAttempt, KeyedEntry, PrintedRange
from ballots.online.submit import ballot_submit
from campaigns.models import ImportBatch, Representative
from core.audit import audit
from core.models import BackgroundJob, StagedUpload
from tests.test_online_submit import all_satisfied, one_code, open_campaign

# Filters and columns that still read English because campaigns/models.py (not ours to edit
# here) leaves these fields without a verbose_name: (model, field). Remove an entry once the
# field gets its Chinese label; the test then holds it to Chinese too.
CAMPAIGNS_PENDING: set[tuple[str, str]] = set()  # every campaigns field is labelled now
# Apps whose models are not ours (django-tasks' result table): left as they come.
THIRD_PARTY_APPS = {"django_tasks_database"}

FILTER_TITLE = re.compile(r"<summary>\s*以\s+([^<]*?)\s*</summary>")
COLUMN = re.compile(r'<th scope="col" class="([^"]*)">(.*?)</th>', re.S)
TAG = re.compile(r"<[^>]+>")
ASCII_WORD = re.compile(r"[A-Za-z]{2,}")


@pytest.fixture
def filled(campaign_factory, office):
    """Two campaigns (so campaign filters show) and a row in every table the admin lists."""
    camp = open_campaign(campaign_factory, anonymous=False)
    campaign_factory("wanren")
    code = one_code(camp)
    ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
    one_code(camp)
    CodeAttempt.objects.create(client="10.0.0.1", campaign=camp, reason="unknown")
    CodeAttempt.objects.create(client="10.0.0.2", campaign=None, reason="malformed")
    group = camp.groups.first()
    Representative.objects.create(campaign=camp, group=group, name="张三", district="东区")
    ImportBatch.objects.create(campaign=camp, kind="ballots", filename="a.xlsx", sha256="0" * 64,
                               created_by=office)
    PrintedRange.objects.create(campaign=camp, first=1, last=10, count=10, created_by=office)
    KeyedEntry.objects.create(campaign=camp, serial="000001", pass_no=1, clerk=office,
                              answers=[1])
    BackgroundJob.objects.create(kind="评议码条", campaign_id=camp.pk, created_by=office)
    BackgroundJob.objects.create(kind="报告", status="done", file_removed="expired")
    StagedUpload.objects.create(kind="ballots", campaign_id=camp.pk, user=office,
                                filename="b.xlsx", size=1, sha256="1" * 64, stored_name="x")
    audit(user=office, action="campaign.update", obj=camp, reason="测试")
    assert Ballot.objects.exists() and AccessCode.objects.count() == 2
    return camp


def _field_of(model, name: str):
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def test_admin_changelists_have_no_english_filter_titles_or_columns(client, filled):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw-root"))
    problems: list[str] = []
    pending_seen: set[tuple[str, str]] = set()
    checked = 0
    for model in admin.site._registry:
        if model._meta.app_label in THIRD_PARTY_APPS:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        # What the page shows, not the filters' query strings (?reason__exact=unknown).
        shown = TAG.sub(" ", re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S))
        assert re.search(r"\bunknown\b", shown, re.I) is None, f"{url}: 'unknown'"
        english = [(t, t) for t in FILTER_TITLE.findall(html) if ASCII_WORD.match(t)]
        for cls, cell in COLUMN.findall(html):
            text = TAG.sub("", cell).strip()
            if ASCII_WORD.search(text) and text != "ID":
                column = re.search(r"column-(\S+)", cls)
                english.append((column.group(1) if column else cls, text))
        for name, text in english:
            key = (model.__name__, name)
            field = _field_of(model, name)
            untouched = field is not None and str(field.verbose_name) == name.replace("_", " ")
            if key in CAMPAIGNS_PENDING and untouched:
                pending_seen.add(key)
            else:
                problems.append(f"{model.__name__}: {text!r}")
        checked += 1
    assert checked >= 14
    assert problems == []
    # Only what campaigns/models.py still lacks is let through, and only while it lacks it.
    assert pending_seen <= CAMPAIGNS_PENDING


def test_admin_filters_and_columns_use_the_new_labels(client, filled):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw-root"))
    page = client.get(reverse("admin:ballots_codeattempt_changelist")).content.decode()
    assert "以 原因" in page and "以 评议活动" in page and "评议码不存在" in page
    page = client.get(reverse("admin:core_backgroundjob_changelist")).content.decode()
    assert "以 状态" in page and "创建时间" in page and "排队中" in page


def test_language_menu_names_each_language_in_itself(client, db):
    page = client.get(reverse("home")).content.decode()
    menu = page[page.index('id="lang"'):page.index("</select>")]
    assert ">English</option>" in menu and ">简体中文</option>" in menu
    assert "英语" not in menu
    client.cookies["django_language"] = "en"
    page = client.get(reverse("home")).content.decode()
    menu = page[page.index('id="lang"'):page.index("</select>")]
    assert ">简体中文</option>" in menu and "Simplified Chinese" not in menu


def test_favicon_is_linked_and_served(client, db):
    page = client.get(reverse("home")).content.decode()
    assert re.search(r'<link rel="icon" href="[^"]*favicon[^"]*\.svg"', page)
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith(".svg")
    svg = Path(__file__).resolve().parent.parent / "static" / "favicon.svg"
    assert "评" in svg.read_text(encoding="utf-8")


CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_home_page_logs_no_console_error(live_server, campaign_factory):
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from django.db import connections

    campaign_factory("qianren")
    errors: list[str] = []
    missing: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for width in (1280, 360):
                page = browser.new_page(viewport={"width": width, "height": 800}, locale="zh-CN")
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
                page.goto(live_server.url + reverse("home"), wait_until="networkidle")
                if shots := os.environ.get("PINGYI_SHOTS_DIR"):
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(shots) / f"home-{width}.png"))
                # The favicon request is made by the browser itself; ask for it as it would.
                page.goto(live_server.url + "/favicon.ico", wait_until="networkidle")
                page.close()
        finally:
            browser.close()
            connections.close_all()
    assert errors == [] and missing == []
