"""A streaming reader for the first worksheet of an .xlsx file, for big keyed sheets.

openpyxl's read-only mode streams too, but builds a cell object per value: 11,436 ballots ×
66 units took forty seconds. This reader hands expat's C parser the sheet's XML in chunks
and keeps only one row at a time (plus the shared-strings table, which holds each distinct
text once: a few dozen labels in a keyed sheet), so memory stays flat however long the
sheet, and the same file reads in a few seconds.

It reads values only (as openpyxl's data_only): text, numbers, booleans, error codes and the
cached results of formulas. Number formats are not applied (a date stays a serial number),
which is right for ballots: serials, labels and names. Documents with a DTD are refused, so
entity tricks (billion laughs, external entities) cannot run.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn, TypedDict
from xml.parsers import expat

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CHUNK = 1 << 16
_REF = re.compile(r"([A-Z]+)(\d+)")


class XlsxError(Exception):
    pass


@dataclass
class StreamedSheet:
    title: str
    height: int  # from the sheet's <dimension>, 0 when the file does not say
    rows: Iterator[tuple[Any, ...]]


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _parser() -> expat.XMLParserType:
    p = expat.ParserCreate(namespace_separator=" ")

    # NoReturn (it always raises) also fits handlers typed to return int.
    def refuse(*_args: Any) -> NoReturn:
        raise XlsxError("DTD/entities are not allowed in .xlsx parts")

    p.StartDoctypeDeclHandler = refuse
    p.EntityDeclHandler = refuse
    p.ExternalEntityRefHandler = refuse
    p.buffer_text = True
    return p


def _parse_small(data: bytes, start: Any, end: Any = None, chars: Any = None) -> None:
    p = _parser()
    p.StartElementHandler = start
    if end is not None:
        p.EndElementHandler = end
    if chars is not None:
        p.CharacterDataHandler = chars
    p.Parse(data, True)


def _first_sheet(z: zipfile.ZipFile) -> tuple[str, str, str | None]:
    """(title, path of its XML part, path of the shared strings part or None)."""
    sheets: list[tuple[str, str]] = []

    def on_workbook(name: str, attrs: dict[str, str]) -> None:
        if name == f"{MAIN} sheet":
            sheets.append((attrs.get("name", ""), attrs.get(f"{REL} id", "")))

    _parse_small(z.read("xl/workbook.xml"), on_workbook)
    rels: dict[str, tuple[str, str]] = {}

    def on_rels(name: str, attrs: dict[str, str]) -> None:
        if name == f"{PKG_REL} Relationship":
            rels[attrs["Id"]] = (attrs.get("Type", ""), attrs.get("Target", ""))

    _parse_small(z.read("xl/_rels/workbook.xml.rels"), on_rels)

    def part(target: str) -> str:
        return (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join("xl", target))
        )

    strings = next((part(t) for typ, t in rels.values() if typ.endswith("/sharedStrings")), None)
    for title, rid in sheets:
        typ, target = rels.get(rid, ("", ""))
        if typ.endswith("/worksheet"):  # chart sheets and dialogs are not worksheets
            return title, part(target), strings
    raise XlsxError("the workbook has no worksheet")


def _shared_strings(z: zipfile.ZipFile, path: str | None) -> list[str]:
    if path is None or path not in z.namelist():
        return []
    out: list[str] = []
    buf: list[str] = []
    state = {"in_t": False, "phonetic": 0}

    def start(name: str, _attrs: dict[str, str]) -> None:
        if name == f"{MAIN} si":
            buf.clear()
        elif name == f"{MAIN} rPh":  # phonetic guides are not part of the text
            state["phonetic"] += 1
        elif name == f"{MAIN} t" and not state["phonetic"]:
            state["in_t"] = True

    def end(name: str) -> None:
        if name == f"{MAIN} t":
            state["in_t"] = False
        elif name == f"{MAIN} rPh":
            state["phonetic"] -= 1
        elif name == f"{MAIN} si":
            out.append("".join(buf))

    def chars(text: str) -> None:
        if state["in_t"]:
            buf.append(text)

    p = _parser()
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    with z.open(path) as f:
        p.ParseFile(f)
    return out


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        value = float(text)
        return int(value) if value.is_integer() and "E" not in text.upper() else value


def open_first_sheet(file: str | Path | IO[bytes]) -> StreamedSheet:
    """Open the first worksheet for streaming. Rows come as tuples starting at column A and
    row 1 (missing rows come as empty tuples), so positions are the ones Excel shows."""
    try:
        z = zipfile.ZipFile(file)
        title, sheet_path, strings_path = _first_sheet(z)
        strings = _shared_strings(z, strings_path)
        member = z.open(sheet_path)
    except (zipfile.BadZipFile, KeyError, expat.ExpatError, XlsxError) as exc:
        raise XlsxError(str(exc)) from exc
    # The <dimension> element comes before the cells: read just enough of the head for it.
    head = member.peek(4096)[:4096] if hasattr(member, "peek") else b""
    m = re.search(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+:?[A-Z]*(\d*)"', head)
    height = int(m.group(1)) if m and m.group(1) else 0
    member.close()
    try:
        plain = _check(z, sheet_path)
    except (expat.ExpatError, XlsxError) as exc:
        z.close()
        raise XlsxError(str(exc)) from exc
    reader = _rows_fast if plain else _rows_expat
    return StreamedSheet(title, height, reader(z, z.open(sheet_path), strings))


# Markers of XML the fast path does not interpret (writers of .xlsx do not produce them inside
# a sheet, but a file is not to be trusted): with any of them the general path reads it.
_UNUSUAL = (b"<![CDATA[", b"<!--", b"<?", b"<!")


def _check(z: zipfile.ZipFile, path: str) -> bool:
    """Read the sheet once through expat with no callbacks (C speed): it must be well-formed
    XML without a DTD. True when the fast path may read it (none of _UNUSUAL inside)."""
    p = _parser()
    plain = True
    tail = b""
    with z.open(path) as f:
        first = True
        while True:
            chunk = f.read(CHUNK)
            p.Parse(chunk, not chunk)
            if not chunk:
                break
            window = tail + chunk
            if first:
                # The XML declaration <?xml ...?> opens the part: skip it.
                first = False
                if window.startswith(b"<?xml"):
                    window = window[window.index(b"?>") + 2 :]
            if plain and any(marker in window for marker in _UNUSUAL):
                plain = False
            tail = chunk[-8:]
    return plain


_ATTR_R = re.compile(rb"""(?:^|\s)r=["']([A-Z]*)(\d+)["']""")
_V = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>(.*?)</(?:\w+:)?v>", re.S)
_T = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>", re.S)
_PHONETIC = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b[^>]*?(/?)>")


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


def _rows_fast(
    z: zipfile.ZipFile, member: IO[bytes], strings: list[str]
) -> Iterator[tuple[Any, ...]]:
    """The common path, for sheets _check found well-formed and plain: rows are cut with
    bytes.find (C speed) and their cells read by one regular expression. Tested to give what
    _rows_expat gives."""
    buf = b""
    prefix: bytes | None = None
    row_open = row_close = b""
    cell_re = _cell_pattern(b"")
    row_no = 0
    decoded: dict[tuple[bytes, bytes], Any] = {}  # (type, content) -> value: labels repeat
    try:
        with member:
            while True:
                chunk = member.read(CHUNK)
                buf += chunk
                if prefix is None:
                    m = _SHEET_DATA.search(buf)
                    if m is None:
                        if not chunk:
                            return
                        continue
                    if m.group(2):  # <sheetData/>: no rows at all
                        return
                    prefix = m.group(1) or b""
                    row_open, row_close = b"<" + prefix + b"row", b"</" + prefix + b"row>"
                    cell_re = _cell_pattern(prefix)
                    buf = buf[m.end() :]
                pos = 0
                while True:
                    start = buf.find(row_open, pos)
                    if start < 0:
                        break
                    head_end = buf.find(b">", start)
                    if head_end < 0:
                        break
                    head = buf[start + len(row_open) : head_end]
                    if head[:1] not in (b" ", b"/", b"\t", b"\n", b"\r", b""):
                        pos = head_end  # another element whose name starts with "row"
                        continue
                    if head.endswith(b"/"):
                        body, end = b"", head_end + 1
                    else:
                        close = buf.find(row_close, head_end)
                        if close < 0:
                            break  # the row goes on in the next chunk
                        body, end = buf[head_end + 1 : close], close + len(row_close)
                    m = _ATTR_R.search(head)
                    number = int(m.group(2)) if m else row_no + 1
                    for _ in range(row_no + 1, number):
                        yield ()
                    row_no = number
                    yield _cells(cell_re, body, strings, decoded)
                    pos = end
                buf = buf[pos:]
                if not chunk:
                    return
    finally:
        z.close()


_CELL_PATTERNS: dict[bytes, re.Pattern[bytes]] = {}


def _cell_pattern(prefix: bytes) -> re.Pattern[bytes]:
    """One cell: (column letters, type, content); the lookaheads read r= and t= in either
    order."""
    if prefix not in _CELL_PATTERNS:
        p = re.escape(prefix)
        _CELL_PATTERNS[prefix] = re.compile(
            rb"<" + p + rb"c(?=[\s/>])(?=[^>]*?\sr=[\"']([A-Z]+)\d+[\"'])?"
            rb"(?=[^>]*?\st=[\"'](\w+)[\"'])?[^>]*?(?:/>|>(.*?)</" + p + rb"c>)",
            re.S,
        )
    return _CELL_PATTERNS[prefix]


def _cells(
    cell_re: re.Pattern[bytes],
    body: bytes,
    strings: list[str],
    decoded: dict[tuple[bytes, bytes], Any],
) -> tuple:
    values: dict[int, Any] = {}
    col = 0
    columns = _COLUMNS
    for letters, typ, content in cell_re.findall(body):
        col = columns.get(letters) or _column_of(letters) if letters else col + 1
        if not content:
            continue
        key = (typ, content)
        value = decoded.get(key, _MISSING)
        if value is _MISSING:
            value = _value(typ, content, strings)
            if len(decoded) < 10_000:  # a keyed sheet holds few distinct cells; a list, many
                decoded[key] = value
        if value is not None:
            values[col] = value
    width = max(values) if values else 0
    return tuple(values.get(i) for i in range(1, width + 1))


_COLUMNS: dict[bytes, int] = {}


def _column_of(letters: bytes) -> int:
    n = _COLUMNS[letters] = _column(letters.decode())
    return n


def _value(typ: bytes, content: bytes, strings: list[str]) -> Any:
    if typ == b"inlineStr":
        inner = _PHONETIC.sub(b"", content)
        raw = b"".join(x.group(1) for x in _T.finditer(inner))
        return _text(raw) if raw else None
    v = _V.search(content)
    if v is None or not v.group(1):
        return None
    raw_text = _text(v.group(1))
    if typ == b"s":
        return strings[int(raw_text)]
    if typ in (b"n", b""):
        return _number(raw_text)
    if typ == b"b":
        return raw_text == "1"
    return raw_text  # str (formula result), e (error code), d (ISO date)


_MISSING = object()


class _Cell(TypedDict):
    """The cell the expat callbacks are inside: its column, t= type and text so far."""

    col: int
    type: str
    text: str | None


def _rows_expat(
    z: zipfile.ZipFile, member: IO[bytes], strings: list[str]
) -> Iterator[tuple[Any, ...]]:
    """The general path: expat callbacks per element (about 10 s for 750,000 cells)."""
    ready: list[tuple[Any, ...]] = []
    row: dict[int, Any] = {}
    cell: _Cell = {"col": 0, "type": "n", "text": None}
    pos = {"row": 0, "col": 0}
    text: list[str] = []
    collecting = {"on": False}
    tag_c, tag_v, tag_t, tag_row, tag_is = (f"{MAIN} {t}" for t in ("c", "v", "t", "row", "is"))

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == tag_c:
            ref = attrs.get("r")
            if ref:
                m = _REF.match(ref)
                col = _column(m.group(1)) if m else pos["col"] + 1
            else:
                col = pos["col"] + 1
            pos["col"] = col
            cell["col"] = col
            cell["type"] = attrs.get("t", "n")
            cell["text"] = None
        elif name == tag_v or (name == tag_t and cell["type"] == "inlineStr"):
            text.clear()
            collecting["on"] = True
        elif name == tag_row:
            r = attrs.get("r")
            number = int(r) if r else pos["row"] + 1
            # Rows the file leaves out are empty rows: keep the numbering Excel shows.
            for _ in range(pos["row"] + 1, number):
                ready.append(())
            pos["row"] = number
            pos["col"] = 0
            row.clear()
        elif name == tag_is:
            cell["text"] = ""

    def end(name: str) -> None:
        if name == tag_v:
            cell["text"] = "".join(text)
            collecting["on"] = False
        elif name == tag_t and collecting["on"]:
            cell["text"] = (cell["text"] or "") + "".join(text)
            collecting["on"] = False
        elif name == tag_c:
            raw, typ = cell["text"], cell["type"]
            if raw is None or raw == "":
                return
            if typ == "s":
                value: Any = strings[int(raw)]
            elif typ == "n":
                value = _number(raw)
            elif typ == "b":
                value = raw == "1"
            else:  # str (formula result), inlineStr, e (error code), d (ISO date)
                value = raw
            row[cell["col"]] = value
        elif name == tag_row:
            width = max(row) if row else 0
            ready.append(tuple(row.get(i) for i in range(1, width + 1)))

    def chars(data: str) -> None:
        if collecting["on"]:
            text.append(data)

    p = _parser()
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    try:
        with member:
            while True:
                chunk = member.read(CHUNK)
                p.Parse(chunk, not chunk)
                if ready:
                    yield from ready
                    ready.clear()
                if not chunk:
                    break
    except (expat.ExpatError, IndexError, ValueError, zipfile.BadZipFile) as exc:
        raise XlsxError(str(exc)) from exc
    finally:
        z.close()
