"""Issue 18: a campaign averaging a 22/17/11 scale shows its 百分制 (assessment.md section 2,
measure `percent`: 004's 五个方面每项20分) beside the score, on the results page, in the
workbook and the PDF; a campaign whose score is already out of its top (千人评议) does not."""

from __future__ import annotations

import io
import subprocess
from fractions import Fraction as F

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from scoring.engine import Option, percent_of
from tests.conftest import TEST_OFFICE
from tests.helpers import xlsx_file

DIMS = ("教育管理", "依法行政", "机关作风", "效能建设", "系统监管")


def test_percent_of_is_the_mean_weight_over_the_top_weight():
    scale = (Option("满意", F(22), True, True), Option("基本满意", F(17), True, True),
             Option("不满意", F(11), False, True), Option("不了解", F(0), False, False))
    counts = (("满意", 5), ("基本满意", 5), ("不满意", 0), ("不了解", 3))
    assert percent_of(counts, scale) == F(195, 220) * 100  # (110 + 85) / 10 / 22
    assert percent_of((("满意", 0),), scale) is None


@pytest.mark.django_db
def test_wanren_shows_the_percent_beside_the_score(client, leader, tmp_path):
    call_command("create_campaign", "--preset", "wanren", "--slug", "wr", "--name", "万人评议",
                 "--year", "2026", "--office", TEST_OFFICE)
    units = [("类别", "单位"), ("市直机关", "甲局"), ("市直机关", "乙局")]
    call_command("import_units", "wr", str(xlsx_file(tmp_path, "u.xlsx", {"单位": units})))
    header = ("编号", *[f"{u}|{d}" for u in ("甲局", "乙局") for d in DIMS])
    rows = [("1", *["满意"] * 5, *["不满意"] * 5), ("2", *["基本满意"] * 5, *["不满意"] * 5)]
    call_command("import_ballots", "wr", str(xlsx_file(tmp_path, "b.xlsx", {"票": [header, *rows]})))
    client.force_login(leader)
    page = client.get(reverse("results", args=["wr"])).content.decode()
    assert ">百分制</th>" in page
    assert ">88.64</td>" in page  # 甲局: (22 + 17) / 2 / 22
    assert ">50</td>" in page  # 乙局: 11 / 22
    out = tmp_path / "r.xlsx"
    call_command("report", "wr", "--format", "xlsx", "-o", str(out))
    ws = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))["市直机关"]
    header_row = next(r for r in ws.iter_rows(values_only=True) if r and r[0] == "名次")
    col = header_row.index("百分制")
    values = [r[col] for r in ws.iter_rows(values_only=True) if r and r[1] in ("甲局", "乙局")]
    assert values == [pytest.approx(88.636364, abs=1e-4), 50]
    pdf = tmp_path / "r.pdf"
    call_command("report", "wr", "--format", "pdf", "-o", str(pdf))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "百分" in text and "88.64" in text  # the narrow heading wraps: 百分 / 制


@pytest.mark.django_db
def test_qianren_has_no_percent_column(client, leader, qianren):
    client.force_login(leader)
    page = client.get(reverse("results", args=[qianren.slug])).content.decode()
    assert "百分制" not in page
