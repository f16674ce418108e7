"""Issue 18, done when: the worked example of assessment.md section 8 built through the
commands (create_assessment --config, import_assessment_units, link_assessment,
import_assessment_entries, assess --format json) prints exactly its table; the
configuration round-trips; bad files and configurations are refused with every problem
listed; rejected or objected entries do not count; year-on-year across assessments."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assessments.entries import entry_review, entry_submit, objection_decide, objection_lodge
from assessments.models import Assessment, Entry
from tests.helpers import xlsx_file

UNITS = {"甲局": 95, "乙局": Decimal("87.5"), "丙局": 80, "丁局": 89}
SECTIONS = {("甲局", "甲局办公室"): 92, ("甲局", "甲局审批科"): 91, ("乙局", "乙局办公室"): 85,
            ("乙局", "乙局征管科"): 96, ("丁局", "丁局办公室"): 88}
CONFIG = {
    "name": "2026年度作风效能考评", "year": 2026, "mode": "deduction", "base": 100,
    "series": "作风效能考评",
    "categories": [{"name": "市直机关", "honoured": 0, "honoured_grade": None}],
    "bands": [{"label": "优秀", "min": 90, "consequence": "通报表彰", "rectify": False},
              {"label": "良好", "min": 80, "consequence": "", "rectify": False},
              {"label": "合格", "min": 60, "consequence": "", "rectify": False},
              {"label": "不合格", "min": 0, "consequence": "通报批评,限期整改", "rectify": True}],
    "rules": [{"grade": "优秀", "years": 2, "flag": "title"}],
    "sections": [
        {"name": "督办落实", "kind": "items", "cap": None,
         "items": [{"name": "不按时落实", "points": 4}]},
        {"name": "违纪违规", "kind": "items", "cap": None,
         "items": [{"name": "被执法执纪部门处理", "min": 10, "max": 20}]},
        {"name": "民主评议", "kind": "survey", "measure": "satisfaction", "threshold": 90,
         "per_point": 1, "cap": None},
        {"name": "科室评议", "kind": "rollup", "measure": "satisfaction", "threshold": 90,
         "per_point": 1, "cap": None},
    ],
}
ENTRIES_HEADER = ("单位", "考核项目", "扣分事项", "次数", "分值", "提供单位", "依据", "日期")


def survey_campaign(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """One campaign whose 200 ballots give each unit and section its satisfaction rate."""
    call_command("create_campaign", "--preset", "zhengfeng", "--slug", "pz", "--name", "评议",
                 "--year", "2026")
    rows = [("类别", "单位", "类型", "上级单位")]
    rows += [("政府部门及其它机构", u, "", "") for u in UNITS]
    rows += [("公共服务行业", s, "内设科室", parent) for parent, s in SECTIONS]
    call_command("import_units", "pz", str(xlsx_file(tmp_path, "u.xlsx", {"对象": rows})))
    rates = {**UNITS, **{s: m for (_p, s), m in SECTIONS.items()}}
    names = list(rates)
    ballots = [("编号", *names)]
    for i in range(200):
        ballots.append((f"{i + 1:04d}",
                        *["满意" if i < rates[n] * 2 else "不满意" for n in names]))
    call_command("import_ballots", "pz", str(xlsx_file(tmp_path, "b.xlsx", {"票": ballots})))
    return "pz"


def build(tmp_path, slug: str = "zf-2026", config: dict | None = None,  # type: ignore[no-untyped-def]
          entries: list | None = None) -> None:
    path = tmp_path / f"{slug}.json"
    path.write_text(json.dumps(config or CONFIG, ensure_ascii=False), encoding="utf-8")
    call_command("create_assessment", "--config", str(path), "--slug", slug)
    units = [("类别", "单位"), *[("市直机关", u) for u in UNITS]]
    call_command("import_assessment_units", slug,
                 str(xlsx_file(tmp_path, f"{slug}-u.xlsx", {"单位": units})))
    for section in ("民主评议", "科室评议"):
        call_command("link_assessment", slug, "--section", section, "--campaign", "pz")
    rows = entries if entries is not None else [
        ("乙局", "督办落实", "不按时落实", 2, None, "市委督查室", "督字〔2026〕3号", "2026-05-01"),
        ("丙局", "违纪违规", "被执法执纪部门处理", 1, 15, "市纪委监委", "纪通〔2026〕1号", None),
        ("丁局", "督办落实", "不按时落实", 1, None, "市委督查室", "督字〔2026〕5号", None),
    ]
    if rows:
        call_command("import_assessment_entries", slug,
                     str(xlsx_file(tmp_path, f"{slug}-e.xlsx", {"扣分": [ENTRIES_HEADER, *rows]})))


def result(capsys, slug: str = "zf-2026") -> dict:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    call_command("assess", slug, "--format", "json")
    return json.loads(capsys.readouterr().out)


@pytest.mark.django_db
def test_the_worked_example_through_the_commands(tmp_path, capsys):
    survey_campaign(tmp_path)
    build(tmp_path)
    out = result(capsys)
    assert out["assessment"] == {"slug": "zf-2026", "mode": "deduction", "base": 100}
    units = out["categories"][0]["units"]
    table = [(u["unit"], u["rank"], u["total"], u["grade"], u["sections"], u["flags"])
             for u in units]
    assert table == [
        ("甲局", 1, 100, "优秀", {"督办落实": 0, "违纪违规": 0, "民主评议": 0, "科室评议": 0}, []),
        ("丁局", 2, 93, "优秀", {"督办落实": 4, "违纪违规": 0, "民主评议": 1, "科室评议": 2}, []),
        ("乙局", 3, 84.5, "良好", {"督办落实": 8, "违纪违规": 0, "民主评议": 2.5, "科室评议": 5},
         []),
        ("丙局", 4, 75, "合格", {"督办落实": 0, "违纪违规": 15, "民主评议": 10, "科室评议": 0}, []),
    ]
    assert out["categories"][0] == {**out["categories"][0], "name": "市直机关", "honoured": 0}


@pytest.mark.django_db
def test_the_configuration_round_trips(tmp_path):
    survey_campaign(tmp_path)
    build(tmp_path)
    out = tmp_path / "out.json"
    call_command("export_assessment_config", "zf-2026", "-o", str(out))
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["sections"][2]["campaign"] == "pz"
    assert exported["sections"][1]["items"] == [{"name": "被执法执纪部门处理", "min": 10, "max": 20}]
    call_command("create_assessment", "--config", str(out), "--slug", "copy")
    again = tmp_path / "again.json"
    call_command("export_assessment_config", "copy", "-o", str(again))
    assert json.loads(again.read_text(encoding="utf-8")) == exported


@pytest.mark.django_db
def test_a_bad_configuration_is_refused_with_every_problem(tmp_path):
    bad = json.loads(json.dumps(CONFIG))
    bad["mode"] = "weighted"
    bad["bands"][1]["min"] = 95
    bad["sections"][0]["items"].append({"name": "两样都有", "points": 3, "min": 1, "max": 2})
    bad["sections"].append({"name": "怪", "kind": "bogus"})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError) as info:
        call_command("create_assessment", "--config", str(path), "--slug", "bad")
    message = str(info.value)
    for words in ("满分之和应为 100", "严格递减", "不能既有分值又有范围", "类型“bogus”未知",
                  "max_points"):
        assert words in message, words
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_a_file_of_entries_is_refused_with_every_bad_row_and_nothing_saved(tmp_path):
    survey_campaign(tmp_path)
    rows = [
        ("戊局", "督办落实", "不按时落实", 1, None, "督查室", "1号", None),
        ("乙局", "督办落实", "迟到", 1, None, "督查室", "2号", None),
        ("乙局", "督办落实", "不按时落实", 0, None, "督查室", "3号", None),
        ("丙局", "违纪违规", "被执法执纪部门处理", 1, 25, "纪委", "4号", None),
        ("丙局", "违纪违规", "被执法执纪部门处理", 1, 12, "纪委", "5号", None),  # good
    ]
    with pytest.raises(CommandError) as info:
        build(tmp_path, entries=rows)
    message = str(info.value)
    for row, words in ((2, "戊局"), (3, "迟到"), (4, "次数"), (5, "10 到 20")):
        assert f"第{row}行" in message and words in message, (row, words)
    assert "第6行" not in message
    assert not Entry.objects.exists()


@pytest.mark.django_db
def test_the_same_file_twice_is_refused(tmp_path):
    survey_campaign(tmp_path)
    build(tmp_path)
    e = tmp_path / "zf-2026-e.xlsx"
    with pytest.raises(CommandError, match="不能重复导入"):
        call_command("import_assessment_entries", "zf-2026", str(e))
    assert Entry.objects.count() == 3


@pytest.mark.django_db
def test_rejected_and_objected_entries_do_not_count(tmp_path, capsys, office):
    survey_campaign(tmp_path)
    build(tmp_path, entries=[])
    a = Assessment.objects.get(slug="zf-2026")
    unit = a.units.get(name="甲局")
    section = a.sections.get(name="督办落实")
    item = section.items.get()

    def submit() -> Entry:
        return entry_submit(unit=unit, section=section, item=item, count=1, source="督查室",
                            basis="督字1号", user=office)

    pending = submit()
    assert result(capsys)["categories"][0]["units"][0]["total"] == 100  # pending: no
    entry_review(entry=submit(), approve=False, reason="依据不足", user=office)
    approved = entry_review(entry=pending, approve=True, reason="", user=office)
    assert {u["unit"]: u["total"] for u in result(capsys)["categories"][0]["units"]}["甲局"] == 96
    objection_lodge(entry=approved, text="已按时落实,见附件", user=office)
    with pytest.raises(Exception, match="只能申诉一次"):
        objection_lodge(entry=approved, text="再次", user=office)
    objection_decide(entry=approved, accept=True, reason="核实已落实", user=office)
    assert {u["unit"]: u["total"] for u in result(capsys)["categories"][0]["units"]}["甲局"] == 100
    # A correction supersedes: only the new entry counts.
    first = entry_review(entry=submit(), approve=True, reason="", user=office)
    fix = entry_submit(unit=unit, section=section, item=item, count=2, source="督查室",
                       basis="督字1号(更正)", user=office, supersedes=first)
    entry_review(entry=fix, approve=True, reason="", user=office)
    assert {u["unit"]: u["total"] for u in result(capsys)["categories"][0]["units"]}["甲局"] == 92
    assert Entry.objects.filter(assessment=a).count() == 4  # nothing deleted


@pytest.mark.django_db
def test_year_on_year_title_needs_the_previous_years_grade(tmp_path, capsys):
    survey_campaign(tmp_path)
    last_year = {**CONFIG, "year": 2025, "name": "2025年度"}
    build(tmp_path, slug="zf-2025", config=last_year, entries=[])
    build(tmp_path)  # 2026 finds 2025 by its series
    assert Assessment.objects.get(slug="zf-2026").previous.slug == "zf-2025"  # type: ignore[union-attr]
    flags = {u["unit"]: u["flags"] for u in result(capsys)["categories"][0]["units"]}
    # 优秀 both years: 甲局 (100, 100) and 丁局 (93 now; 97 last year without entries).
    assert flags["甲局"] == ["title"] and flags["丁局"] == ["title"]
    assert flags["乙局"] == [] and flags["丙局"] == []
