"""Reading uploaded .xlsx files safely: size limits before opening, every sheet read through
the checks of core/xlsx_stream.py (rows, columns, cell text and total work bounded; no DTD; no
formula without its result) before anything else reads it, and errors that name the sheet,
row and column. Shared by every import: units and representatives (openpyxl, `open_workbook`)
and ballots (the stream, `read_first_sheet`)."""

from __future__ import annotations

import hashlib
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

# openpyxl uses defusedxml when it is installed: importing it here makes a missing install loud
# (and names the errors it stops openpyxl with).
import defusedxml
import openpyxl
from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from core.xlsx_stream import (
    EXCEL_MAX_ROWS,
    MAIN,
    MAX_CELLS,
    PKG_REL,
    REL,
    Budget,
    SheetReader,
    XlsxError,
    parse_part,
    shared_strings,
)

CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml"
# The content types openpyxl takes for the workbook part (.xlsx, .xlsm, .xltx, .xltm).
WORKBOOK_TYPES = (
    f"{SHEET_MIME}.template.main+xml",
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    f"{SHEET_MIME}.sheet.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
)
STRINGS_TYPE = f"{SHEET_MIME}.sharedStrings+xml"
MAX_SHEETS = 1_024
# openpyxl builds an object per cell (some 10 µs each): the files it reads here (units,
# representatives) hold some thousands of cells; half a million is already five seconds.
OPENPYXL_MAX_CELLS = 500_000


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


def refused(exc: XlsxError) -> SpreadsheetError:
    if exc.sheet or exc.row is not None or exc.column is not None:
        return SpreadsheetError([CellError(exc.sheet, exc.row, exc.column, exc.message)])
    return SpreadsheetError(_("无法读取 .xlsx 文件:%(err)s") % {"err": exc.message})


def _inner(name: str) -> str:
    return name[1:] if name.startswith("/") else name


@dataclass
class Book:
    """Where things are, found as openpyxl finds them: the workbook part named in
    [Content_Types].xml (xl/workbook.xml when it names none), its sheets through its
    relationships, shared strings through them (the stream) or the manifest (openpyxl)."""

    sheets: list[tuple[str, str, str]]  # (title, part, relationship type), in workbook order
    strings: str | None
    manifest_strings: str | None


def read_book(z: zipfile.ZipFile) -> Book:
    overrides: dict[str, str] = {}

    def on_types(name: str, attrs: dict[str, str]) -> None:
        if name == f"{CONTENT_TYPES} Override":
            overrides.setdefault(attrs.get("ContentType", ""), _inner(attrs.get("PartName", "")))

    if "[Content_Types].xml" in z.NameToInfo:
        parse_part(z, "[Content_Types].xml", on_types)
    workbook = next((overrides[t] for t in WORKBOOK_TYPES if t in overrides), "xl/workbook.xml")
    folder, base = posixpath.split(workbook)
    listed: list[tuple[str, str]] = []

    def on_workbook(name: str, attrs: dict[str, str]) -> None:
        # expat hands attributes unescaped: name="&apos;评议表&apos;" is '评议表'.
        if name == f"{MAIN} sheet":
            if len(listed) >= MAX_SHEETS:
                raise XlsxError(_("工作表过多(超过 %(n)d 个)") % {"n": MAX_SHEETS})
            listed.append((attrs.get("name", ""), attrs.get(f"{REL} id", "")))

    parse_part(z, workbook, on_workbook)
    rels: dict[str, tuple[str, str]] = {}

    def on_rels(name: str, attrs: dict[str, str]) -> None:
        if name == f"{PKG_REL} Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = (
                _inner(target)
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
            rels[attrs.get("Id", "")] = (attrs.get("Type", ""), path)

    parse_part(z, posixpath.join(folder, "_rels", base + ".rels"), on_rels)
    sheets = [(title, rels[rid][1], rels[rid][0]) for title, rid in listed if rid in rels]
    strings = next((p for t, p in rels.values() if t.endswith("/sharedStrings")), None)
    return Book(sheets, strings, overrides.get(STRINGS_TYPE))


