"""Issue 19, year-on-year consequences: 连续两年末位 shows the document's consequence from the
campaign's configuration (000: 引咎辞职或降职免职; vertical units: 建议调离) on the unit's
page and in the rules in words; the unit's page lists its past cases and how they ended."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.rules import rules_in_words
from campaigns.services import campaign_clone_for_next_year
from rectification.services import case_open
from tests.conftest import TEST_OFFICE
from tests.helpers import xlsx_file


def _ballots(slug: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [("编号", "甲局", "乙局", "丙局")] + [
        (f"{slug}{i}", "满意", "不满意", "不满意" if i % 2 else "满意") for i in range(10)]
    call_command("import_ballots", slug, str(xlsx_file(tmp_path, f"{slug}.xlsx", {"票": rows})))


def test_two_years_last_show_the_documents_consequence_and_past_cases(
    client, leader, office, tmp_path
):
    call_command("create_campaign", "--preset", "qianren", "--slug", "q25", "--name",
                 "2025年千人评议", "--year", "2025", "--office", TEST_OFFICE)
    units = [("类别", "单位", "垂直管理"), ("地方管理部门类", "甲局", "否"),
             ("地方管理部门类", "乙局", "是"), ("地方管理部门类", "丙局", "否")]
    call_command("import_units", "q25", str(xlsx_file(tmp_path, "u.xlsx", {"单位": units})))
    _ballots("q25", tmp_path)
    q25 = Campaign.objects.get(slug="q25")
    yi = q25.units.get(name="乙局")
    case_open(campaign=q25, unit=yi.unit, unit_name="乙局", flag="last_place",
              problem="评议结果为末位,须限期整改", deadline=dt.date(2026, 6, 30), user=office)
    q26 = campaign_clone_for_next_year(source=q25, slug="q26")
    _ballots("q26", tmp_path)
    assert any("引咎辞职" in r for r in rules_in_words(q26))
    client.force_login(leader)
    page = client.get(reverse("unit_results", args=["q26", q26.units.get(name="乙局").pk]))
    html = page.content.decode()
    assert 'id="consecutive"' in html and "建议其主要领导调离" in html  # a vertical unit
    assert "引咎辞职" not in html.split('id="consecutive"')[1].split("</div>")[0]
    assert 'id="case-history"' in html and "评议结果为末位,须限期整改" in html and "未提交方案" in html
    q26.units.filter(name="乙局").update(vertical=False)
    html = client.get(reverse("unit_results", args=["q26", q26.units.get(name="乙局").pk])
                      ).content.decode()
    assert "责成其主要负责人引咎辞职" in html.split('id="consecutive"')[1]
