"""The scoring engine against hand-computed cases, one per rule of shared/spec/scoring.md.

Plain functions on plain data: no database, no Django settings.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from fractions import Fraction as F
from pathlib import Path

import pytest

import scoring.engine
from scoring.engine import (
    Breakdown,
    Category,
    GradeBand,
    Option,
    TallyInput,
    TallyResult,
    Unit,
    UnitResult,
    VoteCount,
    tally,
)
from scoring.output import as_json_dict, json_number

GOLDEN = Path(__file__).resolve().parents[2] / "shared" / "spec" / "golden"

QIANREN = (
    Option("满意", F(2), True, True),
    Option("基本满意", F(1), True, True),
    Option("不满意", F(0), False, True),
    Option("弃权", F(1, 2), False, True),
)
WANREN = (
    Option("满意", F(22), True, True),
    Option("基本满意", F(17), True, True),
    Option("不满意", F(11), False, True),
)
ZHENGFENG = (
    Option("满意", F(1), True, True),
    Option("基本满意", F(1), True, True),
    Option("不满意", F(0), False, True),
    Option("不了解", F(0), False, False),
)
SCALES = {"qianren": ("sum", QIANREN), "wanren": ("mean", WANREN), "zhengfeng": ("mean", ZHENGFENG)}


@pytest.fixture(autouse=True, scope="module")
def _media_root() -> None:
    """Overrides the project conftest's autouse fixture of this name, which needs
    pytest-django's `settings`: the engine's tests run without Django."""


def build(
    scale: Sequence[Option],
    aggregation: str,
    table: Mapping[str, Sequence[int]],
    *,
    winners: int = 1,
    last_place: int = 1,
    vetoed: Sequence[str] = (),
    blank: Mapping[str, int] | None = None,
    spoiled: Mapping[str, int] | None = None,
    **extra: object,
) -> TallyInput:
    """One category "c"; `table` maps a unit name to its votes per option, in scale order.
    The unit's key is its name and its registry id is "R-" + name."""
    units = tuple(Unit(name, "R-" + name, name, "c", name in vetoed) for name in table)
    counts = [
        VoteCount(name, option.label, "option", n)
        for name, row in table.items()
        for option, n in zip(scale, row, strict=True)
    ]
    counts += [VoteCount(name, None, "blank", n) for name, n in (blank or {}).items()]
    counts += [VoteCount(name, None, "spoiled", n) for name, n in (spoiled or {}).items()]
    return TallyInput(
        aggregation=aggregation,
        threshold=F(9, 10),
        options=tuple(scale),
        categories=(Category("c", "类别", winners, last_place),),
        units=units,
        counts=tuple(counts),
        **extra,  # type: ignore[arg-type]
    )


def units_of(result: TallyResult) -> dict[str, UnitResult]:
    return {u.unit.name: u for u in result.categories[0].units}


def ranks(result: TallyResult) -> dict[str, int | None]:
    return {name: u.rank for name, u in units_of(result).items()}


def flags(result: TallyResult) -> dict[str, tuple[str, ...]]:
    return {name: u.flags for name, u in units_of(result).items()}


# --- score and satisfaction rate (sections 3, 4) -----------------------------------------


def test_sum_counts_abstention_as_half_a_point() -> None:
    # 3 满意 ×2 + 2 基本满意 ×1 + 1 不满意 ×0 + 1 弃权 ×0.5 = 8.5; satisfied 5 of 7.
    u = units_of(tally(build(QIANREN, "sum", {"甲": [3, 2, 1, 1]})))["甲"]
    assert u.score == F(17, 2)
    assert u.satisfaction_rate == F(5, 7)
    assert u.best_share == F(3, 7)
    assert u.counts == (("满意", 3), ("基本满意", 2), ("不满意", 1), ("弃权", 1))