def _zip(path_or_file: str | Path | IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path_or_file)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SpreadsheetError(_("不是有效的 .xlsx 文件")) from exc


def scan_workbook(
    path_or_file: str | Path | IO[bytes],
    max_rows: int = EXCEL_MAX_ROWS,
    max_cells: int = OPENPYXL_MAX_CELLS,
) -> dict[str, tuple[int, int]]:
    """Read every sheet openpyxl would read through the stream's checks: {part: (last row,
    last column holding a value)}. The shared strings are read both ways they may be found
    (openpyxl keeps them whole, by the manifest's name)."""
    budget = Budget(max_rows, max_cells)
    with _zip(path_or_file) as z:
        try:
            book = read_book(z)
            if book.manifest_strings not in (None, book.strings):
                shared_strings(z, book.manifest_strings, budget)
            strings = shared_strings(z, book.strings, budget)
            extents: dict[str, tuple[int, int]] = {}
            for title, part, typ in book.sheets:
                if "chartsheet" in typ or part not in z.NameToInfo or part in extents:
                    continue  # openpyxl skips these too
                reader = SheetReader(z, title, part, strings, budget)
                for _row in reader.rows():
                    pass
                extents[part] = (reader.last_row, reader.last_column)
        except XlsxError as exc:
            raise refused(exc) from exc
    return extents


