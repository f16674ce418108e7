"""Timing helper shared by the figures."""

from __future__ import annotations

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
