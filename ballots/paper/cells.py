"""A paper ballot's cells as clerks key them and printers print them: one key per cell.

The rules of keying (spec section 2, issue 5): 1..n the options in scale order, 0 (or a
space) blank, 9 several marks (spoiled)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

from ballots.reading import SEVERAL
from ballots.services import (
    BallotError,
    Layout,
)
from campaigns.models import Campaign, RatingOption, SubjectKind
from campaigns.subjects import SubjectWords, subject_label, subject_words

BLANK = 0
SPOILED = 9
# One key per cell: 9 means "several marks", so a scale can use keys 1..8 at most.
MAX_OPTIONS = 8
RESOLVE_PERM = "campaigns.resolve_paper_disputes"
KEY_PERM = "campaigns.key_paper_ballots"
OUTSIDE = "范围外"
DIGITS = re.compile(r"[0-9]+")


class PaperError(BallotError):
    """A keying or paper-workflow request that cannot be carried out.

    `code` lets the keying screen react (e.g. offer the supervisor's override for
    "out_of_range"); `field` names the form field the message belongs to."""

    def __init__(self, message: str, *, code: str = "invalid", field: str = "") -> None:
        self.code = code
        self.field = field
        super().__init__(message)


# --- The ballot's cells, as keyed and printed ----------------------------------------------


@dataclass(frozen=True)
class Row:
    """One keyed cell: a unit (and dimension) in ballot order. `unit` is the name as the
    ballot shows it (a leader with the post, campaigns.subjects.subject_label), `kind` the
    subject's kind (campaigns.models.SubjectKind)."""

    index: int
    unit_id: int
    unit: str
    category: str
    dimension_id: int | None
    dimension: str
    kind: str = SubjectKind.UNIT.value


def words_of(rows: Sequence[Row]) -> SubjectWords:
    """What the keying screen and the printed ballot call the subjects of these rows."""
    # A unit has a row per dimension: count each unit once.
    return subject_words({r.unit_id: r.kind for r in rows}.values())


def options_of(campaign: Campaign) -> list[RatingOption]:
    return list(campaign.options.order_by("order", "id"))


def rows_of(campaign: Campaign, layout: Layout | None = None) -> list[Row]:
    """The cells of `Layout.of(campaign)` with their names, in the same order."""
    layout = layout or Layout.of(campaign)
    units = {
        u.pk: u
        for u in campaign.units.select_related("category", "unit").order_by(
            "category__order", "order", "id"
        )
    }
    dims = {d.pk: d.name for d in campaign.dimensions.all()}
    return [
        Row(
            index=i,
            unit_id=unit_id,
            unit=subject_label(units[unit_id].name, units[unit_id].post),
            category=units[unit_id].category.name,
            dimension_id=dim_id,
            dimension=dims.get(dim_id, "") if dim_id else "",
            kind=units[unit_id].unit.kind,
        )
        for i, (unit_id, dim_id) in enumerate(layout.cells)
    ]


def parse_keys(
    campaign: Campaign, keys: str | Sequence[int], rows: Sequence[Row], n_options: int
) -> list[int]:
    """The keystrokes of one ballot as codes, or PaperError naming the first bad row.

    A string holds one character per row ("1", "0" or " " blank, "9" several marks); a
    sequence holds the integer codes."""
    if n_options > MAX_OPTIONS:
        raise PaperError(_("评价等次超过 %(n)d 个,无法用一个按键录入") % {"n": MAX_OPTIONS})
    if len(keys) != len(rows):
        counts = {"want": len(rows), "got": len(keys)}
        raise PaperError(
            _("应录入 %(want)d 个单位,实际 %(got)d 个") % counts
            if words_of(rows).plain
            else _("应录入 %(want)d 项,实际 %(got)d 项") % counts,
            field="keys",
        )
    codes: list[int] = []
    for row, key in zip(rows, keys, strict=True):
        code: int | None
        if isinstance(key, str):
            code = BLANK if key == " " else int(key) if key.isascii() and key.isdigit() else None
        elif isinstance(key, int) and not isinstance(key, bool):
            code = key
        else:
            code = None
        if code is None or not (code in (BLANK, SPOILED) or 1 <= code <= n_options):
            name = row.unit + (f" · {row.dimension}" if row.dimension else "")
            raise PaperError(
                _(
                    "第 %(i)d 行(%(name)s):“%(key)s”不是有效按键(1–%(n)d 为等次,0 或空格为未填,9 为多选)"
                )
                % {"i": row.index + 1, "name": name, "key": key, "n": n_options},
                field="keys",
            )
        codes.append(code)
    return codes


def marks_of(codes: Sequence[int]) -> list[int]:
    """The marks (ballots.reading) of one ballot's keys: a key is the option's position in the
    scale, as a mark is, except 9 for several marks."""
    return [SEVERAL if code == SPOILED else code for code in codes]
