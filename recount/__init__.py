"""recount: count a published Pingyi ballot file again, without Pingyi.

Standard library only; see README.md in this folder for the file contract.

    from recount import recount
    outcome = recount("DIR")          # raises RecountError(code, message)
    outcome.result, outcome.fingerprint, outcome.disagreements
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import fingerprint_of, jsonl_bytes_of, load
from .model import RecountError, parse_config
from .result import compute, render
from .validity import derive

__all__ = [
    "Outcome",
    "RecountError",
    "fingerprint",
    "fingerprint_of",
    "jsonl_bytes_of",
    "recount",
    "render",
]


@dataclass(frozen=True)
class Outcome:
    result: dict[str, Any]
    fingerprint: str
    disagreements: tuple[str, ...]
    notes: tuple[str, ...] = ()


def fingerprint(directory: str | Path) -> tuple[str, tuple[str, ...]]:
    """The 计票指纹 of a checked directory (no tally, so no configuration refusal),
    with any warnings for standard error."""
    loaded = load(Path(directory))
    return loaded.fingerprint, loaded.notes


def recount(directory: str | Path) -> Outcome:
    loaded = load(Path(directory))
    config = parse_config(loaded.manifest["recount"], loaded.manifest.get("ballots") or {})
    verdicts = derive(loaded.ballots, config)
    result = compute(loaded.ballots, verdicts.reasons, config)
    return Outcome(result, loaded.fingerprint, verdicts.disagreements, loaded.notes)
