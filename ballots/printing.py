"""Numbered paper ballots as one PDF for a printed range (WeasyPrint).

Each ballot carries the campaign title and instructions, the units by category with a box per
option, and its serial as digits and as a QR code on every page (a running header: a ballot
of 66 units takes two pages, and a loose second sheet must still say which ballot it is).
The QR code holds the serial only, so a scanner at the keying desk can fill the serial field.

A long run is rendered in chunks so the background job can report progress; the pages are
then written as one PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Any

import segno
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from ballots.models import PrintedRange
from ballots.paper import options_of, rows_of
from campaigns.jobs import Progress, job_finish_file
from campaigns.models import BackgroundJob, Campaign

CHUNK = 50  # ballots per rendering step: progress moves often, memory stays bounded


def qr_data_uri(serial: str) -> str:
    # Error level M survives a crease or a smudge; a border of 4 modules is the quiet zone
    # scanners need beside printed text.
    return segno.make(serial, error="m", micro=False).svg_data_uri(scale=4, border=4)


def ballot_layout(campaign: Campaign) -> dict[str, Any]:
    """What every ballot of the campaign shares: categories of units, options, dimensions."""
    rows = rows_of(campaign)
    categories = []
    number = 0
    for name, cat_rows in groupby(rows, key=lambda r: r.category):
        units = []
        for unit, unit_rows in groupby(cat_rows, key=lambda r: (r.unit_id, r.unit)):
            number += 1
            units.append({"number": number, "name": unit[1], "cells": list(unit_rows)})
        categories.append({"name": name, "units": units})
    dims = list(campaign.dimensions.order_by("order", "id"))
    return {
        "campaign": campaign,
        "categories": categories,
        "options": options_of(campaign),
        "dimensions": dims,
    }


def ballots_html(layout: dict[str, Any], serials: Sequence[str]) -> str:
    ballots = [{"serial": s, "qr": qr_data_uri(s)} for s in serials]
    return render_to_string("ballots/paper/print_ballots.html", {**layout, "ballots": ballots})


def ballots_pdf(
    campaign: Campaign,
    serials: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """One PDF with one ballot (one or more pages) per serial."""
    from weasyprint import HTML  # loads Pango: only when printing

    layout = ballot_layout(campaign)
    if not layout["categories"]:
        raise ValueError(_("本次评议还没有被评单位,无法印制选票"))
    documents = []
    for start in range(0, len(serials), CHUNK):
        chunk = serials[start : start + CHUNK]
        documents.append(HTML(string=ballots_html(layout, chunk)).render())
        if progress:
            progress(start + len(chunk), len(serials))
    pages = [page for doc in documents for page in doc.pages]
    return documents[0].copy(pages).write_pdf()


def range_serials(rng: PrintedRange) -> list[str]:
    return [rng.fmt(n) for n in range(rng.first, rng.last + 1)]


def run_print_job(job: BackgroundJob, progress: Progress) -> None:
    """Background job: params range_id."""
    rng = PrintedRange.objects.select_related("campaign").get(pk=job.params["range_id"])
    serials = range_serials(rng)
    total = len(serials)
    progress(0, total, _("正在生成 %(n)d 份选票……") % {"n": total})

    def step(done: int, _total: int) -> None:
        progress(done, total, _("已排版 %(d)d / %(n)d 份选票") % {"d": done, "n": total})

    pdf = ballots_pdf(rng.campaign, serials, step)
    job_finish_file(
        job, f"{rng.campaign.slug}-选票-{rng.fmt(rng.first)}-{rng.fmt(rng.last)}.pdf", pdf
    )
    progress(total, total, _("已生成 %(n)d 份选票(%(r)s)") % {"n": total, "r": rng.label()})
