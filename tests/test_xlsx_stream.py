"""The streaming .xlsx reader behind ballot imports: its fast path (regular expressions over
rows) must read exactly what its general path (expat) and openpyxl read."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from openpyxl.cell import WriteOnlyCell

from core import xlsx_stream as xs
from core.spreadsheets import SpreadsheetError, read_book, read_first_sheet
from tests.conftest import GOLDEN


def reader(source) -> tuple[zipfile.ZipFile, xs.SheetReader]:
    z = zipfile.ZipFile(source)
    book = read_book(z)
    title, part, _type = next(s for s in book.sheets if s[2].endswith("/worksheet"))
    budget = xs.Budget()
    return z, xs.SheetReader(z, title, part, xs.shared_strings(z, book.strings, budget), budget)


def both(source) -> tuple[list, list]:
    z, fast_reader = reader(source)
    fast = list(fast_reader.fast(z.open(fast_reader.part)))
    z, slow_reader = reader(source)
    slow = list(slow_reader.general(z.open(slow_reader.part)))
    return fast, slow


def refusals(source) -> tuple[str, str]:
    """What each path says when it refuses the sheet."""
    said = []
    for path in ("fast", "general"):
        z, r = reader(source)
        with pytest.raises(xs.XlsxError) as exc:
            list(getattr(r, path)(z.open(r.part)))
        said.append(f"{exc.value.row}:{exc.value.column}:{exc.value.message}")
    return said[0], said[1]


def with_openpyxl(source) -> list[tuple]:
    wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
    rows = [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    # openpyxl pads every row to the sheet's width; the stream stops at the last value.
    out = []
    for r in rows:
        r = list(r)
        while r and r[-1] is None:
            r.pop()
        out.append(tuple(r))
    return out


def saved(wb) -> io.BytesIO:
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def tricky_workbook(write_only: bool) -> io.BytesIO:
    wb = openpyxl.Workbook(write_only=write_only)
    ws = wb.create_sheet("评议表") if write_only else wb.active
    rows = [
        [None, None, "编号", "甲局"],
        [],
        [None, None, "000001", "满意"],
        [None, None, 100002, "满意,不满意"],
        [None, None, 3.5, True, False, "A&B <c> \"q\" 'a'"],
        [None, None, "  spaced  ", None, None, None, "far"],
        ["=not a formula, text"],
    ]
    if write_only:  # text that looks like a formula (saved as a formula, it has no result)
        text = WriteOnlyCell(ws, value="=not a formula, text")
        text.data_type = "s"
        rows[-1] = [text]
    for r in rows:
        ws.append(r)
    if not write_only:
        ws["A7"].data_type = "s"
    return saved(wb)


@pytest.mark.parametrize("write_only", [False, True], ids=["shared-strings", "inline-strings"])
def test_fast_and_general_paths_and_openpyxl_agree(write_only):
    data = tricky_workbook(write_only).getvalue()
    fast, slow = both(io.BytesIO(data))
    assert fast == slow
    assert fast == with_openpyxl(io.BytesIO(data))
    assert fast[0] == (None, None, "编号", "甲局") and fast[1] == ()
    assert fast[4] == (None, None, 3.5, True, False, "A&B <c> \"q\" 'a'")


@pytest.mark.parametrize("name", ["ballots.xlsx", "units.xlsx"])
@pytest.mark.parametrize("preset", ["qianren", "wanren", "zhengfeng"])
def test_the_golden_files_read_alike(preset, name):
    path = GOLDEN / preset / name
    if not path.exists():
        pytest.skip("golden files not beside the project")
    fast, slow = both(path)
    assert fast == slow == with_openpyxl(path)


def handmade(sheet_xml: str | bytes, strings_xml: str | None = None) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "xl/workbook.xml",
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="表一" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        rels = (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        )
        if strings_xml is not None:
            rels += (
                '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
                '2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/>'
            )
            z.writestr("xl/sharedStrings.xml", strings_xml)
        z.writestr("xl/_rels/workbook.xml.rels", rels + "</Relationships>")
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    buf.seek(0)
    return buf


NS = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def test_prefixes_rich_text_entities_and_missing_positions():
    strings = (
        f"<x:sst {NS}><x:si><x:t>满意</x:t></x:si>"
        "<x:si><x:r><x:t>基本</x:t></x:r><x:r><x:t>满意</x:t></x:r>"
        '<x:rPh sb="0" eb="1"><x:t>きほん</x:t></x:rPh></x:si></x:sst>'
    )
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><x:worksheet {NS}><x:dimension ref="A1:D4"/>'
        "<x:sheetData>"
        '<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c t="s" r="C1"><x:v>1</x:v></x:c>'
        "<x:c><x:v>7</x:v></x:c></x:row>"
        '<x:row r="3" spans="1:4"/>'
        '<x:row><x:c r="B4" t="inlineStr"><x:is><x:t xml:space="preserve"> a&amp;b&#x4E00; </x:t>'
        '</x:is></x:c><x:c r="C4" t="str"><x:f>A1&amp;"x"</x:f><x:v>满意x</x:v></x:c>'
        '<x:c r="D4" t="e"><x:v>#N/A</x:v></x:c><x:c r="E4" t="b"><x:v>0</x:v></x:c>'
        '<x:c r="F4" s="3"/><x:c r="G4" t="n"><x:v>1E3</x:v></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    )
    sheet_data = handmade(sheet, strings)
    fast, slow = both(sheet_data)
    assert fast == slow
    assert fast == [
        ("满意", None, "基本满意", 7),
        (),
        (),
        (None, " a&b一 ", "满意x", "#N/A", False, None, 1000.0),
    ]
    sheet_data.seek(0)
    assert read_first_sheet(sheet_data).height == 4


def test_a_dtd_is_refused():
    sheet = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row><c t="inlineStr"><is><t>&a;</t></is></c></row></sheetData></worksheet>'
    )
    with pytest.raises(SpreadsheetError) as exc:
        list(read_first_sheet(handmade(sheet)).rows)
    assert "文件含有 DTD 或实体声明(xl/worksheets/sheet1.xml)" in str(exc.value)


def test_unusual_xml_takes_the_general_path():
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><!-- keyed by clerk 3 --><row r="1"><c r="A1" t="inlineStr"><is><t>'
        "<![CDATA[满意</c>]]></t></is></c></row></sheetData></worksheet>"
    )
    rows = list(read_first_sheet(handmade(sheet)).rows)
    assert rows == [("满意</c>",)]


def test_broken_xml_is_an_error_not_a_partial_read():
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v>'
    )
    with pytest.raises(SpreadsheetError) as exc:
        read_first_sheet(handmade(sheet))
    assert "第 1 行不是有效的 XML" in str(exc.value)


W = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def test_end_tags_with_whitespace_take_the_general_path():
    """`</row >` is well-formed: the fast path, looking for `</row>`, lost every row after
    it (and searched the rest of the sheet again at every chunk)."""
    sheet = (
        f'{W}<sheetData><row r="1"><c r="A1"><v>1</v></c ></row ><row r="2"><c r="A2"><v>2</v>'
        "</c></row></sheetData></worksheet>"
    )
    z, r = reader(handmade(sheet))
    assert r.check() is False
    assert list(read_first_sheet(handmade(sheet)).rows) == [(1,), (2,)]


def test_another_encoding_takes_the_general_path():
    sheet = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        f'{W}<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>caf\xe9</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode("latin-1")
    z, r = reader(handmade(sheet))
    assert r.check() is False
    assert list(read_first_sheet(handmade(sheet)).rows) == [("café",)]


def test_self_closing_values_and_phonetics_read_alike():
    """A self-closing <v/> is no value: the fast path took it for the start of one and read
    on to the next </v>. Phonetic guides are no part of an inline string on either path."""
    sheet = (
        f'{W}<sheetData><row r="1"><c r="A1"><v xml:space="preserve"/><v>5</v></c>'
        '<c r="B1" t="inlineStr"><is><t>基本</t><rPh sb="0" eb="1"><t>きほん</t></rPh>'
        '<rPh sb="1" eb="2"/><t>满意</t></is></c></row></sheetData></worksheet>'
    )
    fast, slow = both(handmade(sheet))
    assert fast == slow == [(5, "基本满意")]


@pytest.mark.parametrize(
    "cell, said",
    [
        ('<c r="C2"><v>abc</v></c>', "2:3:单元格的值“abc”无效"),
        ('<c r="C2" t="s"><v>7</v></c>', "2:3:单元格的值“7”无效"),
        ('<c r="C2" t="s"><v>-1</v></c>', "2:3:单元格的值“-1”无效"),
        ('<c r="C2"><f>A1*2</f></c>', "2:3:公式没有保存计算结果"),
        ('<c r="C2"><f>A1*2</f><v/></c>', "2:3:公式没有保存计算结果"),
        ('<c r="C2" t="str"><f>A1</f></c>', "2:3:公式没有保存计算结果"),
        ('<c r="XFE2"><v>1</v></c>', "2:None:列“XFE”超出了 Excel 的列数上限"),
        ('<c r="AAAA2"><v>1</v></c>', "2:None:列“AAAA”超出了 Excel 的列数上限"),
    ],
)
def test_both_paths_refuse_a_bad_cell_alike(cell, said):
    """The fast path let a bad number or shared-string index out as ValueError/IndexError
    (a server error), and read -1 as the last shared string."""
    strings = f'<sst xmlns="{xs.MAIN}"><si><t>满意</t></si></sst>'
    sheet = f'{W}<sheetData><row r="1"/><row r="2">{cell}</row></sheetData></worksheet>'
    fast, general = refusals(handmade(sheet, strings))
    assert fast == general
    assert fast.startswith(said)


@pytest.mark.parametrize(
    "rows, said",
    [
        ('<row r="x1"/>', "None:None:行号“x1”无效"),
        ('<row r="0"/>', "None:None:行号“0”无效"),
        ('<row r="3"/><row r="3"/>', "None:None:行号 3 出现在第 3 行之后"),
        ('<row r="1048577"/>', "1048577:None:超过了行数上限(最多 1048576 行)"),
    ],
)
def test_both_paths_refuse_a_bad_row_number_alike(rows, said):
    fast, general = refusals(handmade(f"{W}<sheetData>{rows}</sheetData></worksheet>"))
    assert fast == general
    assert fast.startswith(said)


def test_a_cell_past_column_xfd_without_r_is_refused():
    cells = "<c><v>1</v></c>" * (xs.EXCEL_MAX_COLUMNS + 1)
    fast, general = refusals(handmade(f"{W}<sheetData><row>{cells}</row></sheetData></worksheet>"))
    assert fast == general == "1:None:列“XFE”超出了 Excel 的列数上限(最多 16384 列,到 XFD 列)"
