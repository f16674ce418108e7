"""The engine's scale (spec 1, 5.3): one definition of the best, satisfied, counted and
scored options, used by the arithmetic and by the rules in words; scales it refuses.

Plain functions on plain data: no database, no Django settings.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction as F

import pytest

from scoring.engine import Option, Scale, ScaleError, Unit, VoteCount, tally
from tests.test_engine import WANREN, ZHENGFENG, build, ranks, units_of, weighted_input


@pytest.fixture(autouse=True, scope="module")
def _media_root() -> None:
    """Overrides the project conftest's autouse fixture of this name, which needs
    pytest-django's `settings`: the engine's tests run without Django."""


def test_the_scale_names_the_options_each_formula_takes() -> None:
    # The best option is the first of the scale (section 5.3), not the heaviest.
    scale = Scale((Option("不了解", F(0), False, False), *WANREN))
    assert scale.best == "不了解"
    assert scale.satisfied == ("满意", "基本满意")
    assert scale.counted == ("满意", "基本满意", "不满意")
    assert scale.not_counted == ("不了解",)
    assert scale.scored("sum") == ("不了解", "满意", "基本满意", "不满意")
    assert scale.scored("mean") == scale.counted
    assert build(WANREN, "mean", {}).scale == Scale(WANREN)


def test_the_third_key_is_the_first_option_even_when_another_weighs_more() -> None:
    # 非常满意 weighs most but comes third; 满意 and 基本满意 weigh alike, so 甲 and 乙 tie on
    # score (4) and rate (3/4) and are separated by the share of 满意, the first option.
    scale = (
        Option("满意", F(1), True, True),
        Option("基本满意", F(1), True, True),
        Option("非常满意", F(2), True, True),
        Option("不满意", F(0), False, True),
    )
    result = tally(build(scale, "sum", {"乙": [0, 2, 1, 1], "甲": [2, 0, 1, 1]}))
    u = units_of(result)
    assert (u["甲"].score, u["甲"].satisfaction_rate) == (u["乙"].score, u["乙"].satisfaction_rate)
    assert ranks(result) == {"甲": 1, "乙": 2}
    assert u["甲"].best_share == F(2, 4) == F(dict(u["甲"].counts)[Scale(scale).best], 4)


def test_the_best_share_breaks_a_tie_unweighted_even_with_group_weights() -> None:
    # Every vote is satisfied, so score and rate are 1 in every group: only the third key
    # separates the units. Weighted, 甲 would lead (0.6 × 1 + 0.4 × 0 = 0.6 against 0.4);
    # over all ballots 乙 has 3 满意 of 4 and 甲 1 of 4 (section 5.3: unweighted).
    rows = (
        VoteCount("甲", "满意", "option", 1, group="服务对象"),
        VoteCount("甲", "基本满意", "option", 3, group="党政干部"),
        VoteCount("乙", "基本满意", "option", 1, group="服务对象"),
        VoteCount("乙", "满意", "option", 3, group="党政干部"),
    )
    inp = replace(
        weighted_input(),
        options=ZHENGFENG,
        units=(Unit("甲", "R1", "甲", "c"), Unit("乙", "R2", "乙", "c")),
        counts=rows,
    )
    u = units_of(tally(inp))
    assert (u["甲"].score, u["甲"].satisfaction_rate) == (u["乙"].score, u["乙"].satisfaction_rate)
    assert (u["甲"].best_share, u["乙"].best_share) == (F(1, 4), F(3, 4))
    assert ranks(tally(inp)) == {"乙": 1, "甲": 2}


def test_a_satisfied_option_that_is_not_counted_is_refused() -> None:
    # Section 1: such a scale could give a rate above 100% (2 satisfied of 1 counted here).
    scale = (Option("满意", F(1), True, False), Option("不满意", F(0), False, True))
    with pytest.raises(ScaleError, match="满意"):
        tally(build(scale, "mean", {"甲": [2, 1]}))
    assert issubclass(ScaleError, ValueError)  # the tally command reports ValueErrors
