"""The assessment's arithmetic (shared/spec/assessment.md, sections 1-4 and 6): the
100-point deduction scheme of 004 and the weighted composite of 002.

Pure Python like scoring/engine.py: no Django, no project import, exact arithmetic
(`Fraction`). The adapter (assessments/adapter.py) reads the database and the campaigns'
tallies into an `AssessmentInput`; `assess` does the rest, so every rule is tested on plain
data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

MODES = ("deduction", "weighted")
KINDS = ("items", "score", "survey", "rollup")
MEASURES = ("satisfaction", "percent")

FLAG_HONOURED = "honoured"
FLAG_INCOMPLETE = "incomplete"


class AssessmentError(ValueError):
    """A configuration the contract does not allow: refused, never computed."""


# --- input ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    name: str
    kind: str  # one of KINDS
    cap: Fraction | None = None  # deduction mode: the most it deducts (None: no cap)
    max_points: Fraction | None = None  # weighted mode
    measure: str = "satisfaction"  # survey and rollup
    threshold: Fraction = Fraction(90)
    per_point: Fraction = Fraction(1)


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    honoured: int = 0  # 先进单位 quota (0: no honoured flag)
    honoured_grade: str | None = None  # the grade an honoured unit must have


@dataclass(frozen=True)
class Unit:
    key: str
    registry_id: str  # identity across years, as in campaigns
    name: str
    category_key: str


@dataclass(frozen=True)
class Band:
    label: str
    minimum: Fraction
    consequence: str = ""
    rectify: bool = False


@dataclass(frozen=True)
class Rule:
    grade: str
    years: int
    flag: str


@dataclass(frozen=True)
class Deduction:
    """Approved occurrences of one item: `count` × `points` (points per occurrence: the
    item's, or the one stated within a range)."""

    unit_key: str
    section: str
    count: int
    points: Fraction


@dataclass(frozen=True)
class Score:
    unit_key: str
    section: str
    score: Fraction


@dataclass(frozen=True)
class PastAssessment:
    """A predecessor's result: its year and each unit's grade by registry identity."""

    year: int
    grades: Mapping[str, str | None]


@dataclass(frozen=True)
class AssessmentInput:
    mode: str
    base: Fraction
    year: int
    categories: tuple[Category, ...]
    units: tuple[Unit, ...]
    sections: tuple[Section, ...]
    bands: tuple[Band, ...]  # strictly decreasing minima
    rules: tuple[Rule, ...] = ()
    deductions: tuple[Deduction, ...] = ()
    scores: tuple[Score, ...] = ()
    # survey section -> unit key -> m (percent), for units in the campaign with counted votes
    survey: Mapping[str, Mapping[str, Fraction]] = field(default_factory=dict)
    # rollup section -> unit key -> m of each sub-unit with counted votes
    rollup: Mapping[str, Mapping[str, tuple[Fraction, ...]]] = field(default_factory=dict)
    # the predecessors, most recent first
    history: tuple[PastAssessment, ...] = ()


# --- output -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitOutcome:
    unit: Unit
    rank: int | None
    total: Fraction | None
    grade: str | None
    sections: tuple[tuple[str, Fraction | None], ...]  # every section, in order
    missing: tuple[str, ...]
    flags: tuple[str, ...]  # sorted
    rectify: bool = False  # the grade's consequence asks for rectification (整改)


@dataclass(frozen=True)
class CategoryOutcome:
    category: Category
    units: tuple[UnitOutcome, ...]  # by rank, then incomplete units by name


@dataclass(frozen=True)
class AssessmentResult:
    categories: tuple[CategoryOutcome, ...]


# --- rules ------------------------------------------------------------------------------


def check(inp: AssessmentInput) -> list[str]:
    """Every way `inp` breaks the contract (section 1, 2, 3, 9), in words; [] when none."""
    problems: list[str] = []
    if inp.mode not in MODES:
        problems.append(f"未知的考核方式“{inp.mode}”(应为 deduction 或 weighted)")
    names = [s.name for s in inp.sections]
    if len(set(names)) != len(names):
        problems.append("考核项目名称重复")
    for s in inp.sections:
        if s.kind not in KINDS:
            problems.append(f"考核项目“{s.name}”的类型“{s.kind}”未知")
        if s.kind in ("survey", "rollup") and s.measure not in MEASURES:
            problems.append(f"考核项目“{s.name}”的计量“{s.measure}”未知")
        if inp.mode == "weighted" and s.max_points is None:
            problems.append(f"加权综合方式下,考核项目“{s.name}”须有满分")
        if inp.mode == "deduction" and s.kind == "score":
            problems.append(f"倒扣分制下不能有得分项目“{s.name}”")
    if inp.mode == "weighted":
        total = sum((s.max_points or Fraction(0) for s in inp.sections), Fraction(0))
        if total != 100:
            problems.append(f"各考核项目满分之和应为 100,现为 {_plain(total)}")
    minima = [b.minimum for b in inp.bands]
    if any(a <= b for a, b in zip(minima, minima[1:], strict=False)):
        problems.append("等次的最低分须从高到低严格递减")
    return problems


def _plain(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):g}"


