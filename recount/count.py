"""Votes per unit and the figures of sections 3 and 4: score, satisfaction rate and the
best-option share, all as Fractions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from .model import Ballot, Config, RecountError

# (dimension, group) -> votes per option, in scale order
Slices = dict[tuple[str | None, str], list[int]]


@dataclass
class Tally:
    slices: Slices = field(default_factory=dict)
    blank: int = 0
    spoiled: int = 0


@dataclass(frozen=True)
class Figures:
    counts: tuple[int, ...]
    blank: int
    spoiled: int
    score: Fraction | None  # None: no counted vote (no_votes)
    rate: Fraction | None
    share: Fraction | None
    dimension_rates: dict[str, Fraction]  # only dimensions with a counted vote


def tally(
    ballots: tuple[Ballot, ...], reasons: tuple[str, ...], config: Config
) -> dict[str, Tally]:
    index = {option.label: i for i, option in enumerate(config.options)}
    width = len(config.options)
    tallies: dict[str, Tally] = defaultdict(Tally)
    for ballot, reason in zip(ballots, reasons, strict=True):
        if reason:
            continue  # an invalid ballot contributes nothing, not even blanks
        for cell, answer in zip(config.cells, ballot.answers, strict=True):
            unit = tallies[cell.unit]
            if answer == config.blank_token:
                unit.blank += 1
            elif answer == config.spoiled_token:
                unit.spoiled += 1
            elif answer in index:
                votes = unit.slices.setdefault((cell.dimension, ballot.group), [0] * width)
                votes[index[answer]] += 1
            else:
                raise RecountError(
                    2,
                    f"选票第 {ballot.line} 行: 回答 {answer!r} 不是评价等次, 也不是空白或多选标记",
                )
    return tallies


def check_groups(ballots: tuple[Ballot, ...], reasons: tuple[str, ...], config: Config) -> None:
    """With group weights every valid ballot must name a weighted group (spec section 3)."""
    if not config.weighted:
        return
    weighted = {group for group, _ in config.group_weights}
    missing = sum(
        1 for b, r in zip(ballots, reasons, strict=True) if not r and b.group not in weighted
    )
    if missing:
        raise RecountError(2, f"{missing} 张有效选票的代表类别没有计分权重")


def _sum(slices: Slices, dimension: str | None = None, group: str | None = None) -> list[int]:
    total: list[int] = []
    for (dim, grp), votes in slices.items():
        if (dimension is not None and dim != dimension) or (group is not None and grp != group):
            continue
        total = votes[:] if not total else [a + b for a, b in zip(total, votes, strict=True)]
    return total


def _plain(votes: list[int], config: Config) -> tuple[Fraction, Fraction] | None:
    """Score and rate of one set of votes; None when no counted vote."""
    if not votes:
        return None
    counted = sum(n for n, o in zip(votes, config.options, strict=True) if o.counted)
    if counted == 0:
        return None
    satisfied = sum(n for n, o in zip(votes, config.options, strict=True) if o.satisfied)
    if config.aggregation == "sum":
        score = sum((o.weight * n for n, o in zip(votes, config.options, strict=True)), Fraction(0))
    else:
        points = sum(
            (o.weight * n for n, o in zip(votes, config.options, strict=True) if o.counted),
            Fraction(0),
        )
        score = points / counted
    return score, Fraction(satisfied, counted)


def _figures(
    slices: Slices, config: Config, dimension: str | None
) -> tuple[Fraction, Fraction] | None:
    if not config.weighted:
        return _plain(_sum(slices, dimension), config)
    # Weighted over the groups where the unit has at least one counted vote.
    total_w = Fraction(0)
    score = Fraction(0)
    rate = Fraction(0)
    for group, weight in config.group_weights:
        plain = _plain(_sum(slices, dimension, group), config)
        if plain is None:
            continue
        total_w += weight
        score += weight * plain[0]
        rate += weight * plain[1]
    if total_w == 0:
        return None  # no group with a vote, or only zero-weight groups: nothing to divide by
    return score / total_w, rate / total_w


def figures(t: Tally, config: Config) -> Figures:
    votes = _sum(t.slices) or [0] * len(config.options)
    main = _figures(t.slices, config, None)
    counted = sum(n for n, o in zip(votes, config.options, strict=True) if o.counted)
    # The third ranking key is unweighted over all valid ballots, even with group weights.
    share = Fraction(votes[0], counted) if counted else None
    dimension_rates: dict[str, Fraction] = {}
    for dimension in config.dimensions:
        result = _figures(t.slices, config, dimension)
        if result is not None:
            dimension_rates[dimension] = result[1]
    return Figures(
        counts=tuple(votes),
        blank=t.blank,
        spoiled=t.spoiled,
        score=None if main is None else main[0],
        rate=None if main is None else main[1],
        share=None if main is None else share,
        dimension_rates=dimension_rates,
    )
