"""The engine's rules for subjects other than units (issue 17; scoring.md sections 6.7, the
per-dimension line and 10): honoured sub-units across categories with ties at the boundary,
key_rectification:<dimension>, the pool slice, and kind and parent in the JSON."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from scoring.engine import (
    Category,
    Option,
    TallyInput,
    Unit,
    VoteCount,
    tally,
)
from scoring.output import as_json_dict

LIANGPING = (
    Option("满意", F(1), True, True),
    Option("基本满意", F(1), True, True),
    Option("不满意", F(0), False, True),
    Option("不了解", F(0), False, False),
)


@pytest.fixture(autouse=True, scope="module")
def _media_root() -> None:
    """The engine's tests run without Django (overrides the project's autouse fixture)."""


def votes(unit: str, **by_option: int) -> list[VoteCount]:
    return [VoteCount(unit, o, "option", n) for o, n in by_option.items() if n]


def by_unit(result) -> dict:  # type: ignore[no-untyped-def]
    return {u.unit.key: u for c in result.categories for u in c.units}


def sections_input(quota: int, *, vetoed: str = "") -> TallyInput:
    """Two categories of sections and windows, a plain unit that is never honoured, and a
    tie at the quota's boundary across the two categories."""
    units = (
        Unit("A", "rA", "办公室", "c1", kind="内设科室", parent="市税务局"),
        Unit("B", "rB", "征管科", "c1", kind="内设科室", parent="市税务局"),
        Unit("C", "rC", "一号窗口", "c2", kind="办事窗口", parent="政务中心"),
        Unit("D", "rD", "二号窗口", "c2", kind="办事窗口", parent="政务中心",
             vetoed=vetoed == "D"),
        Unit("E", "rE", "三号窗口", "c2", kind="办事窗口", parent="政务中心"),
        Unit("U", "rU", "市税务局", "c1"),  # a unit: best of all, never honoured
    )
    counts = (
        votes("U", 满意=10)
        + votes("A", 满意=9, 不满意=1)   # 0.9
        + votes("B", 满意=6, 不满意=4)   # 0.6 (last of c1: last place)
        + votes("C", 满意=9, 不满意=1)   # 0.9, tied with A
        + votes("D", 满意=8, 不满意=2)   # 0.8
        + votes("E", 满意=5, 不满意=5)   # 0.5 (last of c2: last place)
    )
    return TallyInput("mean", F(9, 10), LIANGPING,
                      (Category("c1", "科室", 0, 1), Category("c2", "窗口", 0, 1)),
                      units, tuple(counts), honoured_quota=quota)


def honoured(result) -> set[str]:  # type: ignore[no-untyped-def]
    return {k for k, u in by_unit(result).items() if "honoured" in u.flags}


def test_honoured_takes_the_tie_at_the_boundary_across_categories():
    # Eligible: A (0.9), C (0.9), D (0.8); B and E are last place, U is not a sub-unit.
    assert honoured(tally(sections_input(1))) == {"A", "C"}
    assert honoured(tally(sections_input(2))) == {"A", "C"}
    assert honoured(tally(sections_input(3))) == {"A", "C", "D"}
    assert honoured(tally(sections_input(9))) == {"A", "C", "D"}
    assert honoured(tally(sections_input(0))) == set()


def test_honoured_skips_vetoed_and_last_place_sub_units():
    assert honoured(tally(sections_input(3, vetoed="D"))) == {"A", "C"}
    flags = by_unit(tally(sections_input(9)))
    assert "last_place" in flags["B"].flags and "honoured" not in flags["B"].flags
    assert "honoured" not in flags["U"].flags


def test_per_dimension_line_flags_each_dimension_under_the_threshold():
    units = (Unit("T", "rT", "领导班子", "team", kind="领导班子"),
             Unit("L", "rL", "张三", "lead", kind="领导干部", parent="领导班子"))
    counts = (
        VoteCount("T", "满意", "option", 10, dimension="工作评价"),
        VoteCount("T", "满意", "option", 8, dimension="作风评价"),
        VoteCount("T", "不满意", "option", 2, dimension="作风评价"),
        VoteCount("L", "满意", "option", 10, dimension="工作评价"),
        VoteCount("L", "满意", "option", 10, dimension="作风评价"),
        VoteCount("L", "不了解", "option", 5, dimension="作风评价"),
    )
    base = TallyInput("mean", F(9, 10), LIANGPING,
                      (Category("team", "领导班子", 0, 0), Category("lead", "领导干部", 0, 0)),
                      units, counts)
    plain = by_unit(tally(base))
    # Overall T is 18/20 = 90%: not under the line; no last place with a quota of 0.
    assert plain["T"].flags == () and plain["L"].flags == ()
    lined = by_unit(tally(TallyInput(**{**base.__dict__, "dimension_line": True})))
    assert lined["T"].flags == ("key_rectification:作风评价",)  # 8/10 on 作风评价
    assert lined["L"].flags == ()  # 不了解 is counted nowhere: 10/10


def test_pool_breakdown_and_kind_and_parent_in_the_json():
    units = (Unit("L", "rL", "张三", "lead", kind="领导干部", parent="领导班子"),)
    counts = (
        VoteCount("L", "满意", "option", 3, group="全体干部职工", pool="内部评议"),
        VoteCount("L", "不满意", "option", 1, group="服务对象代表", pool="社会评议"),
        VoteCount("L", "满意", "option", 1, group="人大代表", pool="社会评议"),
    )
    result = tally(TallyInput("mean", F(9, 10), LIANGPING, (Category("lead", "领导干部", 0, 0),),
                              units, counts))
    pools = {b.key: b.satisfaction_rate for b in by_unit(result)["L"].by_pool}
    assert pools == {"内部评议": F(1), "社会评议": F(1, 2)}
    entry = as_json_dict(result)[0]["units"][0]  # type: ignore[index]
    assert entry["kind"] == "领导干部" and entry["parent"] == "领导班子"
    assert entry["satisfaction_rate"] == 0.8