def test_mean_is_the_literal_22_17_11_formula() -> None:
    # (3×22 + 1×17 + 1×11) ÷ 5 = 94/5 = 18.8; satisfied 4 of 5.
    u = units_of(tally(build(WANREN, "mean", {"甲": [3, 1, 1]})))["甲"]
    assert u.score == F(94, 5)
    assert u.satisfaction_rate == F(4, 5)


def test_unknown_is_not_counted_anywhere_but_reported() -> None:
    # 2 满意, 1 基本满意, 1 不满意, 6 不了解: mean over the 4 counted votes only.
    u = units_of(tally(build(ZHENGFENG, "mean", {"甲": [2, 1, 1, 6]})))["甲"]
    assert u.score == F(3, 4)
    assert u.satisfaction_rate == F(3, 4)
    assert u.best_share == F(2, 4)
    assert dict(u.counts)["不了解"] == 6


def test_mean_ignores_the_weight_of_an_uncounted_option() -> None:
    scale = (Option("好", F(10), True, True), Option("差", F(2), False, True))
    scale += (Option("说不清", F(5), False, False),)
    # (1×10 + 1×2) ÷ 2; the 3 votes for 说不清 are neither points nor votes.
    u = units_of(tally(build(scale, "mean", {"甲": [1, 1, 3]})))["甲"]
    assert (u.score, u.satisfaction_rate) == (F(6), F(1, 2))


def test_blank_and_spoiled_are_reported_and_counted_nowhere() -> None:
    inp = build(WANREN, "mean", {"甲": [1, 0, 1]}, blank={"甲": 4}, spoiled={"甲": 2})
    u = units_of(tally(inp))["甲"]
    assert (u.score, u.satisfaction_rate, u.blank, u.spoiled) == (F(33, 2), F(1, 2), 4, 2)


def test_only_unknown_votes_means_no_votes() -> None:
    result = tally(build(ZHENGFENG, "mean", {"甲": [0, 0, 0, 5], "乙": [1, 0, 0, 0]}))
    u = units_of(result)["甲"]
    assert (u.rank, u.score, u.satisfaction_rate, u.grade) == (None, None, None, None)
    assert u.flags == ("no_votes",)


# --- ranking (section 5) ------------------------------------------------------------------


def test_first_key_is_the_score() -> None:
    result = tally(build(QIANREN, "sum", {"低": [1, 0, 0, 0], "高": [1, 1, 0, 0]}))
    assert ranks(result) == {"高": 1, "低": 2}


def test_second_key_is_the_satisfaction_rate() -> None:
    # Both score 2: 乙 with 2 基本满意 (rate 1) beats 甲 with 满意 + 不满意 (rate 1/2), although
    # 甲 has the larger share of 满意.
    result = tally(build(QIANREN, "sum", {"甲": [1, 0, 1, 0], "乙": [0, 2, 0, 0]}))
    assert ranks(result) == {"乙": 1, "甲": 2}


def test_third_key_is_the_share_of_the_best_option() -> None:
    # Both score 1 and rate 1 (zhengfeng weighs 满意 and 基本满意 alike); 甲 has more 满意.
    result = tally(build(ZHENGFENG, "mean", {"乙": [1, 1, 0, 0], "甲": [2, 0, 0, 0]}))
    assert ranks(result) == {"甲": 1, "乙": 2}


def test_exact_ties_share_a_rank_and_the_next_rank_skips() -> None:
    # 乙 and 丙 tie on all three keys with different counts: 16.5, 1/2, 1/2 each.
    table = {"甲": [2, 0, 0], "乙": [1, 0, 1], "丙": [2, 0, 2], "丁": [0, 0, 1]}
    result = tally(build(WANREN, "mean", table, winners=0))
    assert ranks(result) == {"甲": 1, "乙": 2, "丙": 2, "丁": 4}
    assert [u.unit.name for u in result.categories[0].units] == ["甲", "乙", "丙", "丁"]


