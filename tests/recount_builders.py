"""Building a published ballot-file directory by hand, for the recount tests (no Django)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXED = ["来源", "编号", "渠道", "代表类别", "片区", "状态", "无效原因"]

# 满意 2 / 基本满意 1 / 不满意 0, the 千人评议 scale without 弃权.
SCALE = [("满意", "2", True, True), ("基本满意", "1", True, True), ("不满意", "0", False, True)]
# 政风行风: 不了解 is neither satisfied nor counted.
ZHENGFENG = [
    ("满意", "1", True, True),
    ("基本满意", "1", True, True),
    ("不满意", "0", False, True),
    ("不了解", "0", False, False),
]


# ---- building a published directory by hand -------------------------------------------


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def options(scale: list[tuple[str, str, bool, bool]]) -> list[dict[str, Any]]:
    return [{"label": lab, "weight": w, "satisfied": s, "counted": c} for lab, w, s, c in scale]


def unit(
    key: str,
    name: str,
    category: str = "c1",
    *,
    vetoed: bool = False,
    kind: str = "单位",
    parent: str | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "name": name,
        "category": category,
        "vetoed": vetoed,
        "kind": kind,
        "parent": parent,
    }


def category(key: str, name: str, winners: int = 0, last_place: int = 0) -> dict[str, Any]:
    return {"key": key, "name": name, "winners": winners, "last_place": last_place}


def config(units: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    """manifest.recount with one cell per unit unless `cells` is given."""
    base: dict[str, Any] = {
        "campaign": {
            "slug": "t-2026",
            "name": "测试评议",
            "aggregation": "sum",
            "threshold": "0.9",
        },
        "options": options(SCALE),
        "blank_means": None,
        "dimensions": [],
        "categories": [category("c1", "甲类", 0, 0)],
        "units": units,
        "cells": [{"unit": u["key"], "dimension": None} for u in units],
        "group_weights": [],
        "grade_bands": [],
        "honoured_quota": 0,
        "dimension_line": False,
        "previous_last_place": [],
    }
    base.update(overrides)
    return base


def row(
    answers: list[str],
    *,
    source: str = "online",
    serial: str = "",
    status: str = "valid",
    reason: str = "",
    group: str = "",
    channel: str = "",
    district: str = "",
) -> dict[str, Any]:
    return {
        "source": source,
        "serial": serial,
        "channel": channel,
        "group": group,
        "district": district,
        "status": status,
        "reason": reason,
        "answers": answers,
    }


def jsonl_of(rows: list[dict[str, Any]]) -> bytes:
    lines = [(canonical(r) + "\n").encode() for r in rows]
    return b"".join(sorted(lines, key=lambda b: hashlib.sha256(b).hexdigest()))


def csv_of(rec: dict[str, Any], rows: list[dict[str, Any]]) -> tuple[bytes, list[str]]:
    names = {u["key"]: u["name"] for u in rec["units"]}
    columns = FIXED + [
        names[c["unit"]] + (f"|{c['dimension']}" if c["dimension"] else "") for c in rec["cells"]
    ]

    def safe(text: str) -> str:
        return "'" + text if text[:1] in ("=", "+", "-", "@", "'") else text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for r in rows:
        fixed = [
            r[k] for k in ("source", "serial", "channel", "group", "district", "status", "reason")
        ]
        writer.writerow([safe(v) for v in fixed + r["answers"]])
    return ("\ufeff" + buffer.getvalue()).encode(), columns


def publish(directory: Path, rec: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """Write manifest.json, ballots.jsonl and ballots.csv; return the fingerprint."""
    directory.mkdir(parents=True, exist_ok=True)
    jsonl = jsonl_of(rows)
    csv_bytes, columns = csv_of(rec, rows)
    fingerprint = hashlib.sha256(canonical(rec).encode() + b"\n" + jsonl).hexdigest()
    manifest = {
        "format": "pingyi-ballot-file",
        "version": 1,
        "recount": rec,
        "ballots": {
            "rows": len(rows),
            "district_minimum": 5,
            "suppressed": "其他",
            "tokens": {"blank": "", "spoiled": "(多选)"},
            "columns": columns,
        },
        "files": {
            "ballots.jsonl": {"sha256": hashlib.sha256(jsonl).hexdigest(), "bytes": len(jsonl)},
            "ballots.csv": {
                "sha256": hashlib.sha256(csv_bytes).hexdigest(),
                "bytes": len(csv_bytes),
            },
        },
        "fingerprint": fingerprint,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    (directory / "ballots.jsonl").write_bytes(jsonl)
    (directory / "ballots.csv").write_bytes(csv_bytes)
    return fingerprint


def run_cli(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recount", str(directory), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )


def units_of(result: dict[str, Any], index: int = 0) -> dict[str, dict[str, Any]]:
    return {u["unit"]: u for u in result["categories"][index]["units"]}


# ---- ranking, last place, winners -------------------------------------------------------

def validity_case() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rec = config([unit("u1", "一局"), unit("u2", "二局")])
    rows = [
        row(["满意", "满意"], source="paper", serial="001"),  # photocopy pair: both invalid
        row(["满意", "满意"], source="paper", serial="001"),
        row(["", ""]),  # stated valid, nothing marked: blank_ballot
        row(["不满意", "不满意"], status="invalid", reason="manual"),
        row(["满意", "(多选)"], source="paper", serial="002", channel="=SUM(A1)", group="-组"),
        row(["", "基本满意"], district="@片区"),
        # manual comes first even when the serial repeats; its twin is still duplicate_serial
        row(["满意", "满意"], source="paper", serial="003", status="invalid", reason="manual"),
        row(["满意", "满意"], source="paper", serial="003"),
    ]
    return rec, rows
