"""The configuration (`manifest.recount`) and the ballot rows, as typed values.

Decimal strings become `Fraction(str)` here, once, so that every later sum is exact
(spec: two units equal on paper must tie in the program too).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

BALLOT_KEYS = ("source", "serial", "channel", "group", "district", "status", "reason")


class RecountError(Exception):
    """A refusal with the exit code the README assigns: 1 = files differ from the
    manifest, 2 = files unreadable or a configuration the rules refuse."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Option:
    label: str
    weight: Fraction
    satisfied: bool
    counted: bool


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    winners: int
    last_place: int


@dataclass(frozen=True)
class Unit:
    key: str
    name: str
    category: str
    vetoed: bool
    kind: str
    parent: str | None


@dataclass(frozen=True)
class Cell:
    unit: str
    dimension: str | None


@dataclass(frozen=True)
class Band:
    minimum: Fraction
    label: str


@dataclass(frozen=True)
class Config:
    slug: str
    name: str
    aggregation: str
    threshold: Fraction
    options: tuple[Option, ...]
    blank_means: str | None
    dimensions: tuple[str, ...]
    categories: tuple[Category, ...]
    units: tuple[Unit, ...]
    cells: tuple[Cell, ...]
    group_weights: tuple[tuple[str, Fraction], ...]
    grade_bands: tuple[Band, ...]
    honoured_quota: int
    dimension_line: bool
    previous_last_place: frozenset[str]
    blank_token: str
    spoiled_token: str

    @property
    def weighted(self) -> bool:
        # Group weights apply only to `mean` (spec section 3); with `sum` they are ignored.
        return self.aggregation == "mean" and bool(self.group_weights)


@dataclass(frozen=True)
class Ballot:
    line: int  # 1-based position in the file, for messages
    source: str
    serial: str
    channel: str
    group: str
    district: str
    status: str
    reason: str
    answers: tuple[str, ...]

    def as_row(self) -> dict[str, Any]:
        """The row object of ballots.jsonl (used to rebuild it from the CSV)."""
        row: dict[str, Any] = {key: getattr(self, key) for key in BALLOT_KEYS}
        row["answers"] = list(self.answers)
        return row


def _fraction(value: Any, what: str) -> Fraction:
    if not isinstance(value, str):
        # The contract says decimal strings; a float would already have lost exactness.
        raise RecountError(2, f"manifest: {what} 应为十进制字符串, 实为 {value!r}")
    try:
        return Fraction(value)
    except (ValueError, ZeroDivisionError) as exc:
        raise RecountError(2, f"manifest: {what} 不是数: {value!r}") from exc


def parse_config(recount: dict[str, Any], ballots_meta: dict[str, Any]) -> Config:
    """Build a Config from `manifest.recount` (and the tokens of `manifest.ballots`)."""
    try:
        campaign = recount["campaign"]
        options = tuple(
            Option(
                label=str(o["label"]),
                weight=_fraction(o["weight"], f"options[{i}].weight"),
                satisfied=bool(o["satisfied"]),
                counted=bool(o["counted"]),
            )
            for i, o in enumerate(recount["options"])
        )
        categories = tuple(
            Category(str(c["key"]), str(c["name"]), int(c["winners"]), int(c["last_place"]))
            for c in recount["categories"]
        )
        units = tuple(
            Unit(
                key=str(u["key"]),
                name=str(u["name"]),
                category=str(u["category"]),
                vetoed=bool(u["vetoed"]),
                kind=str(u.get("kind") or "单位"),
                parent=None if u.get("parent") is None else str(u["parent"]),
            )
            for u in recount["units"]
        )
        cells = tuple(Cell(str(c["unit"]), c.get("dimension")) for c in recount["cells"])
        weights = tuple(
            (str(g["group"]), _fraction(g["weight"], f"group_weights[{i}].weight"))
            for i, g in enumerate(recount.get("group_weights") or [])
        )
        bands = tuple(
            Band(_fraction(b["minimum"], f"grade_bands[{i}].minimum"), str(b["label"]))
            for i, b in enumerate(recount.get("grade_bands") or [])
        )
        tokens = ballots_meta.get("tokens") or {}
        config = Config(
            slug=str(campaign["slug"]),
            name=str(campaign["name"]),
            aggregation=str(campaign["aggregation"]),
            threshold=_fraction(campaign["threshold"], "campaign.threshold"),
            options=options,
            blank_means=recount.get("blank_means"),
            dimensions=tuple(str(d) for d in recount.get("dimensions") or []),
            categories=categories,
            units=units,
            cells=cells,
            group_weights=weights,
            grade_bands=bands,
            honoured_quota=int(recount.get("honoured_quota") or 0),
            dimension_line=bool(recount.get("dimension_line")),
            previous_last_place=frozenset(str(k) for k in recount.get("previous_last_place") or []),
            blank_token=str(tokens.get("blank", "")),
            spoiled_token=str(tokens.get("spoiled", "(多选)")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RecountError(2, f"manifest.recount 不完整或格式错误: {exc!r}") from exc
    _check_config(config)
    return config


def _check_config(config: Config) -> None:
    if config.aggregation not in ("sum", "mean"):
        raise RecountError(2, f"manifest: 未知的计分方式 {config.aggregation!r}")
    if not config.options:
        raise RecountError(2, "manifest: 评价等次为空")
    category_keys = {c.key for c in config.categories}
    unit_keys = {u.key for u in config.units}
    for unit in config.units:
        if unit.category not in category_keys:
            raise RecountError(2, f"manifest: 单位 {unit.name} 的类别 {unit.category!r} 不存在")
    for cell in config.cells:
        if cell.unit not in unit_keys:
            raise RecountError(2, f"manifest: cells 中的单位 {cell.unit!r} 不存在")
