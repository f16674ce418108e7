"""Generated scans of printed ballots with their truth (issue 21): the test set of the reader.

The campaign's own printed PDF (ballots.paper.printing.ballots_pdf) is rendered to images with
pypdfium2, then every row gets a mark drawn the way people mark paper, from a seeded random
truth: tick, cross, filled box, circle round the box, light pencil, two boxes (spoiled), blank,
erasure smudges, plus stray strokes outside the boxes. Each page is then "scanned": rotated up
to ±5°, scaled 0.97–1.03, a quarter turned upside down, noise, blur, JPEG loss, some in colour
and some binarised to black and white, at 150–600 dpi. Pages are written in a shuffled order.

Black-and-white pages are marked exactly as the others (the same pens, 0.7–1.5 pt in black,
blue or red, the same pencil and erasures) and come at the same resolutions: the scanner turns
the page grey and thresholds it at 53–65% of the way to white, as a scanner's
black-and-white mode does. What that loses (light pencil, a thin red stroke at 150 dpi) or
blackens (an erasure's grey trace) is lost or blackened; the truth stays what the voter did,
so the reader must not claim to know what the image no longer shows.

The truth of a page (a line of truth.jsonl) is what a careful person would read off the paper:
serial, page, and per row [row, mark, ambiguous] with mark as ballots.reading counts it
(0 unmarked, 255 several, k the option's position). `ambiguous` rows (light pencil, erasures)
are ones where a person may hesitate: the reader may queue them, and reading them confidently
is only right if it gives the intended mark. Everything is a function of the seed.

Only the campaign and PDF need Django (`campaign_pdf`); the drawing is numpy/OpenCV.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

SEVERAL = 255  # ballots.reading.SEVERAL (not imported: this module must not need Django)
Page = np.ndarray[Any, Any]

# Share of rows per style. Ambiguous-by-design rows are kept near 1.2%: the bar is at
# most 2% of rows sent to people, and a real crowd seldom marks in faint pencil or erases.
STYLES = (
    ("blank", 0.05),
    ("tick", 0.30),
    ("cross", 0.25),
    ("fill", 0.16),
    ("circle", 0.17),
    ("double", 0.02),
    ("pencil", 0.007),
    ("erasure", 0.003),
    ("erased_only", 0.002),
)
FAVOURITE_SHARE = 0.2  # pages whose voter marks one option on nearly every row
INK = ((20, 20, 25), (150, 40, 20), (30, 30, 160))  # BGR: black, blue and red pens


@dataclass
class Truth:
    serial: str
    page: int
    pages: int
    rows: list[tuple[int, int, bool]] = field(default_factory=list)
    file: str = ""
    dpi: int = 0
    upside_down: bool = False
    qr_blotted: bool = False
    copy_of: str = ""
    blank_page: bool = False
    mode: str = "grey"

    def json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


def campaign_pdf(slug: str, copies: int) -> tuple[bytes, dict[str, Any]]:
    """Print `copies` ballots of a fresh 66-unit campaign (bench.data's): PDF and box map.

    Needs Django set up and a migrated database."""
    from ballots.paper.layout import layout_document
    from ballots.paper.printing import render_template, stamp_copies
    from bench.data import make_campaign

    campaign = make_campaign(slug)
    template = render_template(campaign)
    serials = [f"{n:06d}" for n in range(1, copies + 1)]
    pdf = stamp_copies(template, campaign.slug, serials)
    doc = layout_document(campaign.slug, template.version, 1, copies, template.box_map)
    return pdf, doc


def render(pdf: bytes, dpi: int) -> Iterator[Page]:
    """The pages of a PDF as BGR images at `dpi`."""
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    doc = pdfium.PdfDocument(pdf)
    try:
        for i in range(len(doc)):
            bitmap = doc[i].render(scale=dpi / 72, grayscale=False)
            yield np.array(bitmap.to_numpy()[:, :, :3])
    finally:
        doc.close()


def _pt(v: float, s: float) -> int:
    return int(round(v * s))


def _pen(
    img: Page, pts: list[tuple[float, float]], s: float, ink: tuple[int, ...], w: float
) -> None:
    p = np.array([[_pt(x, s), _pt(y, s)] for x, y in pts], np.int32)
    cv2.polylines(img, [p], False, ink, max(1, _pt(w, s)), cv2.LINE_AA)


def draw_mark(
    img: Page,
    box: dict[str, Any],
    style: str,
    s: float,
    rng: random.Random,
    ink: tuple[int, ...],
    thin: float = 0.7,
) -> None:
    """One mark in (or round) a box; coordinates in points, `s` pixels per point."""
    x, y, w = box["x"], box["y"], box["width"]
    cx, cy, h = x + w / 2 + rng.uniform(-1, 1), y + w / 2 + rng.uniform(-1, 1), w / 2

    def j(v: float) -> float:  # a position v half-sides from the centre, give or take
        return (v + rng.uniform(-0.2, 0.2)) * h

    pen = rng.uniform(thin, 1.5)  # points
    if style == "tick":
        big = rng.uniform(0.8, 1.4)
        _pen(
            img,
            [
                (cx + j(-0.6) * big, cy + j(0.0) * big),
                (cx + j(-0.1) * big, cy + j(0.6) * big),
                (cx + j(0.8) * big, cy + j(-0.9) * big),
            ],
            s,
            ink,
            pen,
        )
    elif style == "cross":
        big = rng.uniform(0.7, 1.3)
        _pen(
            img,
            [(cx + j(-0.7) * big, cy + j(-0.7) * big), (cx + j(0.7) * big, cy + j(0.7) * big)],
            s,
            ink,
            pen,
        )
        _pen(
            img,
            [(cx + j(0.7) * big, cy + j(-0.7) * big), (cx + j(-0.7) * big, cy + j(0.7) * big)],
            s,
            ink,
            pen,
        )
    elif style == "fill":
        # A scribble that covers most of the box, not a perfect rectangle.
        k = rng.uniform(0.6, 1.0)
        quad = [
            (cx + j(-k), cy + j(-k)),
            (cx + j(k), cy + j(-k)),
            (cx + j(k), cy + j(k)),
            (cx + j(-k), cy + j(k)),
        ]
        p = np.array([[_pt(a, s), _pt(b, s)] for a, b in quad], np.int32)
        cv2.fillPoly(img, [p], ink, cv2.LINE_AA)
    elif style == "circle":
        r = rng.uniform(7.8, 10.0)
        axes = (_pt(r * rng.uniform(0.95, 1.15), s), _pt(r * rng.uniform(0.9, 1.05), s))
        start = rng.uniform(0, 360)
        cv2.ellipse(
            img,
            (_pt(cx, s), _pt(cy, s)),
            axes,
            rng.uniform(-20, 20),
            start,
            start + rng.uniform(330, 380),
            ink,
            max(1, _pt(pen, s)),
            cv2.LINE_AA,
        )
    elif style == "pencil":
        grey = rng.randint(120, 175)
        draw_mark(img, box, rng.choice(("tick", "cross")), s, rng, (grey, grey, grey))
    elif style == "smudge":
        # An erased mark: a grey cloud with a trace of the strokes left in it.
        grey = rng.randint(175, 225)
        draw_mark(img, box, rng.choice(("tick", "cross")), s, rng, (grey, grey, grey))
        r = _pt(h * rng.uniform(0.9, 1.4), s)
        x0, y0 = _pt(cx, s) - r, _pt(cy, s) - r
        patch = img[y0 : y0 + 2 * r + 1, x0 : x0 + 2 * r + 1]
        blob = np.zeros(patch.shape[:2], np.uint8)
        cv2.circle(blob, (r, r), r, 255, -1)
        sel = blob > 0
        patch[sel] = (patch[sel] * (1 - rng.uniform(0.05, 0.15))).astype(np.uint8)


def stray(
    img: Page,
    boxes: list[dict[str, Any]],
    page: dict[str, Any],
    s: float,
    rng: random.Random,
    ink: tuple[int, ...],
) -> None:
    """A stroke away from every box (a note in the margin, a slip of the pen)."""
    for _ in range(30):
        x0 = rng.uniform(60, page["width"] - 60)
        y0 = rng.uniform(80, page["height"] - 60)
        x1, y1 = x0 + rng.uniform(-40, 40), y0 + rng.uniform(-15, 15)
        lo_x, hi_x, lo_y, hi_y = min(x0, x1) - 8, max(x0, x1) + 8, min(y0, y1) - 8, max(y0, y1) + 8
        if all(
            b["x"] + b["width"] < lo_x
            or b["x"] > hi_x
            or b["y"] + b["height"] < lo_y
            or b["y"] > hi_y
            for b in boxes
        ):
            _pen(
                img,
                [(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2 + rng.uniform(-4, 4)), (x1, y1)],
                s,
                ink,
                rng.uniform(0.6, 1.2),
            )
            return


def mark_page(
    img: Page, page: dict[str, Any], dpi: int, rng: random.Random, blank: bool, faint: bool = True
) -> list[tuple[int, int, bool]]:
    """Draw each row's mark on a rendered page (in place); the truth of its rows.

    faint=False (for tests that want clear marks only, never used by `generate`): no light
    pencil or erasures, and black pens of at least 1 pt."""
    s = dpi / 72
    by_row: dict[int, list[dict[str, Any]]] = {}
    for b in page["boxes"]:
        by_row.setdefault(b["row"], []).append(b)
    ink = rng.choice(INK) if faint else INK[0]
    thin = 0.7 if faint else 1.0
    names = [n for n, _ in STYLES]
    weights = [w for _, w in STYLES]
    # Many voters mark the same option on (nearly) every row, most often the first: a column
    # of marks must not pass for the page's empty level.
    favourite = rng.choice((1, 1, 1, 2, 3)) if rng.random() < FAVOURITE_SHARE else None
    truth = []
    for row, boxes in sorted(by_row.items()):
        style = "blank" if blank else rng.choices(names, weights)[0]
        if not faint and style in ("pencil", "erasure", "erased_only"):
            style = rng.choice(("tick", "cross"))
        mark, ambiguous = 0, False
        if style == "double":
            a, b = rng.sample(boxes, 2)
            for box in (a, b):
                draw_mark(
                    img, box, rng.choice(("tick", "cross", "fill", "circle")), s, rng, ink, thin
                )
            mark = SEVERAL
        elif style in ("erasure", "erased_only"):
            a, b = rng.sample(boxes, 2)
            draw_mark(img, a, "smudge", s, rng, ink)
            ambiguous = True
            if style == "erasure":  # the voter erased one answer and chose another
                draw_mark(img, b, rng.choice(("tick", "cross", "fill")), s, rng, ink, thin)
                mark = b["key"]
        elif style != "blank":
            box = rng.choice(boxes)
            if favourite is not None and rng.random() < 0.95:
                box = next((b for b in boxes if b["key"] == favourite), box)
            draw_mark(img, box, style, s, rng, ink, thin)
            mark, ambiguous = box["key"], style == "pencil"
        truth.append((row, mark, ambiguous))
    for _ in range(rng.choice((0, 0, 1, 2, 3))):
        stray(img, page["boxes"], page, s, rng, ink)
    return truth


def scan(
    img: Page,
    page: dict[str, Any],
    dpi: int,
    rng: random.Random,
    *,
    upside_down: bool,
    blot_qr: bool,
    mode: str,
    angle: float | None = None,
) -> Page:
    """What a scanner makes of the page: turned, skewed, scaled, noisy, blurred; grey, colour
    or black-and-white (the caller compresses)."""
    s = dpi / 72
    if blot_qr:
        q = page["qr"]
        cv2.rectangle(
            img,
            (_pt(q["x"] + 8, s), _pt(q["y"] + 8, s)),
            (_pt(q["x"] + q["width"] - 8, s), _pt(q["y"] + q["height"] - 8, s)),
            (40, 40, 40),
            -1,
        )
    # The scanner's glass is larger than the sheet: a page skewed by 5° keeps its corners
    # (a page-sized frame would cut the corner marks off, which no scanner does to a whole page).
    pad = int(0.04 * max(img.shape[:2]))
    img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    h, w = img.shape[:2]
    skew = rng.uniform(-5, 5)
    angle = (skew if angle is None else angle) + (180 if upside_down else 0)
    scale = rng.uniform(0.97, 1.03)
    m = cv2.getRotationMatrix2D(
        (w / 2 + rng.uniform(-20, 20), h / 2 + rng.uniform(-20, 20)), angle, scale
    )
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    if mode != "colour":
        out = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
    sigma = rng.uniform(0, 1.0) * s / 2.8
    if sigma > 0.3:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    # cv2.randn on int16 is several times faster than numpy's normal() on a 300 dpi page.
    cv2.setRNGSeed(rng.getrandbits(31))
    # One plane of noise, added to every channel of a colour page (grain, not colour noise).
    noise = np.empty(out.shape[:2], np.int16)
    cv2.randn(noise, np.array([0.0]), np.array([rng.uniform(1, 8)]))
    if out.ndim == 3:
        noise = noise[:, :, None]
    out = np.clip(out.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    if mode == "bw":
        out = np.where(out < rng.randint(135, 165), 0, 255).astype(np.uint8)
    return out


def generate(
    pdf: bytes, doc: dict[str, Any], seed: int, folder: Path, *, part: int = 0, parts: int = 1
) -> list[Truth]:
    """Mark and scan every page of `pdf` into `folder` (page-NNNNN.jpg/.png) and return the
    truths in page order. `part`/`parts` let several processes share one set: page i goes to
    part i % parts, and each page's randomness comes from (seed, i) alone."""
    folder.mkdir(parents=True, exist_ok=True)
    maps = doc["pages"]
    truths = []
    previous: tuple[Page, Truth, int] | None = None
    for i, rendered in enumerate(_pages_of(pdf, seed, part, parts)):
        index, dpi, img = rendered
        rng = random.Random(f"{seed}-{index}")
        n_pages = len(maps)
        page_map = maps[index % n_pages]
        truth = Truth(
            serial=f"{index // n_pages + 1:06d}", page=index % n_pages + 1, pages=n_pages, dpi=dpi
        )
        if previous is not None and rng.random() < 0.01:
            # A photocopy of the page before: same marks, scanned again.
            img, old, dpi = previous
            truth = Truth(**{**old.__dict__, "copy_of": old.file})
            page_map = maps[truth.page - 1]
        else:
            r = rng.random()
            truth.mode = "bw" if r < 0.15 else "colour" if r < 0.4 else "grey"
            truth.blank_page = rng.random() < 0.02
            # Every mode gets the same marks: what a black-and-white scan loses is the
            # reader's problem, not the truth's (see the module docstring).
            truth.rows = mark_page(img, page_map, dpi, rng, truth.blank_page)
            previous = (img.copy(), truth, dpi)
        truth.dpi = dpi
        truth.upside_down = rng.random() < 0.25
        truth.qr_blotted = rng.random() < 0.01
        out = scan(
            img,
            page_map,
            dpi,
            rng,
            upside_down=truth.upside_down,
            blot_qr=truth.qr_blotted,
            mode=truth.mode,
        )
        # Shuffled names: the reader meets the pages in no particular order.
        name = f"page-{random.Random(f'{seed}-name-{index}').getrandbits(40):012x}-{index:05d}"
        if truth.mode == "bw":
            truth.file = name + ".png"
            cv2.imwrite(str(folder / truth.file), out, [cv2.IMWRITE_PNG_BILEVEL, 1])
        else:
            truth.file = name + ".jpg"
            cv2.imwrite(
                str(folder / truth.file), out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(50, 92)]
            )
        truths.append(truth)
        del i
    return truths


