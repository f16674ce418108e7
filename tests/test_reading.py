"""The one reading of a ballot (ballots/reading.py, spec section 2), and every way in using it.

The same marks, entered online, keyed from paper, and imported from a spreadsheet (with its
columns in another order, and several marks written in every separator the spec allows), must
be stored as exactly what `read_ballot` says: the same answers, blank flag, status and reason.
"""

from __future__ import annotations

import random

import pytest

from ballots.intake.imports import ballots_import
from ballots.models import Ballot
from ballots.online.codes import codes_unnamed
from ballots.online.submit import ballot_submit
from ballots.paper.keying import entry_key
from ballots.paper.ranges import range_create
from ballots.reading import (
    BLANK_BALLOT,
    INVALID,
    SEVERAL,
    UNMARKED,
    VALID,
    MarkError,
    Scheme,
    mark_of,
    read_ballot,
)
from ballots.services import Answer, Layout
from campaigns.models import Campaign
from tests.helpers import add_units, xlsx_file

UNITS = ("甲局", "乙局", "丙局", "丁局")


def test_status_and_reason_names_are_the_models() -> None:
    assert (VALID, INVALID, BLANK_BALLOT) == (
        Ballot.Status.VALID, Ballot.Status.INVALID, Ballot.Reason.BLANK_BALLOT)


def test_a_cell_with_the_same_option_twice_is_one_mark_and_two_options_are_several() -> None:
    assert mark_of([]) == UNMARKED
    assert mark_of([2]) == 2
    assert mark_of([2, 2, 2]) == 2
    assert mark_of([1, 3]) == SEVERAL


def _scheme(blank_means: int | None) -> Scheme:
    from ballots.answers import Storage

    cells = [(10, None), (11, None), (12, None)]
    scale = [7, 5, 6]  # scale order differs from id order on purpose
    return Scheme.build(Storage.build(cells, scale), cells[::-1], scale, blank_means)


def test_read_ballot_blank_means_spoiled_and_blank_ballot() -> None:
    with_blank_means = _scheme(blank_means=6)
    # marks come in the scheme's order (cells 12, 11, 10); answers in slot order (10, 11, 12)
    r = read_ballot(with_blank_means, [1, UNMARKED, SEVERAL])
    # stored codes: options in id order 5, 6, 7 -> 2, 3, 4; spoiled 1; blank 0
    assert r.answers == [0 * 16 + 1, 1 * 16 + 3, 2 * 16 + 4]
    assert (r.is_blank, r.status, r.invalid_reason) == (False, VALID, "")
    nothing = read_ballot(with_blank_means, [UNMARKED] * 3)
    assert nothing.answers == [0 * 16 + 3, 1 * 16 + 3, 2 * 16 + 3]  # 弃权 everywhere...
    assert (nothing.is_blank, nothing.status, nothing.invalid_reason) == (True, INVALID,
                                                                          BLANK_BALLOT)
    assert read_ballot(_scheme(None), [UNMARKED, 3, UNMARKED]).answers == [0, 16 + 3, 32]


def test_read_ballot_refuses_a_mark_outside_the_scale_and_a_wrong_length() -> None:
    with pytest.raises(MarkError):
        read_ballot(_scheme(None), [4, 0, 0])
    with pytest.raises(MarkError):
        read_ballot(_scheme(None), [1, 1])


@pytest.fixture
def camp(campaign_factory):
    campaign = campaign_factory("qianren")
    add_units(campaign, {"地方管理部门类": UNITS})
    campaign.status = Campaign.Status.OPEN
    campaign.double_entry = False
    campaign.save(update_fields=["status", "double_entry"])
    return campaign


def _ballots(n_options: int, n_cells: int, count: int, seed: int) -> list[list[int]]:
    rnd = random.Random(seed)
    choices = [UNMARKED, SEVERAL, *range(1, n_options + 1)]
    out = [[rnd.choice(choices) for _ in range(n_cells)] for _ in range(count)]
    out.append([UNMARKED] * n_cells)  # a blank ballot
    out.append([SEVERAL] * n_cells)  # marked, but nothing counts
    return out


def _stored(ballot: Ballot) -> tuple[list[int], bool, str, str]:
    return list(ballot.answers), ballot.is_blank, ballot.status, ballot.invalid_reason


def _expected(layout: Layout, marks: list[int]) -> tuple[list[int], bool, str, str]:
    r = read_ballot(layout.scheme, marks)
    return r.answers, r.is_blank, r.status, r.invalid_reason


def test_keyed_and_imported_ballots_are_stored_as_the_one_reading_says(
    camp, office, tmp_path
) -> None:
    layout = Layout.of(camp)
    scale = list(camp.options.order_by("order", "id").values_list("label", flat=True))
    names = dict(camp.units.values_list("id", "name"))
    ballots = _ballots(len(scale), len(layout.cells), 40, seed=14)

    # Keyed from paper: one key per cell in ballot order (9 = several marks).
    range_create(campaign=camp, user=office, first=1, last=len(ballots), width=6)
    for i, marks in enumerate(ballots, start=1):
        keys = "".join("9" if m == SEVERAL else " " if m == UNMARKED else str(m) for m in marks)
        result = entry_key(campaign=camp, clerk=office, serial=f"{i:06d}", keys=keys)
        assert _stored(result.ballot) == _expected(layout, marks)

    # Imported: columns in reverse order, several marks with every separator of the spec, an
    # option written twice in one cell.
    separators = [",", "，", "、", ";", "；", " ", "\u3000"]
    rnd = random.Random(7)
    order = list(range(len(layout.cells)))[::-1]

    def cell(mark: int) -> str | None:
        if mark == UNMARKED:
            return rnd.choice([None, ""])
        if mark == SEVERAL:
            a, b = rnd.sample(scale, 2)
            return f"{a}{rnd.choice(separators)}{b}"
        label = scale[mark - 1]
        return rnd.choice([label, f"{label}{rnd.choice(separators)}{label}"])

    header = ("编号", *(names[layout.cells[j][0]] for j in order))
    rows = [
        (f"I{i:05d}", *(cell(marks[j]) for j in order)) for i, marks in enumerate(ballots)
    ]
    path = xlsx_file(tmp_path, "b.xlsx", {"评议表": [header, *rows]})
    ballots_import(campaign=camp, file=path, filename="b.xlsx")
    for i, marks in enumerate(ballots):
        stored = Ballot.objects.get(campaign=camp, serial=f"I{i:05d}")
        assert _stored(stored) == _expected(layout, marks), rows[i]


def test_online_ballots_are_stored_as_the_one_reading_says(camp) -> None:
    layout = Layout.of(camp)
    n = camp.options.count()
    scale = list(camp.options.order_by("order", "id").values_list("id", flat=True))
    ballots = [b for b in _ballots(n, len(layout.cells), 20, seed=3) if SEVERAL not in b
               and any(b)]  # online has no spoiled cells, and refuses an empty ballot
    codes = codes_unnamed(campaign=camp, count=len(ballots), group=None, user=None)
    for code, marks in zip(codes, ballots, strict=True):
        answers = [
            Answer(u, d, scale[m - 1]) for (u, d), m in zip(layout.cells, marks, strict=True) if m
        ]
        ballot_submit(campaign=camp, code=code.code, answers=answers)
    stored = sorted(_stored(b) for b in Ballot.objects.filter(campaign=camp))
    assert stored == sorted(_expected(layout, m) for m in ballots)
