"""The one reading of a ballot (spec section 2): marks in, stored answers and validity out.

Every way a ballot comes in calls `read_ballot`: the online form and its fast path, keyed
paper entry, the spreadsheet import, and the scanner to come. What differs between them is
only how a cell's raw marks are found (a radio button, a key, the labels in a cell, boxes on
a scan); each turns them into one *mark* per cell, with `mark_of` where a cell can hold
several marks, and this module does the rest:

- a mark is `UNMARKED` (0), `SEVERAL` (255, more than one option: spoiled), or the position of
  the one option marked in the scale, best first, counted from 1 (1 = the first option);
- an unmarked cell is recorded as the campaign's `blank_means` option where it has one,
  else as blank; several marks are spoiled and counted nowhere;
- a ballot with no mark at all is `blank_ballot`; otherwise it is valid on its own. Whether
  its serial repeats (`duplicate_serial`) depends on other ballots and is decided where they
  are stored (ballots/validity.py); a manual decision by staff comes first of all.

Nothing here touches the database: the `Scheme` holds what reading needs of a campaign.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ballots.answers import BLANK, CODES, SPOILED, Cell, Storage

UNMARKED = 0
SEVERAL = 255
# Status and reason values, as ballots.models.Ballot names them (a test holds them equal).
VALID, INVALID, BLANK_BALLOT = "valid", "invalid", "blank_ballot"


class MarkError(ValueError):
    """A mark that names no option of the scale."""


def mark_of(positions: Iterable[int]) -> int:
    """The mark of one cell from the scale positions (1-based) of every option marked in it.

    The same option marked twice (a label written twice, a box ticked and circled) is one
    mark; two different options are `SEVERAL`."""
    found = set(positions)
    if not found:
        return UNMARKED
    if len(found) > 1:
        return SEVERAL
    return found.pop()


@dataclass(frozen=True)
class Reading:
    """One ballot read: its answers as stored (ballots/answers.py) and its own validity."""

    answers: list[int]
    is_blank: bool
    status: str
    invalid_reason: str


@dataclass(frozen=True)
class Scheme:
    """How the marks of one campaign's ballots are read, for one order of the cells.

    `cells` is the order the marks come in (the ballot's order, or a spreadsheet's columns);
    `elements[j][m]` is the stored element of mark `m` in the `j`-th cell of the storage
    order, and `order[j]` the position of that cell among the marks. Built once per campaign
    (or file), so reading a ballot is one lookup per cell."""

    cells: tuple[Cell, ...]
    scale: tuple[int, ...]  # option ids, best first: mark k is scale[k - 1]
    order: tuple[int, ...]
    elements: tuple[dict[int, int], ...]

    @classmethod
    def build(
        cls,
        storage: Storage,
        cells: Sequence[Cell],
        scale: Sequence[int],
        blank_means: int | None,
    ) -> Scheme:
        """`cells` must name every cell of `storage` once, in the order marks will come."""
        if sorted(cells, key=_cell_key) != list(storage.cells):
            raise MarkError("the cells do not match the campaign's cells")
        if sorted(scale) != list(storage.option_ids):
            raise MarkError("the scale does not match the campaign's options")
        code_of = storage.code_of
        codes = {k: code_of[oid] for k, oid in enumerate(scale, start=1)}
        codes[SEVERAL] = SPOILED
        codes[UNMARKED] = code_of[blank_means] if blank_means is not None else BLANK
        slot_of = storage.slot_of
        slots = [slot_of[cell] for cell in cells]
        # Storage order, so the array comes out as the database checks it (slots 0, 1, …).
        order = sorted(range(len(slots)), key=slots.__getitem__)
        elements = tuple({m: slots[j] * CODES + c for m, c in codes.items()} for j in order)
        return cls(tuple(cells), tuple(scale), tuple(order), elements)

    def mark_for_option(self, option_id: int | None) -> int:
        """The mark of a cell where `option_id` (or nothing, for None) was chosen."""
        if option_id is None:
            return UNMARKED
        try:
            return self.scale.index(option_id) + 1
        except ValueError:
            raise MarkError(f"评价等次不属于本次评议:{option_id}") from None


def _cell_key(cell: Cell) -> tuple[int, int]:
    return cell[0], cell[1] or 0


def read_ballot(scheme: Scheme, marks: Sequence[int]) -> Reading:
    """Spec section 2 for one ballot: one mark per cell of `scheme.cells`, in that order."""
    if len(marks) != len(scheme.order):
        raise MarkError(f"应有 {len(scheme.order)} 项评价,实际 {len(marks)} 项")
    try:
        answers = [table[marks[j]] for table, j in zip(scheme.elements, scheme.order, strict=True)]
    except KeyError as exc:
        raise MarkError(f"评价等次不属于本次评议:第 {exc.args[0]} 项") from None
    is_blank = not any(marks)
    if is_blank:
        return Reading(answers, True, INVALID, BLANK_BALLOT)
    return Reading(answers, False, VALID, "")


def own_validity(*, is_blank: bool) -> tuple[str, str]:
    """(status, invalid_reason) of a ballot judged on its own content alone."""
    return (INVALID, BLANK_BALLOT) if is_blank else (VALID, "")

