"""What makes the ranking PDF quick to print (issue 7: ≤ 1 s for 66 units) without changing
what it shows: charts with one path per colour, drawn as images; ranking tables with fixed
column widths worked out from their contents; the plain tally, with no breakdowns; and
WeasyPrint with a lighter user-agent stylesheet, the collector paused, one-run SVG text."""

from __future__ import annotations

import base64
import gc
import importlib
import re
import shutil
import subprocess
from fractions import Fraction

import pytest

from scoring import charts
from scoring.presentation import context
from scoring.reports import needs_breakdowns, weasy
from scoring.reports.pdf import chart_image, kv_width, ranking_columns, text_em
from scoring.tally import tally_campaign
from tests.results_fixtures import results_campaign  # noqa: F401


def _tables(campaign):
    t = tally_campaign(campaign)
    ctx = context(t)
    charts.attach_charts(ctx["tables"], Fraction(campaign.threshold))
    return t, ctx


def test_bars_are_one_path_per_colour_with_every_label(results_campaign):  # noqa: F811
    _t, ctx = _tables(results_campaign)
    for table in ctx["tables"]:
        for svg in (table.score_svg, table.rate_svg):
            assert "<rect" not in svg
            fills = re.findall(r'<path fill="(#\w+)"', svg)
            assert fills and len(fills) == len(set(fills))
            # one bar (a closed subpath) per unit with a figure
            bars = sum(d.count("z") for d in re.findall(r'<path fill="#\w+" d="([^"]*)"', svg))
            assert bars == len(table.rows)
            for r in table.rows:
                assert f">{r.name}</text>" in svg


def test_rate_values_stand_clear_of_the_threshold_line(results_campaign):  # noqa: F811
    """The 重点整改 line must not run through a value: they stand in one column right of 100%."""
    _t, ctx = _tables(results_campaign)
    for table in ctx["tables"]:
        svg = str(table.rate_svg)
        line_x = float(re.search(r'<line x1="([\d.]+)"', svg)[1])
        xs = [float(x) for x in re.findall(r'<text x="([\d.]+)" y="[\d.]+">[\d.]+%</text>', svg)]
        assert len(xs) == len(table.rows)
        assert len(set(xs)) == 1 and xs[0] > line_x + 40


def test_charts_go_into_the_pdf_as_images_of_the_same_svg(results_campaign):  # noqa: F811
    _t, ctx = _tables(results_campaign)
    svg = ctx["tables"][0].score_svg
    img = chart_image(svg)
    src = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', img).group(1)
    assert base64.b64decode(src).decode() == svg
    assert 'alt="' in img and "得分" in img
    assert chart_image("") == ""


def test_ranking_columns_follow_the_contents(results_campaign):  # noqa: F811
    t, ctx = _tables(results_campaign)
    for table in ctx["tables"]:
        cols = ranking_columns(table, ctx["options"], bool(t.input.grade_bands))
        # 名次 单位 得分 满意率, the options, 未填 废票 认定 (and 等次)
        assert len(cols) == 4 + len(ctx["options"]) + 3 + bool(t.input.grade_bands)
        widths = [float(c.rstrip("%")) for c in cols]
        assert abs(sum(widths) - 100) < 0.1
        assert widths[1] > widths[0]  # unit names are wider than ranks


def test_text_widths_count_chinese_as_one_em():
    assert text_em("人事局") == 3
    assert text_em("17300.5") == 7 * 0.6


def test_label_tables_are_at_least_110mm_and_at_most_the_page():
    assert kv_width([("优胜", "人事局(1)")]) == "110mm"
    assert kv_width([("重点整改", "人事局(1)、" * 40)]) == "100%"
    middle = kv_width([("优胜", "人事局(1)、监察局(2)、组织部(3)、人口和计生局(4)、建设局(5)")])
    assert 110 < int(middle.removesuffix("mm")) < 182


def test_only_the_workbook_asks_for_breakdowns():
    assert needs_breakdowns("xlsx")
    assert not needs_breakdowns("pdf") and not needs_breakdowns("feedback")


def _pages_png(pdf: bytes, tmp_path, name: str) -> list:
    from PIL import Image

    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(path), str(tmp_path / name)], check=True)
    return [Image.open(p).convert("L") for p in sorted(tmp_path.glob(f"{name}-*.png"))]


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils (scripts/setup.sh)")
def test_quicker_weasyprint_prints_the_same_pages(results_campaign, tmp_path, monkeypatch):  # noqa: F811
    """The lighter user-agent stylesheet, the paused collector and one-run SVG text change
    how fast the report prints, not what it shows: the report's HTML printed by stock
    WeasyPrint and by html_to_pdf gives the same pages. One-run labels may differ from
    character-by-character ones by kerning inside a label, a few pixels, never a shifted or
    missing label (the unit names are right-aligned: a lost text-anchor moves every one)."""
    from PIL import ImageChops
    from weasyprint import HTML

    from scoring.reports import pdf

    html: list[str] = []
    monkeypatch.setattr(pdf, "html_to_pdf", lambda h: html.append(h) or b"")
    pdf.ranking_pdf(tally_campaign(results_campaign), comments=True)
    monkeypatch.undo()
    ours = _pages_png(weasy.html_to_pdf(html[0]), tmp_path, "ours")
    assert weasy.svg_text_in_one_run()  # in place for WeasyPrint 70

    svg = importlib.import_module("weasyprint.svg")
    stock = importlib.import_module("weasyprint.svg.text").text
    monkeypatch.setattr(svg, "text", stock)
    for tag in ("a", "text", "textPath", "tspan"):
        monkeypatch.setitem(svg.TAGS, tag, stock)
    theirs = _pages_png(HTML(string=html[0]).write_pdf(), tmp_path, "stock")

    assert len(ours) == len(theirs) >= 3
    for a, b in zip(ours, theirs, strict=True):
        assert a.size == b.size
        diff = ImageChops.difference(a, b).point(lambda v: 255 if v > 64 else 0)
        assert diff.histogram()[255] <= 20, "pages differ beyond kerning"


def test_lighter_stylesheet_drops_pseudo_elements_of_every_element():
    from weasyprint import html as ua

    css = weasy.lighter_ua_css(ua.UA)
    lines = css.splitlines()
    assert not any(line.startswith(("::marker", "::footnote", "::note")) for line in lines)
    assert any(line.startswith("li::marker {") for line in lines)
    assert "@counter-style" not in css  # WeasyPrint's own counter styles stay in use
    # everything else is kept as it is
    kept = [line for line in ua.UA.splitlines() if not line.startswith(("::", "@counter"))]
    ours = [line for line in lines if not line.startswith("li::marker")]
    assert "\n".join(ours).strip() == "\n".join(kept).strip()


def test_collector_pause_nests_and_restores():
    assert gc.isenabled()
    with weasy.cyclic_gc_paused():
        assert not gc.isenabled()
        with weasy.cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), weasy.cyclic_gc_paused():
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with weasy.cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
