"""The streaming .xlsx reader behind ballot imports: its fast path (regular expressions over
rows) must read exactly what its general path (expat) and openpyxl read."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from core import xlsx_stream as xs
from tests.conftest import GOLDEN


def both(source) -> tuple[list, list]:
    z = zipfile.ZipFile(source)
    _title, path, strings_path = xs._first_sheet(z)
    strings = xs._shared_strings(z, strings_path)
    fast = list(xs._rows_fast(z, z.open(path), strings))
    z = zipfile.ZipFile(source)
    slow = list(xs._rows_expat(z, z.open(path), strings))
    return fast, slow


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


def handmade(sheet_xml: str, strings_xml: str | None = None) -> io.BytesIO:
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
    assert xs.open_first_sheet(sheet_data).height == 4


def test_a_dtd_is_refused():
    sheet = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row><c t="inlineStr"><is><t>&a;</t></is></c></row></sheetData></worksheet>'
    )
    with pytest.raises(xs.XlsxError):
        list(xs.open_first_sheet(handmade(sheet)).rows)


def test_unusual_xml_takes_the_general_path():
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><!-- keyed by clerk 3 --><row r="1"><c r="A1" t="inlineStr"><is><t>'
        "<![CDATA[满意</c>]]></t></is></c></row></sheetData></worksheet>"
    )
    rows = list(xs.open_first_sheet(handmade(sheet)).rows)
    assert rows == [("满意</c>",)]


def test_broken_xml_is_an_error_not_a_partial_read():
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v>'
    )
    with pytest.raises(xs.XlsxError):
        xs.open_first_sheet(handmade(sheet))
