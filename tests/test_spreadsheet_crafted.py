"""Crafted .xlsx files (issue 15's black-box probe, items 5 and 11): each is refused by both
readers of core/spreadsheets.py (the stream behind the ballot import, openpyxl behind the
units and representatives imports) with a Chinese message naming the cell where there is one
and no path of the server, before the reader allocates for it; sheet names with apostrophes
are read. The files are written part by part with zipfile; bench/crafted.py times them."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from core import xlsx_stream as xs
from core.spreadsheets import (
    SpreadsheetError,
    iter_rows,
    open_workbook,
    read_first_sheet,
)

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def xlsx(
    sheet_xml: bytes | str,
    name: str = "评议表",
    styles: str | None = None,
    strings: str | None = None,
    more_sheets: str = "",
) -> bytes:
    """A workbook of one sheet, written part by part (`name` as it stands in workbook.xml,
    escaped; `more_sheets` goes into workbook.xml after it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{MIME}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{MIME}.worksheet+xml"/>'
            + (
                f'<Override PartName="/xl/styles.xml" ContentType="{MIME}.styles+xml"/>'
                if styles
                else ""
            )
            + (
                f'<Override PartName="/xl/sharedStrings.xml" ContentType="{MIME}.sharedStrings+xml"/>'
                if strings
                else ""
            )
            + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
            f'Type="{DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{DOC_REL}"><sheets>'
            f'<sheet name="{name}" sheetId="1" r:id="rId1"/>{more_sheets}</sheets></workbook>',
        )
        rels = (
            f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
            f'Type="{DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        )
        if styles:
            rels += f'<Relationship Id="rId2" Type="{DOC_REL}/styles" Target="styles.xml"/>'
            z.writestr("xl/styles.xml", styles)
        if strings:
            rels += f'<Relationship Id="rId3" Type="{DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            z.writestr("xl/sharedStrings.xml", strings)
        z.writestr("xl/_rels/workbook.xml.rels", rels + "</Relationships>")
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buf.getvalue()


def sheet(rows: bytes | str, head: str = "") -> bytes:
    body = rows.encode() if isinstance(rows, str) else rows
    return (
        (
            f'<?xml version="1.0" encoding="UTF-8"?>{head}<worksheet xmlns="{MAIN_NS}"><sheetData>'
        ).encode()
        + body
        + b"</sheetData></worksheet>"
    )


HEADER = '<row r="1"><c r="A1" t="inlineStr"><is><t>编号</t></is></c></row>'
# 80,000 cells in one row, 1.8 MB of XML (the most one row may hold is 1 MB).
MANY_CELLS = b'<c r="A1"><v>1</v></c>' * 80_000
DTD = (
    '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
    '<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]>'
)
XXE = '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'

# name: (the file, what the refusal says). The first four are the probe's denial of service.
PROBE: dict[str, tuple[Callable[[], bytes], str]] = {
    "wide-column.xlsx": (
        lambda: xlsx(sheet(HEADER + '<row r="2"><c r="ZZZZZZZ2"><v>1</v></c></row>')),
        "工作表“评议表”第2行:列“ZZZZZZZ”超出了 Excel 的列数上限(最多 16384 列,到 XFD 列)",
    ),
    "huge-row-number.xlsx": (
        lambda: xlsx(sheet(HEADER + '<row r="2000000000"><c r="A2000000000"><v>1</v></c></row>')),
        "工作表“评议表”第2000000000行:超过了行数上限(最多 1048576 行)",
    ),
    "huge-row.xlsx": (
        lambda: xlsx(sheet(b'<row r="1">' + MANY_CELLS + b"</row>")),
        "工作表“评议表”第1行:这一行的内容过大(XML 超过 1048576 字节),拒绝读取",
    ),
    # Well-formed, but "</row >" hid the row's end from the fast path: it kept the whole
    # sheet as one unfinished row, searched again from its start at every chunk.
    "unclosed-row.xlsx": (
        lambda: xlsx(sheet(b'<row r="1">' + MANY_CELLS + b"</row >")),
        "工作表“评议表”第1行:这一行的内容过大(XML 超过 1048576 字节),拒绝读取",
    ),
}
CRAFTED: dict[str, tuple[Callable[[], bytes], str]] = {
    **PROBE,
    "formula-without-value.xlsx": (
        lambda: xlsx(
            sheet(HEADER + '<row r="2"><c r="A2"><v>7</v></c><c r="D2"><f>1+1</f></c></row>')
        ),
        "工作表“评议表”第2行第D列:公式没有保存计算结果",
    ),
    "xxe.xlsx": (
        lambda: xlsx(
            sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>&x;</t></is></c></row>', XXE)
        ),
        "无法读取 .xlsx 文件:文件含有 DTD 或实体声明(xl/worksheets/sheet1.xml),可能是恶意构造的文件",
    ),
    "billion-laughs.xlsx": (
        lambda: xlsx(
            sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>&g;</t></is></c></row>', DTD)
        ),
        "无法读取 .xlsx 文件:文件含有 DTD 或实体声明(xl/worksheets/sheet1.xml),可能是恶意构造的文件",
    ),
}


def stream_all(source: io.BytesIO | Path, **limits: int) -> list[tuple]:
    return list(read_first_sheet(source, **limits).rows)


def openpyxl_all(source: io.BytesIO | Path, **limits: int) -> list[tuple]:
    wb = open_workbook(source, **limits)
    try:
        return [row for ws in wb.worksheets for row in iter_rows(ws)]
    finally:
        wb.close()


READERS = {"stream": stream_all, "openpyxl": openpyxl_all}


def values(reader: str, data: bytes) -> list[tuple]:
    """The rows holding a value, as each reader hands them over."""
    rows = READERS[reader](io.BytesIO(data))
    return [r[1] for r in rows] if reader == "openpyxl" else [r for r in rows if r]


def refusal(read: Callable[..., object], data: bytes, **limits: int) -> str:
    with pytest.raises(SpreadsheetError) as exc:
        read(io.BytesIO(data), **limits)
    return str(exc.value)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("name", CRAFTED)
def test_a_crafted_file_is_refused_naming_the_cell(name, reader):
    build, expected = CRAFTED[name]
    message = refusal(READERS[reader], build())
    assert expected in message
    assert "/etc/passwd" not in message and "file:" not in message


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("name", PROBE)
def test_the_probe_is_refused_in_bounded_memory(name, reader):
    build, expected = PROBE[name]
    data = build()
    tracemalloc.start()
    try:
        message = refusal(READERS[reader], data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert expected in message
    assert peak < 200 * 1024 * 1024, f"{name}: {peak / 2**20:.0f} MB"


def test_a_hostile_part_only_openpyxl_reads_is_refused_without_the_servers_path(tmp_path):
    """openpyxl (through defusedxml) stops at the entity in styles.xml and says so in English
    with the file's path; the refusal says it in Chinese, with no path."""
    path = tmp_path / "upload-3f2a.xlsx"
    styles = f'<?xml version="1.0"?>{XXE}<styleSheet xmlns="{MAIN_NS}"><numFmts>&x;</numFmts></styleSheet>'
    path.write_bytes(xlsx(sheet(HEADER), styles=styles))
    with pytest.raises(SpreadsheetError) as exc:
        open_workbook(path)
    message = str(exc.value)
    assert message == "无法读取 .xlsx 文件:文件含有 DTD 或实体声明,可能是恶意构造的文件,拒绝读取"
    assert str(tmp_path) not in message and "upload-3f2a" not in message
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(xlsx(sheet(HEADER), styles="<styleSheet><numFmts></styleSheet>"))
    with pytest.raises(SpreadsheetError) as exc:
        open_workbook(broken)
    assert str(exc.value) == "无法读取 .xlsx 文件:文件已损坏,或不是 .xlsx 文件"


@pytest.mark.parametrize("reader", READERS)
def test_a_campaign_sized_row_limit_is_kept(reader):
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 6))
    data = xlsx(sheet(rows))
    assert len(READERS[reader](io.BytesIO(data), max_rows=5)) == 5
    message = refusal(READERS[reader], data, max_rows=4)
    assert message == "工作表“评议表”第5行:超过了行数上限(最多 4 行)"
    # Without r=, the next row is the one after: counted all the same.
    plain = xlsx(sheet("<row><c><v>1</v></c></row>" * 5))
    assert "第5行:超过了行数上限(最多 4 行)" in refusal(READERS[reader], plain, max_rows=4)


