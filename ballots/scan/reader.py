"""One scanned page of a printed ballot in, its QR payload and a mark per row out (issue 21).

Libraries, and why:
- OpenCV (opencv-python-headless): the corner marks are found as connected components, the
  page is registered by a homography and warped into the box map's own coordinates, so every
  box is an axis-aligned slice of one array and measuring 264 boxes costs a few numpy sums.
  Headless: no GUI libraries on a server.
- zxing-cpp: decodes QR codes in any rotation, fast, with a numpy interface; tried first on
  the slot the box map names (small, upright after warping), then on the whole page.
- pypdfium2 (only in `read_pdf_pages`): a scanner's PDF holds one image per page; its JPEG
  bytes are handed to OpenCV as they are, so nothing is rendered or re-encoded.

How a page is read:
1. Grey (the darkest channel of a colour scan, so blue or red pens read as dark as black),
   shrunk to about 200 dpi when finer: marks of 1 pt strokes need no more.
2. The four corner marks: solid squares near the image corners, found at ~50 dpi. The
   larger one is the top-left, which tells the page's orientation (upside down, or even a
   quarter turn) without the QR code. Their centres, refined at full resolution, give the
   homography from the box map's points to the image.
3. The page is warped to SCALE pixels per point. The QR code is decoded in its slot; when that
   fails, in the whole image. A page whose QR cannot be read is still registered and its rows
   read, and `problem` says that a person must type its serial.
4. Which page of which layout: the QR says; without it, the box map whose box outlines fit the
   image best (and clearly better than any other) is taken.
5. Each box, at the offset within 1 pt where its printed outline is darkest (parts of a page
   move a little in printing and scanning): the share of strong pixels (most of the way from
   paper to ink, as a pen's stroke is) inside it, an inset that leaves the outline out; the
   share of faint pixels (any trace) and the mean darkness inside, which faint pencil and
   erasure smudges raise without strong pixels; and strips left and right of it, where a
   circle drawn round the box runs (rows are too close for the strips above and below). Each
   is measured against the page's own empty boxes: the median of the same column of boxes on
   the page, since most boxes of a ballot are empty and a column shares its surroundings.
6. A box is MARKED (strong pixels inside, or strong pixels on both sides: a circle), EMPTY (no
   trace inside nor beside it) or UNSURE (anything between: the thresholds leave a gap). A
   row is certain only when none of its boxes is UNSURE: one MARKED box gives its key, none
   gives UNMARKED, two or more give SEVERAL (spoiled by the spec's rule). Anything else, and
   every row of a page whose box outlines are not where the map says, goes to a person.
7. A black-and-white scan (the image has two levels: the scanner thresholded it) is not read
   with confidence at all: `rescan` is set, `problem` asks for the page to be scanned again in
   grey or colour, and its rows are read but none is certain. Such a scan keeps no grey, so
   the image no longer shows what the voter did, at any resolution: light pencil lighter
   than the scanner's threshold is gone (the row reads blank), the grey trace of an erased
   mark darker than it is solid black (it reads as a mark, alone or beside the chosen one),
   and below ~300 dpi a thin coloured stroke can vanish too (a 0.7 pt red tick at 150 dpi
   read as blank: the first generated set's one wrong confident reading). A person looking
   at that image cannot tell either, so queuing the rows for confirmation would not help;
   the paper must be scanned again. Narrower rules were measured on bench/scanset.py's 2,000
   pages, whose black-and-white pages are marked like the others: trusting only rows with
   exactly one clear mark still read 2 erased-only rows as marked (at 150 and 300 dpi: a
   minimum resolution does not help) and sent 9.5% of those pages' rows to people; treating
   every speck as unsure had sent 3.4% of all rows to people. A grey scan keeps the trace's
   greyness, which step 5's faint and darkness measures see. A black-and-white scan is told
   by its image before any shrinking (`is_black_and_white`): almost none of its dark pixels are
   mid-grey (none on the generated black-and-white pages; 37–89% on grey and colour ones).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import zxingcpp

UNMARKED = 0  # ballots.reading's values, repeated so that this module needs no Django
SEVERAL = 255
SCALE = 2.0  # pixels per point of the warped page (144 dpi): a box's inside is ~15 px across
WORK_DPI = 200  # finer scans are shrunk to this first
FIND_DPI = 50  # corner marks are looked for at this resolution
INSET = 2.6  # points inside a box's outer edge: past the 1 pt outline and registration error
RING = (0.5, 5.5)  # points beside a box's edge: where a circle drawn round it runs
FAINT_NEAR = 1.2  # points beside the edge where faint traces start to count
# Thresholds on a box's measures above its column's empty level (see module docstring, 5).
STRONG, FAINT = 0.62, 0.3  # of the way from paper to ink: a pen's stroke, any trace at all
MARK_SHARE, EMPTY_SHARE = 0.06, 0.008  # share inside of strong (mark) / faint (empty) pixels
EMPTY_DARK = 9.0  # mean darkness inside (0–255) an empty box stays under
MARK_RING, EMPTY_RING = 0.03, 0.025  # dark share beside it: both sides (circle), either side
MIN_OUTLINE = 60.0  # contrast of the printed outlines on a well-registered page
SHIFT = 2  # pixels (1 pt) a box may lie off where the homography puts it
PAGE_MARGIN = 25.0  # how much better the best box map must fit without a QR code
RESCAN_BW = "black-and-white scan: rescan the page in grey or colour"
BW_MID = 0.02  # at most this share of non-white pixels mid-grey: a black-and-white scan
REOPEN = 50  # pages read from a PDF before it is opened afresh (see read_pdf_pages)
Image = np.ndarray[Any, Any]
QR_ONLY = zxingcpp.barcode_formats_from_str("QRCode")  # no time spent on other symbologies


@dataclass(frozen=True)
class RowRead:
    row: int
    mark: int  # UNMARKED, SEVERAL or the option's key (1 = first)
    certain: bool
    fills: tuple[float, ...]  # per option in key order: strong share inside, above empty
    rings: tuple[float, ...]  # per option: strong share beside the box (both sides), above empty
    crop: tuple[int, int, int, int]  # x, y, width, height of the row in the image's pixels
    why: str = ""


@dataclass(frozen=True)
class PageRead:
    slug: str | None
    serial: str | None
    page: int | None
    pages: int | None
    version: str | None
    registered: bool  # the corner marks were found and the box map fits the image
    problem: str  # "" when nothing needs a person at page level
    rows: tuple[RowRead, ...]
    upside_down: bool = False
    # Scan the page again (in grey or colour): a black-and-white scan, whose rows are read but
    # none is certain (module docstring, 7). `problem` says so.
    rescan: bool = False

    @property
    def needs_serial(self) -> bool:
        return self.serial is None


def parse_payload(text: str) -> tuple[str, str, int, int, str] | None:
    """PY1|slug|serial|page/pages|version (ballots.paper.layout), or None if not one."""
    parts = text.strip().split("|")
    if len(parts) != 5 or parts[0] != "PY1" or not parts[2].isdigit():
        return None
    page, _, pages = parts[3].partition("/")
    if not (page.isdigit() and pages.isdigit()):
        return None
    return parts[1], parts[2], int(page), int(pages), parts[4]


def to_grey(image: Image) -> Image:
    """8-bit grey; colour as its darkest channel (a red or blue pen is a mark too)."""
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 3:
        if image.shape[2] < 3:
            return np.ascontiguousarray(image[:, :, 0])
        # cv2.min is many times faster than numpy's min over the last axis.
        b, g, r = cv2.split(image)[:3]
        return cv2.min(cv2.min(b, g), r)
    return np.ascontiguousarray(image)


def is_black_and_white(grey: Image) -> bool:
    """Whether a grey image has only two levels, or nearly (a scanner's black-and-white mode):
    almost none of its dark pixels are mid-grey, where any grey or colour scan has the
    blurred edges of every printed line."""
    sample = np.ascontiguousarray(grey[::3, ::3])
    hist = cv2.calcHist([sample], [0], None, [4], [0, 256]).ravel()
    dark, mid = float(hist[0]), float(hist[1] + hist[2])
    return dark > 0 and mid <= BW_MID * (dark + mid)


def _dpi_of(grey: Image, page: Mapping[str, Any]) -> float:
    return max(grey.shape) / (max(page["width"], page["height"]) / 72)


def find_corners(grey: Image, page: Mapping[str, Any]) -> tuple[np.ndarray[Any, Any], int] | None:
    """The image points of the corner marks in box-map order (top-left, top-right,
    bottom-left, bottom-right) and the page's turn (0–3 quarter turns clockwise), or None."""
    dpi = _dpi_of(grey, page)
    f = 1 / max(1, round(dpi / FIND_DPI))
    small = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    _, dark = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, _, stats, cents = cv2.connectedComponentsWithStats(dark, connectivity=8)
    px = dpi * f / 72  # small pixels per point
    sizes = sorted(fd["size"] for fd in page["fiducials"])
    lo, hi = (0.65 * sizes[0] * px) ** 2, (1.5 * sizes[-1] * px) ** 2
    h, w = small.shape
    corners = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]  # clockwise from the image's top-left
    reach = 0.22 * float(np.hypot(w, h))
    best: list[tuple[float, int] | None] = [None] * 4
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if not (lo <= area <= hi and 0.7 <= bw / bh <= 1.4 and area >= 0.72 * bw * bh):
            continue
        for c, (cx, cy) in enumerate(corners):
            d = float(np.hypot(cents[i][0] - cx, cents[i][1] - cy))
            if d < reach and (best[c] is None or d < best[c][0]):  # type: ignore[index]
                best[c] = (d, i)
    if any(b is None for b in best):
        return None
    ids = [b[1] for b in best if b is not None]
    areas = [float(stats[i][4]) for i in ids]
    big = int(np.argmax(areas))
    others = sorted(a for k, a in enumerate(areas) if k != big)
    # The top-left mark is 8 mm against 6 mm: 1.78 times the area. Unclear: no orientation.
    if areas[big] < 1.35 * others[-1] or others[-1] > 1.4 * others[0]:
        return None
    pts = [_refine(grey, cents[i] / f, np.sqrt(stats[i][4]) / f) for i in ids]
    # Clockwise in the image from the big mark: top-left, top-right, bottom-right, bottom-left.
    tl, tr, br, bl = (pts[(big + k) % 4] for k in range(4))
    return np.array([tl, tr, bl, br], np.float32), big


