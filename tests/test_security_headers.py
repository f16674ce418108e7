"""Security headers (core/middleware.py): a Content-Security-Policy that allows nothing from
other sites and no inline script without the request's nonce, a Permissions-Policy, and
`Cache-Control: no-store` for logged-in users; the templates keep to the policy, and pages
in Debian's Chromium report no violation."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse

from campaigns.models import CampaignUnit
from core.jobs import job_start
from core.middleware import SecurityHeadersMiddleware
from tests.results_fixtures import results_campaign  # noqa: F401
from tests.test_online_submit import one_code, open_campaign

TEMPLATES = Path(django_settings.BASE_DIR) / "templates"


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_the_policy_allows_nothing_from_elsewhere(client, db):
    r = client.get(reverse("home"))
    csp = directives(r["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"]
    script = csp["script-src"]
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    for values in csp.values():
        for value in values:
            assert not re.match(r"(https?:|\*|//)", value), value
    assert "camera=()" in r["Permissions-Policy"] and "microphone=()" in r["Permissions-Policy"]
    # Anonymous pages keep their own caching rules.
    assert "no-store" not in r.get("Cache-Control", "")


def _page(template: str):
    def view(request):
        return HttpResponse(engines["django"].from_string(template).render(request=request))

    return view


def test_an_inline_script_needs_the_requests_nonce():
    request = RequestFactory().get("/")
    marked = SecurityHeadersMiddleware(_page('<script nonce="{{ csp_nonce }}">go()</script>'))
    r = marked(request)
    nonce = re.search(r'nonce="([^"]+)"', r.content.decode()).group(1)
    assert len(nonce) >= 16
    assert f"'nonce-{nonce}'" in directives(r["Content-Security-Policy"])["script-src"]
    # A fresh one each time; a page that uses none allows no inline script at all.
    again = marked(RequestFactory().get("/"))
    assert nonce not in again["Content-Security-Policy"]
    plain = SecurityHeadersMiddleware(_page("<p>{{ 1 }}</p>"))(RequestFactory().get("/"))
    assert "nonce-" not in plain["Content-Security-Policy"]


def test_report_only_mode(db, client, settings):
    settings.PINGYI_CSP_REPORT_ONLY = True
    r = client.get(reverse("home"))
    assert "Content-Security-Policy" not in r
    assert "default-src 'self'" in r["Content-Security-Policy-Report-Only"]


def test_staff_pages_with_results_or_codes_are_not_stored(
    client, leader, office, results_campaign, django_capture_on_commit_callbacks, settings, tmp_path  # noqa: F811
):
    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private"
    unit = CampaignUnit.objects.filter(campaign=results_campaign).first()
    client.force_login(leader)
    for url in (
        reverse("results", args=["golden"]),
        reverse("unit_results", args=["golden", unit.pk]),
        reverse("home"),
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"], url
    client.force_login(office)
    for url in (reverse("codes", args=["golden"]), reverse("codes_download", args=["golden"])):
        r = client.get(url)
        assert r.status_code == 200 and "no-store" in r["Cache-Control"], url
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(
            kind="test", handler="tests.test_jobs.sample_handler", campaign=None, user=office
        )
    r = client.get(reverse("job_download", args=[job.pk]))
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    assert "Content-Security-Policy" in r


# Inline event handlers allowed by their hash in settings.PINGYI_CSP (base.html's menu).
ALLOWED_HANDLERS = {'onchange="this.form.submit()"'}
# Rendered by WeasyPrint only, never served to a browser.
PDF_TEMPLATES = {
    "ballots/codes/slips.html",
    "ballots/paper/print_ballots.html",
    "scoring/report_pdf.html",
    "scoring/feedback_pdf.html",
}


def test_templates_keep_to_the_policy():
    """Every inline <script> carries the nonce; no inline event handler but the hashed one;
    nothing is loaded from another site."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'nonce="{{ csp_nonce }}"' not in tag:
                problems.append(f"{name}: inline script without the nonce: {tag}")
        for handler in re.findall(r"\son[a-z]+=\"[^\"]*\"", text):
            if handler.strip() not in ALLOWED_HANDLERS:
                problems.append(f"{name}: inline event handler {handler.strip()}")
        if "javascript:" in text:
            problems.append(f"{name}: javascript: URL")
        if name not in PDF_TEMPLATES:
            for url in re.findall(r"(?:src|href)=\"(https?:)?//[^\"]*\"", text):
                problems.append(f"{name}: external resource {url}")
    assert not problems, "\n".join(problems)


# --- In the browser -----------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


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
            connections.close_all()


def _watch(page) -> list[str]:
    """Console messages and securitypolicyviolation events about the policy."""
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    return seen


def _visit(page, url: str, seen: list[str]) -> list[str]:
    page.goto(url, wait_until="load")
    try:
        # Give late requests (fonts, polling) a moment to report a violation; a page that keeps
        # a connection open is not itself a violation, so no idle network is required.
        page.wait_for_load_state("networkidle", timeout=3000)
    except Exception:  # playwright's TimeoutError
        pass
    return [*seen, *page.evaluate("window.__csp")]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_report_no_violation_in_chromium(
    live_server, browser, office, campaign_factory, results_campaign, settings, tmp_path  # noqa: F811
):
    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private"
    office.is_superuser = True  # every admin page
    office.save()
    camp = open_campaign(campaign_factory)
    code = one_code(camp)
    unit = CampaignUnit.objects.filter(campaign=results_campaign).first()

    voter = browser.new_page()
    seen = _watch(voter)
    assert _visit(voter, f"{live_server.url}/", seen) == []
    assert _visit(voter, f"{live_server.url}/v/{camp.slug}/?c={code.code}", seen) == []
    assert voter.url.endswith("/ballot/")
    # The ballot's script runs: it counts the units still unanswered.
    assert voter.locator("#unanswered").inner_text().strip().isdigit()
    assert _visit(voter, f"{live_server.url}{reverse('login')}", seen) == []
    # The language menu submits itself through its inline handler (allowed by its hash).
    with voter.expect_navigation():
        voter.select_option("#lang", "en")
    voter.wait_for_load_state("load")
    assert "Log in" in voter.content() and voter.evaluate("window.__csp") == [] and seen == []

    staff = browser.new_page()
    seen = _watch(staff)
    _visit(staff, f"{live_server.url}{reverse('login')}", seen)
    staff.fill("#id_username", "office")
    staff.fill("#id_password", "pw-office")
    staff.locator("main button").click()
    staff.wait_for_url(f"{live_server.url}/")
    for path in (
        reverse("results", args=["golden"]),
        reverse("unit_results", args=["golden", unit.pk]),
        reverse("codes", args=[camp.slug]),
        "/admin/",
        "/admin/core/auditlog/",
        "/admin/campaigns/campaign/",
        f"/admin/campaigns/campaign/{camp.pk}/change/",
    ):
        assert _visit(staff, f"{live_server.url}{path}", seen) == [], path
    # A job's page polls its progress with an inline script (marked with the nonce).
    staff.goto(f"{live_server.url}{reverse('codes', args=[camp.slug])}")
    staff.locator("form[action$='/codes/slips/'] button").click()
    try:
        # The job page polls until the slips are made, then offers their download.
        staff.locator("#job-download").wait_for(state="visible", timeout=30_000)
    finally:
        assert seen == [], seen  # a blocked script would leave the job page waiting
    assert staff.evaluate("window.__csp") == []
