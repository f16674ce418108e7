"""Results of subjects other than units (issue 17), read back as people read them: the
results page and unit page (HTML), the Excel workbook (openpyxl) and the PDF (pdftotext).

Two campaigns: a 两评一树 with a 领导班子 and two leaders with posts, two dimensions and two
review pools; a 千人评议 with a unit, its section and its window, and a 先进科室 quota."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from campaigns.models import CampaignUnit
from tests.helpers import xlsx_file

UNITS_HEADER = ("类别", "单位", "类型", "上级单位", "职务")
TEAM, ZHANG, LI = "市交通局领导班子", "张三", "李四"
TAX, OFFICE, WINDOW = "市税务局", "办公室", "政务服务窗口"


def _import(campaign, tmp_path, units, header, ballots) -> None:
    call_command("import_units", campaign.slug,
                 str(xlsx_file(tmp_path, f"{campaign.slug}-u.xlsx", {"对象": units})),
                 stdout=io.StringIO())
    call_command("import_ballots", campaign.slug,
                 str(xlsx_file(tmp_path, f"{campaign.slug}-b.xlsx", {"选票": [header, *ballots]})),
                 stdout=io.StringIO())


@pytest.fixture
def liangping(campaign_factory, tmp_path):
    c = campaign_factory("liangping", slug="lp", name="两评一树测试")
    # As the preset says (set here too, whatever campaign creation copies): the per-dimension
    # line, and the two review pools of document 001.
    c.min_cell_ballots, c.dimension_line = 2, True
    c.save(update_fields=["min_cell_ballots", "dimension_line"])
    c.groups.filter(name="全体干部职工").update(pool="内部评议")
    c.groups.exclude(name="全体干部职工").update(pool="社会评议")
    units = [UNITS_HEADER, ("领导班子", TEAM, "领导班子", "", ""),
             ("领导干部", ZHANG, "领导干部", TEAM, "局长"),
             ("领导干部", LI, "领导干部", TEAM, "副局长")]
    cols = [f"{u}|{d}" for u in (TEAM, ZHANG, LI) for d in ("工作评价", "作风评价")]
    header = ("编号", "代表类别", *cols)
    good = ["满意"] * 6
    # 李四: staff satisfied with everything; the social pool dissatisfied with his conduct.
    inner = [good] * 4
    social = [["满意", "满意", "满意", "满意", "满意", "不满意"]] * 4
    ballots = [(f"A{i}", "全体干部职工", *v) for i, v in enumerate(inner)]
    ballots += [(f"B{i}", "服务对象代表", *v) for i, v in enumerate(social)]
    _import(c, tmp_path, units, header, ballots)
    return c


@pytest.fixture
def sections(campaign_factory, tmp_path):
    c = campaign_factory("qianren", slug="sec", name="科室窗口测试")
    c.honoured_quota = 2
    c.save(update_fields=["honoured_quota"])
    units = [UNITS_HEADER, ("地方管理部门类", TAX, "", "", ""),
             ("地方管理部门类", OFFICE, "内设科室", TAX, ""),
             ("地方管理部门类", WINDOW, "办事窗口", TAX, "")]
    header = ("编号", TAX, OFFICE, WINDOW)
    ballots = [(f"S{i}", "不满意", "满意", "满意") for i in range(5)]
    _import(c, tmp_path, units, header, ballots)
    return c


def page(client, user, name, *args, **query) -> str:
    client.force_login(user)
    r = client.get(reverse(name, args=args), query)
    assert r.status_code == 200
    return r.content.decode()


def report(slug: str, fmt: str, tmp_path):
    out = tmp_path / f"{slug}.{fmt}"
    call_command("report", slug, "--format", fmt, "-o", str(out), stdout=io.StringIO())
    return out


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")


# --- 两评一树: people, dimensions, pools --------------------------------------------------


def test_results_page_names_leaders_with_posts_and_a_column_per_dimension(
    client, leader, liangping
):
    html = page(client, leader, "results", "lp")
    assert "张三(局长)" in html and "李四(副局长)" in html
    assert "工作评价满意率" in html and "作风评价满意率" in html
    assert ">领导干部</th>" in html and ">领导班子</th>" in html  # the name column's heading
    assert ">单位</th>" not in html
    assert "各评议对象反馈单" in html and "各单位反馈单" not in html
    # 李四: 作风 4 of 8 satisfied: the per-dimension line, in words.
    assert "作风评价重点整改" in html
    assert "key_rectification:" not in html.split("<main", 1)[-1].replace(
        'flag-key_rectification"', "")


def test_results_page_filters_by_pool_and_refuses_a_small_one(client, leader, liangping):
    html = page(client, leader, "results", "lp")
    assert 'name="pool"' in html and "内部评议" in html and "社会评议" in html
    html = page(client, leader, "results", "lp", pool="社会评议")
    assert "评议范围=社会评议" in html
    liangping.min_cell_ballots = 5
    liangping.save(update_fields=["min_cell_ballots"])
    html = page(client, leader, "results", "lp", pool="社会评议")
    assert "评议范围=社会评议" not in html and "不单独显示" in html


def test_unit_page_shows_pools_together_dimensions_and_the_leaders_under_the_team(
    client, leader, liangping
):
    team = CampaignUnit.objects.get(campaign=liangping, name=TEAM)
    html = page(client, leader, "unit_results", "lp", team.pk)
    assert "分评议范围" in html and "内部评议" in html and "社会评议" in html and "合计" in html
    assert 'id="dimension-rates"' in html and "工作评价" in html and "作风评价" in html
    assert 'id="sub-units"' in html and "张三(局长)" in html and "李四(副局长)" in html
    heading = re.search(r"<h1.*?</h1>", html, re.S).group(0)  # type: ignore[union-attr]
    assert heading.count("领导班子") == 2  # the name and its category, not the kind again
    li = CampaignUnit.objects.get(campaign=liangping, name=LI)
    html = page(client, leader, "unit_results", "lp", li.pk)
    assert "副局长" in html and TEAM in html and 'id="sub-units"' not in html
    assert "作风评价重点整改" in html
    # The pools of 李四's conduct: 100% inside, 50% outside → the table says so.
    assert "50.00%" in html


def test_workbook_has_dimension_columns_pools_and_the_leaders_with_their_team(
    liangping, tmp_path
):
    wb = openpyxl.load_workbook(report("lp", "xlsx", tmp_path))
    ws = wb["领导干部"]
    header = [c.value for c in ws[2]]
    assert header[:6] == ["名次", "领导干部", "得分", "满意率", "工作评价满意率", "作风评价满意率"]
    rows = {r[1]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert rows["李四(副局长)"][4] == 1 and rows["李四(副局长)"][5] == 0.5
    assert "作风评价重点整改" in rows["李四(副局长)"][header.index("认定")]
    pools = {(r[1], r[2]) for r in wb["分评议范围"].iter_rows(min_row=3, values_only=True)}
    assert {(LI, "内部评议"), (LI, "社会评议")} <= pools
    subs = list(wb["下级评议对象"].iter_rows(values_only=True))
    assert subs[0][:3] == ("上级单位", "评议对象", "类型")
    assert {(r[0], r[1]) for r in subs[1:]} == {(TEAM, "张三(局长)"), (TEAM, "李四(副局长)")}


@needs_poppler
def test_pdf_shows_the_team_the_leaders_both_dimensions_and_pools(liangping, tmp_path):
    text = pdf_text(report("lp", "pdf", tmp_path))
    head = next(x for x in text.splitlines() if "名次" in x and "领导干部" in x)
    assert "工作评价" in head and "作风评价" in head  # 满意率 on the line below
    for words in ("张三(局长)", "李四(副局长)", TEAM, "工作评价满意率", "作风评价满意率",
                  "分评议范围", "内部评议满意率", "社会评议满意率", "合计满意率",
                  "作风评价重点整改", "下级评议对象"):
        assert words in text, words
    assert "优胜评议对象(0)" in text and "优胜单位(" not in text  # the list headings


# --- sections and windows under a unit, 先进科室 / 满意窗口 ----------------------------------


def test_honoured_sub_units_are_named_by_kind_everywhere(client, leader, sections, tmp_path):
    html = page(client, leader, "results", "sec")
    assert "先进科室" in html and "满意窗口" in html
    tax = CampaignUnit.objects.get(campaign=sections, name=TAX)
    html = page(client, leader, "unit_results", "sec", tax.pk)
    assert 'id="sub-units"' in html and OFFICE in html and WINDOW in html
    assert "先进科室" in html and "满意窗口" in html
    wb = openpyxl.load_workbook(report("sec", "xlsx", tmp_path))
    subs = list(wb["下级评议对象"].iter_rows(values_only=True))
    flags = {r[1]: r[-1] for r in subs[1:]}
    assert {r[0] for r in subs[1:]} == {TAX}
    # Both are also among the category's 5 winners (优胜 first, then the honour).
    assert flags[OFFICE] == "优胜、先进科室" and flags[WINDOW] == "优胜、满意窗口"
    ranking = {r[1]: r for r in wb["地方管理部门类"].iter_rows(min_row=3, values_only=True)}
    assert ranking[WINDOW][-1] == "优胜、满意窗口" and ranking[TAX][-1] == "末位"
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True)}
    assert summary["先进科室、满意窗口"] == f"{OFFICE}、{WINDOW}"


@needs_poppler
def test_pdf_lists_sections_under_their_unit(sections, tmp_path):
    text = pdf_text(report("sec", "pdf", tmp_path))
    assert "下级评议对象" in text and "先进科室" in text and "满意窗口" in text
    line = next(x for x in text.splitlines() if WINDOW in x and TAX in x)
    assert "满意窗口" in line


def test_a_campaign_of_units_alone_has_no_sub_unit_sheet(qianren, tmp_path):
    call_command("import_units", "qianren", str(xlsx_file(tmp_path, "u.xlsx", {"u": [
        ("类别", "单位"), ("地方管理部门类", "市教育局")]})), stdout=io.StringIO())
    wb = openpyxl.load_workbook(report("qianren", "xlsx", tmp_path))
    assert "下级评议对象" not in wb.sheetnames and "分评议范围" not in wb.sheetnames


@needs_poppler
def test_feedback_sheets_count_people_as_people(liangping, tmp_path):
    text = pdf_text(report("lp", "feedback", tmp_path))
    assert "李四(副局长)" in text and "共 2 名领导干部" in text
    assert "个单位" not in text and "作风评价重点整改" in text


def test_the_public_page_heads_leaders_as_leaders(client, office, liangping):
    from scoring.publication import results_publish

    liangping.status = "closed"
    liangping.notice_from, liangping.notice_to = date(2026, 12, 1), date(2026, 12, 7)
    liangping.objection_phone, liangping.issuer = "0571-1", "某市评议办"
    liangping.save()
    results_publish(campaign=liangping, user=office)
    page = client.get(reverse("public_results", args=[liangping.slug])).content.decode()
    heads = re.findall(r'<th scope="col">([^<]*)</th>', page)
    assert "领导干部" in heads and "领导班子" in heads and "单位" not in heads


def test_charts_name_leaders_with_their_posts(client, leader, liangping):
    html = page(client, leader, "results", "lp")
    labels = re.findall(r'text-anchor="end">([^<]*)</text>', html)
    assert "张三(局长)" in labels and "李四(副局长)" in labels


def test_headings_say_no_quota_is_named_rather_than_zero(client, leader, liangping, tmp_path):
    html = page(client, leader, "results", "lp")
    assert "不评优胜和末位" in html and "优胜 0 名" not in html
    text = pdf_text(report("lp", "pdf", tmp_path))
    assert "(不评优胜和末位)" in text and "优胜 0 名" not in text
    assert "意见和建议(按评议对象)" in text and "按单位" not in text


def test_a_full_pdf_ranking_keeps_every_figure_as_wide_as_its_number(liangping):
    """Two dimensions, four options, posts and three flags are wider than the page: the
    figures keep their numbers' width, the name and the flags wrap instead."""
    from scoring.presentation import tables
    from scoring.reports.pdf import CELL_PADDING_EM, CONTENT_MM, EM_MM, ranking_columns, text_em
    from scoring.tally import tally_campaign

    t = tally_campaign(liangping)
    options = [o.label for o in t.input.options]
    leaders = next(tb for tb in tables(t) if tb.name == "领导干部")
    widths = [float(w.rstrip("%")) / 100 * CONTENT_MM / EM_MM
              for w in ranking_columns(leaders, options, grades=False)]
    for r in leaders.rows:
        figures = [r.score, r.rate, *r.dimension_rates, *map(str, r.counts)]
        for i, text in enumerate(figures, start=2):
            assert widths[i] >= text_em(text) + CELL_PADDING_EM - 0.05, (i, text)  # 0.01% steps