def _refine(grey: Image, centre: np.ndarray[Any, Any], side: float) -> tuple[float, float]:
    """The centre of a corner mark at full resolution (the small image's is ±1.5 pt)."""
    r = int(side)
    x0, y0 = max(0, int(centre[0]) - r), max(0, int(centre[1]) - r)
    win = grey[y0 : int(centre[1]) + r + 1, x0 : int(centre[0]) + r + 1]
    _, dark = cv2.threshold(win, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(dark, connectivity=8)
    if n < 2:
        return float(centre[0]), float(centre[1])
    i = 1 + int(np.argmax(stats[1:, 4]))
    return float(cents[i][0] + x0), float(cents[i][1] + y0)


def _decode(img: Image) -> tuple[str, str, int, int, str] | None:
    for result in zxingcpp.read_barcodes(img, formats=QR_ONLY):
        payload = parse_payload(result.text)
        if payload:
            return payload
    return None


def _sum_table(mask: Image) -> Image:
    return cv2.integral(mask.astype(np.uint8), sdepth=cv2.CV_32S)


def _rect_sums(table: Image, rects: Image) -> Image:
    """Sums of an integral image over rectangles [x0, y0, x1, y1) (one per row of `rects`)."""
    x0, y0, x1, y1 = rects.T
    return (table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]).astype(np.float64)