def survey_deduction(s: Section, m: Fraction) -> Fraction:
    """满意率达线以上不扣分,每降低一个百分点扣 per_point 分 (proportional), capped."""
    return _capped(s.per_point * max(Fraction(0), s.threshold - m), s.cap)


def _capped(x: Fraction, cap: Fraction | None) -> Fraction:
    return x if cap is None else min(x, cap)


def _section_value(
    s: Section, unit: Unit, inp: AssessmentInput, raw: Mapping[tuple[str, str], Fraction],
    scores: Mapping[tuple[str, str], Fraction],
) -> Fraction | None:
    """The section's deduction (deduction mode) or points (weighted mode); None: missing."""
    weighted = inp.mode == "weighted"
    top = s.max_points or Fraction(0)
    if s.kind == "items":
        r = raw.get((unit.key, s.name), Fraction(0))
        return max(Fraction(0), top - r) if weighted else _capped(r, s.cap)
    if s.kind == "score":
        return scores.get((unit.key, s.name))
    if s.kind == "survey":
        m = inp.survey.get(s.name, {}).get(unit.key)
        if m is None:
            return None
        return top * m / 100 if weighted else survey_deduction(s, m)
    # rollup: every sub-unit under the line deducts from its parent; weighted: their mean
    subs = inp.rollup.get(s.name, {}).get(unit.key, ())
    if weighted:
        return top * (sum(subs, Fraction(0)) / len(subs)) / 100 if subs else None
    return _capped(
        sum((s.per_point * max(Fraction(0), s.threshold - m) for m in subs), Fraction(0)), s.cap
    )


def _ranks(totals: Mapping[str, Fraction]) -> dict[str, int]:
    """Competition ranks (1, 2, 2, 4), higher first; equal totals are equal."""
    ordered = sorted(totals.values(), reverse=True)
    first: dict[Fraction, int] = {}
    for i, t in enumerate(ordered, start=1):
        first.setdefault(t, i)
    return {k: first[t] for k, t in totals.items()}


def _grade(total: Fraction, bands: Sequence[Band]) -> Band | None:
    for b in bands:
        if total >= b.minimum:
            return b
    return None


def _year_on_year(inp: AssessmentInput, unit: Unit, grade: str | None) -> set[str]:
    """Section 4: `flag` when the unit had `grade` here and in each of the `years - 1`
    assessments before, without gap (the predecessors of consecutive years)."""
    flags = set()
    for rule in inp.rules:
        if grade != rule.grade:
            continue
        held = 1
        for k, past in enumerate(inp.history, start=1):
            if held >= rule.years:
                break
            if past.year != inp.year - k or past.grades.get(unit.registry_id) != rule.grade:
                break
            held += 1
        if held >= rule.years:
            flags.add(rule.flag)
    return flags


