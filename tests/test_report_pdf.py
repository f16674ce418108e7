"""The PDF reports, read back with poppler: every unit with its rank, an embedded CJK font,
page numbers and the tally's fingerprint."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from django.core.management import call_command

from scoring.ballot_file import ballot_fingerprint
from tests.results_fixtures import results_campaign, tally_data  # noqa: F401

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")


def pdf_text(path, *extra: str) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", *extra, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def report(results_campaign, tmp_path):  # noqa: F811
    out = tmp_path / "r.pdf"
    call_command("report", "golden", "--format", "pdf", "-o", str(out), stdout=io.StringIO())
    return out


def test_every_unit_appears_with_its_rank(report):
    text = pdf_text(report)
    lines = text.splitlines()
    data = tally_data("golden")
    for cat in data["categories"]:
        assert cat["name"] in text
        for u in cat["units"]:
            rank = str(u["rank"]) if u["rank"] else "—"
            pattern = re.compile(rf"^\s*{re.escape(rank)}\s+{re.escape(u['unit'])}\s")
            assert any(pattern.match(line) for line in lines), (u["unit"], rank)


def test_cjk_font_is_embedded(report):
    fonts = subprocess.run(
        ["pdffonts", str(report)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    cjk = [f for f in fonts if "CJK" in f]
    assert cjk, fonts
    # columns: name type encoding emb sub uni ...: "yes" under emb
    assert all(line.split()[-5] == "yes" for line in cjk), cjk


def test_page_numbers_and_fingerprint_on_every_page(report, results_campaign):  # noqa: F811
    info = subprocess.run(["pdfinfo", str(report)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 3
    fingerprint = ballot_fingerprint(results_campaign)
    for page in range(2, pages + 1):  # the cover has no page number, by design
        text = pdf_text(report, "-f", str(page), "-l", str(page))
        assert f"第 {page} 页 / 共 {pages} 页" in text
        assert fingerprint in text


def test_lists_rules_and_comment_annex(report):
    text = pdf_text(report)
    for heading in ("优胜单位", "末位单位", "重点整改单位", "计分与认定规则", "意见和建议"):
        assert heading in text
    assert "<script>alert(1)</script>办事效率高" in text  # shown as typed, not interpreted


def test_comments_can_be_left_out(results_campaign, tmp_path):  # noqa: F811
    out = tmp_path / "r.pdf"
    call_command(
        "report",
        "golden",
        "--format",
        "pdf",
        "--no-comments",
        "-o",
        str(out),
        stdout=io.StringIO(),
    )
    assert "办事效率高" not in pdf_text(out)


def test_feedback_sheet_is_one_page_per_unit(results_campaign, tmp_path):  # noqa: F811
    data = tally_data("golden")
    names = [u["unit"] for c in data["categories"] for u in c["units"]]
    out = tmp_path / "f.pdf"
    call_command("report", "golden", "--format", "feedback", "-o", str(out), stdout=io.StringIO())
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == len(names)
    first = pdf_text(out, "-f", "1", "-l", "1")
    assert names[0] in first and "评议结果反馈单" in first


def test_unknown_unit_for_feedback_is_named(results_campaign, tmp_path):  # noqa: F811
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="不存在的局"):
        call_command(
            "report",
            "golden",
            "--format",
            "feedback",
            "--unit",
            "不存在的局",
            "-o",
            str(tmp_path / "f.pdf"),
        )


def test_report_ends_with_the_signoff_before_its_annex(results_campaign, tmp_path):  # noqa: F811
    """落款 (issuer, date) after the last ranking table; the comments, an annex, follow it as
    in an official document. Without them the sign-off is on the last page."""
    from django.utils import timezone

    from campaigns.models import Campaign

    issuer = "示例市民主评议工作领导小组办公室"
    Campaign.objects.filter(pk=results_campaign.pk).update(issuer=issuer)
    today = timezone.localdate()
    signoff = f"{today.year}年{today.month}月{today.day}日"
    last_unit = tally_data("golden")["categories"][-1]["units"][-1]["unit"]

    out = tmp_path / "r.pdf"
    call_command("report", "golden", "--format", "pdf", "-o", str(out), stdout=io.StringIO())
    text = pdf_text(out)
    annex = text.index("附件:意见和建议")
    assert text.rindex(last_unit, 0, annex) < text.index(issuer) < annex
    assert text.index(issuer) < text.index(signoff, text.index(issuer)) < annex

    out = tmp_path / "n.pdf"
    call_command(
        "report", "golden", "--format", "pdf", "--no-comments", "-o", str(out),
        stdout=io.StringIO(),
    )
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    last = pdf_text(out, "-f", str(pages), "-l", str(pages))
    lines = [line.strip() for line in last.splitlines() if line.strip()]
    at = lines.index(issuer)
    assert lines[at + 1] == signoff
