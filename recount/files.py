"""Reading the three published files: manifest.json, ballots.jsonl or ballots.csv.

The fingerprint is defined over the bytes of ballots.jsonl; when only the CSV was
published we rebuild those bytes, which the README makes possible because each line
is canonical JSON and the line order depends on the line bytes alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .model import BALLOT_KEYS, Ballot, RecountError

FORMAT = "pingyi-ballot-file"
FIXED_COLUMNS = ("来源", "编号", "渠道", "代表类别", "片区", "状态", "无效原因")
# The characters a spreadsheet would take as the start of a formula (README, ballots.csv).


@dataclass(frozen=True)
class Loaded:
    manifest: dict[str, Any]
    ballots: tuple[Ballot, ...]
    jsonl_bytes: bytes
    fingerprint: str
    notes: tuple[str, ...]  # warnings for standard error that do not stop the count


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def jsonl_bytes_of(rows: list[dict[str, Any]]) -> bytes:
    """The canonical ballots.jsonl for these rows: one canonical line each, sorted by
    the SHA-256 of the line's bytes (hex order equals byte order of the digests)."""
    lines = [(canonical(row) + "\n").encode("utf-8") for row in rows]
    lines.sort(key=lambda line: hashlib.sha256(line).digest())
    return b"".join(lines)


def fingerprint_of(recount: Any, jsonl: bytes) -> str:
    return hashlib.sha256(canonical(recount).encode("utf-8") + b"\n" + jsonl).hexdigest()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RecountError(2, f"无法读取 {path}: {exc}") from exc


def _check_against_manifest(name: str, data: bytes, files: dict[str, Any]) -> None:
    entry = files.get(name)
    if not isinstance(entry, dict) or "sha256" not in entry:
        raise RecountError(2, f"manifest.files 没有 {name} 的 sha256")
    digest = hashlib.sha256(data).hexdigest()
    if digest != str(entry["sha256"]).lower():
        raise RecountError(1, f"{name} 与清单不符: SHA-256 为 {digest}, 清单为 {entry['sha256']}")
    if "bytes" in entry and int(entry["bytes"]) != len(data):
        raise RecountError(1, f"{name} 与清单不符: {len(data)} 字节, 清单为 {entry['bytes']}")


def _ballot_from(line: int, row: Any, width: int) -> Ballot:
    if not isinstance(row, dict):
        raise RecountError(2, f"第 {line} 张选票不是对象")
    try:
        values = {key: row[key] for key in BALLOT_KEYS}
        answers = row["answers"]
    except KeyError as exc:
        raise RecountError(2, f"第 {line} 张选票缺少 {exc.args[0]!r}") from exc
    if not all(isinstance(v, str) for v in values.values()):
        raise RecountError(2, f"第 {line} 张选票的字段应为文本")
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise RecountError(2, f"第 {line} 张选票的 answers 应为文本列表")
    if len(answers) != width:
        raise RecountError(2, f"第 {line} 张选票有 {len(answers)} 个回答, 清单有 {width} 格")
    if values["status"] not in ("valid", "invalid"):
        raise RecountError(2, f"第 {line} 张选票的状态 {values['status']!r} 未知")
    return Ballot(line=line, answers=tuple(answers), **values)


def _read_jsonl(data: bytes, width: int) -> tuple[Ballot, ...]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecountError(2, f"ballots.jsonl 不是 UTF-8: {exc}") from exc
    ballots = []
    # split("\n"), not splitlines(): U+2028 and friends may stand unescaped inside a line.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RecountError(2, f"ballots.jsonl 第 {number} 行不是 JSON: {exc}") from exc
        ballots.append(_ballot_from(number, row, width))
    return tuple(ballots)


def _unquote(text: str) -> str:
    # The writer put one "'" before a text starting with = + - @ or ' (so that a text that
    # really starts with ' survives the round trip); the reader drops that one.
    return text[1:] if text.startswith("'") else text


def _read_csv(data: bytes, columns: list[str], width: int) -> tuple[Ballot, ...]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecountError(2, f"ballots.csv 不是 UTF-8: {exc}") from exc
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise RecountError(2, "ballots.csv 没有表头")
    header = rows[0]
    if columns and header != columns and [_unquote(h) for h in header] != columns:
        raise RecountError(2, "ballots.csv 的表头与清单的 ballots.columns 不一致")
    if tuple(_unquote(h) for h in header[:7]) != FIXED_COLUMNS or len(header) != 7 + width:
        raise RecountError(2, f"ballots.csv 的表头应为 {','.join(FIXED_COLUMNS)} 加 {width} 格")
    ballots = []
    for number, raw in enumerate(rows[1:], start=2):
        if not raw:
            continue  # csv yields [] for an empty line
        if len(raw) != 7 + width:
            raise RecountError(2, f"ballots.csv 第 {number} 行有 {len(raw)} 列, 应为 {7 + width}")
        cells = [_unquote(value) for value in raw]
        row: dict[str, Any] = dict(zip(BALLOT_KEYS, cells[:7], strict=True))
        row["answers"] = cells[7:]
        ballots.append(_ballot_from(number, row, width))
    return tuple(ballots)


def load(directory: Path) -> Loaded:
    """Read and check the directory; raise RecountError(1 or 2) as the README says."""
    manifest_path = directory / "manifest.json"
    try:
        manifest = json.loads(_read_bytes(manifest_path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecountError(2, f"manifest.json 无法解析: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RecountError(2, f"manifest.json 不是 {FORMAT}")
    if manifest.get("version") != 1:
        raise RecountError(2, f"不支持的版本 {manifest.get('version')!r}")
    recount = manifest.get("recount")
    if not isinstance(recount, dict) or not isinstance(recount.get("cells"), list):
        raise RecountError(2, "manifest.json 没有 recount 或 recount.cells")
    width = len(recount["cells"])
    files = manifest.get("files") or {}
    meta = manifest.get("ballots") or {}
    jsonl_path, csv_path = directory / "ballots.jsonl", directory / "ballots.csv"
    if not jsonl_path.exists() and not csv_path.exists():
        raise RecountError(2, f"{directory} 中既没有 ballots.jsonl 也没有 ballots.csv")
    # Check every published file that is present, before reading any of them.
    present = {}
    for path in (jsonl_path, csv_path):
        if path.exists():
            present[path.name] = _read_bytes(path)
            _check_against_manifest(path.name, present[path.name], files)
    if "ballots.jsonl" in present:
        jsonl = present["ballots.jsonl"]
        ballots = _read_jsonl(jsonl, width)
    else:
        ballots = _read_csv(present["ballots.csv"], list(meta.get("columns") or []), width)
        jsonl = jsonl_bytes_of([b.as_row() for b in ballots])
    if "rows" in meta and int(meta["rows"]) != len(ballots):
        raise RecountError(2, f"清单记 {meta['rows']} 张选票, 文件中有 {len(ballots)} 张")
    fingerprint = fingerprint_of(recount, jsonl)
    notes = []
    stated = manifest.get("fingerprint")
    # manifest.json itself is covered by no checksum; the fingerprint published on the
    # 公示 page is what ties it down, so a stale or edited copy is worth a warning.
    if stated is not None and str(stated).lower() != fingerprint:
        notes.append(f"注意: 清单所记指纹 {stated} 与重算的指纹不同")
    return Loaded(manifest, ballots, jsonl, fingerprint, tuple(notes))