@pytest.mark.parametrize("reader", READERS)
def test_the_total_work_is_bounded(reader):
    rows = "".join(f'<row r="{n}"><c r="J{n}"><v>{n}</v></c></row>' for n in range(1, 101))
    data = xlsx(sheet(rows))
    assert len(READERS[reader](io.BytesIO(data), max_cells=10_000)) == 100
    assert "表格过大" in refusal(READERS[reader], data, max_cells=1_000)


@pytest.mark.parametrize("reader", READERS)
def test_rows_out_of_order_are_refused(reader):
    """Else a file could repeat rows 1,048,576 and 1 to have a million empty rows filled in
    again and again."""
    rows = '<row r="5"><c r="A5"><v>1</v></c></row><row r="3"><c r="A3"><v>1</v></c></row>'
    message = refusal(READERS[reader], xlsx(sheet(rows)))
    assert message == "工作表“评议表”:行号 3 出现在第 5 行之后:行须按顺序排列"


@pytest.mark.parametrize("reader", READERS)
def test_one_cells_text_is_bounded(reader):
    long = "满" * 32_768
    rows = f'<row r="1"><c r="B1" t="inlineStr"><is><t>{long}</t></is></c></row>'
    message = refusal(READERS[reader], xlsx(sheet(rows)))
    assert message == "工作表“评议表”第1行第B列:单元格的文字超过 32767 个字符(Excel 的上限)"
    fits = f'<row r="1"><c r="B1" t="inlineStr"><is><t>{long[1:]}</t></is></c></row>'
    assert READERS[reader](io.BytesIO(xlsx(sheet(fits))))


