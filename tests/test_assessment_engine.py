"""The assessment engine against the spec (shared/spec/assessment.md): the worked example of
section 8 and every rule by a hand-computed case. Plain data, no database."""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from assessments.engine import (
    AssessmentError,
    AssessmentInput,
    Band,
    Category,
    Deduction,
    PastAssessment,
    Rule,
    Score,
    Section,
    Unit,
    as_json_dict,
    assess,
    shown,
)


@pytest.fixture(autouse=True, scope="module")
def _media_root() -> None:
    """The engine's tests run without Django (overrides the project's autouse fixture)."""


BANDS_004 = (Band("优秀", F(90)), Band("良好", F(80)), Band("合格", F(60)),
             Band("不合格", F(0), "通报批评,限期整改", rectify=True))
SECTIONS_8 = (
    Section("督办落实", "items"),
    Section("违纪违规", "items"),
    Section("民主评议", "survey"),
    Section("科室评议", "rollup"),
)
UNITS_8 = tuple(Unit(k, f"r{k}", n, "c") for k, n in
                (("a", "甲局"), ("b", "乙局"), ("c", "丙局"), ("d", "丁局")))


def example(**over) -> AssessmentInput:  # type: ignore[no-untyped-def]
    """Section 8, exactly."""
    base = dict(
        mode="deduction", base=F(100), year=2026, categories=(Category("c", "市直机关"),),
        units=UNITS_8, sections=SECTIONS_8, bands=BANDS_004,
        deductions=(Deduction("b", "督办落实", 2, F(4)), Deduction("c", "违纪违规", 1, F(15)),
                    Deduction("d", "督办落实", 1, F(4))),
        survey={"民主评议": {"a": F(95), "b": F("87.5"), "c": F(80), "d": F(89)}},
        rollup={"科室评议": {"a": (F(92), F(91)), "b": (F(85), F(96)), "d": (F(88),)}},
    )
    base.update(over)
    return AssessmentInput(**base)  # type: ignore[arg-type]


def by_name(result) -> dict:  # type: ignore[no-untyped-def]
    return {u.unit.name: u for c in result.categories for u in c.units}


def test_the_worked_example_of_section_8():
    out = by_name(assess(example()))
    table = {n: ([shown(v) for _s, v in u.sections], shown(u.total), u.grade, u.rank)
             for n, u in out.items()}
    assert table == {
        "甲局": (["0", "0", "0", "0"], "100", "优秀", 1),
        "乙局": (["8", "0", "2.5", "5"], "84.5", "良好", 3),
        "丙局": (["0", "15", "10", "0"], "75", "合格", 4),
        "丁局": (["4", "0", "1", "2"], "93", "优秀", 2),
    }
    units = as_json_dict(assess(example()))[0]["units"]  # type: ignore[index]
    assert [u["unit"] for u in units] == ["甲局", "丁局", "乙局", "丙局"]
    assert units[2]["sections"] == {"督办落实": 8.0, "违纪违规": 0.0, "民主评议": 2.5, "科室评议": 5.0}


def test_caps_limit_a_section_and_the_total_never_goes_below_zero():
    capped = (Section("督办落实", "items", cap=F(5)), *SECTIONS_8[1:])
    out = by_name(assess(example(sections=capped)))
    assert out["乙局"].sections[0] == ("督办落实", F(5))  # 8 capped at 5
    heavy = example(deductions=(Deduction("a", "违纪违规", 6, F(20)),))
    assert by_name(assess(heavy))["甲局"].total == 0  # 120 deducted from 100


def test_a_unit_missing_a_section_is_incomplete_and_listed_last():
    survey = {"民主评议": {"a": F(95), "b": F("87.5"), "d": F(89)}}  # 丙局 not in the campaign
    result = assess(example(survey=survey))
    units = result.categories[0].units
    assert units[-1].unit.name == "丙局" and units[-1].total is None and units[-1].rank is None
    assert units[-1].missing == ("民主评议",) and units[-1].flags == ("incomplete",)


