"""Small helpers shared by tests: building .xlsx files in memory."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import openpyxl


def xlsx_bytes(sheets: dict[str, Iterable[Sequence[Any]]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_file(tmp_path, name: str, sheets: dict[str, Iterable[Sequence[Any]]]):
    path = tmp_path / name
    path.write_bytes(xlsx_bytes(sheets))
    return path


def add_units(campaign, by_category: dict[str, Sequence[str]]):  # type: ignore[no-untyped-def]
    """Put units (registered on first use) into the campaign's categories, in order."""
    from campaigns.models import CampaignUnit, Category, Unit

    cats = {c.name: c for c in Category.objects.filter(campaign=campaign)}
    order = 0
    for cat, names in by_category.items():
        for name in names:
            CampaignUnit.objects.create(
                campaign=campaign,
                category=cats[cat],
                name=name,
                order=order,
                unit=Unit.objects.get_or_create(name=name)[0],
            )
            order += 1


def votes_of(ballot) -> list[tuple[str, str | None, str]]:  # type: ignore[no-untyped-def]
    """A ballot's stored answers, decoded: (unit name, option label or None, kind) per cell,
    sorted."""
    from campaigns.models import CampaignUnit, RatingOption

    names = dict(CampaignUnit.objects.filter(campaign=ballot.campaign_id).values_list("id", "name"))
    labels = dict(
        RatingOption.objects.filter(campaign=ballot.campaign_id).values_list("id", "label")
    )
    return sorted(
        (
            (names[v.unit_id], labels.get(v.option_id) if v.option_id else None, v.kind)
            for v in ballot.votes()
        ),
        key=lambda t: (t[0], t[1] or "", t[2]),
    )
