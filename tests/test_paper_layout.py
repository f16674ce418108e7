"""Machine-readable printed ballots (issue 21, part 1): corner marks, a QR code per page with
campaign, serial, page and layout version, boxes of fixed geometry, and the box map kept with
the range and written by `manage.py print_layout`. Checked against the rendered pages with
poppler and zbar, so the map says where things really are."""

from __future__ import annotations

import json
import shutil
import subprocess
from itertools import combinations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from ballots.models import PrintedRange
from ballots.paper.cells import options_of, rows_of
from ballots.paper.layout import FIDUCIALS, layout_version, qr_payload
from ballots.paper.printing import ballots_pdf, print_range, render_template
from ballots.paper.ranges import range_create
from ballots.services import Layout
from campaigns.models import CampaignUnit
from core.models import AuditLog
from demo.data import UNITS_000
from tests.helpers import add_units

needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
    reason="poppler-utils and zbar-tools are needed to read the PDF back",
)
BOX_KEYS = {
    "x",
    "y",
    "width",
    "height",
    "unit",
    "dimension",
    "option",
    "row",
    "key",
    "unit_id",
    "dimension_id",
    "option_id",
}


@pytest.fixture
def camp66(qianren):
    """The 66 units of document 000 in three categories: a ballot of two pages."""
    add_units(qianren, UNITS_000)
    return qianren


@pytest.fixture
def small(qianren):
    add_units(qianren, {"地方管理部门类": ("甲局", "乙局"), "金融部门类": ("丙行",)})
    return qianren


@pytest.fixture
def with_dims(campaign_factory):
    """A campaign rated on five dimensions: a row per (unit, dimension)."""
    camp = campaign_factory("wanren", slug="wanren")
    add_units(camp, {"市直机关": ("教育局", "卫健委")})
    return camp


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def check_geometry(pages: list[dict]) -> None:
    """Boxes of one size, inside the page, between the corner marks, apart from each other
    and from the QR code and serial."""
    sizes = {(b["width"], b["height"]) for p in pages for b in p["boxes"]}
    assert len(sizes) == 1
    ((w, h),) = sizes
    assert w == h == pytest.approx(4.5 / 25.4 * 72, abs=0.02)
    for page in pages:
        fids = {f["corner"]: f for f in page["fiducials"]}
        assert list(fids) == list(FIDUCIALS)
        # The top-left mark is the larger one: a reader tells an upside-down page by it.
        assert fids["top-left"]["size"] > fids["bottom-right"]["size"]
        assert len({f["size"] for c, f in fids.items() if c != "top-left"}) == 1
        for f in fids.values():
            half = f["size"] / 2
            assert (
                half <= f["x"] <= page["width"] - half and half <= f["y"] <= page["height"] - half
            )
        left = max(fids["top-left"]["x"], fids["bottom-left"]["x"])
        right = min(fids["top-right"]["x"], fids["bottom-right"]["x"])
        top = max(fids["top-left"]["y"], fids["top-right"]["y"])
        bottom = min(fids["bottom-left"]["y"], fids["bottom-right"]["y"])
        things = [*page["boxes"], page["qr"], page["serial_digits"]]
        for b in things:
            assert left < b["x"] and b["x"] + b["width"] < right
            assert top < b["y"] and b["y"] + b["height"] < bottom
        for a, b in combinations(things, 2):
            assert not overlap(a, b), (a, b)


def test_box_map_has_a_fixed_box_per_cell_and_option_in_keying_order(camp66):
    template = render_template(camp66, pdf=False)
    pages = template.box_map
    assert [p["page"] for p in pages] == [1, 2]
    assert all((p["width"], p["height"]) == (595.28, 841.89) for p in pages)  # A4
    check_geometry(pages)
    boxes = [b for p in pages for b in p["boxes"]]
    layout, options, rows = Layout.of(camp66), options_of(camp66), rows_of(camp66)
    assert len(boxes) == len(layout.cells) * len(options) == 66 * 4
    assert [(b["row"], b["key"]) for b in boxes] == [
        (r, k) for r in range(66) for k in range(1, len(options) + 1)
    ]
    for b in boxes:
        assert (b["unit_id"], b["dimension_id"]) == layout.cells[b["row"]]
        assert b["option_id"] == options[b["key"] - 1].pk
        assert (b["unit"], b["option"]) == (rows[b["row"]].unit, options[b["key"] - 1].label)
        assert b["dimension"] is None and set(b) == BOX_KEYS
    # Reading order on paper is keying order: down the page, options left to right.
    first = [b for b in boxes if b["row"] == 0]
    assert [b["x"] for b in first] == sorted(b["x"] for b in first)
    assert len({b["y"] for b in first}) == 1
    assert template.version == layout_version(pages) and len(template.version) == 12