@pytest.mark.parametrize("reader", READERS)
def test_a_formula_with_its_cached_result_is_read(reader):
    rows = (
        '<row r="1"><c r="A1"><f>1+1</f><v>2</v></c><c r="B1" t="str"><f>""</f><v></v></c>'
        '<c r="C1" t="str"><f>"满"&amp;"意"</f><v>满意</v></c></row>'
    )
    got = READERS[reader](io.BytesIO(xlsx(sheet(rows))))
    values = got[0][1] if reader == "openpyxl" else got[0]
    assert values[0] == 2 and values[2] == "满意"
    assert values[1] in (None, "")  # Excel's cached empty text


@pytest.mark.parametrize("reader", READERS)
def test_a_formula_as_openpyxl_writes_it_is_refused(reader):
    """openpyxl saves formulas with an empty <v/> and no result."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "评议表"
    ws.append(["编号", "甲局"])
    ws.append(["000001", '=IF(1,"满意","")'])
    buf = io.BytesIO()
    wb.save(buf)
    message = refusal(READERS[reader], buf.getvalue())
    assert message.startswith("工作表“评议表”第2行第B列:公式没有保存计算结果")


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(
    "escaped, title",
    [("&apos;评议表&apos;", "'评议表'"), ("评议&apos;", "评议'"), ("'评议表'", "'评议表'")],
)
def test_sheet_names_with_apostrophes_are_read(reader, escaped, title):
    data = xlsx(
        sheet(HEADER + '<row r="2"><c r="A2" t="inlineStr"><is><t>000001</t></is></c></row>'),
        name=escaped,
    )
    if reader == "stream":
        got = read_first_sheet(io.BytesIO(data))
        assert got.title == title
        assert list(got.rows) == [("编号",), ("000001",)]
    else:
        wb = open_workbook(io.BytesIO(data))
        assert wb.sheetnames == [title]
        assert list(iter_rows(wb[title])) == [(1, ("编号",)), (2, ("000001",))]
        wb.close()


def test_openpyxl_pads_no_row_to_a_stated_dimension():
    """A file may state A1:XFD1048576 and hold two cells: openpyxl padded every row to
    16,384 columns. The rows end at the last column holding a value."""
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="3"><c r="B3"><v>2</v></c></row>'
    data = xlsx(
        sheet(rows, "").replace(b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>')
    )
    wb = open_workbook(io.BytesIO(data))
    assert list(iter_rows(wb.worksheets[0])) == [(1, (1, None)), (3, (None, 2))]
    wb.close()


@pytest.mark.parametrize("reader", READERS)
def test_a_truly_unclosed_row_is_broken_xml(reader):
    data = xlsx(
        sheet(b'<row r="1">' + b'<c r="A1"><v>1</v></c>' * 1000).replace(b"</sheetData>", b"")
    )
    message = refusal(READERS[reader], data)
    assert message.startswith(
        "无法读取 .xlsx 文件:文件已损坏:xl/worksheets/sheet1.xml 第 1 行不是有效的 XML"
    )


@pytest.mark.parametrize("reader", READERS)
def test_a_megabyte_tag_is_refused_before_expat_buffers_it(reader):
    """expat keeps a whole start tag and hands its attributes over as Python strings."""
    rows = f'<row r="1"><c r="A1" x="{"a" * (1 << 20)}"><v>1</v></c></row>'
    assert refusal(READERS[reader], xlsx(sheet(rows))) == (
        "无法读取 .xlsx 文件:文件中的 xl/worksheets/sheet1.xml 有超过 1048576 字节的标记或文字,"
        "拒绝读取"
    )


@pytest.mark.parametrize("reader", READERS)
def test_the_parts_around_the_sheet_are_bounded(reader):
    many = "".join(f'<sheet name="s{i}" sheetId="{i}" r:id="rIdX{i}"/>' for i in range(2, 1026))
    message = refusal(READERS[reader], xlsx(sheet(HEADER), more_sheets=many))
    assert message == "无法读取 .xlsx 文件:工作表过多(超过 1024 个)"
    padded = xlsx(sheet(HEADER), more_sheets=" " * (16 << 20))
    message = refusal(READERS[reader], padded)
    assert message == "无法读取 .xlsx 文件:文件中的 xl/workbook.xml 过大,拒绝读取"


@pytest.mark.parametrize("reader", READERS)
def test_the_shared_strings_are_bounded(reader, monkeypatch):
    sst = f'<sst xmlns="{MAIN_NS}">' + "".join(
        f"<si><t>{t}</t></si>" for t in ("满意", "不满意", "基本满意")
    )
    data = xlsx(sheet('<row r="1"><c r="A1" t="s"><v>2</v></c></row>'), strings=sst + "</sst>")
    assert values(reader, data) == [("基本满意",)]
    long = xlsx(sheet(HEADER), strings=f"{sst}<si><t>{'满' * 32_768}</t></si></sst>")
    assert refusal(READERS[reader], long) == (
        "无法读取 .xlsx 文件:共享字符串表中有超过 32767 个字符的文字(Excel 的上限)"
    )
    monkeypatch.setattr(xs, "MAX_SHARED_STRINGS", 2)
    assert refusal(READERS[reader], data) == "无法读取 .xlsx 文件:共享字符串表过大,拒绝读取"


@pytest.mark.parametrize("reader", READERS)
def test_the_sheets_xml_is_bounded(reader, monkeypatch):
    """Checked before any of it is read: the check pass reads the whole sheet first."""
    data = xlsx(sheet("<row/>" * 200_000))
    monkeypatch.setattr(xs, "MAX_SHEET_BYTES", 1 << 20)
    message = refusal(READERS[reader], data)
    assert message == "工作表“评议表”:工作表的 XML 超过 1 MB,拒绝读取"


def test_openpyxl_is_refused_a_sheet_it_would_pad_beyond_the_budget():
    """openpyxl pads every row to the widest: 100 rows, one of them 10 wide, are 1,000 cells
    to it, though the stream hands over 109."""
    wide = '<row r="1"><c r="J1"><v>1</v></c></row>'
    rows = wide + "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 101))
    data = xlsx(sheet(rows))
    assert len(stream_all(io.BytesIO(data), max_cells=500)) == 100
    assert len(openpyxl_all(io.BytesIO(data), max_cells=1_000)) == 100
    message = refusal(openpyxl_all, data, max_cells=500)
    assert message == "工作表“评议表”:表格过大,拒绝读取"
