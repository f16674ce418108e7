"""A streaming reader for the worksheets of an .xlsx file, for big keyed sheets (the parts of
the file are found, and the reader used, by core/spreadsheets.py).

openpyxl's read-only mode streams too, but builds a cell object per value: 11,436 ballots ×
66 units took forty seconds. This reader hands expat's C parser the sheet's XML in chunks
and keeps only one row at a time (plus the shared-strings table, which holds each distinct
text once: a few dozen labels in a keyed sheet), so memory stays flat however long the
sheet, and the same file reads in a few seconds.

It reads values only (as openpyxl's data_only): text, numbers, booleans, error codes and the
cached results of formulas; a formula saved without its result is refused (it would read as
empty: an abstention on a ballot). Number formats are not applied (a date stays a serial
number), which is right for ballots: serials, labels and names.

An upload is not to be trusted: all it could make the reader do is bounded, and checked
before anything is allocated for it (Excel's limits on rows and columns, or fewer rows if the
caller says, the text of a cell, the XML of a row or a tag, the total work). A DTD is refused,
so entity tricks (billion laughs, external entities) cannot run. A refusal is an XlsxError
with a message for people naming the sheet, row and column if any, never a server path.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import reduce
from itertools import repeat
from typing import IO, Any, NoReturn, TypedDict
from xml.parsers import expat

from django.utils.translation import gettext as _

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CHUNK = 1 << 16

EXCEL_MAX_ROWS = 1_048_576  # Excel's own limits: no sheet saved by Excel goes beyond them
EXCEL_MAX_COLUMNS = 16_384  # column XFD
MAX_CELL_CHARS = 32_767  # the most text Excel keeps in one cell
# The XML of one row: 16,384 cells of 64 bytes, or ten cells of Excel's longest text.
MAX_ROW_BYTES = 1 << 20
# The total work of one read, in cells: rows (filled-in empty ones too), cells read, positions
# handed over (padding included) and, on the general path, every element. The 万人 bench
# sheet (788,000 values) spends 1.6 million on the fast path, 3.2 million on the general one;
# a read refused here has spent seconds (some 5 s on the fast path, 8 on the general one, on
# the 2-core bench machine), not minutes.
MAX_CELLS = 4_000_000
# The XML of one sheet, declared (the zip module stops at the declared size): the check
# pass reads it whole at some 50 MB/s, before any row. The 万人 bench sheet is 43 MB.
MAX_SHEET_BYTES = 256 << 20
MAX_SHARED_STRINGS = EXCEL_MAX_ROWS
MAX_SHARED_CHARS = 16 << 20
MAX_SMALL_PART = 16 << 20  # workbook.xml, its relationships, [Content_Types].xml


class XlsxError(Exception):
    """A file refused: why, for people, and where (sheet, row, column) when known."""

    def __init__(
        self, message: str, sheet: str = "", row: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.message, self.sheet, self.row, self.column = message, sheet, row, column


@dataclass
class Budget:
    """What one read may do: rows per sheet, and work in all (shared by a workbook's sheets)."""

    max_rows: int = EXCEL_MAX_ROWS
    max_cells: int = MAX_CELLS
    spent: int = 0

    def spend(self, n: int, sheet: str) -> None:
        self.spent += n
        if self.spent > self.max_cells:
            raise XlsxError(
                _("表格过大(要读的单元格超过 %(n)d 个),拒绝读取") % {"n": self.max_cells}, sheet
            )


def _parser(part: str) -> expat.XMLParserType:
    p = expat.ParserCreate(namespace_separator=" ")

    # NoReturn (it always raises) also fits handlers typed to return int.
    def refuse(*_args: Any) -> NoReturn:
        raise XlsxError(
            _("文件含有 DTD 或实体声明(%(part)s),可能是恶意构造的文件,拒绝读取") % {"part": part}
        )

    p.StartDoctypeDeclHandler = refuse
    p.EntityDeclHandler = refuse
    p.ExternalEntityRefHandler = refuse
    p.buffer_text = True
    return p


def _run(chunk: bytes, run: int, part: str) -> int:
    """The bytes since the last ">", after `chunk`: more than MAX_ROW_BYTES is a tag or a text
    no genuine part holds (an attribute of a megabyte), refused before expat buffers it."""
    first = chunk.find(b">")
    run += len(chunk) if first < 0 else first  # the run going on, or ending in this chunk
    if run > MAX_ROW_BYTES:  # (runs within one chunk are shorter than the chunk)
        message = _("文件中的 %(part)s 有超过 %(n)d 字节的标记或文字,拒绝读取")
        raise XlsxError(message % {"part": part, "n": MAX_ROW_BYTES})
    return run if first < 0 else len(chunk) - chunk.rfind(b">") - 1


def _broken(part: str, exc: Exception) -> XlsxError:
    if isinstance(exc, XlsxError):
        return exc
    if isinstance(exc, expat.ExpatError):
        message = _("文件已损坏:%(part)s 第 %(line)d 行不是有效的 XML")
        return XlsxError(message % {"part": part, "line": exc.lineno})
    return XlsxError(_("文件已损坏,或不是 .xlsx 文件(%(part)s)") % {"part": part})


def parse_part(
    z: zipfile.ZipFile,
    part: str,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    chars: Callable[[str], None] | None = None,
    limit: int = MAX_SMALL_PART,
    every_chunk: Callable[[], None] | None = None,
) -> None:
    """Parse one part in chunks; a part declared bigger than `limit` is refused unread (the
    zip module stops at the declared size, so the declaration cannot lie)."""
    try:
        if z.getinfo(part).file_size > limit:
            raise XlsxError(_("文件中的 %(part)s 过大,拒绝读取") % {"part": part})
        p = _parser(part)
        p.StartElementHandler = start
        if end is not None:
            p.EndElementHandler = end
        if chars is not None:
            p.CharacterDataHandler = chars
        with z.open(part) as f:
            run = 0
            while chunk := f.read(CHUNK):
                run = _run(chunk, run, part)
                p.Parse(chunk, False)
                if every_chunk is not None:
                    every_chunk()
            p.Parse(b"", True)
    except (KeyError, zipfile.BadZipFile, expat.ExpatError, XlsxError, OSError) as exc:
        raise _broken(part, exc) from exc


def shared_strings(z: zipfile.ZipFile, path: str | None, budget: Budget) -> list[str]:
    if path is None or path not in z.NameToInfo:
        return []
    out: list[str] = []
    buf: list[str] = []
    state = {"in_t": False, "phonetic": 0, "chars": 0, "si": 0, "elements": 0}

    def start(name: str, _attrs: dict[str, str]) -> None:
        state["elements"] += 1
        if name == f"{MAIN} si":
            buf.clear()
            state["si"] = 0
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
            if len(out) >= MAX_SHARED_STRINGS or state["chars"] > MAX_SHARED_CHARS:
                raise XlsxError(_("共享字符串表过大,拒绝读取"))
            out.append("".join(buf))

    def chars(text: str) -> None:
        if state["in_t"]:
            state["si"] += len(text)
            state["chars"] += len(text)
            if state["si"] > MAX_CELL_CHARS:
                message = _("共享字符串表中有超过 %(n)d 个字符的文字(Excel 的上限)")
                raise XlsxError(message % {"n": MAX_CELL_CHARS})
            buf.append(text)

    def every_chunk() -> None:
        budget.spend(state["elements"], "")
        state["elements"] = 0

    parse_part(z, path, start, end, chars, limit=1 << 62, every_chunk=every_chunk)
    return out


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        value = float(text)
        return int(value) if value.is_integer() and "E" not in text.upper() else value


# Markers of XML the fast path does not interpret (writers of .xlsx do not produce them inside
# a sheet, but a file is not to be trusted): with any of them the general path reads it.
# Whitespace before ">" may end an end tag ("</row >"), which the fast path would not find.
_UNUSUAL = (b"<![CDATA[", b"<!--", b"<?", b"<!", b" >", b"\n>", b"\t>", b"\r>")
_ATTR_R = re.compile(rb"""(?:^|\s)r=["']([^"']*)["']""")
# `(?<!/)>`: a self-closing <v/> or <t/> is not the start of a value (else the lazy .*? would
# run on to the end of the row for each one: quadratic time).
_V = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?(?<!/)>(.*?)</(?:\w+:)?v>", re.S)
_V_ANY = re.compile(rb"<(?:\w+:)?v[\s/>]")
_F = re.compile(rb"<(?:\w+:)?f[\s/>]")
_T = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?(?<!/)>(.*?)</(?:\w+:)?t>", re.S)
_PHONETIC = re.compile(rb"<(?:\w+:)?rPh\b(?:[^>]*/>|.*?</(?:\w+:)?rPh>)", re.S)
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b[^>]*?(/?)>")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]{1,3}\d{1,7}:?[A-Z]{0,3}(\d{0,7})"')
_REF = re.compile(r"([A-Z]+)(\d+)")
_ENCODING = re.compile(rb"""encoding=["']([^"']*)["']""")
_CELL_PATTERNS: dict[bytes, re.Pattern[bytes]] = {}
_COLUMNS: dict[bytes, int] = {}  # at most 16,384 entries: only valid columns are kept
_MISSING = object()


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


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text


class _Cell(TypedDict):
    """The cell expat is in: column, t= type, text so far, whether it has an <f>, a <v>."""

    col: int
    type: str
    text: str | None
    size: int
    f: bool
    v: bool


class SheetReader:
    """One worksheet's rows, through the fast path or the general one, with every check."""

    def __init__(
        self, z: zipfile.ZipFile, title: str, part: str, strings: list[str], budget: Budget
    ) -> None:
        self.z, self.title, self.part, self.strings, self.budget = z, title, part, strings, budget
        self.last_row = self.last_column = 0  # of the cells holding a value, once read
        self.height = 0  # from the sheet's <dimension>, once check() has read it
        self.cell_re = _cell_pattern(b"")
        self.decoded: dict[tuple[bytes, bytes], Any] = {}  # (type, content): labels repeat

    def error(self, message: str, row: int | None = None, column: int | None = None) -> XlsxError:
        return XlsxError(message, self.title, row, column)

    def rows(self, plain: bool | None = None) -> Iterator[tuple[Any, ...]]:
        if plain is None:
            plain = self.check()
        member = self.z.open(self.part)
        try:
            yield from (self.fast(member) if plain else self.general(member))
        except (expat.ExpatError, zipfile.BadZipFile, OSError) as exc:
            raise _broken(self.part, exc) from exc
        finally:
            member.close()

    def check(self) -> bool:
        """Read the sheet once through expat with no callbacks (C speed): it must be
        well-formed XML without a DTD. True when the fast path may read it (none of _UNUSUAL
        inside)."""
        p = _parser(self.part)
        plain = True
        tail = b""
        run = 0
        try:
            if self.z.getinfo(self.part).file_size > MAX_SHEET_BYTES:
                raise self.error(
                    _("工作表的 XML 超过 %(n)d MB,拒绝读取") % {"n": MAX_SHEET_BYTES >> 20}
                )
            with self.z.open(self.part) as f:
                first = True
                while True:
                    chunk = f.read(CHUNK)
                    run = _run(chunk, run, self.part)
                    p.Parse(chunk, not chunk)
                    if not chunk:
                        break
                    window = tail + chunk
                    if first:
                        # <dimension> comes before the cells. The XML declaration <?xml ...?>
                        # opens the part: skip it. Another encoding than UTF-8 is expat's.
                        first = False
                        d = _DIMENSION.search(window)
                        self.height = int(d.group(1)) if d and d.group(1) else 0
                        end = window.find(b"?>") if window.startswith(b"<?xml") else -1
                        m = _ENCODING.search(window, 0, end)
                        if not window.startswith(b"<") or m and m.group(1).lower() != b"utf-8":
                            plain = False
                        window = window[end + 2 :] if end >= 0 else window
                    if plain and any(marker in window for marker in _UNUSUAL):
                        plain = False
                    tail = chunk[-8:]
        except (KeyError, zipfile.BadZipFile, expat.ExpatError, OSError) as exc:
            raise _broken(self.part, exc) from exc
        return plain

    def row_number(self, raw: str | None, prev: int) -> int:
        """The number of the row after row `prev`, from its r= (or the next one): rows must
        come in order, so the empty rows filled in between are at most max_rows in all."""
        if not raw:
            number = prev + 1
        elif raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) > 0:
            number = int(raw)
        else:
            raise self.error(_("行号“%(r)s”无效") % {"r": raw[:20]})
        if number <= prev:
            message = _("行号 %(n)d 出现在第 %(prev)d 行之后:行须按顺序排列")
            raise self.error(message % {"n": number, "prev": prev})
        if number > self.budget.max_rows:
            raise self.error(
                _("超过了行数上限(最多 %(max)d 行)") % {"max": self.budget.max_rows}, number
            )
        return number

    def column(self, letters: bytes, row: int) -> int:
        """A column from its letters, refused beyond XFD before anything is sized by it."""
        n = reduce(lambda n, ch: n * 26 + ch - 64, letters, 0) if len(letters) <= 3 else 0
        n = n or EXCEL_MAX_COLUMNS + 1  # no letters, or too many to count
        if n > EXCEL_MAX_COLUMNS:
            shown = letters[:10].decode() + ("…" if len(letters) > 10 else "")
            raise self.error(
                _("列“%(c)s”超出了 Excel 的列数上限(最多 %(max)d 列,到 XFD 列)")
                % {"c": shown or "?", "max": EXCEL_MAX_COLUMNS},
                row,
            )
        _COLUMNS[letters] = n
        return n

    def too_long(self, row: int | None) -> NoReturn:
        raise self.error(
            _("这一行的内容过大(XML 超过 %(n)d 字节),拒绝读取") % {"n": MAX_ROW_BYTES}, row
        )

    def no_cached_value(self, row: int, col: int) -> NoReturn:
        raise self.error(
            _("公式没有保存计算结果:请用 Excel 或 WPS 打开文件、保存后再上传,或改填数值"),
            row,
            col,
        )

    def cell_too_long(self, row: int, col: int) -> NoReturn:
        raise self.error(
            _("单元格的文字超过 %(n)d 个字符(Excel 的上限)") % {"n": MAX_CELL_CHARS}, row, col
        )

    def convert(self, typ: str, raw: str, row: int, col: int) -> Any:
        """A value from its t= type and text (the text of <v>, or of an inline string)."""
        if len(raw) > MAX_CELL_CHARS:
            self.cell_too_long(row, col)
        try:
            if typ == "s":
                index = int(raw)
                if index < 0:
                    raise IndexError(index)
                return self.strings[index]
            if typ in ("n", ""):
                return _number(raw)
        except (ValueError, IndexError) as exc:
            raise self.error(_("单元格的值“%(v)s”无效") % {"v": raw[:40]}, row, col) from exc
        if typ == "b":
            return raw == "1"
        return raw  # str (formula result), inlineStr, e (error code), d (ISO date)

    def fast(self, member: IO[bytes]) -> Iterator[tuple[Any, ...]]:
        """The common path, for sheets check() found well-formed and plain: rows are cut with
        bytes.find (C speed) and their cells read by one regular expression. Tested to give
        what general() gives, refusals included."""
        buf = b""
        prefix: bytes | None = None
        row_open = row_close = b""
        prev = 0
        resume = 0  # where the search for the end of an unfinished row goes on from
        pending: int | None = None  # the number of that row
        while True:
            # An unfinished row doubles the next read, so however long it is, it is copied
            # and searched a bounded number of times (linear time, never quadratic).
            chunk = member.read(max(CHUNK, len(buf)))
            buf += chunk
            if prefix is None:
                m = _SHEET_DATA.search(buf)
                if m is None:
                    if not chunk:
                        return
                    lt = buf.rfind(b"<")  # only the tag in progress may be <sheetData
                    buf = buf[lt:] if lt >= 0 else b""  # (no tag is over MAX_ROW_BYTES: _run)
                    continue
                if m.group(2):  # <sheetData/>: no rows at all
                    return
                prefix = m.group(1) or b""
                row_open, row_close = b"<" + prefix + b"row", b"</" + prefix + b"row>"
                self.cell_re = _cell_pattern(prefix)
                buf = buf[m.end() :]
            pos = 0
            while True:
                start = buf.find(row_open, pos)
                if start < 0:
                    pos = max(pos, len(buf) - len(row_open) + 1)
                    break
                head_end = buf.find(b">", start)
                if head_end < 0:
                    pos = start
                    break
                head = buf[start + len(row_open) : head_end]
                if head[:1] not in (b" ", b"/", b"\t", b"\n", b"\r", b""):
                    pos = head_end  # another element whose name starts with "row"
                    continue
                m = _ATTR_R.search(head)
                number = self.row_number(m.group(1).decode(errors="replace") if m else None, prev)
                if head.endswith(b"/"):
                    body, end = b"", head_end + 1
                else:
                    close = buf.find(row_close, max(head_end, resume))
                    if close < 0:  # the row goes on in the next chunk
                        resume, pending, pos = len(buf) - len(row_close) + 1, number, start
                        break
                    body, end = buf[head_end + 1 : close], close + len(row_close)
                if end - start > MAX_ROW_BYTES:  # a whole row may come in one (doubled) read
                    self.too_long(number)
                resume, pending = 0, None
                self.budget.spend(number - prev - 1, self.title)
                yield from repeat((), number - prev - 1)
                prev = number
                yield self.cells(body, number)
                pos = end
            if len(buf) - pos > MAX_ROW_BYTES:
                self.too_long(pending)
            buf = buf[pos:]
            resume = max(resume - pos, 0)
            if not chunk:
                return

    def cells(self, body: bytes, row: int) -> tuple[Any, ...]:
        values: dict[int, Any] = {}
        col = 0
        columns, decoded = _COLUMNS, self.decoded
        found = self.cell_re.findall(body)
        self.budget.spend(1 + len(found), self.title)
        for letters, typ, content in found:
            if letters:
                col = columns.get(letters) or self.column(letters, row)
            elif col == EXCEL_MAX_COLUMNS:
                self.column(b"XFE", row)
            else:
                col += 1
            if not content:
                continue
            key = (typ, content)
            value = decoded.get(key, _MISSING)
            if value is _MISSING:
                value = self.value(typ, content, row, col)
                # A keyed sheet holds few distinct cells; a list, many: keep short ones only.
                if len(decoded) < 10_000 and len(content) <= 256:
                    decoded[key] = value
            if value is not None:
                values[col] = value
        return self.handed(values, row)

    def handed(self, values: dict[int, Any], row: int) -> tuple[Any, ...]:
        width = max(values) if values else 0
        if width:
            self.budget.spend(width, self.title)
            self.last_row, self.last_column = row, max(self.last_column, width)
        return tuple(values.get(i) for i in range(1, width + 1))

    def value(self, typ: bytes, content: bytes, row: int, col: int) -> Any:
        if typ == b"inlineStr":
            inner = _PHONETIC.sub(b"", content)
            raw = b"".join(x.group(1) for x in _T.finditer(inner))
            return self.convert("inlineStr", _text(raw), row, col) if raw else None
        v = _V.search(content)
        if v is None or not v.group(1):
            # A formula's result is cached in <v>; an empty <v/> is an empty text only when
            # the formula says its result is text (t="str"), as Excel writes ="".
            if _F.search(content) and not (typ == b"str" and _V_ANY.search(content)):
                self.no_cached_value(row, col)
            return None
        return self.convert(typ.decode(), _text(v.group(1)), row, col)

    def general(self, member: IO[bytes]) -> Iterator[tuple[Any, ...]]:
        """The general path: expat callbacks per element (about 10 s for 750,000 cells)."""
        ready: list[tuple[Any, ...] | int] = []  # rows, and counts of empty rows between
        row: dict[int, Any] = {}
        cell: _Cell = {"col": 0, "type": "n", "text": None, "size": 0, "f": False, "v": False}
        pos = {"row": 0, "col": 0, "at": -1, "elements": 0, "phonetic": 0}
        text: list[str] = []
        collecting = {"on": False}
        tags = (f"{MAIN} {t}" for t in ("c", "v", "t", "row", "is", "f", "rPh"))
        tag_c, tag_v, tag_t, tag_row, tag_is, tag_f, tag_rph = tags
        p = _parser(self.part)

        def start(name: str, attrs: dict[str, str]) -> None:
            pos["elements"] += 1
            if pos["at"] >= 0 and p.CurrentByteIndex - pos["at"] > MAX_ROW_BYTES:
                self.too_long(pos["row"])
            if name == tag_c:
                ref = attrs.get("r")
                m = _REF.match(ref) if ref else None
                if m:
                    letters = m.group(1).encode()
                    col = _COLUMNS.get(letters) or self.column(letters, pos["row"])
                elif pos["col"] == EXCEL_MAX_COLUMNS:
                    col = self.column(b"XFE", pos["row"])
                else:
                    col = pos["col"] + 1
                pos["col"] = col
                cell["col"], cell["type"], cell["text"] = col, attrs.get("t", "n"), None
                cell["size"], cell["f"], cell["v"] = 0, False, False
            elif name == tag_v or (
                name == tag_t and cell["type"] == "inlineStr" and not pos["phonetic"]
            ):
                cell["v"] = cell["v"] or name == tag_v
                text.clear()
                collecting["on"] = True
            elif name == tag_row:
                number = self.row_number(attrs.get("r"), pos["row"])
                # Rows the file leaves out are empty rows: keep the numbering Excel shows.
                if number > pos["row"] + 1:
                    self.budget.spend(number - pos["row"] - 1, self.title)
                    ready.append(number - pos["row"] - 1)
                pos.update(row=number, col=0, at=p.CurrentByteIndex)
                row.clear()
            elif name == tag_is:
                cell["text"] = ""
            elif name == tag_f:
                cell["f"] = True
            elif name == tag_rph:
                pos["phonetic"] += 1

        def end(name: str) -> None:
            if name == tag_v:
                cell["text"] = "".join(text)
                collecting["on"] = False
            elif name == tag_t and collecting["on"]:
                cell["text"] = (cell["text"] or "") + "".join(text)
                collecting["on"] = False
            elif name == tag_rph:
                pos["phonetic"] -= 1
            elif name == tag_c:
                raw, typ = cell["text"], cell["type"]
                if not raw:
                    if cell["f"] and typ != "inlineStr" and not (typ == "str" and cell["v"]):
                        self.no_cached_value(pos["row"], cell["col"])
                    return
                row[cell["col"]] = self.convert(typ, raw, pos["row"], cell["col"])
            elif name == tag_row:
                self.budget.spend(1 + pos["elements"], self.title)
                pos.update(elements=0, at=-1)
                ready.append(self.handed(row, pos["row"]))

        def chars(data: str) -> None:
            if collecting["on"]:
                cell["size"] += len(data)
                if cell["size"] > MAX_CELL_CHARS:
                    self.cell_too_long(pos["row"], cell["col"])
                text.append(data)

        p.StartElementHandler = start
        p.EndElementHandler = end
        p.CharacterDataHandler = chars
        while True:
            chunk = member.read(CHUNK)
            p.Parse(chunk, not chunk)
            self.budget.spend(pos["elements"], self.title)
            pos["elements"] = 0
            for item in ready:
                yield from repeat((), item) if isinstance(item, int) else (item,)
            ready.clear()
            if not chunk:
                break
