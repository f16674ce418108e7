"""Timing helper shared by the figures."""

from __future__ import annotations

import json
import random
import statistics
import time
from typing import Any


def timed(fn: Any, runs: int) -> list[float]:
    """Seconds of `runs` calls of fn, one by one."""
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def calibration_seconds(runs: int = 5) -> float:
    """Median seconds of a fixed piece of pure-Python work that uses none of Pingyi's code.

    This virtual machine's speed drifts by a fifth within an hour and by half between days
    (BENCHMARKS.md), so a figure alone cannot say whether code or machine changed. The same
    work timed at the start and the end of each run says how fast the machine was then:
    figures from two runs compare after dividing by it."""

    def work() -> None:
        rng = random.Random(7)  # seeded: the same work every time
        words = [
            "".join(rng.choice("评议单位满意基本不了解") for _ in range(8)) for _ in range(60_000)
        ]
        counts: dict[str, int] = {}
        for w in sorted(words):
            counts[w] = counts.get(w, 0) + 1
        json.loads(json.dumps(counts))
        sum(i * i % 7 for i in range(600_000))

    return statistics.median(timed(work, runs))
