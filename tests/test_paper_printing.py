"""Printed numbered ballots (issue 5): one PDF for a range, through a background job that
records the range; read back with poppler and zbar, the PDF shows Chinese text, a box per
option and unit, and a QR code on every page that decodes to the serial."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.urls import reverse

from ballots.models import PrintedRange
from ballots.paper.printing import ballots_pdf
from campaigns.models import CampaignUnit, Category, Unit
from core.models import AuditLog, BackgroundJob
from demo.data import UNITS_000

needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdftotext") and shutil.which("zbarimg")),
    reason="poppler-utils and zbar-tools are needed to read the PDF back",
)


@pytest.fixture
def camp66(qianren):
    """The 66 units of document 000 in their three categories."""
    cats = {c.name: c for c in Category.objects.filter(campaign=qianren)}
    n = 0
    for cat, names in UNITS_000.items():
        for name in names:
            n += 1
            CampaignUnit.objects.create(
                campaign=qianren,
                category=cats[cat],
                name=name,
                order=n,
                unit=Unit.objects.get_or_create(name=name)[0],
            )
    qianren.instructions = "请在所选等次的方框内打“✓”,每个单位只选一项。"
    qianren.save()
    return qianren


def pdf_pages(pdf: bytes, tmp_path, dpi: int = 110) -> list:
    path = tmp_path / "b.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(tmp_path / "p")], check=True)
    return sorted(tmp_path.glob("p-*.png"))


def qr_of(png) -> list[str]:
    out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
    return out.stdout.split()


@needs_poppler
def test_every_page_shows_the_serial_as_digits_and_a_qr_code(camp66, tmp_path):
    pdf = ballots_pdf(camp66, ["000041", "000042"])
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    pages = text.split("\f")[:-1]
    # 66 units take two A4 pages per ballot.
    assert len(pages) == 4
    for page, serial in zip(pages, ["000041", "000041", "000042", "000042"], strict=True):
        assert serial in page
    assert "千人评议机关测试评议表" in pages[0] and "每个单位只选一项" in pages[0]
    for name in (
        "地方管理部门类",
        "垂直管理部门类",
        "金融部门类",
        "市委办公室",
        "海关宜办",
        "商业银行",
    ):
        assert name in text
    assert "基本满意" in pages[0] and "弃权" in pages[0]
    pngs = pdf_pages(pdf, tmp_path)
    # The QR code holds campaign, serial, page and layout version (ballots.paper.layout).
    assert [[q.split("|")[2] for q in qr_of(p)] for p in pngs] == [
        ["000041"],
        ["000041"],
        ["000042"],
        ["000042"],
    ]
    fonts = subprocess.run(
        ["pdffonts", str(tmp_path / "b.pdf")], capture_output=True, text=True, check=True
    ).stdout
    assert "Noto-Sans-CJK-SC" in fonts  # real Chinese glyphs (SC forms), not boxes


def count_boxes(png, lo: int = 20, hi: int = 32) -> int:
    """Empty square outlines of a box's size (4.5 mm, about 27 px at 150 dpi): a dark top-left
    corner with light pixels left of and above it, dark runs of the same length to the right
    and down, a dark opposite corner and a light middle. Table rules are far longer and QR
    modules and corner marks are filled, so none of them counts."""
    from PIL import Image

    img = Image.open(png).convert("L")
    w, h = img.size
    data = img.tobytes()

    def dark(x: int, y: int) -> bool:
        return data[y * w + x] < 190  # borders fall between pixels and render grey

    n = 0
    for y in range(1, h - hi - 1):
        for x in range(1, w - hi - 1):
            if not dark(x, y) or dark(x - 1, y) or dark(x, y - 1):
                continue
            right = 0
            while right <= hi and dark(x + right, y):
                right += 1
            if not lo <= right <= hi:
                continue
            down = 0
            while down <= hi and dark(x, y + down):
                down += 1
            # The far corner may fall between pixels and render light: look at its 2x2 block.
            far = any(dark(x + right - i, y + down - j) for i in (1, 2) for j in (1, 2))
            if abs(right - down) <= 3 and far:
                n += not dark(x + right // 2, y + down // 2)
    return n


@needs_poppler
def test_one_box_per_option_and_unit(camp66, tmp_path):
    pdf = ballots_pdf(camp66, ["000001"])
    pages = pdf_pages(pdf, tmp_path, dpi=150)
    assert len(pages) == 2  # one sheet, printed on both sides
    assert sum(count_boxes(p) for p in pages) == 66 * 4


def test_office_prints_a_range_through_a_job_and_the_range_is_recorded(
    client, office, camp66, django_capture_on_commit_callbacks
):
    client.force_login(office)
    url = reverse("paper_print", args=[camp66.slug])
    form = {
        "first": 1,
        "last": 3,
        "width": 6,
        "channel": "社会随机评",
        "district": "城区片",
        "make_pdf": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(url, form)
    job = BackgroundJob.objects.get()
    assert r.status_code == 302 and r.url == reverse("job_page", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "done", job.message
    assert (job.done, job.total) == (3, 3) and "已生成 3 份选票" in job.message
    assert job.result_name.endswith("000001-000003.pdf")
    assert job.result_file.read().startswith(b"%PDF")
    rng = PrintedRange.objects.get()
    assert (rng.first, rng.last, rng.count, rng.channel, rng.district) == (
        1,
        3,
        3,
        "社会随机评",
        "城区片",
    )
    assert AuditLog.objects.filter(action="paper_range_create").count() == 1
    page = client.get(url).content.decode()
    assert "000001–000003" in page and "社会随机评" in page
    # The next range is proposed after the last one.
    assert 'value="4"' in page
    # Overlapping ranges are refused on the form, naming the range they overlap.
    r = client.post(url, {**form, "first": 3, "last": 9})
    assert r.status_code == 200 and "与已登记的 000001–000003 重叠" in r.content.decode()
    assert PrintedRange.objects.count() == 1


def test_a_range_printed_elsewhere_is_recorded_without_a_pdf(client, office, camp66):
    client.force_login(office)
    r = client.post(
        reverse("paper_print", args=[camp66.slug]),
        {"first": 10, "last": 20, "width": 6, "district": "开发区片"},
    )
    assert r.status_code == 302 and not BackgroundJob.objects.exists()
    assert PrintedRange.objects.get().count == 11


@pytest.mark.parametrize("who", ["clerk", "leader", "auditor", "outsider"])
def test_only_office_staff_print(client, camp66, who, request):
    client.force_login(request.getfixturevalue(who))
    url = reverse("paper_print", args=[camp66.slug])
    assert client.get(url).status_code == 403
    assert client.post(url, {"first": 1, "last": 3, "width": 6}).status_code == 403
    assert not PrintedRange.objects.exists()


def test_copies_share_the_ballot_so_a_long_run_stays_small(camp66):
    """Every copy reuses the one rendered ballot: 500 ballots are 1,000 pages of a few KB."""
    import io

    from pypdf import PdfReader

    pdf = ballots_pdf(camp66, [f"{n:06d}" for n in range(1, 501)])
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1000
    assert len(pdf) < 3_000_000
    assert "000377" in reader.pages[752].extract_text()  # ballot 377, first page
