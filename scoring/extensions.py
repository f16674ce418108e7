"""What apps built on the results add to the campaign's reports, without scoring importing
them (the layers run one way: tests/test_layers.py). An app above connects a receiver to one
of these signals (rectification/receivers.py adds 整改情况):

- `report_sections(campaign=…)`: each receiver returns a list of `ReportSection`, a titled
  table the PDF prints after the rankings and the workbook writes as a sheet;
- `unit_notes(campaign=…)`: each receiver returns {registry unit id: [lines]} that each
  unit's 反馈单 lists (e.g. its open cases and their deadlines);
- `unit_history(unit_id=…)`: lines on a unit's past for its results page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.dispatch import Signal

report_sections = Signal()
unit_notes = Signal()
# unit_history(unit_id=registry id): lines on a unit's past (e.g. its cases and how they
# ended), shown in the history of the unit's results page.
unit_history = Signal()
# public_sections(campaign=…): what else the campaign's 公示 page shows (e.g. the published
# 整改情况), each a ReportSection; only what its app has published itself.
public_sections = Signal()


@dataclass(frozen=True)
class ReportSection:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def sections_for(campaign: Any) -> list[ReportSection]:
    out: list[ReportSection] = []
    for _receiver, sections in report_sections.send(sender=type(campaign), campaign=campaign):
        out += list(cast(list[ReportSection], sections) or ())
    return out


def notes_for(campaign: Any) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for _receiver, notes in unit_notes.send(sender=type(campaign), campaign=campaign):
        for unit_id, lines in (cast(dict[int, list[str]], notes) or {}).items():
            out.setdefault(unit_id, []).extend(lines)
    return out


def history_for(unit_id: int) -> list[str]:
    out: list[str] = []
    for _receiver, lines in unit_history.send(sender=None, unit_id=unit_id):
        out += list(cast(list[str], lines) or ())
    return out


def public_sections_for(campaign: Any) -> list[ReportSection]:
    out: list[ReportSection] = []
    for _receiver, sections in public_sections.send(sender=type(campaign), campaign=campaign):
        out += list(cast(list[ReportSection], sections) or ())
    return out