def test_tied_units_keep_the_configured_order_and_no_votes_units_go_last_by_name() -> None:
    table = {"戊": [0, 0, 0], "乙": [1, 0, 0], "甲": [1, 0, 0], "丁": [0, 0, 0], "丙": [0, 1, 0]}
    result = tally(build(WANREN, "mean", table))
    assert [u.unit.name for u in result.categories[0].units] == ["乙", "甲", "丙", "丁", "戊"]


# --- flags (section 6) --------------------------------------------------------------------


def test_no_votes_units_are_sorted_by_name_not_by_key() -> None:
    units = (Unit("k1", "R1", "甲", "c"), Unit("k2", "R2", "乙", "c"), Unit("k3", "R3", "丙", "c"))
    inp = replace(
        build(WANREN, "mean", {}), units=units, counts=(VoteCount("k3", "满意", "option", 1),)
    )
    assert [u.unit.name for u in tally(inp).categories[0].units] == ["丙", "乙", "甲"]


def test_last_place_ties_at_the_boundary_are_all_included() -> None:
    table = {"甲": [3, 0, 0], "乙": [2, 0, 1], "丙": [1, 0, 2], "丁": [1, 0, 2]}
    category = tally(build(WANREN, "mean", table, winners=1, last_place=1)).categories[0]
    assert {u.unit.name: u.flags for u in category.units} == {
        "甲": ("winner",),
        "乙": ("key_rectification",),
        "丙": ("last_place",),
        "丁": ("last_place",),
    }
    assert category.notes == ("倒数第1名并列2个单位,均认定为末位单位(末位名额1个,实际2个)",)
    assert [(t.flag, t.rank, t.units, t.quota, t.selected) for t in category.ties] == [
        ("last_place", 1, ("丙", "丁"), 1, 2)
    ]


def test_last_place_quota_of_two_with_a_tie_on_the_second() -> None:
    table = {"甲": [4, 0, 0], "乙": [3, 0, 1], "丙": [2, 0, 2], "丁": [2, 0, 2], "戊": [0, 0, 4]}
    result = tally(build(WANREN, "mean", table, winners=0, last_place=2))
    last = {name for name, f in flags(result).items() if "last_place" in f}
    assert last == {"丙", "丁", "戊"}
    assert "倒数第2名并列2个单位" in result.categories[0].notes[0]


def test_vetoed_units_can_be_last_place() -> None:
    result = tally(build(WANREN, "mean", {"甲": [2, 0, 0], "乙": [0, 0, 2]}, vetoed=["乙"]))
    # 乙's rate is 0, yet a last-place unit is not also key_rectification.
    assert flags(result) == {"甲": ("winner",), "乙": ("last_place", "vetoed")}


def test_winner_quota_with_a_tie_at_the_boundary() -> None:
    table = {"甲": [3, 0, 0], "乙": [2, 1, 0], "丙": [2, 1, 0], "丁": [1, 2, 0], "戊": [0, 0, 3]}
    category = tally(build(WANREN, "mean", table, winners=2)).categories[0]
    winners = [u.unit.name for u in category.units if "winner" in u.flags]
    assert winners == ["甲", "乙", "丙"]
    assert category.notes == ("第2名并列2个单位,均认定为优胜单位(优胜名额2个,实际3个)",)


def test_winners_skip_vetoed_and_last_place_units() -> None:
    # 甲 (vetoed) is first; the 2 winners are the next eligible ones, 乙 and 丙.
    table = {"甲": [5, 0, 0], "乙": [4, 1, 0], "丙": [3, 2, 0], "丁": [2, 3, 0], "戊": [0, 5, 0]}
    result = tally(build(WANREN, "mean", table, winners=2, vetoed=["甲"]))
    assert flags(result) == {
        "甲": ("vetoed",),
        "乙": ("winner",),
        "丙": ("winner",),
        "丁": (),
        "戊": ("last_place",),
    }


