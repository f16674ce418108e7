"""Numbered paper ballots as one PDF for a printed range.

Each ballot carries the campaign title and instructions, the units by category with a box per
option, and its serial as digits and as a QR code on every page (a ballot of 66 units takes
two pages, and a loose second sheet must still say which ballot it is). The QR code holds the
serial only, so a scanner at the keying desk can fill the serial field.

Why stamping: laying out a 66-unit ballot in WeasyPrint takes about half a second a page and
the layout of a long run does not fit in memory (200 ballots: 3.5 minutes, 2.4 GB). The copies
differ only in the serial, so WeasyPrint renders the ballot once, from an HTML template with
two empty slots in the header of every page; each page of the template becomes a form XObject
that every copy shares, and each copy's pages add a few drawing operations for the digits and
the QR code in those slots. A 5,000-ballot run then takes seconds and stays small.
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
from campaigns.models import Campaign
from core.jobs import Progress, job_finish_file
from core.models import BackgroundJob

PX = 0.75  # CSS px to PDF points
# A base-14 font: every PDF reader has it, so the digits need no embedded font. Its digits are
# all 0.556 em wide, which lets the stamp right-align them without measuring.
DIGIT_FONT = "Helvetica-Bold"
DIGIT_EM = 0.556
QR_BORDER = 4  # modules of quiet zone scanners need beside printed text


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
        "options": options_of(campaign),
        "dimensions": list(campaign.dimensions.order_by("order", "id")),
        "words": words_of(rows),
    }


@dataclass(frozen=True)
class Slot:
    """A rectangle of the page in PDF points, origin bottom left."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Template:
    pdf: bytes
    page_size: tuple[float, float]
    # Per page: where the digits and the QR code go.
    slots: tuple[tuple[Slot, Slot], ...]


def render_template(campaign: Campaign) -> Template:
    """The ballot without serial, and the slots of each page (read from WeasyPrint's layout)."""
    from weasyprint import HTML  # loads Pango: only when printing

    layout = ballot_layout(campaign)
    if not layout["categories"]:
        raise ValueError(_("本次评议还没有被评单位,无法印制选票"))
    doc = HTML(string=render_to_string("ballots/paper/print_ballots.html", layout)).render()
    slots = []
    for page in doc.pages:
        found: dict[str, Slot] = {}
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            ident = element.get("id") if element is not None else None
            if ident in ("slot-digits", "slot-qr"):
                found[ident] = Slot(
                    x=box.content_box_x() * PX,
                    y=(page.height - box.content_box_y() - box.height) * PX,
                    width=box.width * PX,
                    height=box.height * PX,
                )
        slots.append((found["slot-digits"], found["slot-qr"]))
    size = (doc.pages[0].width * PX, doc.pages[0].height * PX)
    return Template(pdf=doc.write_pdf(), page_size=size, slots=tuple(slots))


def _pdf_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def stamp_ops(serial: str, digits: Slot, qr: Slot) -> bytes:
    """PDF drawing operations: the serial right-aligned in its slot, the QR code in its own."""
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
    code = segno.make(serial, error="m", micro=False)
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
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        NameObject,
    )

    template = render_template(campaign)
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
    for done, serial in enumerate(serials, start=1):
        for form_ref, (digits, qr) in zip(forms, template.slots, strict=True):
            page = writer.add_blank_page(width=width, height=height)
            page[NameObject("/Resources")] = DictionaryObject(
                {
                    NameObject("/XObject"): DictionaryObject({NameObject("/Ballot"): form_ref}),
                    NameObject("/Font"): DictionaryObject({NameObject("/Serial"): font}),
                }
            )
            content = DecodedStreamObject()
            content.set_data(b"q /Ballot Do Q\n" + stamp_ops(serial, digits, qr))
            page[NameObject("/Contents")] = writer._add_object(content.flate_encode())
        if progress and (done % 100 == 0 or done == len(serials)):
            progress(done, len(serials))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def range_serials(rng: PrintedRange) -> list[str]:
    return [rng.fmt(n) for n in range(rng.first, rng.last + 1)]


def run_print_job(job: BackgroundJob, progress: Progress) -> None:
    """Background job: params range_id."""
    rng = PrintedRange.objects.select_related("campaign").get(pk=job.params["range_id"])
    serials = range_serials(rng)
    total = len(serials)
    progress(0, total, _("正在排版选票……"))

    def step(done: int, _total: int) -> None:
        progress(done, total, _("已生成 %(d)d / %(n)d 份选票") % {"d": done, "n": total})

    pdf = ballots_pdf(rng.campaign, serials, step)
    name = f"{rng.campaign.slug}-选票-{rng.fmt(rng.first)}-{rng.fmt(rng.last)}.pdf"
    job_finish_file(job, name, pdf)
    progress(total, total, _("已生成 %(n)d 份选票(%(r)s)") % {"n": total, "r": rng.label()})
