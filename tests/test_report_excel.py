"""The Excel report, read back (as EvaP tests its exporters): every figure equals the tally."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.management import call_command

from tests.results_fixtures import results_campaign, tally_data  # noqa: F401

FLAG_TEXT = {
    "winner": "优胜",
    "last_place": "末位",
    "key_rectification": "重点整改",
    "vetoed": "一票否决",
    "consecutive_last_place": "连续两年末位",
    "no_votes": "无有效票",
}


@pytest.fixture
def workbook(results_campaign, tmp_path):  # noqa: F811
    out = tmp_path / "r.xlsx"
    call_command("report", "golden", "--format", "xlsx", "-o", str(out), stdout=io.StringIO())
    # Not read-only: we check number formats, data types and frozen panes too.
    return openpyxl.load_workbook(out)


def header_row(ws) -> int:
    for row in ws.iter_rows(min_row=1, max_row=5):
        if row[0].value == "名次":
            return row[0].row
    raise AssertionError("no header")


def test_every_figure_of_every_category_equals_the_tally(workbook):
    data = tally_data("golden")
    options = list(data["categories"][0]["units"][0]["counts"])
    for cat in data["categories"]:
        ws = workbook[cat["name"]]
        h = header_row(ws)
        header = [c.value for c in ws[h]]
        assert header[:4] == ["名次", "单位", "得分", "满意率"]
        assert header[4 : 4 + len(options)] == options
        assert ws.freeze_panes == f"A{h + 1}"
        rows = [r for r in ws.iter_rows(min_row=h + 1) if r[1].value]
        assert len(rows) == len(cat["units"])
        for row, unit in zip(rows, cat["units"], strict=True):
            v = [c.value for c in row]
            assert v[0] == unit["rank"] and v[1] == unit["unit"]
            if unit["score"] is None:
                assert v[2] is None and v[3] is None
            else:
                assert isinstance(v[2], int | float) and abs(v[2] - unit["score"]) < 1e-6
                assert abs(v[3] - unit["satisfaction_rate"]) < 1e-6
                assert row[3].number_format == "0.00%"
            assert v[4 : 4 + len(options)] == [unit["counts"][o] for o in options]
            assert v[4 + len(options)] == unit["blank"]
            assert v[5 + len(options)] == unit["spoiled"]
            flags = v[6 + len(options)] or ""
            assert sorted(f for f in FLAG_TEXT if FLAG_TEXT[f] in flags.split("、")) == sorted(
                unit["flags"]
            )
        assert ws._charts or all(u["score"] is None for u in cat["units"])


def test_summary_votes_and_breakdowns_add_up(workbook):
    data = tally_data("golden")
    summary = {r[0].value: r[1].value for r in workbook["汇总"].iter_rows(min_row=3)}
    assert summary["选票总数"] == data["ballots"]["total"]
    assert summary["有效票"] == data["ballots"]["valid"]
    assert summary["无效票"] == data["ballots"]["invalid"]
    assert summary["无效:编号重复(复印)"] == data["ballots"]["invalid_reasons"]["duplicate_serial"]
    winners = [u["unit"] for c in data["categories"] for u in c["units"] if "winner" in u["flags"]]
    assert summary["优胜单位"].split("、") == winners
    assert summary["纸质票录入方式"] in ("双人录入核对", "单人录入")

    # 票数明细: unit × option rows sum to the unit's counts.
    votes: dict[tuple[str, str], int] = {}
    for unit, _dim, option, n in (
        [c.value for c in r[1:5]] for r in workbook["票数明细"].iter_rows(min_row=2)
    ):
        votes[unit, option] = votes.get((unit, option), 0) + n
    for cat in data["categories"]:
        for u in cat["units"]:
            for option, n in u["counts"].items():
                assert votes[u["unit"], option] == n
            assert votes[u["unit"], "未填"] == u["blank"]
            assert votes[u["unit"], "废票"] == u["spoiled"]

    # 分渠道, 分类别: per unit, the slices' counts add up to the unit's (merged or not). The
    # title line comes first, the header second.
    for title in ("分渠道", "分类别"):
        ws = workbook[title]
        assert ws["A1"].value == title
        header = [c.value for c in ws[2]]
        first = header.index("满意")
        sums: dict[str, int] = {}
        for r in ws.iter_rows(min_row=3, values_only=True):
            sums[r[1]] = sums.get(r[1], 0) + r[first]
        for cat in data["categories"]:
            for u in cat["units"]:
                assert sums.get(u["unit"], 0) == u["counts"]["满意"], title
    assert "分类别" in workbook.sheetnames and "规则说明" in workbook.sheetnames


def test_a_channel_of_a_few_ballots_is_merged_into_other_with_a_note(workbook, results_campaign):  # noqa: F811
    """Issue 15: 群众监督员评 has 3 valid ballots in the golden example; it and the smallest
    other channel become 其他 (3 alone would still be too few), and the sheet says so."""
    from ballots.models import Ballot

    valid = Ballot.objects.filter(status="valid")
    assert valid.filter(channel="群众监督员评").count() < results_campaign.min_cell_ballots
    ws = workbook["分渠道"]
    assert "合并为“其他”" in ws["B1"].value
    keys = [r[2] for r in ws.iter_rows(min_row=3, values_only=True)]
    assert "群众监督员评" not in keys and "其他" in keys
    first_unit = next(ws.iter_rows(min_row=3, values_only=True))[1]
    per_unit = [r[2] for r in ws.iter_rows(min_row=3, values_only=True) if r[1] == first_unit]
    assert per_unit[-1] == "其他"  # 其他 last
    # Every published channel has at least the minimum of valid ballots.
    for key in set(keys) - {"其他"}:
        assert valid.filter(channel=key).count() >= results_campaign.min_cell_ballots


def test_comments_that_look_like_formulas_stay_text(workbook):
    ws = workbook["意见建议"]
    cells = {r[1].value: r[1] for r in ws.iter_rows(min_row=2)}
    formula = cells['=HYPERLINK("http://x","点我")']
    assert formula.data_type == "s"  # text, not a formula
    assert cells["+1 很好"].data_type == "s"
    assert "<script>alert(1)</script>办事效率高" in cells
    assert "总体满意" in cells
    assert [r[0].value for r in ws.iter_rows(min_row=2) if r[1].value == "总体满意"] == ["总体意见"]


def test_no_formula_anywhere_in_the_file(results_campaign, tmp_path):  # noqa: F811
    import zipfile

    out = tmp_path / "r.xlsx"
    call_command("report", "golden", "--format", "xlsx", "-o", str(out), stdout=io.StringIO())
    with zipfile.ZipFile(out) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


def test_paper_reconciliation_sheet_adds_up(workbook):
    data = tally_data("golden")
    ws = workbook["纸质票核对"]
    header = [c.value for c in ws[1]]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True)]
    total = rows[-1]  # the total comes last
    returned = total[header.index("回收")]
    assert returned == data["ballots"]["total"]  # every golden ballot is imported paper
    assert total[header.index("有效")] + total[header.index("无效")] == returned
    assert total[header.index("有效")] == data["ballots"]["valid"]


def test_every_sheet_prints_landscape_fit_to_width_with_its_header_on_every_page(workbook):
    for ws in workbook.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        h = int(ws.freeze_panes[1:]) - 1  # the header row: the last one above the frozen panes
        assert ws.print_title_rows == f"${h}:${h}", ws.title
        assert ws.cell(h, 1).font.bold, ws.title


def test_grade_column_only_when_the_campaign_has_grade_bands(workbook, results_campaign, tmp_path):  # noqa: F811
    from campaigns.models import GradeBand

    data = tally_data("golden")
    ws = workbook[data["categories"][0]["name"]]
    header = [c.value for c in ws[header_row(ws)]]
    assert "等次" not in header and header[-1] == "认定"
    assert ws.max_column == len(header) or all(
        c.value is None for r in ws.iter_rows() for c in r[len(header) :]
    )

    GradeBand.objects.create(campaign=results_campaign, minimum=0, label="合格")
    out = tmp_path / "g.xlsx"
    call_command("report", "golden", "--format", "xlsx", "-o", str(out), stdout=io.StringIO())
    ws = openpyxl.load_workbook(out)[data["categories"][0]["name"]]
    h = header_row(ws)
    header = [c.value for c in ws[h]]
    assert header[-2:] == ["认定", "等次"]
    grades = [r[len(header) - 1].value for r in ws.iter_rows(min_row=h + 1) if r[1].value]
    assert "合格" in grades