def test_winner_quota_larger_than_the_category() -> None:
    table = {"甲": [3, 0, 0], "乙": [2, 1, 0], "丙": [1, 2, 0]}
    result = tally(build(WANREN, "mean", table, winners=10))
    assert flags(result) == {"甲": ("winner",), "乙": ("winner",), "丙": ("last_place",)}
    assert result.categories[0].notes == ()


def test_zero_quotas_give_no_winner_and_no_last_place() -> None:
    table = {"甲": [3, 0, 0], "乙": [2, 1, 0], "丙": [0, 0, 3]}
    result = tally(build(WANREN, "mean", table, winners=0, last_place=0))
    assert flags(result) == {"甲": (), "乙": (), "丙": ("key_rectification",)}


def test_every_unit_vetoed() -> None:
    table = {"甲": [3, 0, 0], "乙": [2, 1, 0], "丙": [1, 2, 0]}
    result = tally(build(WANREN, "mean", table, winners=2, vetoed=list(table)))
    assert flags(result) == {"甲": ("vetoed",), "乙": ("vetoed",), "丙": ("last_place", "vetoed")}


def test_every_unit_tied_is_first_and_last_at_once() -> None:
    # The literal rule: all share rank 1 and reversed rank 1, so all are last place, and a
    # last-place unit cannot win.
    table = {"甲": [1, 1, 0], "乙": [1, 1, 0], "丙": [2, 2, 0]}
    category = tally(build(WANREN, "mean", table, winners=1)).categories[0]
    assert [(u.rank, u.flags) for u in category.units] == [(1, ("last_place",))] * 3
    assert len(category.notes) == 1 and "倒数第1名并列3个单位" in category.notes[0]


def test_no_ballots_at_all() -> None:
    table = {"乙": [0, 0, 0], "甲": [0, 0, 0], "丙": [0, 0, 0]}
    category = tally(build(WANREN, "mean", table, vetoed=["丙"])).categories[0]
    assert [(u.unit.name, u.rank, u.score, u.flags) for u in category.units] == [
        ("丙", None, None, ("no_votes", "vetoed")),
        ("乙", None, None, ("no_votes",)),
        ("甲", None, None, ("no_votes",)),
    ]
    assert category.notes == ()


def test_one_ballot() -> None:
    table = {"甲": [1, 0, 0, 0], "乙": [0, 1, 0, 0], "丙": [0, 0, 1, 0]}
    result = tally(build(QIANREN, "sum", table, winners=1))
    assert ranks(result) == {"甲": 1, "乙": 2, "丙": 3}
    # 丙's rate is 0, but a last-place unit is not also key_rectification.
    assert flags(result) == {"甲": ("winner",), "乙": (), "丙": ("last_place",)}


def test_two_ballots() -> None:
    table = {"甲": [2, 0, 0, 0], "乙": [1, 0, 0, 1], "丙": [1, 0, 0, 1], "丁": [0, 0, 2, 0]}
    result = tally(build(QIANREN, "sum", table, winners=2))
    assert ranks(result) == {"甲": 1, "乙": 2, "丙": 2, "丁": 4}
    assert units_of(result)["乙"].score == F(5, 2)
    assert flags(result) == {
        "甲": ("winner",),
        "乙": ("key_rectification", "winner"),
        "丙": ("key_rectification", "winner"),
        "丁": ("last_place",),
    }


def test_key_rectification_is_strictly_below_the_threshold() -> None:
    # 9 of 10 satisfied is exactly 90%: not flagged. 17 of 19 (89.47%) is.
    table = {"正好": [9, 0, 1], "差一点": [17, 0, 2], "末位": [0, 0, 5]}
    result = tally(build(WANREN, "mean", table, winners=0))
    assert units_of(result)["正好"].satisfaction_rate == F(9, 10)
    assert flags(result) == {"正好": (), "差一点": ("key_rectification",), "末位": ("last_place",)}