def test_rows_follow_layout_with_dimensions_and_a_change_gives_a_new_version(with_dims):
    first = render_template(with_dims, pdf=False)
    boxes = [b for p in first.box_map for b in p["boxes"]]
    layout = Layout.of(with_dims)
    dims = dict(with_dims.dimensions.values_list("id", "name"))
    assert len(layout.cells) == 2 * 5
    assert {b["row"] for b in boxes} == set(range(10))
    for b in boxes:
        assert (b["unit_id"], b["dimension_id"]) == layout.cells[b["row"]]
        assert b["dimension"] == dims[b["dimension_id"]]
    check_geometry(first.box_map)
    CampaignUnit.objects.filter(campaign=with_dims, name="卫健委").update(name="卫生健康委")
    again = render_template(with_dims, pdf=False)
    assert again.version != first.version
    assert "卫生健康委" in {b["unit"] for p in again.box_map for b in p["boxes"]}


def gray_pages(pdf: bytes, tmp_path, dpi: int) -> list:
    from PIL import Image

    path = tmp_path / "b.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(tmp_path / "p")], check=True)
    return [Image.open(p).convert("L") for p in sorted(tmp_path.glob("p-*.png"))]


def qr_text(img, tmp_path) -> str:
    path = tmp_path / "page.png"
    img.save(path)
    out = subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True, text=True)
    return out.stdout.strip()


