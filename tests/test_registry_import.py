"""The 《自查登记表》 import (issue 22): a documented layout, every problem named with its row
and column, all or nothing, preview then confirm; a department imports only its own rows; a
formula-like name stays text."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from core.models import AuditLog
from core.spreadsheets import SpreadsheetError
from registry.imports import COLUMNS, registration_import, registration_parse
from registry.models import Activity, Organiser
from tests.helpers import xlsx_bytes, xlsx_file
from tests.registry_fixtures import (  # noqa: F401  (fixtures)
    HEADER,
    cleanup_fixture,
    dept_fixture,
    jiwei_fixture,
    organiser_fixture,
    register,
    to_status,
)

GOOD = [
    HEADER,
    [1, "市教育局", "全市优秀教师表彰", "政府部门", "市级", "表彰", "本系统", "每年", "省批准",
     "省人社厅批复〔2004〕8号", "否", "否", 2004, "保留", "", "激励教师,省批准"],
    [2, "市教育局", "校园文化建设达标", "政府部门", "", "达标", "本系统、基层", "每两年", "本级文件",
     "", "是", "否", None, "合并", "全市优秀教师表彰", "内容与教师表彰重叠"],
    [3, "团市委", "=HYPERLINK(\"x\")青年文明号", "人民团体", "市级", "评比", "基层,企业", "每年",
     "无", "", "否", "是", None, "撤销", "", ""],
]


def as_text_xlsx(rows, tmp_path=None, name="ok.xlsx"):  # type: ignore[no-untyped-def]
    """The rows as a 自查登记表; a text starting with = is stored as text, as Excel stores a
    name typed with a leading apostrophe."""
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "自查登记表"
    for row in rows:
        ws.append(list(row))
    for line in ws.iter_rows():
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    if tmp_path is None:
        return buf.getvalue()
    path = tmp_path / name
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def in_self_check(cleanup):  # type: ignore[no-untyped-def]
    return to_status(cleanup, "self_check")


def test_the_layout_is_documented_where_it_is_read():
    import registry.imports as module

    for name, _required, _words in COLUMNS:
        assert f"| {name}" in module.__doc__ or name in module.__doc__
    assert set(HEADER) <= {c for c, _r, _w in COLUMNS}


def test_a_good_file_registers_every_row_and_resolves_merges_within_the_file(
        in_self_check, tmp_path, jiwei):
    path = as_text_xlsx(GOOD, tmp_path)
    plan = registration_parse(in_self_check, path, organisers=None)
    assert plan.created == 3 and plan.updated == 0
    assert [f.code for f in plan.rows[2].flags] == ["no_basis", "burden"]
    counts = registration_import(cleanup=in_self_check, file=path, user=jiwei)
    assert counts == {"created": 3, "updated": 0}
    assert set(Organiser.objects.values_list("name", flat=True)) == {"市教育局", "团市委"}
    merged = Activity.objects.get(name="校园文化建设达标")
    assert merged.proposal_merge_into.name == "全市优秀教师表彰"
    assert merged.charges_fees and merged.for_grassroots and merged.for_system
    assert merged.level == "city"
    odd = Activity.objects.get(organiser__name="团市委")
    assert odd.name == "=HYPERLINK(\"x\")青年文明号"  # text, never a formula
    assert odd.for_grassroots and odd.for_enterprises and not odd.for_system
    assert AuditLog.objects.filter(action="registry.import").count() == 1
    # The same file again corrects the registrations instead of doubling them.
    assert registration_import(cleanup=in_self_check, file=path, user=jiwei) == {
        "created": 0, "updated": 3}
    assert Activity.objects.count() == 3


def test_a_bad_file_names_every_problem_by_row_and_column_and_imports_nothing(
        in_self_check, tmp_path):
    rows = [
        HEADER,
        [1, "市教育局", "表彰甲", "政府机关", "市级", "表彰", "本系统", "每年", "法律", "某法",
         "否", "否", None, "保留", "", ""],
        [2, "市教育局", "表彰乙", "政府部门", "市级", "奖励", "群众", "每月", "中央文件", "",
         "也许", "否", "1800", "保留", "", "理由"],
        [3, "市教育局", "表彰丙", "政府部门", "市级", "表彰", "本系统", "每年", "无", "", "否",
         "否", None, "合并", "不存在的项目", "x"],
        [4, "市教育局", "表彰甲", "政府部门", "市级", "表彰", "本系统", "每年", "无", "", "否",
         "否", None, "撤销", "", ""],
        [5, "", "表彰丁", "政府部门", "市级", "表彰", "本系统", "每年", "无", "", "否", "否",
         None, "撤销", "表彰甲", ""],
    ]
    path = xlsx_file(tmp_path, "bad.xlsx", {"自查登记表": rows})
    with pytest.raises(SpreadsheetError) as exc:
        registration_import(cleanup=in_self_check, file=path)
    text = str(exc.value)
    for expected in [
        "第2行第D列:“政府机关”不是可选的值",
        "第2行第P列:拟保留或合并的项目须说明具体理由",
        "第3行第F列:“奖励”不是可选的值",
        "第3行第G列:“群众”不是本系统、基层或企业",
        "第3行第H列:“每月”不是可选的值",
        "第3行第K列:“也许”应为“是”或“否”",
        "第3行第M列:“1800”不是年份",
        "第4行第O列:找不到合并到的项目“不存在的项目”",
        "第5行第C列:“表彰甲”重复(已在第2行)",
        "第6行第B列:举办单位为空",
        "第6行第O列:只有拟合并的项目才填写合并到",
    ]:
        assert expected in text, expected
    assert not Activity.objects.exists() and not Organiser.objects.exists()


def test_the_header_is_checked(in_self_check, tmp_path):
    path = xlsx_file(tmp_path, "h.xlsx", {"Sheet": [["举办单位", "项目名称", "备注"]]})
    with pytest.raises(SpreadsheetError) as exc:
        registration_parse(in_self_check, path, organisers=None)
    text = str(exc.value)
    assert "第1行第C列:未知的列名“备注”" in text and "缺少列“处理意见”" in text


def test_a_department_imports_only_its_own_rows_and_only_while_it_may(in_self_check, tmp_path,
                                                                     dept, organiser):
    path = as_text_xlsx(GOOD, tmp_path)
    with pytest.raises(SpreadsheetError, match="第4行第B列:“团市委”不是本账号的单位"):
        registration_parse(in_self_check, path, organisers=["市教育局"])
    mine = as_text_xlsx(GOOD[:3], tmp_path, "mine.xlsx")
    assert registration_import(cleanup=in_self_check, file=mine, user=dept,
                               organisers=["市教育局"])["created"] == 2
    from registry.services import organiser_submit

    organiser_submit(organiser=organiser, user=dept)
    with pytest.raises(SpreadsheetError, match="已于 .* 报送"):
        registration_parse(in_self_check, mine, organisers=["市教育局"])


def test_the_page_previews_then_confirms_and_refuses_a_bad_file(client, in_self_check, dept):
    client.force_login(dept)
    url = reverse("registry_import", args=[in_self_check.slug])
    page = client.get(url).content.decode()
    assert "登记表格式" in page and "要求出钱出物出工" in page
    bad = xlsx_bytes({"自查登记表": [HEADER, [1, "团市委", "x", "人民团体", "", "评比", "基层",
                                              "每年", "无", "", "", "", None, "撤销", "", ""]]})
    refused = client.post(url, {"file": SimpleUploadedFile("bad.xlsx", bad)})
    assert refused.status_code == 400 and "不是本账号的单位" in refused.content.decode()
    good = xlsx_bytes({"自查登记表": GOOD[:3]})
    preview = client.post(url, {"file": SimpleUploadedFile("ok.xlsx", good)})
    body = preview.content.decode()
    assert "预览:新登记 2 项,更正 0 项" in body and not Activity.objects.exists()
    upload = body.split('name="upload" value="')[1].split('"')[0]
    done = client.post(url, {"upload": upload, "confirm": "1"})
    assert done.status_code == 302 and Activity.objects.count() == 2
    again = client.post(url, {"upload": upload, "confirm": "1"})
    assert again.status_code == 302 and Activity.objects.count() == 2
    assert client.get(reverse("registry_template")).status_code == 200


def test_the_command_imports_as_the_office(in_self_check, tmp_path, capsys):
    path = as_text_xlsx(GOOD, tmp_path)
    call_command("import_activities", in_self_check.slug, str(path))
    assert "新登记 3 项" in capsys.readouterr().out