def test_consecutive_last_place_follows_the_registry_id_not_the_name() -> None:
    inp = build(WANREN, "mean", {"新名称": [0, 0, 3], "甲": [3, 0, 0]}, winners=0)
    renamed = Unit("新名称", "R-旧名称", "新名称", "c")  # registry id kept from the old name
    inp = replace(
        inp, units=(renamed, inp.units[1]), previous_last_place=frozenset({"R-旧名称", "R-甲"})
    )
    assert flags(tally(inp)) == {
        "新名称": ("consecutive_last_place", "last_place"),
        "甲": (),  # was last place before, but not now
    }


def test_same_name_other_registry_id_is_not_consecutive() -> None:
    inp = build(WANREN, "mean", {"甲": [0, 0, 3], "乙": [3, 0, 0]})
    inp = replace(inp, previous_last_place=frozenset({"甲", "R-旧甲"}))
    assert flags(tally(inp))["甲"] == ("last_place",)


# --- grades (section 7) -------------------------------------------------------------------


def test_grades_take_the_highest_band_reached() -> None:
    bands = (
        GradeBand(F(60), "合格"),
        GradeBand(F(90), "优秀"),
        GradeBand(F(0), "不合格"),
        GradeBand(F(80), "良好"),
    )
    # sum of qianren: 45 满意 = 90, 40 满意 = 80 exactly, 39 满意 + 1 基本满意 = 79, 0.
    table = {"优": [45, 0, 0, 0], "良": [40, 0, 0, 0], "合": [39, 1, 0, 0], "零": [0, 0, 1, 0]}
    result = tally(build(QIANREN, "sum", table, grade_bands=bands))
    assert {n: u.grade for n, u in units_of(result).items()} == {
        "优": "优秀",
        "良": "良好",
        "合": "合格",
        "零": "不合格",
    }


def test_no_grade_without_bands_or_below_every_band() -> None:
    table = {"甲": [1, 0, 0, 0], "乙": [0, 0, 0, 0]}
    assert {u.grade for u in units_of(tally(build(QIANREN, "sum", table))).values()} == {None}
    inp = build(QIANREN, "sum", table, grade_bands=(GradeBand(F(60), "合格"),))
    assert {u.grade for u in units_of(tally(inp)).values()} == {None}


# --- group weights (section 3) ------------------------------------------------------------

WEIGHTS = (("服务对象", F(3, 5)), ("党政干部", F(2, 5)))


def weighted_input() -> TallyInput:
    rows = (
        # 甲: 服务对象 2 满意 + 1 不满意 (score 55/3, rate 2/3); 党政干部 1 基本满意 (17, 1).
        VoteCount("甲", "满意", "option", 2, dimension="作风", group="服务对象"),
        VoteCount("甲", "不满意", "option", 1, dimension="效能", group="服务对象"),
        VoteCount("甲", "基本满意", "option", 1, dimension="作风", group="党政干部"),
        VoteCount("甲", None, "blank", 1, dimension="效能", group="党政干部"),
        # 乙: only 服务对象 voted on it, so only that group's weight applies.
        VoteCount("乙", "基本满意", "option", 3, dimension="作风", group="服务对象"),
    )
    return TallyInput(
        aggregation="mean",
        threshold=F(9, 10),
        options=WANREN,
        categories=(Category("c", "类别", 1, 1),),
        units=(Unit("甲", "R1", "甲", "c"), Unit("乙", "R2", "乙", "c")),
        counts=rows,
        group_weights=WEIGHTS,
    )


def test_group_weights_arithmetic() -> None:
    u = units_of(tally(weighted_input()))
    # 0.6 × 55/3 + 0.4 × 17 = 11 + 6.8 = 17.8 (unweighted it would be 72/4 = 18).
    assert u["甲"].score == F(89, 5)
    # 0.6 × 2/3 + 0.4 × 1 = 0.8.
    assert u["甲"].satisfaction_rate == F(4, 5)
    # The best share is not weighted (section 5.3): 2 满意 of 4 counted votes, not 0.6 × 2/3.
    assert u["甲"].best_share == F(1, 2)
    assert u["乙"].score == F(17) and u["乙"].satisfaction_rate == F(1)
    assert u["甲"].counts == (("满意", 2), ("基本满意", 1), ("不满意", 1))