@dataclass
class _Measure:
    share: Image
    dark: Image
    faint: Image
    ring: Image
    ring_any: Image
    outline: float


def _clip(r: Image, w: int, h: int) -> Image:
    r[:, [0, 2]] = r[:, [0, 2]].clip(0, w - 1)
    r[:, [1, 3]] = r[:, [1, 3]].clip(0, h - 1)
    return r


def _area(r: Image) -> Image:
    return np.maximum((r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1]), 1).astype(np.float64)


def _measure(
    warped: Image,
    boxes: Sequence[Mapping[str, Any]],
    white: float,
    black: float,
    origin: tuple[float, float],
) -> _Measure:
    h, w = warped.shape
    b = np.array(
        [[bx["x"] - origin[0], bx["y"] - origin[1], bx["width"], bx["height"]] for bx in boxes],
        np.float64,
    )
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]

    def rect(dx: float) -> Image:  # the box grown by dx points (shrunk when negative), pixels
        return np.rint(np.stack([x0 - dx, y0 - dx, x1 + dx, y1 + dx], axis=1) * SCALE).astype(
            np.int64
        )

    def side(sign: int, near: float = RING[0]) -> Image:  # the strip beside the box
        xa = x0 - RING[1] if sign < 0 else x1 + near
        xb = x0 - near if sign < 0 else x1 + RING[1]
        # Kept 1 pt inside the box's height: the table's row lines run 1.4 pt above and below
        # it, and their blurred edges would read as traces.
        return np.rint(np.stack([xa, y0 + 1, xb, y1 - 1], axis=1) * SCALE).astype(np.int64)

    # Dark: most of the way from paper to the ink of the outlines, as a pen's stroke is and
    # faint pencil or an erased mark is not (those raise `mean` and show in `faint`).
    dark = warped < white - STRONG * (white - black)
    faint_px = warped < white - FAINT * (white - black)
    darkness = cv2.subtract(np.full_like(warped, int(white)), warped)  # saturates at 0
    t_dark, t_ink = _sum_table(dark), cv2.integral(darkness, sdepth=cv2.CV_32S)
    t_faint = _sum_table(faint_px)

    # Each box is looked for within SHIFT pixels of where the homography puts it, at the
    # offset where its printed outline is darkest: printing, paper and the scanner's optics
    # move parts of a page by a fraction of a point, and the strips beside a box start just
    # past its outline, where such a shift would read as ink.
    edge_out, edge_in = rect(0.3), rect(-1.3)
    steps = [(dx, dy) for dy in range(-SHIFT, SHIFT + 1) for dx in range(-SHIFT, SHIFT + 1)]
    bands = []
    for dx, dy in steps:
        d = np.array([dx, dy, dx, dy])
        o, i = _clip(edge_out + d, w, h), _clip(edge_in + d, w, h)
        bands.append(
            (_rect_sums(t_ink, o) - _rect_sums(t_ink, i)) / np.maximum(_area(o) - _area(i), 1)
        )
    all_bands = np.stack(bands)
    pick = all_bands.argmax(axis=0)
    band = all_bands[pick, np.arange(len(boxes))]
    offset = np.array([[steps[k][0], steps[k][1]] * 2 for k in pick])

    def at(r: Image) -> Image:
        return _clip(r + offset, w, h)

    inner = at(rect(-INSET))
    share = _rect_sums(t_dark, inner) / _area(inner)
    mean = _rect_sums(t_ink, inner) / _area(inner)
    faint = _rect_sums(t_faint, inner) / _area(inner)
    # A circle round a box crosses the strips left and right of it; rows are too close for
    # the strips above and below to tell a circle from the next row's marks. A circle needs
    # ink on both sides (a tick's tail or a stray line has one), while a box is only clearly
    # empty with no ink on either side.
    left, right = at(side(-1)), at(side(1))
    sl, sr = _rect_sums(t_dark, left) / _area(left), _rect_sums(t_dark, right) / _area(right)
    ring = np.minimum(sl, sr)
    # Empty beside it means no trace at all: a thin coloured line loses its darkness to
    # JPEG's halved colour resolution, and must still keep the box from reading as empty.
    # (Faint pixels start further out: the blurred edge of the outline is faint too.)
    left, right = at(side(-1, FAINT_NEAR)), at(side(1, FAINT_NEAR))
    ring_any = np.maximum(
        _rect_sums(t_faint, left) / _area(left), _rect_sums(t_faint, right) / _area(right)
    )
    # Outline contrast: printed outlines where the map says, against the insides.
    outline = float(np.median(band) - np.median(mean))
    return _Measure(share, mean, faint, ring, ring_any, outline)


