"""The result object of spec section 9, built from the ranked entries."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from .count import Figures, Tally, check_groups, figures, tally
from .model import Ballot, Config
from .rank import Entry, grade, mark_honoured, rank_category
from .validity import REASONS


def _number(value: Fraction | None) -> float | None:
    # Floats only at the very end, rounded as the tally prints them.
    return None if value is None else round(float(value), 6)


def _ballot_summary(reasons: tuple[str, ...]) -> dict[str, Any]:
    invalid = [r for r in reasons if r]
    by_reason = {reason: invalid.count(reason) for reason in REASONS}
    return {
        "total": len(reasons),
        "valid": len(reasons) - len(invalid),
        "invalid": len(invalid),
        "invalid_reasons": {reason: n for reason, n in by_reason.items() if n},
    }


def _unit_entry(entry: Entry, config: Config, with_kind: bool) -> dict[str, Any]:
    f: Figures = entry.figures
    out: dict[str, Any] = {"unit": entry.unit.name}
    if with_kind:
        out["kind"] = entry.unit.kind
        out["parent"] = entry.unit.parent
    out["rank"] = entry.rank
    out["score"] = _number(f.score)
    out["satisfaction_rate"] = _number(f.rate)
    out["counts"] = {o.label: n for o, n in zip(config.options, f.counts, strict=True)}
    out["blank"] = f.blank
    out["spoiled"] = f.spoiled
    out["flags"] = sorted(entry.flags)
    out["grade"] = grade(f.score, config)
    return out


def compute(
    ballots: tuple[Ballot, ...], reasons: tuple[str, ...], config: Config
) -> dict[str, Any]:
    """The whole result; raises RecountError(2) when group weights leave ballots out."""
    check_groups(ballots, reasons, config)
    tallies = tally(ballots, reasons, config)
    per_category: list[list[Entry]] = []
    for category in config.categories:
        entries = [
            Entry(unit, figures(tallies.get(unit.key, Tally()), config), position)
            for position, unit in enumerate(config.units)
            if unit.category == category.key
        ]
        per_category.append(rank_category(entries, category.winners, category.last_place, config))
    mark_honoured(per_category, config.honoured_quota)
    # kind/parent appear on every entry once any subject is not a plain 单位 (section 10).
    with_kind = any(u.kind != "单位" or u.parent is not None for u in config.units)
    return {
        "campaign": {
            "slug": config.slug,
            "name": config.name,
            "aggregation": config.aggregation,
            "threshold": _number(config.threshold),
        },
        "ballots": _ballot_summary(reasons),
        "categories": [
            {
                "name": category.name,
                "winners": category.winners,
                "last_place": category.last_place,
                "units": [_unit_entry(e, config, with_kind) for e in entries],
            }
            for category, entries in zip(config.categories, per_category, strict=True)
        ],
    }


def render(result: dict[str, Any]) -> str:
    """Exactly what `manage.py tally --format json` prints."""
    return json.dumps(result, ensure_ascii=False, indent=2) + "\n"
