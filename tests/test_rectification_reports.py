"""Issue 19: once cases exist the campaign's PDF and workbook gain a 整改情况 section and each
unit's 反馈单 lists its open cases (scoring/extensions.py: scoring asks, rectification answers,
and nothing imports upward)."""

from __future__ import annotations

import io
import subprocess

import openpyxl

from scoring.reports import build_report
from tests.results_fixtures import results_campaign  # noqa: F401  (a fixture)
from tests.test_rectification_contact import loop  # noqa: F401  (the fixture)


def pdf_text(data: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_reports_show_the_cases_and_the_feedback_sheet_lists_open_ones(loop, tmp_path):  # noqa: F811
    pz = loop["pz"]
    text = pdf_text(build_report(pz, "pdf").data, tmp_path)
    assert "整改情况" in text and "评议结果为末位,须限期整改" in text and "乙局满意率低" in text
    wb = openpyxl.load_workbook(io.BytesIO(build_report(pz, "xlsx").data))
    assert "整改情况" in wb.sheetnames
    rows = list(wb["整改情况"].iter_rows(values_only=True))
    assert any(r and r[0] == "丙局" and r[3] == "未提交方案" for r in rows)
    bing = pz.units.get(name="丙局")
    sheet = pdf_text(build_report(pz, "feedback", unit_keys=[str(bing.pk)]).data, tmp_path)
    assert "整改事项" in sheet and "评议结果为末位" in sheet and "乙局满意率低" not in sheet


def test_without_cases_the_reports_are_as_before(qianren, tmp_path):
    text = pdf_text(build_report(qianren, "pdf").data, tmp_path)
    assert "整改情况" not in text


def test_the_published_rectification_shows_on_the_campaigns_public_page(
    client, office, results_campaign  # noqa: F811
):
    import datetime as dt

    from django.urls import reverse

    from rectification.followup import ledger_publish
    from rectification.services import case_open
    from tests.test_publication import close

    close(results_campaign)
    client.force_login(office)
    client.post(reverse("results_publish", args=[results_campaign.slug]))
    cu = results_campaign.units.first()
    case_open(campaign=results_campaign, unit=cu.unit, unit_name=cu.name, flag="last_place",
              problem="窗口服务须改进", deadline=dt.date(2027, 6, 30), user=office)
    client.logout()
    public = reverse("public_results", args=[results_campaign.slug])
    assert "整改情况公示" not in client.get(public).content.decode()  # not published yet
    ledger_publish(campaign=results_campaign, user=office)
    page = client.get(public).content.decode()
    assert "整改情况公示" in page and "窗口服务须改进" in page and "未提交方案" in page