def _levels(warped: Image) -> tuple[float, float]:
    """Paper white and ink black of this scan, from the boxes' part of the page: mostly paper,
    and about a tenth printed outlines and marks."""
    sample = warped[::3, ::3]
    black, white = (float(v) for v in np.percentile(sample, [2, 90]))
    return white, min(black, white - 60)


def read_page(image: Image, layouts: Mapping[str, Mapping[str, Any]]) -> PageRead:
    """Read one scanned page against the box maps of the printed ranges, by layout version
    (the documents `manage.py print_layout` writes, or their "pages" lists)."""
    maps = {v: (d["pages"] if isinstance(d, Mapping) else d) for v, d in layouts.items()}
    candidates = [(v, p) for v, pages in maps.items() for p in pages]
    if not candidates:
        raise ValueError("no box map to read against")
    grey = to_grey(image)
    bw = is_black_and_white(grey)
    shrink = 1.0
    dpi = _dpi_of(grey, candidates[0][1])
    if dpi > WORK_DPI * 1.25:
        # Whole factors: OpenCV's area resize has a fast path for them.
        shrink = 1 / round(dpi / WORK_DPI)
        grey = cv2.resize(grey, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    found = find_corners(grey, candidates[0][1])
    if found is None:
        payload = _decode(grey)
        return _unregistered(payload, "corner marks not found")
    corners, turn = found
    page0 = candidates[0][1]
    src = np.array([[fd["x"], fd["y"]] for fd in page0["fiducials"]], np.float32)
    to_image = cv2.getPerspectiveTransform(src, corners)
    # Only the part of the page that holds boxes and the QR slot is warped (a third of it).
    q = page0["qr"]
    things = [b for _, p in candidates for b in p["boxes"]] + [q]
    left = max(0.0, min(b["x"] for b in things) - 12)
    top = max(0.0, min(b["y"] for b in things) - 12)
    right = max(b["x"] + b["width"] for b in things) + 12
    bottom = max(b["y"] + b["height"] for b in things) + 12
    shift = np.array([[SCALE, 0, -left * SCALE], [0, SCALE, -top * SCALE], [0, 0, 1.0]])
    to_page = shift @ np.linalg.inv(to_image)
    size = (int((right - left) * SCALE) + 1, int((bottom - top) * SCALE) + 1)
    warped = cv2.warpPerspective(grey, to_page, size, flags=cv2.INTER_LINEAR, borderValue=255)
    m = 6
    slot = warped[
        max(0, int((q["y"] - top - m) * SCALE)) : int((q["y"] - top + q["height"] + m) * SCALE),
        max(0, int((q["x"] - left - m) * SCALE)) : int((q["x"] - left + q["width"] + m) * SCALE),
    ]
    payload = _decode(slot) or _decode(grey)
    white, black = _levels(warped)
    origin = (left, top)
    slug: str | None
    serial: str | None
    number: int | None
    pages: int | None
    version: str | None
    if payload is not None:
        slug, serial, number, pages, version = payload
        chosen = [(v, p) for v, p in candidates if v == version and p["page"] == number]
        if not chosen:
            return PageRead(
                slug, serial, number, pages, version, False, "layout version unknown", ()
            )
        page = chosen[0][1]
        measure = _measure(warped, page["boxes"], white, black, origin)
        problem = ""
    else:
        slug = serial = None
        fits = sorted(
            ((_measure(warped, p["boxes"], white, black, origin), v, p) for v, p in candidates),
            key=lambda t: -t[0].outline,
        )
        measure, fit_version, page = fits[0]
        if len(fits) > 1 and measure.outline - fits[1][0].outline < PAGE_MARGIN:
            return PageRead(
                None, None, None, None, None, True, "QR unreadable; page not recognised", ()
            )
        number, pages, version = page["page"], len(maps[fit_version]), fit_version
        problem = "QR unreadable: type the serial"
    if measure.outline < MIN_OUTLINE:
        return PageRead(
            slug, serial, number, pages, version, False, "boxes not where the map says", ()
        )
    back = np.diag([1 / shrink, 1 / shrink, 1.0]) @ to_image
    rows = _rows(page, measure, back, bw)
    if bw:
        problem = "; ".join(p for p in (RESCAN_BW, problem) if p)
    return PageRead(slug, serial, number, pages, version, True, problem, rows, turn == 2, bw)


def _unregistered(payload: tuple[str, str, int, int, str] | None, problem: str) -> PageRead:
    if payload is None:
        return PageRead(None, None, None, None, None, False, problem + "; QR unreadable", ())
    return PageRead(*payload, registered=False, problem=problem, rows=())


def _rows(
    page: Mapping[str, Any], m: _Measure, to_image: Image, bw: bool = False
) -> tuple[RowRead, ...]:
    boxes = page["boxes"]
    keys = np.array([b["key"] for b in boxes])
    share, dark, ring, ring_any = m.share.copy(), m.dark.copy(), m.ring.copy(), m.ring_any.copy()
    faint = m.faint.copy()
    # Against the page's own empty boxes: the median of each column of boxes, but never above
    # the lower quartile of all boxes of the page. A voter who marks the same option on most
    # rows (全部满意) makes that column's median a mark, and subtracting it would read every
    # mark of the column as blank, with confidence. At most one box of a row is marked (or it
    # is spoiled), so at least half of a page's boxes are empty on any scale of two or more
    # options and its lower quartile is an empty box's level; a level too low only makes empty
    # boxes look less empty (sending them to a person), never a mark vanish.
    measures = (share, dark, ring, ring_any, faint)
    floors = [float(np.percentile(v, 25)) for v in measures]
    for k in np.unique(keys):
        sel = keys == k
        for v, floor in zip(measures, floors, strict=True):
            v[sel] -= min(float(np.median(v[sel])), floor)
    marked = (share >= MARK_SHARE) | (ring >= MARK_RING)
    empty = (faint <= EMPTY_SHARE) & (dark <= EMPTY_DARK) & (ring_any <= EMPTY_RING)
    by_row: dict[int, list[int]] = {}
    for i, b in enumerate(boxes):
        by_row.setdefault(b["row"], []).append(i)
    out = []
    for row, idx in sorted(by_row.items()):
        idx.sort(key=lambda i: boxes[i]["key"])
        hits = [boxes[i]["key"] for i in idx if marked[i]]
        unsure = [i for i in idx if not marked[i] and not empty[i]]
        mark = UNMARKED if not hits else hits[0] if len(hits) == 1 else SEVERAL
        why = "; ".join(
            f"box {boxes[i]['key']} unclear (inside {share[i]:.2f}, grey {dark[i]:.0f}, "
            f"beside {ring[i]:.2f}/{ring_any[i]:.2f})"
            for i in idx
            if not marked[i] and not empty[i]
        )
        certain = not unsure and not bw
        if bw:  # module docstring, 7
            why = "; ".join(w for w in (RESCAN_BW, why) if w)
        out.append(
            RowRead(
                row=row,
                mark=mark,
                certain=certain,
                fills=tuple(round(float(share[i]), 3) for i in idx),
                rings=tuple(round(float(ring[i]), 3) for i in idx),
                crop=_crop([boxes[i] for i in idx], to_image),
                why=why,
            )
        )
    return tuple(out)


def _crop(boxes: Sequence[Mapping[str, Any]], to_image: Image) -> tuple[int, int, int, int]:
    """The row in image pixels, from the page's left margin (the unit's name) to past its
    last box, for the person who confirms it."""
    x0 = 40.0
    x1 = max(b["x"] + b["width"] for b in boxes) + 8
    y0 = min(b["y"] for b in boxes) - 4
    y1 = max(b["y"] + b["height"] for b in boxes) + 4
    pts = np.array([[[x0, y0], [x1, y0], [x0, y1], [x1, y1]]], np.float32)
    img = cv2.perspectiveTransform(pts, to_image)[0]
    lo, hi = img.min(axis=0), img.max(axis=0)
    return int(lo[0]), int(lo[1]), int(hi[0] - lo[0]) + 1, int(hi[1] - lo[1]) + 1


def read_image_file(path: str | Path) -> Iterator[Image]:
    """The pages of a TIFF (one or many), PNG or JPEG file, at their resolution."""
    p = str(path)
    if p.lower().endswith((".tif", ".tiff")):
        ok, pages = cv2.imreadmulti(p, flags=cv2.IMREAD_UNCHANGED)
        if not ok:
            raise ValueError(f"cannot read {p}")
        yield from pages
        return
    img = cv2.imread(p, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"cannot read {p}")
    yield img


def read_pdf_pages(
    data: bytes | str | Path, dpi: int = 200, pages: range | None = None
) -> Iterator[Image]:
    """The pages of a scanner's PDF as images. A page that is one embedded JPEG is decoded
    from its own bytes (no rendering, no loss); any other page is rendered at `dpi`."""
    import pypdfium2 as pdfium  # type: ignore[import-untyped]
    import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

    doc = pdfium.PdfDocument(data)
    try:
        for n, i in enumerate(pages if pages is not None else range(len(doc))):
            if n and n % REOPEN == 0:
                # PDFium keeps every stream it has loaded for the document's lifetime: a
                # 2,000-page scan would end up held in memory. Reopening lets it go.
                doc.close()
                doc = pdfium.PdfDocument(data)
            page = doc[i]
            images = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))
            img: Image | None = None
            if len(images) == 1:
                obj = images[0]
                if obj.get_filters() == ["DCTDecode"]:
                    raw = obj.get_data(decode_simple=False)
                    # A fine scan is decoded at half size straight from the JPEG (libjpeg
                    # scales while decoding): quicker, and reading needs ~200 dpi at most.
                    width_pt = page.get_size()[0]
                    fine = obj.get_px_size()[0] / (width_pt / 72) >= 1.4 * WORK_DPI
                    flag = cv2.IMREAD_REDUCED_COLOR_2 if fine else cv2.IMREAD_UNCHANGED
                    img = cv2.imdecode(np.frombuffer(bytes(raw), np.uint8), flag)
                    del raw
                else:
                    # (PDFium owns this bitmap: it goes with the page, not closed here.)
                    img = np.array(obj.get_bitmap(render=False).to_numpy())
            if img is None:
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                img = np.array(bitmap.to_numpy())
                bitmap.close()
            for obj in images:
                obj.close()
            page.close()
            yield img
    finally:
        doc.close()
