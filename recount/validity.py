"""Validity of each ballot, derived again from the file (spec section 2, README
"What recount checks"), rather than trusted from its `status` column."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .model import Ballot, Config

REASONS = ("manual", "duplicate_serial", "blank_ballot")


@dataclass(frozen=True)
class Verdicts:
    reasons: tuple[str, ...]  # per ballot: "" when valid, else one of REASONS
    disagreements: tuple[str, ...]  # human-readable, for standard error


def _is_blank_ballot(ballot: Ballot, config: Config) -> bool:
    if all(answer == config.blank_token for answer in ballot.answers):
        return True
    # With blank_means, an unmarked ballot was recorded as that option everywhere and
    # looks like one marked 弃权 throughout; only the file's own word tells them apart.
    return (
        config.blank_means is not None
        and ballot.status == "invalid"
        and ballot.reason == "blank_ballot"
        and all(answer == config.blank_means for answer in ballot.answers)
    )


def _stated(ballot: Ballot) -> str:
    return "" if ballot.status == "valid" else ballot.reason


def derive(ballots: tuple[Ballot, ...], config: Config) -> Verdicts:
    # A serial counts when printed on a paper ballot; online ballots carry "" and an
    # empty serial cannot be a photocopy of anything.
    serials = Counter(b.serial for b in ballots if b.source == "paper" and b.serial)
    reasons = []
    disagreements = []
    for ballot in ballots:
        # First reason that applies, in the order manual, duplicate_serial, blank_ballot.
        if ballot.status == "invalid" and ballot.reason == "manual":
            reason = "manual"
        elif ballot.source == "paper" and ballot.serial and serials[ballot.serial] > 1:
            reason = "duplicate_serial"
        elif _is_blank_ballot(ballot, config):
            reason = "blank_ballot"
        else:
            reason = ""
        reasons.append(reason)
        stated = _stated(ballot)
        if stated != reason:
            disagreements.append(
                f"选票第 {ballot.line} 行 (编号 {ballot.serial or '-'}): 文件记为 "
                f"{_describe(stated)}, 按规则为 {_describe(reason)}"
            )
    return Verdicts(tuple(reasons), tuple(disagreements))


def _describe(reason: str) -> str:
    return "valid" if not reason else f"invalid/{reason}"