def test_breakdowns_by_group_are_plain_and_by_dimension_weighted() -> None:
    u = units_of(tally(weighted_input()))["甲"]
    assert u.by_group == (
        Breakdown("党政干部", F(17), F(1), (("满意", 0), ("基本满意", 1), ("不满意", 0)), 1, 0),
        Breakdown(
            "服务对象", F(55, 3), F(2, 3), (("满意", 2), ("基本满意", 0), ("不满意", 1)), 0, 0
        ),
    )
    by_dimension = {b.key: b for b in u.by_dimension}
    # 作风: 服务对象 22 (rate 1), 党政干部 17 (rate 1) → 0.6×22 + 0.4×17 = 20; 效能: only 11.
    assert by_dimension["作风"].score == F(20)
    assert by_dimension["效能"].score == F(11) and by_dimension["效能"].blank == 1
    assert [b.key for b in units_of(tally(weighted_input()))["乙"].by_dimension] == ["作风", "效能"]
    assert units_of(tally(weighted_input()))["乙"].by_dimension[1].score is None


def test_a_group_without_a_weight_is_refused() -> None:
    inp = replace(weighted_input(), group_weights=WEIGHTS[:1])
    with pytest.raises(ValueError, match="党政干部"):
        tally(inp)


def test_group_weights_are_ignored_with_sum() -> None:
    inp = build(QIANREN, "sum", {"甲": [1, 1, 0, 0]}, group_weights=(("x", F(1)),))
    assert units_of(tally(inp))["甲"].score == F(3)


def test_only_zero_weight_groups_means_no_votes() -> None:
    inp = replace(weighted_input(), group_weights=(("服务对象", F(0)), ("党政干部", F(1))))
    u = units_of(tally(inp))
    assert u["甲"].score == F(17)
    assert u["乙"].flags == ("no_votes",)


# --- input checks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row",
    [
        VoteCount("无此单位", "满意", "option", 1),
        VoteCount("甲", "很满意", "option", 1),
        VoteCount("甲", None, "option", 1),
        VoteCount("甲", "满意", "blank", 1),
        VoteCount("甲", None, "invalid", 1),
        VoteCount("甲", "满意", "option", -1),
    ],
)
def test_inconsistent_counts_are_refused(row: VoteCount) -> None:
    inp = build(WANREN, "mean", {"甲": [1, 0, 0]})
    with pytest.raises(ValueError):
        tally(replace(inp, counts=(row,)))


def test_float_weights_are_refused() -> None:
    scale = (Option("好", 0.1, True, True), Option("差", F(0), False, True))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tally(build(scale, "sum", {"甲": [1, 0]}))


# --- printing (section 9) -----------------------------------------------------------------


def test_json_number() -> None:
    assert json_number(None) is None
    assert json_number(F(1, 3)) == 0.333333
    assert json_number(F(2, 3)) == 0.666667
    assert json_number(F(201, 2)) == 100.5


