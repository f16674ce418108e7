"""Printable code slips (评议码条): several per A4 page, each with the campaign name, the
code, who it is for, and a QR code of the ballot link carrying the code (`/v/<slug>/?c=CODE`;
the page moves it into the session and redirects at once).

Built by stamping, like printed ballots (ballots/paper/printing.py): laid out slip by slip,
WeasyPrint took about two seconds a slip. The slips differ only in the code, the name and the
QR code, so WeasyPrint renders the sheet once, with empty slots, and every page of slips shares
it as a form XObject. The codes are drawn in a base-14 font (they are ASCII, every PDF reader
has it); the QR codes as rectangles. The names are Chinese and need the embedded CJK font, so
WeasyPrint renders every distinct name line once, stacked on a few long pages, and each line's
text operations are cut out into a small form XObject of its own that its slips draw (text
clipped from a shared page would still be read by pdftotext and screen readers on every slip).
A thousand slips then take a few seconds.
"""

from __future__ import annotations

import io
import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import segno
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from ballots.models import AccessCode
from campaigns.models import Campaign
from core.files import job_files_remove
from core.jobs import Progress, job_finish_file
from core.models import BackgroundJob

PER_PAGE = 10  # 2 columns x 5 rows on A4
PX = 0.75  # CSS px to PDF points
# Monospaced, so the code is right where the template left room and needs no measuring.
CODE_FONT = "Courier-Bold"
CODE_EM = 0.6
CODE_PT = 11.5
# A border of 4 modules is the quiet zone the QR standard asks for (less and some phone
# scanners miss codes beside text); error level M survives a crease or a smudge.
QR_BORDER = 4
QR_MASK = 4
# How tall a page of name lines may be: PDF readers refuse pages over 14,400 points.
NAMES_PAGE_PX = 18_000


def code_link(base: str, campaign: Campaign, code: str) -> str:
    """The QR link: `base` is the site's address, e.g. https://pingyi.example.gov.cn"""
    return f"{base.rstrip('/')}/v/{campaign.slug}/?c={quote(code)}"


def who_line(code: AccessCode) -> str:
    name = code.representative.name if code.representative else ""
    group = code.group.name if code.group else ""
    return " · ".join(part for part in (name, group) if part)


@dataclass(frozen=True)
class Slot:
    """A rectangle of the page in PDF points, origin bottom left."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class SlipSlots:
    code: Slot
    who: Slot
    qr: Slot


def _slot(page: Any, box: Any) -> Slot:
    return Slot(
        x=box.content_box_x() * PX,
        y=(page.height - box.content_box_y() - box.height) * PX,
        width=box.width * PX,
        height=box.height * PX,
    )


def _render_sheet(campaign: Campaign, base: str, total: int) -> tuple[bytes, list[list[SlipSlots]]]:
    """The sheet without codes: a full page, and a shorter last page when `total` asks for one.
    Returns the PDF and, per page, each slip's slots in reading order."""
    from weasyprint import HTML  # loads Pango: only when printing

    counts = ([PER_PAGE] if total >= PER_PAGE else []) + (
        [total % PER_PAGE] if total % PER_PAGE else []
    )
    html = render_to_string(
        "ballots/codes/slips.html",
        {
            "campaign": campaign,
            "pages": [range(n) for n in counts],
            "entry": f"{base.rstrip('/')}/v/",
        },
    )
    doc = HTML(string=html).render()
    pages: list[list[SlipSlots]] = []
    for page, count in zip(doc.pages, counts, strict=True):
        found: dict[str, list[Slot]] = {"code": [], "who": [], "qr": []}
        seen: set[int] = set()
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            kind = element.get("data-slot") if element is not None else None
            # Anonymous boxes inside an element share it: its own box comes first.
            if kind in found and id(element) not in seen:
                seen.add(id(element))
                found[kind].append(_slot(page, box))
        slips = [
            SlipSlots(c, w, q)
            for c, w, q in zip(found["code"], found["who"], found["qr"], strict=True)
        ]
        assert len(slips) == count, (len(slips), count)
        pages.append(slips)
    return doc.write_pdf(), pages


_BLOCK = re.compile(rb"\nBT\n(.*?)\nET\n", re.S)
_DARK = re.compile(rb"\x01+")  # a run of dark modules in a row of segno's matrix
_TM_Y = re.compile(rb"1 0 0 -1 \S+ (\S+) Tm")


