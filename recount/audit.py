"""Check a campaign's audit log, as exported to CSV, without Pingyi:

    python3 -m recount.audit 审计日志.csv

The file is the one in the notary's package (公证材料包): a header row, then one row per entry
in the order it was written, with the columns 编号, 时间(UTC), 用户, 活动编号, 活动, 操作,
对象类型, 对象, 对象名称, 修改前, 修改后, 原因, 前一条哈希(全局链), 前一条哈希(活动链), 哈希. As in
the ballot file's CSV, a text beginning with ' carries one more ' in front, which is dropped.

Each entry's hash is SHA-256 (hexadecimal) of the canonical JSON (keys sorted, no spaces,
UTF-8 unescaped) of an object with these 13 keys: at (the time column as written), username,
campaign_id (an integer, or null), campaign_slug, action, object_type, object_id,
object_repr, before and after (the JSON values written in their columns, null when empty),
reason, prev_hash and campaign_prev_hash (the two previous-hash columns). That is the
application's own definition (core/chain.py in the source).

The check recomputes every row's hash and follows the campaign's chain: the first row's
previous hash within the campaign is empty and every other row's is the hash of the row
before it. It prints the chain's head (the last row's hash), to compare with the one printed
in the reports; it exits with 1 at the first row that does not fit, naming it, and with 2
when the file cannot be read. (The global chain runs through other campaigns' entries too,
which a campaign's file does not hold: the application's `manage.py verify_audit` checks it.)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from collections.abc import Sequence

COLUMNS = (
    "编号", "时间(UTC)", "用户", "活动编号", "活动", "操作", "对象类型", "对象", "对象名称",
    "修改前", "修改后", "原因", "前一条哈希(全局链)", "前一条哈希(活动链)", "哈希",
)


class AuditFileError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _text(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


def _json(cell: str, row: int, column: str) -> object:
    if cell == "":
        return None
    try:
        return json.loads(cell)
    except json.JSONDecodeError as exc:
        raise AuditFileError(2, f"第 {row} 行“{column}”不是 JSON:{exc}") from exc


def row_hash(cells: Sequence[str], row: int = 0) -> str:
    """The hash an entry must have, from its row's cells (in COLUMNS order, unquoted)."""
    (_id, at, username, campaign_id, slug, action, object_type, object_id, object_repr,
     before, after, reason, prev, campaign_prev, _hash) = cells
    content = {
        "at": at,
        "username": username,
        "campaign_id": int(campaign_id) if campaign_id else None,
        "campaign_slug": slug,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "before": _json(before, row, "修改前"),
        "after": _json(after, row, "修改后"),
        "reason": reason,
        "prev_hash": prev,
        "campaign_prev_hash": campaign_prev,
    }
    data = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def check(data: bytes) -> tuple[int, str]:
    """(entries, head hash) of a sound file; raises AuditFileError(1, …) at the first row that
    does not fit, (2, …) when the file cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AuditFileError(2, f"文件不是 UTF-8:{exc}") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(_text(c) for c in rows[0]) != COLUMNS:
        raise AuditFileError(2, "表头不对:应为 " + ",".join(COLUMNS))
    previous = ""
    count = 0
    for number, raw in enumerate(rows[1:], start=2):
        if not raw:
            continue
        if len(raw) != len(COLUMNS):
            raise AuditFileError(2, f"第 {number} 行应有 {len(COLUMNS)} 列,实有 {len(raw)} 列")
        cells = [_text(c) for c in raw]
        entry = f"第 {number} 行(编号 {cells[0]},{cells[1]},{cells[5]})"
        if cells[13] != previous:
            raise AuditFileError(
                1, f"{entry}:前一条哈希(活动链)与上一行的哈希不符,其前有记录缺失、被删除或被插入")
        if row_hash(cells, number) != cells[14]:
            raise AuditFileError(1, f"{entry}:内容与哈希不符,记录被修改")
        previous = cells[14]
        count += 1
    return count, previous


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("用法:python3 -m recount.audit 审计日志.csv", file=sys.stderr)
        return 2
    try:
        with open(args[0], "rb") as fh:
            data = fh.read()
        count, head = check(data)
    except OSError as exc:
        print(f"无法读取 {args[0]}:{exc}", file=sys.stderr)
        return 2
    except AuditFileError as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    print(f"审计日志完整:{count} 条记录,链尾 {head or '—'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
