"""Ranking (section 5) and flags (section 6), over Figures already computed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from .count import Figures
from .model import Config, Unit

Key = tuple[Fraction, Fraction, Fraction]
SUB_UNIT_KINDS = frozenset({"内设科室", "办事窗口", "基层站所"})


@dataclass
class Entry:
    unit: Unit
    figures: Figures
    position: int  # index in the configured unit order: the tie order
    rank: int | None = None
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> Key:
        f = self.figures
        assert f.score is not None and f.rate is not None and f.share is not None
        return (f.score, f.rate, f.share)

    @property
    def ranked(self) -> bool:
        return self.figures.score is not None


def competition_ranks(keys: Sequence[Key], *, reverse: bool = False) -> list[int]:
    """1 + how many keys are strictly better: equal keys share a rank (1, 2, 2, 4).
    With reverse=True "better" means lower (the worst-first order of last place)."""
    order = sorted(range(len(keys)), key=lambda i: keys[i], reverse=not reverse)
    ranks = [0] * len(keys)
    for position, i in enumerate(order):
        if position and keys[order[position - 1]] == keys[i]:
            ranks[i] = ranks[order[position - 1]]
        else:
            ranks[i] = position + 1
    return ranks


def _reverse_ranks(keys: Sequence[Key]) -> list[int]:
    return competition_ranks(keys, reverse=True)


def quota_winners(ordered: Sequence[Entry], ranks: Sequence[int], quota: int) -> list[Entry]:
    """The winner rule of 6.2: `ordered` is eligible in (rank, tie order)."""
    if quota <= 0:
        return []
    if len(ordered) <= quota:
        return list(ordered)
    boundary = ranks[quota - 1]
    return [entry for entry, rank in zip(ordered, ranks, strict=True) if rank <= boundary]


def rank_category(
    entries: list[Entry], winners: int, last_place: int, config: Config
) -> list[Entry]:
    """Rank one category's entries, set their flags, return them in output order."""
    ranked = [e for e in entries if e.ranked]
    keys = [e.key for e in ranked]
    for entry, rank in zip(ranked, competition_ranks(keys), strict=True):
        entry.rank = rank
    for entry, reverse in zip(ranked, _reverse_ranks(keys), strict=True):
        if reverse <= last_place:
            entry.flags.add("last_place")
    ranked.sort(key=lambda e: (e.rank, e.position))
    eligible = [e for e in ranked if not e.unit.vetoed and "last_place" not in e.flags]
    for entry in quota_winners(eligible, [e.rank or 0 for e in eligible], winners):
        entry.flags.add("winner")
    for entry in ranked:
        if "last_place" in entry.flags:
            if entry.unit.key in config.previous_last_place:
                entry.flags.add("consecutive_last_place")
            continue
        if entry.key[1] < config.threshold:
            entry.flags.add("key_rectification")
        if config.dimension_line:
            for dimension, rate in entry.figures.dimension_rates.items():
                if rate < config.threshold:
                    entry.flags.add(f"key_rectification:{dimension}")
    unranked = sorted((e for e in entries if not e.ranked), key=lambda e: e.unit.name)
    for entry in unranked:
        entry.flags.add("no_votes")
    for entry in entries:
        if entry.unit.vetoed:
            entry.flags.add("vetoed")
    return ranked + unranked


def mark_honoured(categories: Sequence[Sequence[Entry]], quota: int) -> None:
    """6.7: sub-units of all categories ranked together; `categories` in output order."""
    if quota <= 0:
        return
    eligible = [
        e
        for entries in categories
        for e in entries
        if e.ranked
        and e.unit.kind in SUB_UNIT_KINDS
        and not e.unit.vetoed
        and "last_place" not in e.flags
    ]
    ranks = competition_ranks([e.key for e in eligible])
    # Stable sort: equal ranks keep category order, then the order within the category.
    order = sorted(range(len(eligible)), key=lambda i: ranks[i])
    ordered = [eligible[i] for i in order]
    for entry in quota_winners(ordered, [ranks[i] for i in order], quota):
        entry.flags.add("honoured")


def grade(score: Fraction | None, config: Config) -> str | None:
    if score is None:
        return None
    fitting = [band for band in config.grade_bands if band.minimum <= score]
    if not fitting:
        return None
    # max() keeps the first of equal minimums, so a duplicated band resolves by list order.
    return max(fitting, key=lambda band: band.minimum).label
