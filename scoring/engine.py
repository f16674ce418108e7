"""The tally: the arithmetic of the scoring contract (shared/spec/scoring.md, sections 3-7, 9).

Pure Python on purpose: no Django, no project import, stdlib only. The adapter turns the
database into a `TallyInput` (one `VoteCount` per aggregated SQL row) and `tally` does the
rest, so every rule can be tested by hand-computed cases in milliseconds.

All arithmetic is exact (`Fraction`): two units equal on paper must tie here too. Floats
appear only in `json_number`, when a figure is printed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

AGGREGATIONS = ("sum", "mean")
KINDS = ("option", "blank", "spoiled")
# The slices a breakdown can be computed on: attribute names of `VoteCount`.
SLICES = ("dimension", "group", "pool", "channel", "district")

FLAG_LAST_PLACE = "last_place"
FLAG_WINNER = "winner"
FLAG_KEY_RECTIFICATION = "key_rectification"
FLAG_VETOED = "vetoed"
FLAG_CONSECUTIVE_LAST_PLACE = "consecutive_last_place"
FLAG_NO_VOTES = "no_votes"
FLAG_HONOURED = "honoured"
# key_rectification:<dimension>, the per-dimension line (section 6)
FLAG_KEY_RECTIFICATION_ON = FLAG_KEY_RECTIFICATION + ":"

# Kinds of evaluated subject (section 10), by the 类型 label of the units sheet. The sub-units
# are the ones a campaign's honours quota (先进科室 / 满意窗口) ranks together.
KIND_UNIT = "单位"
SUBJECT_KINDS = ("单位", "领导班子", "领导干部", "内设科室", "办事窗口", "基层站所")
SUB_UNIT_KINDS = frozenset({"内设科室", "办事窗口", "基层站所"})

Counts = tuple[tuple[str, int], ...]  # option label -> votes, in scale order, zeros included
Key = tuple[Fraction, Fraction, Fraction]  # the three ranking keys of section 5


# --- input ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One rating option; a scale is a tuple of them, best first."""

    label: str
    weight: Fraction
    satisfied: bool
    counted: bool


class ScaleError(ValueError):
    """A rating scale the contract does not allow (section 1): refused, never tallied."""


