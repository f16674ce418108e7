"""Issue 18, pages: the list, overview, ranked result and unit sheet of an assessment, on the
worked example of assessment.md section 8 built through the commands; who may see them.

Set PINGYI_SHOTS=/some/folder to also save screenshots at 1280 and 360 px (browser test)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from assessments.entries import entry_review, entry_submit, objection_decide, objection_lodge
from assessments.models import Assessment, Section
from assessments.words import rules_in_words
from campaigns.models import Office
from core.roles import OFFICE
from tests.conftest import default_office, make_user
from tests.test_assessment_commands import build, survey_campaign


def _text(response) -> str:  # type: ignore[no-untyped-def]
    """The page as read: tags dropped, whitespace squeezed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _client(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def example(tmp_path, db) -> Assessment:
    survey_campaign(tmp_path)
    build(tmp_path)
    a = Assessment.objects.get(slug="zf-2026")
    a.office = default_office()
    a.save(update_fields=["office"])
    return a


@pytest.mark.django_db
def test_the_list_shows_the_office_s_assessments(example, office):
    r = _client(office).get(reverse("assessment_list"))
    assert r.status_code == 200
    text = _text(r)
    assert "2026年度作风效能考评" in text and "倒扣分制" in text and "未定稿" in text


@pytest.mark.django_db
def test_the_ranked_result_of_the_worked_example(example, office):
    r = _client(office).get(reverse("assessment_result", args=["zf-2026"]))
    assert r.status_code == 200
    text = _text(r)
    # Rows in rank order: rank, unit, the four deductions, total, grade.
    rows = re.findall(r"<tr><td class=\"table-num\">(\d)</td><th[^>]*><a[^>]*>(.)局</a></th>"
                      r"((?:<td class=\"table-num\">[^<]*</td>){4})<td[^>]*>([^<]*)</td>"
                      r"<td[^>]*>([^<]*)", r.content.decode())
    table = [(rank, unit, re.findall(r">([^<]*)</td>", values), total, grade.strip())
             for rank, unit, values, total, grade in rows]
    assert table == [
        ("1", "甲", ["0", "0", "0", "0"], "100", "优秀"),
        ("2", "丁", ["4", "0", "1", "2"], "93", "优秀"),
        ("3", "乙", ["8", "0", "2.5", "5"], "84.5", "良好"),
        ("4", "丙", ["0", "15", "10", "0"], "75", "合格"),
    ]
    # The bands with their consequences, and the rules in words.
    assert "通报批评,限期整改" in text and "通报表彰" in text
    assert "督办落实:不按时落实每件次扣4分" in text
    assert "被执法执纪部门处理视情节轻重每件次扣10—20分" in text
    assert "满意率达90%以上不扣分,每降低一个百分点扣1分" in text
    assert "倒扣分制" in text and "基础分100分" in text
    assert "连续两年评为优秀的单位" in text and "授予先进单位称号" in text
    assert "名次相同(如1、2、2、4)" in text and "不排名" in text
    assert example.fingerprint == "" and len(re.findall(r"[0-9a-f]{64}", text)) == 1


@pytest.mark.django_db
def test_rules_in_words_follow_the_configuration(example):
    s = example.sections.get(name="督办落实")
    s.cap = 6
    s.save()
    words = rules_in_words(example)
    assert any(w.startswith("督办落实:") and "本项最多扣6分" in w for w in words)
    assert any("90分以上为优秀(通报表彰)" in w and "不到60分为不合格" in w for w in words)
    rollup = next(w for w in words if w.startswith("科室评议:"))
    assert "每个下级评议对象" in rollup and "逐个计入本单位扣分" in rollup


@pytest.mark.django_db
def test_a_unit_sheet_lists_every_entry_and_its_survey_figures(example, office):
    a = example
    yi = a.units.get(name="乙局")
    section = a.sections.get(name="督办落实")
    item = section.items.get()
    # Not counted: one rejected, one pending, one objected to and accepted.
    entry_review(entry=entry_submit(unit=yi, section=section, item=item, count=3,
                                    source="市委督查室", basis="督字〔2026〕9号", user=office),
                 approve=False, reason="依据不足", user=office)
    entry_submit(unit=yi, section=section, item=item, count=1, source="市委督查室",
                 basis="督字〔2026〕10号", user=office)
    objected = entry_review(entry=entry_submit(unit=yi, section=section, item=item, count=1,
                                               source="市委督查室", basis="督字〔2026〕11号",
                                               user=office), approve=True, reason="", user=office)
    objection_lodge(entry=objected, text="已按时落实", user=office)
    objection_decide(entry=objected, accept=True, reason="核实已落实", user=office)
    r = _client(office).get(reverse("assessment_unit", args=["zf-2026", yi.pk]))
    assert r.status_code == 200
    text = _text(r)
    assert "84.5" in text and "良好" in text and "3 / 4" in text
    assert "督字〔2026〕3号" in text and "2026-05-01" in text and "市委督查室" in text
    html = r.content.decode()
    counted = re.findall(r'<tr class="entry-counted">(.*?)</tr>', html)
    assert len(counted) == 1 and "督字〔2026〕3号" in counted[0] and ">8<" in counted[0]
    not_counted = re.findall(r'<tr class="entry-not-counted[^"]*">(.*?)</tr>', html)
    assert len(not_counted) == 3
    assert "未通过" in text and "依据不足" in text and "待审核" in text
    assert "申诉成立" in text and "核实已落实" in text
    # The survey figures: its own rate, and each section's in the rollup.
    assert "评议" in text and "87.5%" in text
    assert "乙局办公室 85%" in text and "乙局征管科 96%" in text
    # The result did not move: only the approved entry counts.
    assert "84.5" in text


@pytest.mark.django_db
def test_a_grade_requiring_rectification_says_so(example, office):
    bing = example.units.get(name="丙局")
    band = example.bands.get(label="合格")
    band.minimum = 76
    band.save()
    r = _client(office).get(reverse("assessment_unit", args=["zf-2026", bing.pk]))
    text = _text(r)
    assert "不合格" in text and "通报批评,限期整改" in text and "须限期整改" in text


@pytest.mark.django_db
def test_the_overview_lists_data_and_what_is_missing(example, office):
    a = example
    Section.objects.filter(assessment=a, name__in=["民主评议", "科室评议"]).update(campaign=None)
    r = _client(office).get(reverse("assessment_overview", args=["zf-2026"]))
    assert r.status_code == 200
    text = _text(r)
    assert "考核项目“民主评议”尚未关联评议活动,所有单位都缺此项" in text
    # A rollup in deduction mode deducts nothing without its campaign: said, not silent.
    assert "考核项目“科室评议”尚未关联评议活动,目前各单位此项按不扣分计算" in text
    assert "未关联" in text and "市委督查室" in text and "市纪委监委" in text
    # All four units lack the unlinked section.
    missing = re.search(r'<section id="missing".*?</section>', r.content.decode(), re.S)
    assert missing is not None
    for unit in ("甲局", "乙局", "丙局", "丁局"):
        assert unit in missing.group(0)
    assert missing.group(0).count("民主评议") == 4
    # And the result page lists them unranked with the flag in words.
    result = _text(_client(office).get(reverse("assessment_result", args=["zf-2026"])))
    assert "数据不全(缺:民主评议)" in result


@pytest.mark.django_db
def test_the_overview_counts_entries_per_section_and_source(example, office):
    text = _text(_client(office).get(reverse("assessment_overview", args=["zf-2026"])))
    assert "市委督查室 2 2 0 0" in text
    assert "市纪委监委 1 1 0 0" in text
    assert "各单位的数据齐全" in text


@pytest.mark.django_db
def test_another_office_sees_nothing_and_a_clerk_is_refused(example, office, clerk):
    other = make_user("other", OFFICE)
    default_office().members.remove(other)
    Office.objects.create(name="另一评议办公室").members.add(other)
    yi = example.units.get(name="乙局")
    urls = [reverse("assessment_overview", args=["zf-2026"]),
            reverse("assessment_result", args=["zf-2026"]),
            reverse("assessment_unit", args=["zf-2026", yi.pk])]
    for url in urls:
        assert _client(other).get(url).status_code == 404
        assert _client(clerk).get(url).status_code == 403
        assert _client(office).get(url).status_code == 200
    assert "2026年度作风效能考评" not in _text(_client(other).get(reverse("assessment_list")))
    assert _client(clerk).get(reverse("assessment_list")).status_code == 403
    # Without an office: only those who see all offices.
    Assessment.objects.filter(pk=example.pk).update(office=None)
    assert _client(office).get(urls[0]).status_code == 404
    boss = User.objects.create_superuser("boss", "b@example.org", "pw-boss")
    assert _client(boss).get(urls[0]).status_code == 200


@pytest.mark.django_db
def test_a_unit_of_another_assessment_is_not_found(example, office, tmp_path):
    r = _client(office).get(reverse("assessment_unit", args=["zf-2026", 99999]))
    assert r.status_code == 404


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.django_db(transaction=True)
def test_the_pages_at_1280_and_360_px_by_keyboard(tmp_path, live_server, office):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    from tests.test_paper_browser import ARGS, logged_in, shot

    survey_campaign(tmp_path)
    build(tmp_path)
    a = Assessment.objects.get(slug="zf-2026")
    a.office = default_office()
    a.save(update_fields=["office"])
    yi = a.units.get(name="乙局")
    pages = {
        "list": reverse("assessment_list"),
        "overview": reverse("assessment_overview", args=["zf-2026"]),
        "result": reverse("assessment_result", args=["zf-2026"]),
        "unit": reverse("assessment_unit", args=["zf-2026", yi.pk]),
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            errors: list[str] = []
            for width, height in ((1280, 900), (360, 800)):
                page = logged_in(browser, live_server, office, width, height)
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                for name, url in pages.items():
                    page.goto(live_server.url + url)
                    shot(page, f"assessment-{name}-{width}", full_page=True)
                    # Nothing but the tables scrolls sideways.
                    assert page.evaluate(
                        "document.documentElement.scrollWidth <= window.innerWidth + 1"
                    ), (name, width)
                # By keyboard: from the result page, tab to 乙局's link and open its sheet.
                page.goto(live_server.url + pages["result"])
                for _i in range(200):
                    page.keyboard.press("Tab")
                    if page.evaluate("document.activeElement.textContent") == "乙局":
                        break
                page.keyboard.press("Enter")
                page.wait_for_url(f"**{pages['unit']}")
                assert "84.5" in page.locator("#summary").inner_text()
            # With a survey section unlinked: the warning and the units missing it.
            Section.objects.filter(assessment=a, name="民主评议").update(campaign=None)
            for width, height in ((1280, 900), (360, 800)):
                page = logged_in(browser, live_server, office, width, height)
                page.goto(live_server.url + pages["overview"])
                assert "尚未关联评议活动" in page.locator(".alert-warning").first.inner_text()
                shot(page, f"assessment-overview-missing-{width}", full_page=True)
                page.goto(live_server.url + pages["result"])
                assert page.locator(".flag-no_votes").count() == 4
                shot(page, f"assessment-result-missing-{width}", full_page=True)
            assert not errors, errors
        finally:
            browser.close()
            connections.close_all()


@pytest.mark.django_db
@pytest.mark.parametrize("preset", ["zuofeng", "zhengfeng_zonghe"])
def test_both_presets_render_with_their_rules_in_words(preset, office):
    from django.core.management import call_command

    call_command("create_assessment", "--preset", preset, "--slug", "p", "--name", "预设考核",
                 "--year", "2026")
    a = Assessment.objects.get(slug="p")
    a.office = default_office()
    a.save(update_fields=["office"])
    words = rules_in_words(a)
    if preset == "zuofeng":
        assert words[0].startswith("本考核实行倒扣分制")
        assert any("视情节轻重每件次扣10—20分" in w for w in words)
        assert any("授予先进单位称号" in w for w in words) and any("提出处理建议" in w for w in words)
    else:
        assert words[0].startswith("本考核实行加权综合")
        assert any("(满分" in w for w in words)
        assert any("评为优等次的单位中,按名次取前" in w for w in words)
    c = _client(office)
    assert c.get(reverse("assessment_overview", args=["p"])).status_code == 200
    page = _text(c.get(reverse("assessment_result", args=["p"])))
    for w in words:
        assert w in page, w
