"""The box map of a printed ballot: where a reader of scanned ballots finds everything.

The numbered ballot (ballots.paper.printing) is laid out once by WeasyPrint; this module reads
that layout back, so the map is the geometry actually printed and not a second description
that could drift from the template.

Box map (one entry per page of a ballot; every copy of a range shares it). Lengths are PDF
points (1/72 inch), x rightwards and y downwards FROM THE TOP-LEFT corner of the page::

    {"page": 1, "width": 595.28, "height": 841.89,
     "fiducials": [{"corner": "top-left", "x": 28.35, "y": 28.35, "size": 22.68}, ...],
     "qr": {"x": ..., "y": ..., "width": ..., "height": ...},
     "serial_digits": {"x": ..., "y": ..., "width": ..., "height": ...},
     "boxes": [{"x": ..., "y": ..., "width": 12.76, "height": 12.76,
                "unit": "市委办公室", "dimension": null, "option": "满意",
                "row": 0, "key": 1, "unit_id": 7, "dimension_id": null, "option_id": 3}, ...]}

- fiducials: the four solid black corner squares, in the order top-left, top-right,
  bottom-left, bottom-right; x, y is the centre and size the side. The top-left one is larger,
  so a page scanned upside down shows it at the bottom right.
- qr, serial_digits: the slots the QR code (with its quiet zone) and the printed serial fill.
- boxes: the outer edges of each box's outline. `row` is the cell's index in ballot order, the
  order of ballots.services.Layout.cells and of keying; `key` the option's position in the
  scale (1 = first), which is the mark ballots.reading and the keying desk use for it;
  `unit`, `dimension` and `option` are the labels the ballot prints (`dimension` is null when
  the campaign has no dimensions), the *_id fields the database ids behind them.

Layout version: the first 12 hex digits of the SHA-256 of the canonical JSON of the list of
pages (keys sorted, no spaces, UTF-8, not ASCII-escaped). Any change to the ballot (a unit,
an option, the wording that moves a box) gives a new version.

QR payload, one per page of every copy, ASCII fields joined by "|"::

    PY1|<campaign slug>|<serial>|<page>/<pages>|<layout version>
    e.g. PY1|qianren|000041|2/2|3f9c0a1b2d4e

PY1 names this format; page counts from 1. A slug holds only letters, digits, "-" and "_",
and a serial only digits, so "|" never occurs inside a field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ballots.paper.cells import Row
from campaigns.models import RatingOption

PX = 0.75  # CSS px to PDF points
QR_FORMAT = "PY1"
VERSION_DIGITS = 12
FIDUCIALS = ("top-left", "top-right", "bottom-left", "bottom-right")
DIGITS_SLOT = "slot-digits"
QR_SLOT = "slot-qr"


@dataclass(frozen=True)
class Slot:
    """A rectangle of the page in PDF points, origin bottom left (as PDF drawing wants it)."""

    x: float
    y: float
    width: float
    height: float

    def from_top(self, page_height: float) -> dict[str, float]:
        """The rectangle as the box map gives it: origin top left, rounded to 0.01 pt."""
        return {
            "x": round(self.x, 2),
            "y": round(page_height - self.y - self.height, 2),
            "width": round(self.width, 2),
            "height": round(self.height, 2),
        }


@dataclass(frozen=True)
class PageLayout:
    """What printing needs of one page (the slots to stamp) and what the map records."""

    digits: Slot
    qr: Slot
    map: dict[str, Any]


def _rect(box: Any, page_height_px: float) -> Slot:
    """The border box of a WeasyPrint box (the outer edges of an outline) in points."""
    return Slot(
        x=box.border_box_x() * PX,
        y=(page_height_px - box.border_box_y() - box.border_height()) * PX,
        width=box.border_width() * PX,
        height=box.border_height() * PX,
    )


def _content(box: Any, page_height_px: float) -> Slot:
    # The slots are empty divs: their content box is where the stamp goes.
    return Slot(
        x=box.content_box_x() * PX,
        y=(page_height_px - box.content_box_y() - box.height) * PX,
        width=box.width * PX,
        height=box.height * PX,
    )


def read_pages(
    pages: Sequence[Any], rows: Sequence[Row], options: Sequence[RatingOption]
) -> list[PageLayout]:
    """The slots and box map of each page of a rendered ballot (weasyprint Document.pages).

    Boxes are found by their `data-box="row-option"` attribute, the slots and corner marks
    by id; a ballot missing any of them on a page is a template error, so it raises."""
    result = []
    for number, page in enumerate(pages, start=1):
        height_px = page.height
        slots: dict[str, Slot] = {}
        fids: dict[str, Slot] = {}
        boxes: dict[tuple[int, int], Slot] = {}
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None:
                continue
            ident = element.get("id")
            cell = element.get("data-box")
            # Anonymous boxes share their parent's element: the first box seen (the parent,
            # in this pre-order walk) is the element's own.
            if ident in (DIGITS_SLOT, QR_SLOT) and ident not in slots:
                slots[ident] = _content(box, height_px)
            elif ident and ident.startswith("fid-") and ident[4:] not in fids:
                fids[ident[4:]] = _rect(box, height_px)
            elif cell:
                row, option = (int(v) for v in cell.split("-"))
                boxes.setdefault((row, option), _rect(box, height_px))
        missing = [n for n in (DIGITS_SLOT, QR_SLOT) if n not in slots]
        missing += [f"fid-{c}" for c in FIDUCIALS if c not in fids]
        if missing:
            raise ValueError(f"ballot page {number} lacks {', '.join(missing)}")
        height = height_px * PX
        page_map: dict[str, Any] = {
            "page": number,
            "width": round(page.width * PX, 2),
            "height": round(height, 2),
            "fiducials": [_fiducial(corner, fids[corner], height) for corner in FIDUCIALS],
            "qr": slots[QR_SLOT].from_top(height),
            "serial_digits": slots[DIGITS_SLOT].from_top(height),
            "boxes": [
                _box(rows[r], options[o], o, slot.from_top(height))
                for (r, o), slot in sorted(boxes.items())
            ],
        }
        result.append(PageLayout(digits=slots[DIGITS_SLOT], qr=slots[QR_SLOT], map=page_map))
    return result


def _fiducial(corner: str, rect: Slot, page_height: float) -> dict[str, Any]:
    return {
        "corner": corner,
        "x": round(rect.x + rect.width / 2, 2),
        "y": round(page_height - rect.y - rect.height / 2, 2),
        "size": round(rect.width, 2),
    }


def _box(row: Row, option: RatingOption, position: int, rect: dict[str, float]) -> dict[str, Any]:
    return {
        **rect,
        "unit": row.unit,
        "dimension": row.dimension or None,
        "option": option.label,
        "row": row.index,
        "key": position + 1,
        "unit_id": row.unit_id,
        "dimension_id": row.dimension_id,
        "option_id": option.pk,
    }


def layout_version(pages: Sequence[dict[str, Any]]) -> str:
    """The version of a box map: see the module docstring."""
    canonical = json.dumps(list(pages), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:VERSION_DIGITS]


def qr_payload(slug: str, serial: str, page: int, pages: int, version: str) -> str:
    """What the QR code on one page of one copy holds: see the module docstring."""
    return f"{QR_FORMAT}|{slug}|{serial}|{page}/{pages}|{version}"


def layout_document(
    slug: str, version: str, first: int, last: int, pages: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """The box map of a printed range as `manage.py print_layout` writes it and the print page
    offers it for download (also what PrintedRange.layout keeps)."""
    return {
        "campaign": slug,
        "version": version,
        "serials": {"from": first, "to": last},
        "pages": list(pages),
    }