DPIS = ((150, 0.25), (200, 0.35), (300, 0.33), (400, 0.05), (600, 0.02))


def _pages_of(pdf: bytes, seed: int, part: int, parts: int) -> Iterator[tuple[int, int, Page]]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        for i in range(part, len(doc), parts):
            dpi = random.Random(f"{seed}-dpi-{i}").choices(
                [d for d, _ in DPIS], [w for _, w in DPIS]
            )[0]
            bitmap = doc[i].render(scale=dpi / 72)
            yield i, dpi, np.array(bitmap.to_numpy()[:, :, :3])
    finally:
        doc.close()


def write_truth(truths: list[Truth], path: Path) -> None:
    path.write_text("".join(t.json() + "\n" for t in truths), encoding="utf-8")


def read_truth(path: Path) -> list[Truth]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        d["rows"] = [tuple(r) for r in d["rows"]]
        out.append(Truth(**d))
    return out


def images_pdf(files: list[Path], path: Path) -> None:
    """A PDF with one scanned image per page, as a scanner writes it: JPEGs embedded as they
    are (DCTDecode), black-and-white PNGs as 1-bit flate images. No re-encoding, so the PDF
    holds exactly the pages the truth describes."""
    import zlib

    offsets: list[int] = []
    with path.open("wb") as f:

        def obj(body: bytes, stream: bytes | None = None) -> int:
            offsets.append(f.tell())
            n = len(offsets)
            f.write(f"{n} 0 obj\n".encode() + body)
            if stream is not None:
                f.write(b"\nstream\n" + stream + b"\nendstream")
            f.write(b"\nendobj\n")
            return n

        f.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        obj(b"<< /Type /Catalog /Pages 2 0 R >>")
        offsets.append(0)  # object 2, the page tree, is written last
        kids = []
        for file in files:
            data = file.read_bytes()
            img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
            assert img is not None, file
            h, w = img.shape[:2]
            if file.suffix == ".jpg":
                cs = "/DeviceRGB" if img.ndim == 3 else "/DeviceGray"
                im = obj(
                    f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} "
                    f"/ColorSpace {cs} /BitsPerComponent 8 /Filter /DCTDecode "
                    f"/Length {len(data)} >>".encode(),
                    data,
                )
            else:
                bits = zlib.compress(np.packbits(img > 127, axis=1).tobytes())
                im = obj(
                    f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} "
                    f"/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode "
                    f"/Length {len(bits)} >>".encode(),
                    bits,
                )
            pw, ph = 595.28, 841.89
            content = f"q {pw} 0 0 {ph} 0 0 cm /Im Do Q".encode()
            c = obj(f"<< /Length {len(content)} >>".encode(), content)
            kids.append(
                obj(
                    f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw} {ph}] "
                    f"/Resources << /XObject << /Im {im} 0 R >> >> "
                    f"/Contents {c} 0 R >>".encode()
                )
            )
        offsets[1] = f.tell()
        refs = " ".join(f"{k} 0 R" for k in kids)
        f.write(f"2 0 obj\n<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>\nendobj\n".encode())
        xref = f.tell()
        f.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
        for off in offsets:
            f.write(f"{off:010d} 00000 n \n".encode())
        f.write(
            f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
        )