@dataclass(frozen=True)
class Scale:
    """A rating scale, best first (section 1), and the one definition of which of its options
    each formula takes. The tally below reads `best`, `satisfied`, `counted` and `scored` from
    here, and so do the rules in words (scoring.presentation): the text cannot name another
    option than the one the arithmetic used."""

    options: tuple[Option, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(o.label for o in self.options)

    @property
    def best(self) -> str:
        """The option whose share is the third ranking key (section 5.3): the first of the
        scale, whatever the weights say (a custom scale may give another option more points)."""
        if not self.options:
            raise ScaleError("评价等次为空,没有最佳等次")
        return self.options[0].label

    @property
    def satisfied(self) -> tuple[str, ...]:
        """Numerator of the satisfaction rate (section 4), in scale order."""
        return tuple(o.label for o in self.options if o.satisfied)

    @property
    def counted(self) -> tuple[str, ...]:
        """Denominator of the satisfaction rate and of the best share; with `mean`, also the
        votes the score is averaged over (sections 3-5), in scale order."""
        return tuple(o.label for o in self.options if o.counted)

    @property
    def not_counted(self) -> tuple[str, ...]:
        return tuple(o.label for o in self.options if not o.counted)

    def scored(self, aggregation: str) -> tuple[str, ...]:
        """The options whose points make up the score (section 3): every option with `sum`,
        the counted ones with `mean`."""
        return self.labels if aggregation == "sum" else self.counted

    def check(self) -> None:
        """Refuse a scale the contract does not allow (section 1), naming what is wrong."""
        labels = self.labels
        if not labels or len(set(labels)) != len(labels):
            raise ScaleError(f"the scale needs distinct option labels, got {list(labels)}")
        for o in self.options:
            _exact(o.weight, f"weight of {o.label}")
        # A satisfied vote outside the denominator would let the rate pass 100%.
        wrong = [label for label in self.satisfied if label not in self.counted]
        if wrong:
            raise ScaleError(
                f"评价等次“{'、'.join(wrong)}”计入满意却不计入有效票:计入满意的等次必须计入有效票"
            )


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    winners: int
    last_place: int


@dataclass(frozen=True)
class Unit:
    key: str
    registry_id: str  # identity across campaigns: the name may change, this does not
    name: str
    category_key: str
    vetoed: bool = False
    kind: str = KIND_UNIT  # one of SUBJECT_KINDS
    parent: str | None = None  # the parent subject's name, evaluated here or not


@dataclass(frozen=True)
class VoteCount:
    """One aggregated row: `count` votes of one kind for one unit in one slice."""

    unit_key: str
    option: str | None  # option label; None for blank/spoiled
    kind: str  # "option" | "blank" | "spoiled"
    count: int
    dimension: str | None = None
    group: str | None = None
    pool: str | None = None  # the review pool of the group (两评一树: 内部评议 / 社会评议)
    channel: str | None = None
    district: str | None = None


@dataclass(frozen=True)
class GradeBand:
    minimum: Fraction
    label: str


@dataclass(frozen=True)
class TallyInput:
    aggregation: str  # "sum" | "mean"
    threshold: Fraction  # key_rectification below this satisfaction rate, e.g. Fraction(9, 10)
    options: tuple[Option, ...]
    categories: tuple[Category, ...]
    units: tuple[Unit, ...]  # in configured order: units tied on rank keep this order
    counts: tuple[VoteCount, ...]
    previous_last_place: frozenset[str] = frozenset()  # registry ids, previous campaign
    grade_bands: tuple[GradeBand, ...] = ()
    # (group, weight) pairs; a tuple rather than a dict keeps the input hashable.
    # Only used with "mean" (the model's help text says so); ignored with "sum".
    group_weights: tuple[tuple[str, Fraction], ...] = ()
    # 先进科室 / 满意窗口: how many sub-units across the campaign are honoured (0: none).
    honoured_quota: int = 0
    # Also flag key_rectification:<dimension> per dimension under the threshold.
    dimension_line: bool = False

    @property
    def scale(self) -> Scale:
        return Scale(self.options)


# --- output -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    """The same figures restricted to one slice (a dimension, group, channel or district)."""

    key: str
    score: Fraction | None
    satisfaction_rate: Fraction | None
    counts: Counts
    blank: int
    spoiled: int


@dataclass(frozen=True)
class UnitResult:
    unit: Unit
    rank: int | None
    score: Fraction | None
    satisfaction_rate: Fraction | None
    best_share: Fraction | None
    counts: Counts
    blank: int
    spoiled: int
    flags: tuple[str, ...]  # sorted alphabetically
    grade: str | None
    by_dimension: tuple[Breakdown, ...] = ()
    by_group: tuple[Breakdown, ...] = ()
    by_pool: tuple[Breakdown, ...] = ()
    by_channel: tuple[Breakdown, ...] = ()
    by_district: tuple[Breakdown, ...] = ()

    @property
    def counts_map(self) -> dict[str, int]:
        return dict(self.counts)


@dataclass(frozen=True)
class QuotaTie:
    """A quota boundary that fell inside a group of tied units, so more units got the flag."""

    flag: str  # FLAG_WINNER | FLAG_LAST_PLACE
    rank: int  # the shared rank (for last_place: counted from the bottom)
    units: tuple[str, ...]  # unit keys tied at the boundary
    quota: int
    selected: int  # how many units got the flag in all


@dataclass(frozen=True)
class CategoryResult:
    category: Category
    units: tuple[UnitResult, ...]  # by rank, then no_votes units by name
    notes: tuple[str, ...] = ()  # the ties in words, for reports
    ties: tuple[QuotaTie, ...] = ()  # the same, for programs


@dataclass(frozen=True)
class TallyResult:
    categories: tuple[CategoryResult, ...]


# --- arithmetic -------------------------------------------------------------------------


def _exact(value: object, what: str) -> Fraction:
    # A float here would smuggle binary rounding into the tally (0.1 != 1/10).
    if isinstance(value, bool) or not isinstance(value, Fraction | int | Decimal):
        raise TypeError(f"{what}: expected Fraction, int or Decimal, got {value!r}")
    return Fraction(value)


@dataclass(frozen=True)
class _Figures:
    score: Fraction | None
    rate: Fraction | None
    share: Fraction | None
    counts: Counts
    blank: int
    spoiled: int


class _Scale:
    """The rating scale, prepared once. Which options each formula takes comes from `Scale`
    alone (the rules in words read the same properties); this only caches them."""

    def __init__(self, scale: Scale, aggregation: str) -> None:
        scale.check()  # a satisfied option outside `counted` would make the rate meaningless
        self.aggregation = aggregation
        self.labels = scale.labels
        self.weight = {o.label: _exact(o.weight, f"weight of {o.label}") for o in scale.options}
        self.scored = scale.scored(aggregation)
        self.counted = scale.counted
        self.satisfied = scale.satisfied
        self.best = scale.best

    def plain(self, n: Mapping[str, int]) -> Key | None:
        """(score, satisfaction rate, best share) of one set of votes; None without a
        counted vote (sections 3-5)."""
        total = sum(n.get(o, 0) for o in self.counted)
        if total == 0:
            return None
        points = sum((self.weight[o] * n.get(o, 0) for o in self.scored), Fraction(0))
        score = points if self.aggregation == "sum" else points / total
        rate = Fraction(sum(n.get(o, 0) for o in self.satisfied), total)
        return score, rate, Fraction(n.get(self.best, 0), total)


def _figures(rows: Sequence[VoteCount], scale: _Scale, weights: Mapping[str, Fraction]) -> _Figures:
    """Figures of a set of rows; with group weights, score and rate are the weighted means of
    the per-group figures over the groups where the unit has a counted vote (section 3), and
    the best share is taken over all the rows, unweighted (section 5.3)."""
    n: Counter[str] = Counter()
    blank = spoiled = 0
    for row in rows:
        if row.kind == "option":
            n[row.option or ""] += row.count
        elif row.kind == "blank":
            blank += row.count
        else:
            spoiled += row.count
    counts = tuple((label, n[label]) for label in scale.labels)
    key = scale.plain(n)
    if weights and key is not None:
        per_group: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for row in rows:
            if row.kind == "option":
                per_group[row.group or ""][row.option or ""] += row.count
        total_weight = Fraction(0)
        points = rate_sum = Fraction(0)
        for group, votes in per_group.items():
            plain = scale.plain(votes)
            if plain is None:  # no counted vote in this group: it takes no part
                continue
            total_weight += weights[group]
            points += weights[group] * plain[0]
            rate_sum += weights[group] * plain[1]
        # Groups of weight 0 add nothing; a unit voted on only by such groups would be 0/0,
        # so it ends up without a score (no_votes) rather than with a made-up one. The best
        # share stays the plain one over all valid ballots: section 5.3 says unweighted.
        if total_weight == 0:
            key = None
        else:
            key = (points / total_weight, rate_sum / total_weight, key[2])
    score, rate, share = key if key is not None else (None, None, None)
    return _Figures(score, rate, share, counts, blank, spoiled)


def _competition_ranks(keys: Mapping[str, Key]) -> dict[str, int]:
    """Higher key first; equal keys share a rank and the next rank skips (1, 2, 2, 4)."""
    order = sorted(keys, key=lambda k: keys[k], reverse=True)
    ranks: dict[str, int] = {}
    for position, k in enumerate(order, start=1):
        previous = order[position - 2] if position > 1 else None
        if previous is not None and keys[previous] == keys[k]:
            ranks[k] = ranks[previous]
        else:
            ranks[k] = position
    return ranks


def _grade(score: Fraction | None, bands: Sequence[tuple[Fraction, str]]) -> str | None:
    """Label of the highest band whose minimum is <= the score (section 7)."""
    if score is None:
        return None
    fitting = [(minimum, label) for minimum, label in bands if minimum <= score]
    return max(fitting)[1] if fitting else None  # minimums are distinct (checked)


# --- validation -------------------------------------------------------------------------


def _check(inp: TallyInput) -> dict[str, Fraction]:
    """Refuse inconsistent input loudly; returns the group weights that apply."""
    if inp.aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {AGGREGATIONS}, not {inp.aggregation!r}")
    _exact(inp.threshold, "threshold")
    inp.scale.check()
    labels = inp.scale.labels
    category_keys = [c.key for c in inp.categories]
    if len(set(category_keys)) != len(category_keys):
        raise ValueError(f"duplicate category keys: {category_keys}")
    for c in inp.categories:
        if c.winners < 0 or c.last_place < 0:
            raise ValueError(f"category {c.name}: quotas must not be negative")
    unit_keys = [u.key for u in inp.units]
    if len(set(unit_keys)) != len(unit_keys):
        raise ValueError("duplicate unit keys")
    for u in inp.units:
        if u.category_key not in category_keys:
            raise ValueError(f"unit {u.name}: unknown category {u.category_key!r}")
    known_units = set(unit_keys)
    for row in inp.counts:
        if row.unit_key not in known_units:
            raise ValueError(f"vote count for unknown unit {row.unit_key!r}")
        if row.kind not in KINDS:
            raise ValueError(f"vote count kind must be one of {KINDS}, not {row.kind!r}")
        if (row.kind == "option") != (row.option is not None) or (
            row.option is not None and row.option not in labels
        ):
            raise ValueError(f"vote count of kind {row.kind!r} with option {row.option!r}")
        if row.count < 0:
            raise ValueError(f"negative vote count {row.count} for {row.unit_key!r}")
    minimums = [_exact(b.minimum, f"grade band {b.label}") for b in inp.grade_bands]
    if len(set(minimums)) != len(minimums):
        raise ValueError("两个等次分档的最低分相同")
    if inp.aggregation != "mean" or not inp.group_weights:
        return {}
    weights = {g: _exact(w, f"weight of group {g}") for g, w in inp.group_weights}
    if len(weights) != len(inp.group_weights):
        raise ValueError("代表类别计分权重重复")
    if any(w < 0 for w in weights.values()):
        raise ValueError("代表类别计分权重不能为负数")
    for row in inp.counts:
        # A ballot from a group without a weight would silently count for nothing (or for
        # a guessed weight): a misconfiguration must be visible, so refuse the tally.
        if row.group not in weights:
            name = "未注明代表类别" if row.group is None else f"代表类别“{row.group}”"
            raise ValueError(f"{name}的选票没有计分权重:请为每个代表类别设置权重,或全部留空")
    return weights


# --- the tally --------------------------------------------------------------------------


def tally(inp: TallyInput) -> TallyResult:
    weights = _check(inp)
    scale = _Scale(inp.scale, inp.aggregation)
    bands = [(_exact(b.minimum, b.label), b.label) for b in inp.grade_bands]
    rows_by_unit: defaultdict[str, list[VoteCount]] = defaultdict(list)
    for row in inp.counts:
        rows_by_unit[row.unit_key].append(row)
    # Every unit gets a breakdown row for every slice key of the campaign, so report tables
    # line up; keys are sorted because the order of the counts must not matter.
    slice_keys = {
        attr: sorted({v for r in inp.counts if (v := getattr(r, attr)) is not None})
        for attr in SLICES
    }

    def breakdowns(unit_key: str, attr: str) -> tuple[Breakdown, ...]:
        # Within a group the plain formula applies; other slices are weighted like the score.
        slice_weights = {} if attr == "group" else weights
        result = []
        for value in slice_keys[attr]:
            rows = [r for r in rows_by_unit[unit_key] if getattr(r, attr) == value]
            f = _figures(rows, scale, slice_weights)
            result.append(Breakdown(value, f.score, f.rate, f.counts, f.blank, f.spoiled))
        return tuple(result)

    categories = []
    for category in inp.categories:
        members = [u for u in inp.units if u.category_key == category.key]
        figures = {u.key: _figures(rows_by_unit[u.key], scale, weights) for u in members}
        keys: dict[str, Key] = {}
        for u in members:
            f = figures[u.key]
            if f.score is not None and f.rate is not None and f.share is not None:
                keys[u.key] = (f.score, f.rate, f.share)
        flags, ranks, ties = _flags(category, members, keys, inp)
        order = {u.key: i for i, u in enumerate(members)}
        ranked = sorted(keys, key=lambda k: (ranks[k], order[k]))
        unranked = sorted((u for u in members if u.key not in keys), key=lambda u: u.name)
        by_key = {u.key: u for u in members}
        results = []
        for unit in [by_key[k] for k in ranked] + unranked:
            f = figures[unit.key]
            results.append(
                UnitResult(
                    unit=unit,
                    rank=ranks.get(unit.key),
                    score=f.score,
                    satisfaction_rate=f.rate,
                    best_share=f.share,
                    counts=f.counts,
                    blank=f.blank,
                    spoiled=f.spoiled,
                    flags=tuple(sorted(flags[unit.key])),
                    grade=_grade(f.score, bands),
                    by_dimension=breakdowns(unit.key, "dimension"),
                    by_group=breakdowns(unit.key, "group"),
                    by_pool=breakdowns(unit.key, "pool"),
                    by_channel=breakdowns(unit.key, "channel"),
                    by_district=breakdowns(unit.key, "district"),
                )
            )
        notes = tuple(_note(t) for t in ties)
        categories.append(CategoryResult(category, tuple(results), notes, tuple(ties)))
    if inp.dimension_line:
        categories = [_dimension_line(c, threshold=_exact(inp.threshold, "threshold"))
                      for c in categories]
    if inp.honoured_quota:
        categories = _honour(categories, inp.honoured_quota)
    return TallyResult(tuple(categories))


def _with_flags(u: UnitResult, extra: set[str]) -> UnitResult:
    return replace(u, flags=tuple(sorted(set(u.flags) | extra))) if extra else u


def _dimension_line(c: CategoryResult, *, threshold: Fraction) -> CategoryResult:
    """Section 6, per-dimension line: ranked, not last place, and under the threshold on one
    dimension alone."""
    units = []
    for u in c.units:
        extra = set()
        if u.rank is not None and FLAG_LAST_PLACE not in u.flags:
            extra = {FLAG_KEY_RECTIFICATION_ON + b.key for b in u.by_dimension
                     if b.satisfaction_rate is not None and b.satisfaction_rate < threshold}
        units.append(_with_flags(u, extra))
    return replace(c, units=tuple(units))


def _honour(categories: list[CategoryResult], quota: int) -> list[CategoryResult]:
    """Section 6.7: the winner rule over the eligible sub-units of all categories together
    (ranked, not vetoed, not last place), ranks recomputed over that set."""
    keys: dict[str, Key] = {}
    position: dict[str, int] = {}
    for c in categories:
        for u in c.units:
            eligible = (
                u.unit.kind in SUB_UNIT_KINDS and u.rank is not None and not u.unit.vetoed
                and FLAG_LAST_PLACE not in u.flags
            )
            if eligible:
                assert u.score is not None and u.satisfaction_rate is not None
                assert u.best_share is not None
                keys[u.unit.key] = (u.score, u.satisfaction_rate, u.best_share)
                position[u.unit.key] = len(position)
    ranks = _competition_ranks(keys)
    ordered = sorted(keys, key=lambda k: (ranks[k], position[k]))
    if len(ordered) <= quota:
        honoured = set(ordered)
    else:
        boundary = ranks[ordered[quota - 1]]
        honoured = {k for k in ordered if ranks[k] <= boundary}
    return [
        replace(c, units=tuple(
            _with_flags(u, {FLAG_HONOURED} if u.unit.key in honoured else set())
            for u in c.units))
        for c in categories
    ]


def _flags(
    category: Category, members: Sequence[Unit], keys: Mapping[str, Key], inp: TallyInput
) -> tuple[dict[str, set[str]], dict[str, int], list[QuotaTie]]:
    """Ranks and flags of one category (sections 5 and 6), in the order of section 6."""
    flags: dict[str, set[str]] = {u.key: set() for u in members}
    ranks = _competition_ranks(keys)
    ties: list[QuotaTie] = []
    position = {u.key: i for i, u in enumerate(members)}
    threshold = _exact(inp.threshold, "threshold")

    # 1. last place: the same ranking reversed (negated keys), ties at the boundary included.
    reverse = _competition_ranks({k: (-a, -b, -c) for k, (a, b, c) in keys.items()})
    last = [k for k in position if k in reverse and reverse[k] <= category.last_place]
    for k in last:
        flags[k].add(FLAG_LAST_PLACE)
    if len(last) > category.last_place:
        boundary = max(reverse[k] for k in last)
        tied = tuple(k for k in last if reverse[k] == boundary)
        ties.append(QuotaTie(FLAG_LAST_PLACE, boundary, tied, category.last_place, len(last)))

    # 2. winners among the eligible: ranked, not vetoed, not last place.
    vetoed = {u.key for u in members if u.vetoed}
    eligible = sorted(
        (k for k in keys if k not in vetoed and k not in last),
        key=lambda k: (ranks[k], position[k]),
    )
    quota = category.winners
    if quota == 0:
        winners: list[str] = []
    elif len(eligible) <= quota:
        winners = eligible
    else:
        boundary = ranks[eligible[quota - 1]]
        winners = [k for k in eligible if ranks[k] <= boundary]
        if len(winners) > quota:
            tied = tuple(k for k in winners if ranks[k] == boundary)
            ties.append(QuotaTie(FLAG_WINNER, boundary, tied, quota, len(winners)))
    for k in winners:
        flags[k].add(FLAG_WINNER)

    # 3.-6. the flags that do not depend on a quota.
    for unit in members:
        k = unit.key
        if k in keys and k not in last and keys[k][1] < threshold:
            flags[k].add(FLAG_KEY_RECTIFICATION)
        if unit.vetoed:
            flags[k].add(FLAG_VETOED)
        if k in last and unit.registry_id and unit.registry_id in inp.previous_last_place:
            flags[k].add(FLAG_CONSECUTIVE_LAST_PLACE)
        if k not in keys:
            flags[k].add(FLAG_NO_VOTES)
    return flags, ranks, ties


def _note(tie: QuotaTie) -> str:
    if tie.flag == FLAG_WINNER:
        return (
            f"第{tie.rank}名并列{len(tie.units)}个单位,均认定为优胜单位"
            f"(优胜名额{tie.quota}个,实际{tie.selected}个)"
        )
    return (
        f"倒数第{tie.rank}名并列{len(tie.units)}个单位,均认定为末位单位"
        f"(末位名额{tie.quota}个,实际{tie.selected}个)"
    )


def percent_of(counts: Counts, options: Sequence[Option]) -> Fraction | None:
    """百分制 (assessment.md section 2, measure `percent`): 100 × the mean weight of the
    counted votes over all dimensions ÷ the largest weight of the scale; for 22/17/11 on five
    aspects, 004's 五个方面每项20分. None without a counted vote."""
    n = dict(counts)
    counted = [o for o in options if o.counted]
    votes = sum(n.get(o.label, 0) for o in counted)
    top = max((o.weight for o in options), default=Fraction(0))
    if not votes or not top:
        return None
    return 100 * sum((o.weight * n.get(o.label, 0) for o in counted), Fraction(0)) / votes / top