def test_as_json_dict() -> None:
    table = {"甲": [3, 2, 1, 1], "乙": [0, 0, 0, 0], "丙": [0, 0, 1, 0]}
    result = tally(build(QIANREN, "sum", table, winners=1, vetoed=["乙"], spoiled={"乙": 2}))
    assert as_json_dict(result) == [
        {
            "name": "类别",
            "winners": 1,
            "last_place": 1,
            "units": [
                {
                    "unit": "甲",
                    "rank": 1,
                    "score": 8.5,
                    "satisfaction_rate": 0.714286,
                    "counts": {"满意": 3, "基本满意": 2, "不满意": 1, "弃权": 1},
                    "blank": 0,
                    "spoiled": 0,
                    "flags": ["key_rectification", "winner"],
                    "grade": None,
                },
                {
                    "unit": "丙",
                    "rank": 2,
                    "score": 0.0,
                    "satisfaction_rate": 0.0,
                    "counts": {"满意": 0, "基本满意": 0, "不满意": 1, "弃权": 0},
                    "blank": 0,
                    "spoiled": 0,
                    "flags": ["last_place"],
                    "grade": None,
                },
                {
                    "unit": "乙",
                    "rank": None,
                    "score": None,
                    "satisfaction_rate": None,
                    "counts": {"满意": 0, "基本满意": 0, "不满意": 0, "弃权": 0},
                    "blank": 0,
                    "spoiled": 2,
                    "flags": ["no_votes", "vetoed"],
                    "grade": None,
                },
            ],
        }
    ]
    printed = json.dumps(as_json_dict(result), ensure_ascii=False)
    assert list(json.loads(printed)[0]["units"][0]["counts"]) == [
        "满意",
        "基本满意",
        "不满意",
        "弃权",
    ]


# --- purity -------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["scoring/engine.py", "scoring/output.py"])
def test_engine_imports_only_the_standard_library(module: str) -> None:
    """The engine, and its printing beside it (which may import the engine only)."""
    path = Path(scoring.engine.__file__).parents[1] / module
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative import into the project"
            imported.append(node.module or "")
    assert imported
    outside = [m for m in imported if m.split(".")[0] not in sys.stdlib_module_names
               and m != "scoring.engine"]
    assert outside == []


# --- the worked examples of shared/spec/golden --------------------------------------------


def golden_input(expected: list[dict], aggregation: str, scale: Sequence[Option]) -> TallyInput:
    """Rebuild a tally input from an expected result: its counts, blanks, spoiled votes,
    vetoed flags and quotas. Units go in reversed order, so ties cannot pass by luck."""
    categories, units, counts = [], [], []
    for c in expected:
        categories.append(Category(c["name"], c["name"], c["winners"], c["last_place"]))
        for u in reversed(c["units"]):
            name = u["unit"]
            units.append(Unit(name, "R-" + name, name, c["name"], "vetoed" in u["flags"]))
            counts += [VoteCount(name, label, "option", n) for label, n in u["counts"].items()]
            counts.append(VoteCount(name, None, "blank", u["blank"]))
            counts.append(VoteCount(name, None, "spoiled", u["spoiled"]))
    return TallyInput(
        aggregation, F(9, 10), tuple(scale), tuple(categories), tuple(units), tuple(counts)
    )


@pytest.mark.parametrize("preset", sorted(SCALES))
def test_golden_examples(preset: str) -> None:
    path = GOLDEN / preset / "expected.json"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    expected = json.loads(path.read_text(encoding="utf-8"))["categories"]
    aggregation, scale = SCALES[preset]
    got = as_json_dict(tally(golden_input(expected, aggregation, scale)))
    assert [c["name"] for c in got] == [c["name"] for c in expected]
    for got_category, expected_category in zip(got, expected, strict=True):
        for key in ("winners", "last_place"):
            assert got_category[key] == expected_category[key]
        # The same sequence of ranks, and the same figures for each unit.
        assert [u["rank"] for u in got_category["units"]] == [
            u["rank"] for u in expected_category["units"]
        ]
        got_units = {u["unit"]: u for u in got_category["units"]}
        assert set(got_units) == {u["unit"] for u in expected_category["units"]}
        for want in expected_category["units"]:
            have = got_units[want["unit"]]
            for field in ("score", "satisfaction_rate"):
                assert have[field] == pytest.approx(want[field], abs=1e-6), (want["unit"], field)
            for field in ("rank", "counts", "blank", "spoiled", "flags", "grade"):
                assert have[field] == want[field], (want["unit"], field)
