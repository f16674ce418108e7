"""Issue 18, reports: the worked example of assessment.md section 8 as the 通报-style PDF
(read back with pdftotext) and the Excel workbook (read back with openpyxl)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from assessments.models import AssessmentUnit
from tests.helpers import xlsx_file
from tests.test_assessment_commands import CONFIG, build, survey_campaign

BASIS = "督字〔2026〕3号"


def report(tmp_path, fmt: str, slug: str = "zf-2026"):  # type: ignore[no-untyped-def]
    out = tmp_path / f"{slug}.{fmt}"
    call_command("assessment_report", slug, "--format", fmt, "-o", str(out), stdout=io.StringIO())
    return out


@pytest.fixture
def example(tmp_path):  # type: ignore[no-untyped-def]
    survey_campaign(tmp_path)
    build(tmp_path)
    return tmp_path


@pytest.mark.django_db
def test_the_workbook_holds_the_worked_example(example):
    wb = load_workbook(report(example, "xlsx"))
    assert wb.sheetnames == ["汇总", "督办落实", "违纪违规", "民主评议", "科室评议", "扣分明细", "规则"]
    ws = wb["汇总"]
    header = [c.value for c in ws[2]]
    assert header[:3] == ["类别", "名次", "单位"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    by = {r[2]: dict(zip(header, r, strict=True)) for r in rows}
    assert [r[2] for r in rows] == ["甲局", "丁局", "乙局", "丙局"]
    assert by["乙局"]["总分"] == 84.5 and by["乙局"]["等次"] == "良好" and by["乙局"]["名次"] == 3
    assert by["乙局"]["民主评议扣分"] == 2.5 and by["乙局"]["科室评议扣分"] == 5
    assert by["丙局"]["总分"] == 75 and by["甲局"]["总分"] == 100
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$2:$2"
    # The items section: the raw total of the entries beside the deduction.
    items = [[c.value for c in r] for r in wb["督办落实"].iter_rows(min_row=2)]
    assert ["市直机关", "乙局", 8, 8, 2] in items
    survey = {r[1].value: r[3].value for r in wb["民主评议"].iter_rows(min_row=2)}
    assert survey["乙局"] == pytest.approx(0.875)
    entries = [[c.value for c in r] for r in wb["扣分明细"].iter_rows(min_row=1)]
    assert entries[0][:9] == ["单位", "考核项目", "扣分事项", "次数", "每次扣分", "扣分", "得分",
                              "提供单位", "依据"]
    yi = [r for r in entries if r[0] == "乙局"]
    assert len(yi) == 1 and yi[0][1:6] == ["督办落实", "不按时落实", 2, 4, 8]
    assert yi[0][7:9] == ["市委督查室", BASIS] and yi[0][10] == "已通过"
    assert {r[0] for r in entries[1:]} == {"乙局", "丙局", "丁局"}
    rules = [r[1].value for r in wb["规则"].iter_rows(min_row=2)]
    assert any("通报表彰" in r for r in rules) and any("倒扣分制" in r for r in rules)


@pytest.mark.django_db
def test_a_unit_named_like_a_formula_stays_text(example):
    AssessmentUnit.objects.filter(name="丙局").update(name="=HYPERLINK(\"x\")")
    wb = load_workbook(report(example, "xlsx"))
    cells = [c for r in wb["汇总"].iter_rows(min_row=3) for c in r if c.column == 3]
    odd = [c for c in cells if str(c.value).startswith("=")]
    assert len(odd) == 1 and odd[0].data_type == "s"
    detail = [r[0] for r in wb["扣分明细"].iter_rows(min_row=2)
              if str(r[0].value).startswith("=")]
    assert detail and all(c.data_type == "s" for c in detail)


def pdf_text(path) -> str:  # type: ignore[no-untyped-def]
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")
@pytest.mark.django_db
def test_the_pdf_reads_as_the_worked_example(example):
    from assessments.adapter import assess_assessment
    from assessments.models import Assessment

    text = pdf_text(report(example, "pdf"))
    assert "2026年度作风效能考评结果通报" in text
    lines = [line.split() for line in text.splitlines()]
    ranked = [w[:2] for w in lines if len(w) > 2 and w[1] in ("甲局", "乙局", "丙局", "丁局")
              and w[0].isdigit()]
    assert ranked == [["1", "甲局"], ["2", "丁局"], ["3", "乙局"], ["4", "丙局"]]
    yi = next(w for w in lines if w[:2] == ["3", "乙局"])
    assert yi[2:] == ["8", "0", "2.5", "5", "84.5", "良好"]
    assert BASIS in text and "市委督查室" in text and re.search(r"2 ?× ?4", text)
    assert "通报表彰" in text and "通报批评,限期整改" in text
    assert "计分与认定规则" in text and "附件:各单位扣分明细" in text
    fingerprint = assess_assessment(Assessment.objects.get(slug="zf-2026")).fingerprint()
    assert fingerprint in text.replace("\n", " ")


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")
@pytest.mark.django_db
def test_incomplete_units_and_flags_are_in_words(tmp_path):
    survey_campaign(tmp_path)
    config = json.loads(json.dumps(CONFIG))
    config["categories"][0]["honoured"] = 1
    build(tmp_path, config=config)
    # 戊局 is in the assessment but not in the campaign: 民主评议 is missing.
    call_command("import_assessment_units", "zf-2026",
                 str(xlsx_file(tmp_path, "more.xlsx", {"单位": [("类别", "单位"), ("市直机关", "戊局")]})),
                 stdout=io.StringIO())
    text = pdf_text(report(tmp_path, "pdf"))
    first = next(line for line in text.splitlines() if "甲局" in line and "100" in line)
    assert "先进单位" in first
    last = next(line for line in text.splitlines() if line.split()[:2] == ["—", "戊局"])
    assert "数据不全" in last
    assert "民主评议" in text.split("戊局")[1][:200]
