"""Paper workflow: printed serial ranges and keyed entries (double entry)."""

from __future__ import annotations

__all__: list[str] = []