@needs_poppler
def test_two_page_ballot_has_marks_and_a_qr_code_per_page_where_the_map_says(camp66, tmp_path):
    dpi = 150
    template = render_template(camp66, pdf=False)
    pages = template.box_map
    pdf = ballots_pdf(camp66, ["000041", "000042"])
    images = gray_pages(pdf, tmp_path, dpi)
    assert len(images) == 4
    scale = dpi / 72

    def px(img, x: float, y: float) -> int:
        return img.getpixel((round(x * scale), round(y * scale)))

    def darkest(img, x: float, y: float) -> int:
        # An outline of 1 pt is two pixels wide at 150 dpi and may fall between them.
        cx, cy = round(x * scale), round(y * scale)
        return min(img.getpixel((cx + dx, cy + dy)) for dx in (-1, 0, 1) for dy in (-1, 0, 1))

    for i, img in enumerate(images):
        serial, number = ("000041", "000042")[i // 2], i % 2 + 1
        assert (
            qr_text(img, tmp_path)
            == qr_payload("qianren", serial, number, 2, template.version)
            == f"PY1|qianren|{serial}|{number}/2|{template.version}"
        )
        page = pages[number - 1]
        # pdftoppm rounds the page up to whole pixels.
        assert img.size[0] - page["width"] * scale < 1 and img.size[1] - page["height"] * scale < 1
        for f in page["fiducials"]:
            assert px(img, f["x"], f["y"]) < 60, f
            # Just outside the mark the paper is white: the mark is a square of `size`.
            assert px(img, f["x"] + f["size"] / 2 + 2, f["y"]) > 200, f
        for b in page["boxes"]:
            cx, cy = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
            assert px(img, cx, cy) > 200, b  # empty inside
            for x, y in (
                (cx, b["y"] + 0.5),
                (cx, b["y"] + b["height"] - 0.5),
                (b["x"] + 0.5, cy),
                (b["x"] + b["width"] - 0.5, cy),
            ):
                assert darkest(img, x, y) < 110, (b, x, y)


def test_printing_keeps_the_box_map_with_the_range(small, office):
    rng = range_create(campaign=small, first=1, last=2, user=office)
    assert rng.layout is None and rng.layout_version == ""  # recorded, not yet printed
    print_range(rng, user=office)
    rng.refresh_from_db()
    assert rng.layout["version"] == rng.layout_version and len(rng.layout_version) == 12
    assert rng.layout["serials"] == {"from": 1, "to": 2} and rng.layout["campaign"] == small.slug
    assert not AuditLog.objects.filter(action="paper_range_layout").exists()
    # The ballot changes and the range is printed again: the map follows, and the change of
    # layout is on record (paper of both versions may exist).
    CampaignUnit.objects.filter(campaign=small, name="甲局").update(name="甲管理局")
    old = rng.layout_version
    print_range(rng, user=office)
    rng.refresh_from_db()
    assert rng.layout_version != old
    log = AuditLog.objects.get(action="paper_range_layout")
    assert log.before == {"layout_version": old} and log.after == {
        "layout_version": rng.layout_version
    }


def test_print_ballots_creates_the_range_once_and_refuses_overlaps(small, tmp_path):
    out = tmp_path / "b.pdf"
    call_command(
        "print_ballots",
        small.slug,
        "--from",
        "1",
        "--to",
        "3",
        "-o",
        str(out),
        "--channel",
        "社会随机评",
    )
    assert out.read_bytes().startswith(b"%PDF")
    rng = PrintedRange.objects.get()
    assert (rng.first, rng.last, rng.width, rng.channel) == (1, 3, 6, "社会随机评")
    assert rng.layout_version and rng.layout["version"] == rng.layout_version
    out.unlink()
    call_command(
        "print_ballots",
        small.slug,
        "--from",
        "1",
        "--to",
        "3",
        "-o",
        str(out),
        "--channel",
        "社会随机评",
    )
    assert out.exists() and PrintedRange.objects.count() == 1
    # The same serials for another channel, or a range that overlaps: refused, saying why.
    for extra in (["--from", "1", "--to", "3"], ["--from", "3", "--to", "9"]):
        with pytest.raises(CommandError, match="与已登记的 000001–000003 重叠"):
            call_command("print_ballots", small.slug, *extra, "-o", str(out))
    assert PrintedRange.objects.count() == 1
    with pytest.raises(CommandError, match="没有标识为 nope 的评议活动"):
        call_command("print_ballots", "nope", "--from", "1", "--to", "3", "-o", str(out))


def test_print_layout_writes_the_contract_json(small, tmp_path):
    out = tmp_path / "layout.json"
    with pytest.raises(CommandError, match="print_ballots"):
        call_command("print_layout", small.slug, "--from", "1", "--to", "3", "-o", str(out))
    call_command(
        "print_ballots", small.slug, "--from", "1", "--to", "3", "-o", str(tmp_path / "b.pdf")
    )
    call_command("print_layout", small.slug, "--from", "1", "--to", "3", "-o", str(out))
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert set(doc) == {"campaign", "version", "serials", "pages"}
    assert doc["campaign"] == small.slug and doc["serials"] == {"from": 1, "to": 3}
    assert doc == PrintedRange.objects.get().layout
    assert doc["version"] == layout_version(doc["pages"])
    (page,) = doc["pages"]  # three units fit one page
    assert set(page) == {"page", "width", "height", "fiducials", "qr", "serial_digits", "boxes"}
    assert page["page"] == 1 and (page["width"], page["height"]) == (595.28, 841.89)
    assert [f["corner"] for f in page["fiducials"]] == list(FIDUCIALS)
    assert set(page["fiducials"][0]) == {"corner", "x", "y", "size"}
    assert set(page["qr"]) == set(page["serial_digits"]) == {"x", "y", "width", "height"}
    assert len(page["boxes"]) == 3 * 4 and all(set(b) == BOX_KEYS for b in page["boxes"])
    assert [b["unit"] for b in page["boxes"][::4]] == ["甲局", "乙局", "丙行"]
    assert [b["option"] for b in page["boxes"][:4]] == [o.label for o in options_of(small)]


def test_office_downloads_a_range_box_map_from_the_print_page(client, office, clerk, small):
    rng = range_create(campaign=small, first=1, last=5, user=office)
    url = reverse("paper_range_layout", args=[small.slug, rng.pk])
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    client.force_login(office)
    assert url in client.get(reverse("paper_print", args=[small.slug])).content.decode()
    # Never printed here: the map of the current ballot, offered but not kept.
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "application/json"
    assert r["Content-Disposition"] == 'attachment; filename="qianren-layout-000001-000005.json"'
    doc = json.loads(r.content)
    assert doc["serials"] == {"from": 1, "to": 5} and len(doc["pages"][0]["boxes"]) == 12
    rng.refresh_from_db()
    assert rng.layout is None
    print_range(rng)
    rng.refresh_from_db()
    assert json.loads(client.get(url).content) == rng.layout


def test_a_range_printed_from_the_page_keeps_its_box_map(
    client, office, small, django_capture_on_commit_callbacks
):
    client.force_login(office)
    form = {"first": 1, "last": 2, "width": 6, "make_pdf": "on"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("paper_print", args=[small.slug]), form)
    rng = PrintedRange.objects.get()
    assert len(rng.layout_version) == 12 and rng.layout["serials"] == {"from": 1, "to": 2}
