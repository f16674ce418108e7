"""Reading uploaded .xlsx files safely: size limits before opening, read-only streaming, and
errors that name the sheet, row and column. Shared by every import (units, ballots,
representatives)."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# openpyxl uses defusedxml when it is installed; importing it here makes a missing install loud.
import defusedxml  # noqa: F401
import openpyxl
from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from core.xlsx_stream import XlsxError, open_first_sheet


@dataclass(frozen=True)
class CellError:
    sheet: str
    row: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = [f"工作表“{self.sheet}”"] if self.sheet else []
        if self.row is not None:
            where.append(f"第{self.row}行")
        if self.column is not None:
            where.append(f"第{get_column_letter(self.column)}列")
        return "".join(where) + ":" + self.message if where else self.message


class SpreadsheetError(Exception):
    """One or more problems in an uploaded file; nothing of the file is imported."""

    def __init__(self, errors: list[CellError] | str) -> None:
        if isinstance(errors, str):
            errors = [CellError("", None, None, errors)]
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def file_sha256(path_or_file: str | Path | IO[bytes]) -> str:
    digest = hashlib.sha256()
    if isinstance(path_or_file, str | Path):
        with open(path_or_file, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    else:
        path_or_file.seek(0)
        for chunk in iter(lambda: path_or_file.read(1 << 20), b""):
            digest.update(chunk)
        path_or_file.seek(0)
    return digest.hexdigest()


def check_xlsx_limits(path_or_file: str | Path | IO[bytes]) -> None:
    """Refuse files that are too big, not zip files, or zip bombs (by declared size)."""
    max_bytes = settings.PINGYI_MAX_UPLOAD_BYTES
    if isinstance(path_or_file, str | Path):
        size = Path(path_or_file).stat().st_size
    else:
        path_or_file.seek(0, 2)
        size = path_or_file.tell()
        path_or_file.seek(0)
    if size > max_bytes:
        raise SpreadsheetError(
            _("文件太大(%(size)d 字节,上限 %(max)d 字节)") % {"size": size, "max": max_bytes}
        )
    try:
        with zipfile.ZipFile(path_or_file) as zf:
            declared = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise SpreadsheetError(_("不是有效的 .xlsx 文件")) from exc
    finally:
        if not isinstance(path_or_file, str | Path):
            path_or_file.seek(0)
    if declared > settings.PINGYI_MAX_UNCOMPRESSED_BYTES:
        raise SpreadsheetError(_("文件解压后过大,拒绝读取"))


def open_workbook(path_or_file: str | Path | IO[bytes]) -> openpyxl.Workbook:
    check_xlsx_limits(path_or_file)
    try:
        return openpyxl.load_workbook(path_or_file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise SpreadsheetError(_("无法读取 .xlsx 文件:%(err)s") % {"err": exc}) from exc


@dataclass
class SheetRows:
    """The first worksheet of a file, streamed: its title, its height, and its rows (1-based
    positions preserved: leading empty rows and columns are kept as empty values)."""

    title: str
    height: int
    rows: Iterator[tuple[Any, ...]]


def read_first_sheet(path_or_file: str | Path | IO[bytes]) -> SheetRows:
    """Big keyed sheets, streamed (campaigns/xlsx_stream.py): one row in memory at a time,
    11,000 × 70 cells in a few seconds where openpyxl's read-only mode takes forty. Values as
    openpyxl's with data_only; empty cells are None; positions are the ones Excel shows."""
    check_xlsx_limits(path_or_file)
    if not isinstance(path_or_file, str | Path):
        path_or_file.seek(0)
    try:
        sheet = open_first_sheet(path_or_file)
    except XlsxError as exc:
        raise SpreadsheetError(_("无法读取 .xlsx 文件:%(err)s") % {"err": exc}) from exc

    def rows() -> Iterator[tuple[Any, ...]]:
        try:
            yield from sheet.rows
        except XlsxError as exc:
            raise SpreadsheetError(_("无法读取 .xlsx 文件:%(err)s") % {"err": exc}) from exc

    return SheetRows(sheet.title, sheet.height, rows())


def cell_text(value: Any) -> str:
    """A cell as trimmed text: numbers keyed as serials (100003 or 100003.0) read as digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def iter_rows(ws: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(1-based row number, values) for each row, skipping rows that are entirely empty."""
    for index, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        yield index, tuple(row)


YES = {"是", "Y", "y", "yes", "Yes", "YES", "1", "true", "True", "TRUE"}
NO = {"否", "N", "n", "no", "No", "NO", "0", "false", "False", "FALSE", ""}


def parse_yes_no(value: Any) -> bool | None:
    text = cell_text(value)
    if text in YES:
        return True
    if text in NO:
        return False
    return None