def test_rollup_without_sub_units_deducts_nothing_but_is_missing_when_weighted():
    assert by_name(assess(example()))["丙局"].sections[3] == ("科室评议", F(0))
    weighted = (Section("民主评议", "survey", max_points=F(60)),
                Section("科室评议", "rollup", max_points=F(40)))
    out = by_name(assess(example(mode="weighted", sections=weighted,
                                 bands=(Band("优", F(90)), Band("差", F(0))))))
    assert out["丙局"].missing == ("科室评议",)
    # 甲局: 60 × 95/100 + 40 × mean(92, 91)/100 = 57 + 36.6
    assert out["甲局"].total == F(57) + F(366, 10)


@pytest.mark.parametrize(("total", "grade"), [(F("89.5"), "良好"), (F(90), "优秀"),
                                              (F("79.99"), "合格"), (F(0), "不合格")])
def test_bands_at_their_boundaries(total, grade):
    d = F(100) - total
    inp = example(units=(UNITS_8[0],), sections=(Section("督办落实", "items"),),
                  deductions=(Deduction("a", "督办落实", 1, d),) if d else ())
    assert by_name(assess(inp))["甲局"].grade == grade


def test_honours_with_ties_and_a_required_grade():
    units = tuple(Unit(k, f"r{k}", k, "c") for k in "abcde")
    weighted = (Section("热线", "score", max_points=F(100)),)
    scores = (("a", 95), ("b", 92), ("c", 92), ("d", 91), ("e", 85))

    def run(quota: int, grade: str | None) -> set[str]:
        inp = AssessmentInput(
            "weighted", F(100), 2026, (Category("c", "类", quota, grade),), units, weighted,
            (Band("优", F(90)), Band("良", F(80)), Band("差", F(0))),
            scores=tuple(Score(k, "热线", F(v)) for k, v in scores))
        return {u.unit.key for u in assess(inp).categories[0].units if "honoured" in u.flags}

    assert run(2, None) == {"a", "b", "c"}  # the tie at the boundary is included
    assert run(1, None) == {"a"}
    assert run(9, "优") == {"a", "b", "c", "d"}  # e is 良
    assert run(0, None) == set()


def test_year_on_year_rules_across_two_and_three_assessments_with_a_gap():
    rules = (Rule("优秀", 2, "title"), Rule("不合格", 3, "accountability"))
    past = (PastAssessment(2025, {"ra": "优秀", "rc": "不合格"}),
            PastAssessment(2024, {"rc": "不合格"}))
    out = by_name(assess(example(rules=rules, history=past)))
    assert "title" in out["甲局"].flags
    assert "title" not in out["丁局"].flags  # 优秀 now, absent last year
    # A year missing in the chain (2025 not held): the rule is not met.
    gap = (PastAssessment(2024, {"ra": "优秀"}),)
    assert "title" not in by_name(assess(example(rules=rules, history=gap)))["甲局"].flags
    # Three years of 不合格, without gap.
    bad = example(units=(Unit("c", "rc", "丙局", "c"),), rules=rules, history=past,
                  deductions=(Deduction("c", "违纪违规", 3, F(15)),))
    outcome = by_name(assess(bad))["丙局"]
    assert outcome.grade == "不合格" and outcome.flags == ("accountability",) and outcome.rectify


@pytest.mark.parametrize(("over", "words"), [
    ({"mode": "weighted"}, "须有满分"),
    ({"mode": "weighted", "sections": (Section("甲", "score", max_points=F(60)),)},
     "满分之和应为 100"),
    ({"bands": (Band("优秀", F(80)), Band("良好", F(80)))}, "严格递减"),
    ({"sections": (Section("甲", "bogus"),)}, "类型“bogus”未知"),
])
def test_a_configuration_the_contract_refuses(over, words):
    with pytest.raises(AssessmentError, match=words):
        assess(example(**over))
