"""Small helpers shared by tests: building .xlsx files in memory."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import openpyxl


def xlsx_bytes(sheets: dict[str, Iterable[Sequence[Any]]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_file(tmp_path, name: str, sheets: dict[str, Iterable[Sequence[Any]]]):
    path = tmp_path / name
    path.write_bytes(xlsx_bytes(sheets))
    return path