def _defused(exc: BaseException | None) -> bool:
    """Whether defusedxml stopped openpyxl (it wraps the error in one naming the file)."""
    for _depth in range(10):
        if exc is None:
            return False
        if isinstance(exc, defusedxml.DefusedXmlException):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def open_workbook(
    path_or_file: str | Path | IO[bytes],
    max_rows: int = EXCEL_MAX_ROWS,
    max_cells: int = OPENPYXL_MAX_CELLS,
) -> openpyxl.Workbook:
    """The workbook through openpyxl (read-only, values only), once every sheet has passed the
    stream's checks: a sheet beyond `max_rows` rows or `max_cells` cells is refused.

    A formula saved without its result reads as None under data_only, the same as an empty
    cell: openpyxl cannot tell them apart unless the file is read a second time without
    data_only. The scan reads the XML once, as it must anyway for the bounds, and refuses a
    <f> without its cached <v>, naming the cell."""
    check_xlsx_limits(path_or_file)
    extents = scan_workbook(path_or_file, max_rows, max_cells)
    if not isinstance(path_or_file, str | Path):
        path_or_file.seek(0)
    try:
        wb = openpyxl.load_workbook(path_or_file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds, with the server's path in them
        if _defused(exc):
            message = _("文件含有 DTD 或实体声明,可能是恶意构造的文件,拒绝读取")
        else:
            message = _("文件已损坏,或不是 .xlsx 文件")
        raise SpreadsheetError(_("无法读取 .xlsx 文件:%(err)s") % {"err": message}) from exc
    for ws in wb.worksheets:
        extent = extents.get(getattr(ws, "_worksheet_path", ""))
        if extent is None:  # a sheet the scan did not read: refused rather than read unchecked
            wb.close()
            raise SpreadsheetError(_("无法读取 .xlsx 文件:%(err)s") % {"err": _("文件结构异常")})
        if extent[0] * extent[1] > max_cells:  # openpyxl pads every row to the widest
            wb.close()
            raise SpreadsheetError([CellError(ws.title, None, None, _("表格过大,拒绝读取"))])
        # openpyxl sizes rows by the <dimension> the file states (it may state A1:XFD1048576
        # and hold one cell): state what the scan found instead, so openpyxl pads no row
        # beyond the last column holding a value, and stops after the last such row.
        ws._max_row, ws._max_column = extent
    return wb


@dataclass
class SheetRows:
    """The first worksheet of a file, streamed: its title, its height, and its rows (1-based
    positions preserved: leading empty rows and columns are kept as empty values)."""

    title: str
    height: int
    rows: Iterator[tuple[Any, ...]]


def read_first_sheet(
    path_or_file: str | Path | IO[bytes],
    max_rows: int = EXCEL_MAX_ROWS,
    max_cells: int = MAX_CELLS,
) -> SheetRows:
    """Big keyed sheets, streamed (core/xlsx_stream.py): one row in memory at a time,
    11,000 × 70 cells in a few seconds where openpyxl's read-only mode takes forty. Values as
    openpyxl's with data_only; empty cells are None; positions are the ones Excel shows. A
    sheet beyond `max_rows` rows (Excel's limit unless the caller knows better) or
    `max_cells` of work is refused, as is anything core/xlsx_stream.py refuses: before the
    rows come when the sheet's XML is broken or hostile, while they come otherwise."""
    check_xlsx_limits(path_or_file)
    budget = Budget(max_rows, max_cells)
    z = _zip(path_or_file)
    try:
        book = read_book(z)
        first = next((s for s in book.sheets if s[2].endswith("/worksheet")), None)
        if first is None:
            raise XlsxError(_("工作簿中没有工作表"))
        title, part, _type = first
        reader = SheetReader(z, title, part, shared_strings(z, book.strings, budget), budget)
        rows = reader.rows(reader.check())  # a broken or hostile sheet is refused here
    except XlsxError as exc:
        z.close()
        raise refused(exc) from exc
    except BaseException:
        z.close()
        raise

    def stream() -> Iterator[tuple[Any, ...]]:
        try:
            yield from rows
        except XlsxError as exc:
            raise refused(exc) from exc
        finally:
            z.close()

    return SheetRows(title, min(reader.height, max_rows), stream())


def cell_text(value: Any) -> str:
    """A cell as trimmed text: numbers keyed as serials (100003 or 100003.0) read as digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def iter_rows(ws: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(1-based row number, values) for each row of a sheet of `open_workbook`, skipping rows
    that are entirely empty."""
    try:
        for index, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            yield index, tuple(row)
    except (ValueError, TypeError, KeyError, IndexError, OSError, zipfile.BadZipFile) as exc:
        # The scan read this sheet already; should openpyxl still fail, its message names
        # the server's path.
        message = _("文件已损坏,或不是 .xlsx 文件")
        raise SpreadsheetError(_("无法读取 .xlsx 文件:%(err)s") % {"err": message}) from exc


YES = {"是", "Y", "y", "yes", "Yes", "YES", "1", "true", "True", "TRUE"}
NO = {"否", "N", "n", "no", "No", "NO", "0", "false", "False", "FALSE", ""}


def parse_yes_no(value: Any) -> bool | None:
    text = cell_text(value)
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def header_index(values: tuple[Any, ...], sheet: str, required: tuple[str, ...],
                 optional: tuple[str, ...]) -> dict[str, int]:
    """Column name → 1-based column of a header row whose columns may come in any order.
    Unknown and repeated names and missing required ones are all listed at once (a typo must
    not be silently dropped), as a SpreadsheetError naming the sheet, row 1 and the column."""
    index: dict[str, int] = {}
    errors = []
    for col, raw in enumerate(values, start=1):
        name = cell_text(raw)
        if not name:
            continue
        if name not in required + optional:
            errors.append(CellError(sheet, 1, col, _("未知的列名“%(n)s”") % {"n": name}))
        elif name in index:
            errors.append(CellError(sheet, 1, col, _("列名“%(n)s”重复") % {"n": name}))
        else:
            index[name] = col
    errors += [CellError(sheet, 1, None, _("缺少列“%(n)s”") % {"n": n})
               for n in required if n not in index]
    if errors:
        raise SpreadsheetError(errors)
    return index
