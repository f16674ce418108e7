"""Numbered paper ballots as one PDF for a printed range.

Each ballot carries the campaign title and instructions, the units by category with a box per
option, and its serial as digits and as a QR code on every page (a ballot of 66 units takes
two pages, and a loose second sheet must still say which ballot it is). For a reader of
scanned ballots (issue 21) every page also has four corner marks, its boxes are squares of one
size, and its QR code holds campaign, serial, page and layout version; the box map that says
where everything lies is kept with the range. ballots.paper.layout documents the map and the
QR payload.

Why stamping: laying out a 66-unit ballot in WeasyPrint takes about half a second a page and
the layout of a long run does not fit in memory (200 ballots: 3.5 minutes, 2.4 GB). The copies
differ only in the serial, so WeasyPrint renders the ballot once, from an HTML template with
two empty slots in the header of every page; each page of the template becomes a form XObject
that every copy shares, and each copy's pages add a few drawing operations for the digits and
the QR code in those slots. A 5,000-ballot run then takes seconds and stays small. The corner
marks and boxes are part of the template, so they cost the copies nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import segno
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from ballots.models import PrintedRange
from ballots.paper.cells import options_of, rows_of, words_of
from ballots.paper.layout import (
    PX,
    PageLayout,
    Slot,
    layout_document,
    layout_version,
    qr_payload,
    read_pages,
)
from campaigns.models import Campaign
from core.audit import audit
from core.jobs import Progress, job_finish_file
from core.models import BackgroundJob

# A base-14 font: every PDF reader has it, so the digits need no embedded font. Its digits are
# all 0.556 em wide, which lets the stamp right-align them without measuring.
DIGIT_FONT = "Helvetica-Bold"
DIGIT_EM = 0.556
QR_BORDER = 4  # modules of quiet zone scanners need beside printed text
QR_MASK = 0  # see stamp_ops


def ballot_layout(campaign: Campaign) -> dict[str, Any]:
    """What every ballot of the campaign shows: categories of units, options, dimensions."""
    number = 0
    categories = []
    rows = rows_of(campaign)
    for name, cat_rows in groupby(rows, key=lambda r: r.category):
        units = []
        for unit, unit_rows in groupby(cat_rows, key=lambda r: (r.unit_id, r.unit)):
            number += 1
            units.append({"number": number, "name": unit[1], "cells": list(unit_rows)})
        categories.append({"name": name, "units": units})
    return {
        "campaign": campaign,
        "categories": categories,
        "rows": rows,
        "options": options_of(campaign),
        "dimensions": list(campaign.dimensions.order_by("order", "id")),
        "words": words_of(rows),
    }


@dataclass(frozen=True)
class Template:
    pdf: bytes
    page_size: tuple[float, float]
    # Per page: the slots to stamp and the page's entry in the box map.
    pages: tuple[PageLayout, ...]
    version: str

    @property
    def box_map(self) -> list[dict[str, Any]]:
        return [p.map for p in self.pages]


def render_template(campaign: Campaign, *, pdf: bool = True) -> Template:
    """The ballot without serial and its box map (read from WeasyPrint's layout).

    pdf=False skips writing the PDF when only the box map is wanted."""
    from weasyprint import HTML  # loads Pango: only when printing

    layout = ballot_layout(campaign)
    if not layout["categories"]:
        raise ValueError(_("本次评议还没有被评单位,无法印制选票"))
    doc = HTML(string=render_to_string("ballots/paper/print_ballots.html", layout)).render()
    pages = read_pages(doc.pages, layout["rows"], layout["options"])
    size = (doc.pages[0].width * PX, doc.pages[0].height * PX)
    return Template(
        pdf=doc.write_pdf() if pdf else b"",
        page_size=size,
        pages=tuple(pages),
        version=layout_version([p.map for p in pages]),
    )


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def stamp_ops(serial: str, payload: str, digits: Slot, qr: Slot) -> bytes:
    """PDF drawing operations: the serial right-aligned in its slot, the QR code holding
    `payload` in its own."""
    n = max(len(serial), 1)
    # Digits are 0.72 em tall in Helvetica: fill the slot's height unless the serial is long.
    size = min(digits.height / 0.9, digits.width / (n * DIGIT_EM * 1.08))
    spacing = 0.08 * DIGIT_EM * size  # a little air between digits, easier to read aloud
    width = n * DIGIT_EM * size + (n - 1) * spacing
    ops = [
        "0 g",
        f"BT /Serial {size:.2f} Tf {spacing:.2f} Tc "
        f"{digits.x + digits.width - width:.2f} {digits.y + 0.06 * size:.2f} Td "
        f"({_pdf_text(serial)}) Tj ET",
    ]
    # Level M (15% of the code may be lost) keeps a ~40-character payload at 29 modules,
    # large enough for a 110 dpi scan in the 22 mm slot. The mask is fixed: choosing the best
    # of eight (what segno does by default) takes 5 of the 6 ms a code costs, i.e. most of the
    # time of a long run, and any mask decodes (checked with zbar on 600 payloads).
    code = segno.make(payload, error="m", micro=False, mask=QR_MASK)
    rows = [list(r) for r in code.matrix_iter(scale=1, border=QR_BORDER)]
    module = min(qr.width, qr.height) / len(rows)
    top = qr.y + qr.height
    for r, row in enumerate(rows):
        c = 0
        # One rectangle per run of dark modules keeps the stream short.
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                ops.append(
                    f"{qr.x + start * module:.3f} {top - (r + 1) * module:.3f} "
                    f"{(c - start) * module:.3f} {module:.3f} re"
                )
            else:
                c += 1
    ops.append("f")
    return ("\n".join(ops) + "\n").encode("ascii")


def ballots_pdf(
    campaign: Campaign,
    serials: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """One PDF with every page of the ballot for each serial, in order."""
    return stamp_copies(render_template(campaign), campaign.slug, serials, progress)


def stamp_copies(
    template: Template,
    slug: str,
    serials: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The copies of a rendered ballot, one per serial: see the module docstring."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        NameObject,
    )

    reader = PdfReader(io.BytesIO(template.pdf))
    writer = PdfWriter()
    # pypdf has no public "add an object" call; _add_object is the one its own helpers use.
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject(f"/{DIGIT_FONT}"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    forms = []
    for page in reader.pages:
        contents = page.get_contents()
        assert contents is not None  # every page of the rendered ballot draws something
        form = DecodedStreamObject()
        form.set_data(contents.get_data())
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(FloatObject(v) for v in page.mediabox),
                NameObject("/Resources"): page["/Resources"].clone(writer),
            }
        )
        forms.append(writer._add_object(form.flate_encode()))
    width, height = template.page_size
    n_pages = len(template.pages)
    for done, serial in enumerate(serials, start=1):
        for number, (form_ref, slots) in enumerate(zip(forms, template.pages, strict=True), 1):
            page = writer.add_blank_page(width=width, height=height)
            page[NameObject("/Resources")] = DictionaryObject(
                {
                    NameObject("/XObject"): DictionaryObject({NameObject("/Ballot"): form_ref}),
                    NameObject("/Font"): DictionaryObject({NameObject("/Serial"): font}),
                }
            )
            content = DecodedStreamObject()
            payload = qr_payload(slug, serial, number, n_pages, template.version)
            ops = stamp_ops(serial, payload, slots.digits, slots.qr)
            content.set_data(b"q /Ballot Do Q\n" + ops)
            page[NameObject("/Contents")] = writer._add_object(content.flate_encode())
        if progress and (done % 100 == 0 or done == len(serials)):
            progress(done, len(serials))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def range_serials(rng: PrintedRange) -> list[str]:
    return [rng.fmt(n) for n in range(rng.first, rng.last + 1)]


def range_layout(rng: PrintedRange) -> dict[str, Any]:
    """The box map of a range: the one kept when it was printed, or else (a range recorded
    before issue 21, or printed elsewhere) the map its ballots would have if printed now, not
    kept, since no paper with that layout is known to exist."""
    if rng.layout:
        return rng.layout
    template = render_template(rng.campaign, pdf=False)
    return layout_document(
        rng.campaign.slug, template.version, rng.first, rng.last, template.box_map
    )


def print_range(
    rng: PrintedRange,
    progress: Callable[[int, int], None] | None = None,
    user: Any = None,
) -> bytes:
    """The PDF of the range's ballots; keeps the box map of what it printed with the range."""
    template = render_template(rng.campaign)
    pdf = stamp_copies(template, rng.campaign.slug, range_serials(rng), progress)
    before = rng.layout_version
    if before != template.version:
        rng.layout = layout_document(
            rng.campaign.slug, template.version, rng.first, rng.last, template.box_map
        )
        rng.layout_version = template.version
        # update_fields: a concurrent edit of the range's note must not be overwritten.
        rng.save(update_fields=["layout", "layout_version"])
        if before:
            # The ballot changed since this range was last printed: paper of both layouts
            # may be out there, and the QR code's version tells them apart.
            audit(
                user=user,
                action="paper_range_layout",
                obj=rng,
                campaign=rng.campaign,
                before={"layout_version": before},
                after={"layout_version": template.version},
            )
    return pdf


def run_print_job(job: BackgroundJob, progress: Progress) -> None:
    """Background job: params range_id."""
    rng = PrintedRange.objects.select_related("campaign").get(pk=job.params["range_id"])
    total = rng.count
    progress(0, total, _("正在排版选票……"))

    def step(done: int, _total: int) -> None:
        progress(done, total, _("已生成 %(d)d / %(n)d 份选票") % {"d": done, "n": total})

    pdf = print_range(rng, step, user=job.created_by)
    name = f"{rng.campaign.slug}-选票-{rng.fmt(rng.first)}-{rng.fmt(rng.last)}.pdf"
    job_finish_file(job, name, pdf)
    progress(total, total, _("已生成 %(n)d 份选票(%(r)s)") % {"n": total, "r": rng.label()})
