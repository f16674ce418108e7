"""Properties of the scoring engine that must hold for any votes (hypothesis).

Plain functions on plain data: no database, no Django settings.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.engine import Category, Option, TallyInput, TallyResult, Unit, VoteCount, tally

SCALES = {
    "qianren": (
        "sum",
        (
            Option("满意", F(2), True, True),
            Option("基本满意", F(1), True, True),
            Option("不满意", F(0), False, True),
            Option("弃权", F(1, 2), False, True),
        ),
    ),
    "wanren": (
        "mean",
        (
            Option("满意", F(22), True, True),
            Option("基本满意", F(17), True, True),
            Option("不满意", F(11), False, True),
        ),
    ),
    "zhengfeng": (
        "mean",
        (
            Option("满意", F(1), True, True),
            Option("基本满意", F(1), True, True),
            Option("不满意", F(0), False, True),
            Option("不了解", F(0), False, False),
        ),
    ),
}
FEW = settings(max_examples=200, deadline=None)


@pytest.fixture(autouse=True, scope="module")
def _media_root() -> None:
    """Overrides the project conftest's autouse fixture of this name, which needs
    pytest-django's `settings` (and is function-scoped, which hypothesis refuses)."""


@st.composite
def tallies(draw: st.DrawFn, min_units: int = 1) -> TallyInput:
    """One or two categories of up to 6 units, with small random counts per option, blank
    and spoiled votes, vetoes and quotas."""
    aggregation, scale = SCALES[draw(st.sampled_from(sorted(SCALES)))]
    n_categories = draw(st.integers(1, 2))
    categories = tuple(
        Category(f"c{i}", f"类别{i}", draw(st.integers(0, 4)), draw(st.integers(0, 3)))
        for i in range(n_categories)
    )
    n_units = draw(st.integers(min_units, 6))
    units = tuple(
        Unit(
            f"u{i}",
            f"R{i}",
            f"单位{i}",
            f"c{draw(st.integers(0, n_categories - 1))}",
            draw(st.booleans()),
        )
        for i in range(n_units)
    )
    counts = []
    for unit in units:
        for option in scale:
            counts.append(VoteCount(unit.key, option.label, "option", draw(st.integers(0, 6))))
        counts.append(VoteCount(unit.key, None, "blank", draw(st.integers(0, 2))))
        counts.append(VoteCount(unit.key, None, "spoiled", draw(st.integers(0, 2))))
    previous = frozenset(draw(st.sets(st.sampled_from([u.registry_id for u in units]))))
    return TallyInput(aggregation, F(9, 10), scale, categories, units, tuple(counts), previous)


def rank_of(result: TallyResult, unit_key: str) -> int | None:
    return next(u.rank for c in result.categories for u in c.units if u.unit.key == unit_key)


@FEW
@given(inp=tallies(), data=st.data())
def test_order_and_splitting_of_the_counts_do_not_matter(
    inp: TallyInput, data: st.DataObject
) -> None:
    rows = []
    for row in inp.counts:
        # Split each aggregated row into several rows of the same kind (as several SQL rows
        # for several slices would be), keeping the total.
        parts = data.draw(st.lists(st.integers(0, row.count), max_size=2))
        cuts = sorted(parts)
        bounds = [0, *cuts, row.count]
        rows += [replace(row, count=b - a) for a, b in zip(bounds, bounds[1:], strict=False)]
    shuffled = data.draw(st.permutations(rows))
    assert tally(replace(inp, counts=tuple(shuffled))) == tally(inp)


@FEW
@given(inp=tallies(), data=st.data())
def test_one_more_vote_for_the_best_option_never_lowers_the_rank(
    inp: TallyInput, data: st.DataObject
) -> None:
    unit = data.draw(st.sampled_from(inp.units))
    before = rank_of(tally(inp), unit.key)
    extra = VoteCount(unit.key, inp.options[0].label, "option", 1)
    after = rank_of(tally(replace(inp, counts=(*inp.counts, extra))), unit.key)
    assert after is not None
    assert before is None or after <= before


@FEW
@given(inp=tallies(min_units=2), data=st.data())
def test_units_with_identical_counts_share_a_rank(inp: TallyInput, data: st.DataObject) -> None:
    first, second = data.draw(st.permutations(inp.units))[:2]
    second = replace(second, category_key=first.category_key)
    # The second unit gets the first unit's votes, multiplied by k: with "mean" every figure
    # is a ratio, so any multiple must tie too.
    k = 1 if inp.aggregation == "sum" else data.draw(st.integers(1, 3))
    copied = tuple(
        replace(row, unit_key=second.key, count=k * row.count)
        for row in inp.counts
        if row.unit_key == first.key
    )
    kept = tuple(row for row in inp.counts if row.unit_key != second.key)
    units = tuple(second if u.key == second.key else u for u in inp.units)
    result = tally(replace(inp, units=units, counts=kept + copied))
    assert rank_of(result, first.key) == rank_of(result, second.key)


@FEW
@given(inp=tallies(), data=st.data())
def test_a_unit_without_counted_votes_is_flagged_no_votes(
    inp: TallyInput, data: st.DataObject
) -> None:
    unit = data.draw(st.sampled_from(inp.units))
    uncounted = {o.label for o in inp.options if not o.counted}
    # Keep only the unit's blank, spoiled and not-counted (不了解) votes.
    counts = tuple(
        row
        for row in inp.counts
        if row.unit_key != unit.key or row.kind != "option" or row.option in uncounted
    )
    result = tally(replace(inp, counts=counts))
    got = next(u for c in result.categories for u in c.units if u.unit.key == unit.key)
    assert got.rank is None and got.score is None and got.satisfaction_rate is None
    assert got.flags == (("no_votes", "vetoed") if unit.vetoed else ("no_votes",))
    # Listed after every ranked unit of its category.
    category = next(c for c in result.categories if c.category.key == unit.category_key)
    listed = [u.rank for u in category.units]
    assert listed.index(None) == sum(r is not None for r in listed)


@FEW
@given(inp=tallies(), data=st.data())
def test_the_third_key_is_the_share_of_the_option_the_scale_names_best(
    inp: TallyInput, data: st.DataObject
) -> None:
    # Whatever the order of the scale (a custom one may put a light option first), the share
    # that breaks ties is that of `Scale.best`, the option the rules in words name.
    inp = replace(inp, options=tuple(data.draw(st.permutations(inp.options))))
    scale = inp.scale
    for category in tally(inp).categories:
        ranked = [u for u in category.units if u.rank is not None]
        for u in ranked:
            n = dict(u.counts)
            assert u.best_share == F(n[scale.best], sum(n[o] for o in scale.counted))
        for a, b in zip(ranked, ranked[1:], strict=False):
            if (a.score, a.satisfaction_rate) == (b.score, b.satisfaction_rate):
                assert a.best_share is not None and b.best_share is not None
                assert (a.rank != b.rank) == (a.best_share > b.best_share)