def _render_names(
    lines: Sequence[str], slot: Slot
) -> tuple[bytes, dict[str, tuple[int, float, bytes]]]:
    """Each distinct line rendered once in a box the size of the name slot. Returns the PDF
    (its pages' resources hold the embedded font) and per line: its page, its top in CSS px,
    and its text operations alone."""
    from pypdf import PdfReader
    from weasyprint import HTML

    width, height = slot.width / PX, slot.height / PX
    per_page = max(int(NAMES_PAGE_PX // height), 1)
    html = render_to_string(
        "ballots/codes/slip_names.html",
        {
            "lines": lines,
            "width": f"{width:.3f}",
            "height": f"{height:.3f}",
            "page_height": f"{min(len(lines), per_page) * height + 1:.3f}",
        },
    )
    doc = HTML(string=html).render()
    # Where WeasyPrint put each line: its page and its top, in CSS px.
    tops: list[list[tuple[float, int]]] = []
    for page in doc.pages:
        found = []
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            index = element.get("data-i") if element is not None else None
            if index is not None and box.element_tag == "div":
                found.append((box.position_y, int(index)))
        tops.append(sorted(set(found)))
    starts = [[top for top, _i in found] for found in tops]
    pdf = doc.write_pdf()
    reader = PdfReader(io.BytesIO(pdf))
    ops: dict[int, list[bytes]] = {}
    for page_no, page in enumerate(reader.pages):
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        for block in _BLOCK.finditer(data):
            m = _TM_Y.search(block.group(1))
            if m is None:
                raise ValueError("unexpected text operations in the name lines")
            y = float(m.group(1))
            # The line whose box holds the baseline: the last one starting above it.
            k = bisect_right(starts[page_no], y) - 1
            if k < 0:
                raise ValueError("a name line outside every box")
            owner = tops[page_no][k][1]
            ops.setdefault(owner, []).append(b"BT\n" + block.group(1) + b"\nET\n")
    where = {i: (p, top) for p, found in enumerate(tops) for top, i in found}
    return pdf, {
        line: (where[i][0], where[i][1], b"".join(ops.get(i, []))) for i, line in enumerate(lines)
    }


def qr_ops(text: str, qr: Slot) -> list[str]:
    """The QR code of `text` as filled rectangles in its slot, one per run of dark modules."""
    # A fixed mask: choosing the best of the eight took 14 ms a code, most of the time of a
    # thousand slips; any mask is valid, and error level M reads through the rare poor one.
    symbol = segno.make(text, error="m", mask=QR_MASK)
    matrix = symbol.matrix
    module = min(qr.width, qr.height) / (len(matrix) + 2 * QR_BORDER)
    left = qr.x + QR_BORDER * module
    top = qr.y + qr.height - QR_BORDER * module
    ops = []
    for r, row in enumerate(matrix):
        y = top - (r + 1) * module
        for run in _DARK.finditer(bytes(row)):
            ops.append(
                f"{left + run.start() * module:.3f} {y:.3f} "
                f"{(run.end() - run.start()) * module:.3f} {module:.3f} re"
            )
    ops.append("f")
    return ops


def code_ops(code: str, slot: Slot) -> str:
    size = min(CODE_PT, slot.width / (max(len(code), 1) * CODE_EM))
    baseline = slot.y + (slot.height - 0.6 * size) / 2
    # Codes are drawn from ALPHABET, dashes and digits: nothing to escape in a PDF string.
    return f"BT /Code {size:.2f} Tf {slot.x:.2f} {baseline:.2f} Td ({code}) Tj ET"


def slips_pdf(
    campaign: Campaign,
    codes: Sequence[AccessCode],
    base: str,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        IndirectObject,
        NameObject,
    )

    total = len(codes)
    sheet_pdf, sheet_slots = _render_sheet(campaign, base, total)
    writer = PdfWriter()

    def form(data: bytes, bbox: Sequence[float], resources: Any) -> IndirectObject:
        stream = DecodedStreamObject()
        stream.set_data(data)
        stream.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject(FloatObject(v) for v in bbox),
                NameObject("/Resources"): resources,
            }
        )
        # pypdf has no public "add an object" call; _add_object is the one its helpers use.
        return writer._add_object(stream.flate_encode())

    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject(f"/{CODE_FONT}"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    sheets = []
    for page in PdfReader(io.BytesIO(sheet_pdf)).pages:
        contents = page.get_contents()
        assert contents is not None  # every page of the sheet draws its slips
        resources = page["/Resources"].clone(writer)
        sheets.append(form(contents.get_data(), [float(v) for v in page.mediabox], resources))
    width, height = (float(v) for v in PdfReader(io.BytesIO(sheet_pdf)).pages[0].mediabox[2:])

    # Who each slip is for: every distinct line once.
    lines = sorted({line for line in (who_line(c) for c in codes) if line})
    who_forms: dict[str, IndirectObject] = {}
    if lines:
        who = sheet_slots[0][0].who
        names_pdf, cut = _render_names(lines, who)
        names_resources = [
            writer._add_object(page["/Resources"].clone(writer))
            for page in PdfReader(io.BytesIO(names_pdf)).pages
        ]
        for line, (page_no, top, text_ops) in cut.items():
            # The page's own space (y down, CSS px), moved so that the line's box is at 0.
            head = f"q 1 0 0 -1 0 {who.height:.3f} cm {PX} 0 0 {PX} 0 0 cm 1 0 0 1 0 {-top:.3f} cm 0 0 0 rg\n"
            who_forms[line] = form(
                head.encode() + text_ops + b"Q\n",
                [0, 0, who.width, who.height],
                names_resources[page_no],
            )

    for start in range(0, total, PER_PAGE):
        chunk = codes[start : start + PER_PAGE]
        index = 0 if len(chunk) == PER_PAGE else len(sheets) - 1
        slots = sheet_slots[index]
        xobjects = {NameObject("/Sheet"): sheets[index]}
        ops = ["q /Sheet Do Q", "0 g"]
        for n, (code, slot) in enumerate(zip(chunk, slots, strict=True)):
            ops.append(code_ops(code.code, slot.code))
            line = who_line(code)
            if line:
                xobjects[NameObject(f"/W{n}")] = who_forms[line]
                ops.append(f"q 1 0 0 1 {slot.who.x:.3f} {slot.who.y:.3f} cm /W{n} Do Q")
            ops.extend(qr_ops(code_link(base, campaign, code.code), slot.qr))
        page = writer.add_blank_page(width=width, height=height)
        page[NameObject("/Resources")] = DictionaryObject(
            {
                NameObject("/XObject"): DictionaryObject(xobjects),
                NameObject("/Font"): DictionaryObject({NameObject("/Code"): font}),
            }
        )
        content = DecodedStreamObject()
        content.set_data(("\n".join(ops) + "\n").encode("ascii"))
        page[NameObject("/Contents")] = writer._add_object(content.flate_encode())
        done = start + len(chunk)
        if progress and (done % 100 == 0 or done == total):
            progress(done, total)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def slip_codes(campaign: Campaign, which: str) -> list[AccessCode]:
    """The active codes to print: all, the named ones, or the unnamed ones."""
    qs = AccessCode.objects.filter(campaign=campaign, status=AccessCode.Status.ACTIVE)
    if which == "named":
        qs = qs.filter(representative__isnull=False)
    elif which == "unnamed":
        qs = qs.filter(representative__isnull=True)
    return list(
        qs.select_related("representative", "group").order_by(
            "group__order", "representative__name", "code"
        )
    )


# Jobs whose files hold access codes: kept while voting goes on (a lost slip is printed again),
# deleted once it ends (ballots/receivers.py). A job that exports codes to a file belongs here.
SLIPS_HANDLER = "ballots.online.slips.run_slips_job"
CODE_FILE_HANDLERS = (SLIPS_HANDLER,)
VOTING = (Campaign.Status.DRAFT, Campaign.Status.OPEN)


def code_files_remove(campaign_id: int) -> int:
    """Delete the campaign's files that hold codes; their job pages then say voting ended."""
    jobs = BackgroundJob.objects.filter(
        campaign_id=campaign_id, params__handler__in=CODE_FILE_HANDLERS
    )
    return job_files_remove(jobs, BackgroundJob.FileRemoved.CLOSED)


def run_slips_job(job: BackgroundJob, progress: Progress) -> None:
    """Background job: params campaign_id, base (site address), which."""
    campaign = Campaign.objects.get(pk=job.params["campaign_id"])
    if campaign.status not in VOTING:
        raise ValueError(_("评议已结束,不再生成评议码条"))
    codes = slip_codes(campaign, job.params.get("which", "all"))
    if not codes:
        raise ValueError("没有可打印的未使用评议码")
    progress(0, len(codes), f"正在生成 {len(codes)} 张评议码条……")
    pdf = slips_pdf(campaign, codes, job.params["base"])
    # No expiry: the slips are needed until voting ends, and go then.
    job_finish_file(job, f"{campaign.slug}-评议码条.pdf", pdf, expires=False)
    # Closed while the PDF was being made: the close found no file to delete, so delete it now.
    campaign.refresh_from_db(fields=["status"])
    if campaign.status not in VOTING:
        code_files_remove(campaign.pk)
        progress(len(codes), len(codes), _("评议已结束,评议码条已删除"))
        return
    progress(len(codes), len(codes), f"已生成 {len(codes)} 张评议码条")