def assess(inp: AssessmentInput) -> AssessmentResult:
    if problems := check(inp):
        raise AssessmentError(";".join(problems))
    raw: defaultdict[tuple[str, str], Fraction] = defaultdict(Fraction)
    for d in inp.deductions:
        raw[(d.unit_key, d.section)] += d.count * d.points
    scores = {(x.unit_key, x.section): x.score for x in inp.scores}
    outcomes = []
    for category in inp.categories:
        members = [u for u in inp.units if u.category_key == category.key]
        values: dict[str, tuple[tuple[str, Fraction | None], ...]] = {}
        totals: dict[str, Fraction] = {}
        for u in members:
            row = tuple((s.name, _section_value(s, u, inp, raw, scores)) for s in inp.sections)
            values[u.key] = row
            if all(v is not None for _n, v in row):
                got = sum((v for _n, v in row if v is not None), Fraction(0))
                totals[u.key] = got if inp.mode == "weighted" else max(Fraction(0), inp.base - got)
        ranks = _ranks(totals)
        grades = {k: _grade(t, inp.bands) for k, t in totals.items()}
        honoured = _honoured(category, totals, ranks, grades, members)
        by_key = {u.key: u for u in members}
        order = {u.key: i for i, u in enumerate(members)}
        ranked = sorted(totals, key=lambda k: (ranks[k], order[k]))
        units = []
        for key in ranked:
            u, band = by_key[key], grades[key]
            flags = _year_on_year(inp, u, band.label if band else None)
            if key in honoured:
                flags.add(FLAG_HONOURED)
            units.append(UnitOutcome(u, ranks[key], totals[key], band.label if band else None,
                                     values[key], (), tuple(sorted(flags)),
                                     bool(band and band.rectify)))
        for u in sorted((u for u in members if u.key not in totals), key=lambda u: u.name):
            missing = tuple(n for n, v in values[u.key] if v is None)
            units.append(UnitOutcome(u, None, None, None, values[u.key], missing,
                                     (FLAG_INCOMPLETE,)))
        outcomes.append(CategoryOutcome(category, tuple(units)))
    return AssessmentResult(tuple(outcomes))


def _honoured(
    category: Category, totals: Mapping[str, Fraction], ranks: Mapping[str, int],
    grades: Mapping[str, Band | None], members: Sequence[Unit],
) -> set[str]:
    """Section 3: the winner rule of scoring.md 6.2 over the graded units (with the required
    grade, if one is set)."""
    if not category.honoured:
        return set()
    order = {u.key: i for i, u in enumerate(members)}
    eligible = sorted(
        (k for k in totals
         if grades[k] is not None
         and (category.honoured_grade is None or grades[k].label == category.honoured_grade)),  # type: ignore[union-attr]
        key=lambda k: (ranks[k], order[k]),
    )
    if len(eligible) <= category.honoured:
        return set(eligible)
    boundary = ranks[eligible[category.honoured - 1]]
    return {k for k in eligible if ranks[k] <= boundary}


# --- printing ---------------------------------------------------------------------------


def json_number(x: Fraction | None) -> float | None:
    """Section 6: 6 decimals, null where undefined."""
    return None if x is None else round(float(x), 6)


def shown(x: Fraction | None) -> str:
    """A figure as pages and reports print it: half-up to 2 decimals, no trailing zeros."""
    if x is None:
        return "—"
    d = (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def as_json_dict(result: AssessmentResult) -> list[dict[str, object]]:
    """The "categories" list of section 6."""
    return [
        {
            "name": c.category.name,
            "honoured": c.category.honoured,
            "units": [
                {
                    "unit": u.unit.name,
                    "rank": u.rank,
                    "total": json_number(u.total),
                    "grade": u.grade,
                    "sections": {name: json_number(v) for name, v in u.sections},
                    "missing": list(u.missing),
                    "flags": list(u.flags),
                }
                for u in c.units
            ],
        }
        for c in result.categories
    ]
