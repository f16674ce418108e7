"""The machine-readable result (shared/spec/scoring.md sections 9 and 10): the engine's
result printed. Pure Python like the engine; the only place where a float appears."""

from __future__ import annotations

from fractions import Fraction

from scoring.engine import KIND_UNIT, TallyResult, UnitResult


def json_number(x: Fraction | None) -> float | None:
    """A figure as printed: the only place where a float appears (6 decimals, section 9)."""
    return None if x is None else round(float(x), 6)


def as_json_dict(result: TallyResult) -> list[dict[str, object]]:
    """The "categories" list of the machine-readable result (section 9). Where any subject is
    of another kind than 单位 or has a parent, every unit entry also has "kind" and "parent"
    (section 10); otherwise the entries are exactly those of section 9."""
    subjects = any(
        u.unit.kind != KIND_UNIT or u.unit.parent is not None
        for c in result.categories for u in c.units
    )

    def entry(u: UnitResult) -> dict[str, object]:
        d: dict[str, object] = {"unit": u.unit.name}
        if subjects:
            d.update(kind=u.unit.kind, parent=u.unit.parent)
        d.update(
            rank=u.rank,
            score=json_number(u.score),
            satisfaction_rate=json_number(u.satisfaction_rate),
            counts=dict(u.counts),
            blank=u.blank,
            spoiled=u.spoiled,
            flags=list(u.flags),
            grade=u.grade,
        )
        return d

    return [
        {
            "name": c.category.name,
            "winners": c.category.winners,
            "last_place": c.category.last_place,
            "units": [entry(u) for u in c.units],
        }
        for c in result.categories
    ]
