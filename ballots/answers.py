"""How a ballot's answers are stored: one small integer per cell, in one column of the ballot.

A ballot answers every cell of its campaign (unit × dimension). Storing one row per cell made a
10,000-ballot campaign 660,000 rows, each with its index entries and foreign-key checks; one
array per ballot is 10,000 rows, and the tally counts the arrays' elements in SQL.

Each element is ``slot * 16 + code``:

- ``slot`` numbers the campaign's cells in the order of their database ids (unit id, then
  dimension id), never in display order: the office may reorder units after voting starts,
  and a stored answer must not move to another unit when it does. Units, dimensions and the
  scale themselves are locked once a campaign has ballots.
- ``code`` is 0 for an unmarked cell, 1 for several marks (spoiled, paper only), and 2 + i
  for the i-th option of the scale, again in id order.

Because the slot is part of each element, one GROUP BY over the elements counts every
(cell, answer) pair at once, and an element alone says which cell it answers. The database
refuses an array whose elements are not the slots 0, 1, 2, ... in order (PostgreSQL CHECK
constraint, migration 0005), so a ballot cannot hold two answers for one cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from campaigns.models import MAX_CELLS, MAX_RATING_OPTIONS, Campaign

BLANK = 0
SPOILED = 1
FIRST_OPTION = 2
CODES = 16  # codes per slot: 2 reserved + at most 14 options
assert FIRST_OPTION + MAX_RATING_OPTIONS == CODES
MAX_SLOTS = 32767 // CODES  # smallint
assert MAX_SLOTS == MAX_CELLS

# The kinds of an answer, as the engine and the spec name them.
KIND_OPTION = "option"
KIND_BLANK = "blank"
KIND_SPOILED = "spoiled"

Cell = tuple[int, int | None]  # (campaign unit id, dimension id or None)


class LayoutError(ValueError):
    """The campaign cannot be stored in this encoding (too many options or cells)."""


@dataclass(frozen=True)
class Decoded:
    unit_id: int
    dimension_id: int | None
    option_id: int | None
    kind: str


@dataclass(frozen=True)
class Storage:
    """The encoding of one campaign: its cells and options in id order."""

    cells: tuple[Cell, ...]
    option_ids: tuple[int, ...]

    @classmethod
    def build(cls, cells: Iterable[Cell], option_ids: Iterable[int]) -> Storage:
        ordered = tuple(sorted(set(cells), key=lambda c: (c[0], c[1] or 0)))
        options = tuple(sorted(set(option_ids)))
        if len(options) > CODES - FIRST_OPTION:
            raise LayoutError(f"评价等次最多 {CODES - FIRST_OPTION} 个")
        if len(ordered) > MAX_SLOTS:
            raise LayoutError(f"单位×评议内容最多 {MAX_SLOTS} 项")
        return cls(ordered, options)

    @classmethod
    def of(cls, campaign: Campaign) -> Storage:
        units = campaign.units.values_list("id", flat=True)
        dims: list[int | None] = list(campaign.dimensions.values_list("id", flat=True)) or [None]
        return cls.build(
            ((u, d) for u in units for d in dims),
            campaign.options.values_list("id", flat=True),
        )

    @property
    def slot_of(self) -> dict[Cell, int]:
        return {cell: i for i, cell in enumerate(self.cells)}

    @property
    def code_of(self) -> dict[int, int]:
        return {oid: FIRST_OPTION + i for i, oid in enumerate(self.option_ids)}

    def encode(self, answers: Iterable[tuple[int, int | None, int | None, str]]) -> list[int]:
        """(unit id, dimension id, option id, kind) for every cell -> the stored array."""
        slot_of, code_of = self.slot_of, self.code_of
        out = [-1] * len(self.cells)
        for unit_id, dim_id, option_id, kind in answers:
            slot = slot_of[(unit_id, dim_id)]
            if out[slot] != -1:
                raise ValueError(f"cell answered twice: {(unit_id, dim_id)}")
            if kind == KIND_OPTION:
                if option_id is None:  # fails as an unknown option does
                    raise KeyError(option_id)
                out[slot] = slot * CODES + code_of[option_id]
            else:
                out[slot] = slot * CODES + (SPOILED if kind == KIND_SPOILED else BLANK)
        if -1 in out:
            missing = self.cells[out.index(-1)]
            raise ValueError(f"cell not answered: {missing}")
        return out

    def encode_one(self, slot: int, option_id: int | None, kind: str) -> int:
        if kind == KIND_OPTION:
            if option_id is None:  # fails as an unknown option does
                raise KeyError(option_id)
            return slot * CODES + self.code_of[option_id]
        return slot * CODES + (SPOILED if kind == KIND_SPOILED else BLANK)

    def decode(self, value: int) -> Decoded:
        slot, code = divmod(int(value), CODES)
        unit_id, dim_id = self.cells[slot]
        if code == BLANK:
            return Decoded(unit_id, dim_id, None, KIND_BLANK)
        if code == SPOILED:
            return Decoded(unit_id, dim_id, None, KIND_SPOILED)
        return Decoded(unit_id, dim_id, self.option_ids[code - FIRST_OPTION], KIND_OPTION)

    def decode_all(self, values: Iterable[int]) -> list[Decoded]:
        return [self.decode(v) for v in values]
