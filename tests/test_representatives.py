"""Representatives: the .xlsx import (command and admin, all or nothing, errors naming row and
column) and the composition check against the rules of documents 000, 001 and 002."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from ballots.models import ImportBatch
from campaigns.models import Representative
from campaigns.representatives import composition
from core.models import AuditLog, StagedUpload
from tests.helpers import xlsx_bytes, xlsx_file

HEADER = ("姓名", "代表类别", "片区", "单位及职务", "手机", "新聘")


@pytest.fixture(autouse=True)
def _upload_root(settings, tmp_path):
    settings.PINGYI_UPLOAD_ROOT = tmp_path / "uploads"


def reps(campaign, spec: dict[str, int], *, new: int = 0, phone_prefix: str = "138"):
    """`spec` maps group name -> count; the first `new` people are new representatives."""
    made = 0
    for group_name, n in spec.items():
        group = campaign.groups.get(name=group_name)
        for i in range(n):
            Representative.objects.create(
                campaign=campaign, group=group, name=f"{group_name}{i}",
                phone=f"{phone_prefix}{made:08d}", is_new=made < new,
            )
            made += 1


# --- import ------------------------------------------------------------------------------


def test_command_imports_all_rows(qianren, tmp_path, capsys):
    path = xlsx_file(tmp_path, "reps.xlsx", {"代表": [
        HEADER,
        ("张三", "服务对象", "东区", "某公司 经理", "13800000001", "是"),
        ("李四", "党政干部和各界代表", "西区", "某局 科长", 13800000002, "否"),
        ("王五", "服务对象", None, None, None, None),
        ("钱七", "服务对象", None, None, None, None),
        ("孙八", "服务对象", None, None, None, None),
    ]})
    call_command("import_representatives", qianren.slug, str(path))
    out = capsys.readouterr().out
    assert "已导入 5 名评议代表" in out
    zhang = Representative.objects.get(name="张三")
    assert (zhang.group.name, zhang.district, zhang.affiliation, zhang.phone, zhang.is_new) == (
        "服务对象", "东区", "某公司 经理", "13800000001", True
    )
    assert Representative.objects.get(name="李四").phone == "13800000002"  # a number cell
    assert not Representative.objects.get(name="王五").is_new
    batch = ImportBatch.objects.get(kind="representatives")
    assert batch.rows == 5 and zhang.batch == batch
    assert AuditLog.objects.filter(action="representatives.import").exists()
    # The composition warning is printed too: 4 of 5 are 服务对象, 80% instead of 60% (3).
    assert "“服务对象”4 人,占 80.0%,应为 60.0%(约 3 人)" in out


def test_errors_name_row_and_column_and_nothing_is_imported(qianren, tmp_path):
    path = xlsx_file(tmp_path, "bad.xlsx", {"代表": [
        HEADER,
        ("张三", "服务对象", "东区", "", "13800000001", "是"),
        ("", "服务对象", "", "", "", "否"),
        ("李四", "群众", "", "", "", "否"),
        ("王五", "服务对象", "", "", "call me", "否"),
        ("赵六", "服务对象", "", "", "", "也许"),
    ]})
    with pytest.raises(CommandError) as exc:
        call_command("import_representatives", qianren.slug, str(path))
    text = str(exc.value)
    assert "第3行第A列:姓名不能为空" in text
    assert "第4行第B列:“群众”不是本次评议的代表类别" in text and "服务对象、党政干部和各界代表" in text
    assert "第5行第E列" in text and "call me" in text
    assert "第6行第F列" in text and "也许" in text
    assert not Representative.objects.exists() and not ImportBatch.objects.exists()


def test_missing_required_column_and_repeated_file(qianren, tmp_path):
    path = xlsx_file(tmp_path, "nohead.xlsx", {"代表": [("姓名", "片区"), ("张三", "东区")]})
    with pytest.raises(CommandError, match="缺少列“代表类别”"):
        call_command("import_representatives", qianren.slug, str(path))
    good = xlsx_file(tmp_path, "ok.xlsx", {"代表": [HEADER, ("张三", "服务对象", "", "", "", "否")]})
    call_command("import_representatives", qianren.slug, str(good))
    with pytest.raises(CommandError, match="已经导入过"):
        call_command("import_representatives", qianren.slug, str(good))
    assert Representative.objects.count() == 1
    with pytest.raises(CommandError, match="没有标识为"):
        call_command("import_representatives", "nope", str(good))


def test_admin_import_previews_then_imports(client, office, qianren):
    client.force_login(office)
    url = reverse("admin:campaigns_representative_import")
    data = xlsx_bytes({"代表": [HEADER, *[
        (f"代表{i}", "服务对象", "东区", "", f"1380000000{i}", "是") for i in range(3)
    ]]})
    r = client.post(url, {"campaign": qianren.pk, "file": SimpleUploadedFile("r.xlsx", data)})
    page = r.content.decode()
    assert r.status_code == 200 and "预览" in page and "代表2" in page
    assert not Representative.objects.exists()  # nothing saved before confirming
    upload = r.context["upload"]
    assert upload.campaign_id == qianren.pk and upload.kind == "representatives"
    r = client.post(url, {"upload": upload.pk, "campaign": qianren.pk})
    assert r.status_code == 302 and Representative.objects.count() == 3
    upload.refresh_from_db()
    assert upload.state == StagedUpload.State.APPLIED
    page = client.get(r.url).content.decode()
    # After the import, the composition warnings are shown to the office.
    assert "“党政干部和各界代表”0 人" in page
    # A second confirmation (a double click) imports nothing more.
    again = client.post(url, {"upload": upload.pk, "campaign": qianren.pk}, follow=True)
    assert "该文件已确认导入" in again.content.decode()
    assert Representative.objects.count() == 3


def test_admin_import_confirm_is_refused_for_another_campaign_or_user(
    client, office, qianren, campaign_factory
):
    from core.roles import OFFICE
    from tests.conftest import make_user

    client.force_login(office)
    url = reverse("admin:campaigns_representative_import")
    data = xlsx_bytes({"代表": [HEADER, ("代表0", "服务对象", "东区", "", "13800000000", "是")]})
    r = client.post(url, {"campaign": qianren.pk, "file": SimpleUploadedFile("r.xlsx", data)})
    upload = r.context["upload"]
    other = campaign_factory("qianren")
    page = client.post(url, {"upload": upload.pk, "campaign": other.pk}, follow=True)
    assert "预览已过期" in page.content.decode()
    # Another member of the office cannot confirm it either: an upload is its uploader's.
    client.force_login(make_user("office2", OFFICE, staff=True))
    page = client.post(url, {"upload": upload.pk, "campaign": qianren.pk}, follow=True)
    assert "预览已过期" in page.content.decode()
    assert not Representative.objects.exists()
    upload.refresh_from_db()
    assert upload.state == StagedUpload.State.STAGED


def test_admin_import_refuses_a_file_that_is_not_xlsx(client, office, qianren):
    client.force_login(office)
    r = client.post(
        reverse("admin:campaigns_representative_import"),
        {"campaign": qianren.pk, "file": SimpleUploadedFile("r.csv", b"a,b")},
    )
    assert "请上传 .xlsx 文件" in r.content.decode() and not StagedUpload.objects.exists()


def test_admin_import_shows_cell_errors(client, office, qianren):
    client.force_login(office)
    data = xlsx_bytes({"代表": [HEADER, ("张三", "没有这类", "", "", "", "否")]})
    r = client.post(
        reverse("admin:campaigns_representative_import"),
        {"campaign": qianren.pk, "file": SimpleUploadedFile("r.xlsx", data)},
    )
    assert "第2行第B列" in r.content.decode() and not Representative.objects.exists()


def test_admin_import_needs_configure_permission(client, auditor, qianren):
    client.force_login(auditor)
    r = client.get(reverse("admin:campaigns_representative_import"))
    assert r.status_code == 403


# --- composition -------------------------------------------------------------------------


def test_qianren_shares_60_40_within_one_person(qianren):
    reps(qianren, {"服务对象": 600, "党政干部和各界代表": 400})
    c = composition(qianren)
    assert c.total == 1000 and c.warnings == []
    assert [(r.name, r.count, r.ok) for r in c.rows] == [
        ("服务对象", 600, True), ("党政干部和各界代表", 400, True)
    ]


def test_qianren_share_off_target_is_warned(qianren):
    reps(qianren, {"服务对象": 55, "党政干部和各界代表": 45})
    c = composition(qianren)
    assert c.warnings == [
        "“服务对象”55 人,占 55.0%,应为 60.0%(约 60 人)。",
        "“党政干部和各界代表”45 人,占 45.0%,应为 40.0%(约 40 人)。",
    ]


def test_rounding_either_way_is_accepted(qianren):
    # 60% of 101 is 60.6: 60 and 61 both fit.
    reps(qianren, {"服务对象": 61, "党政干部和各界代表": 40})
    assert composition(qianren).warnings == []


def _liangping(campaign_factory):
    """A 两评一树 campaign whose groups carry the pools of 001 (set here as well, so the
    composition is tested whatever the preset copying does; tests/test_presets.py checks that)."""
    from campaigns.presets import PRESETS

    camp = campaign_factory("liangping")
    for spec in PRESETS["liangping"].groups:
        camp.groups.filter(name=spec.name).update(pool=spec.pool)
    return camp


def test_liangping_service_recipients_half_within_the_social_review(campaign_factory):
    camp = _liangping(campaign_factory)
    # 10 internal + 6 social, of whom 3 服务对象代表: 3/6 = 50% of the 社会评议 raters, although
    # only 3/16 of all.
    reps(camp, {"全体干部职工": 10, "党代表": 1, "人大代表": 1, "政协委员": 1, "服务对象代表": 3})
    c = composition(camp)
    assert c.warnings == []
    row = next(r for r in c.rows if r.name == "服务对象代表")
    assert (row.pool, row.count, row.base, row.ok) == ("社会评议", 3, 6, True)
    assert row.percent == 50.0


def test_liangping_too_few_service_recipients_names_the_social_review(campaign_factory):
    camp = _liangping(campaign_factory)
    reps(camp, {"全体干部职工": 10, "党代表": 2, "人大代表": 1, "政协委员": 1, "服务对象代表": 2})
    c = composition(camp)
    assert c.warnings == ["“服务对象代表”2 人,占社会评议 6 人的 33.3%,应不少于 50.0%(至少 3 人)。"]
    assert "社会评议" in c.warnings[0]


def test_liangping_pool_without_representatives_is_warned(campaign_factory):
    camp = _liangping(campaign_factory)
    reps(camp, {"全体干部职工": 10})
    assert composition(camp).warnings == ["“社会评议”尚未录入评议代表。"]


def test_groups_without_pool_keep_the_share_of_all(campaign_factory):
    camp = campaign_factory("liangping")
    camp.groups.update(pool="")
    reps(camp, {"全体干部职工": 10, "党代表": 1, "人大代表": 1, "政协委员": 1, "服务对象代表": 3})
    c = composition(camp)
    assert c.warnings == ["“服务对象代表”3 人,占 18.8%,应不少于 50.0%(至少 8 人)。"]
    assert next(r for r in c.rows if r.name == "服务对象代表").base == 16


def test_zhengfeng_new_representatives_at_least_one_third(campaign_factory):
    camp = campaign_factory("zhengfeng")
    assert camp.min_new_share == Decimal("0.3333")
    reps(camp, {"评议代表": 20, "群众代表": 10}, new=9)
    assert composition(camp).warnings == ["新聘代表 9 人,占 30.0%,应不少于 33.3%。"]
    Representative.objects.filter(name="评议代表9").update(is_new=True)
    c = composition(camp)
    assert c.new_count == 10 and c.warnings == []  # exactly one third passes


def test_nobody_twice_by_name_and_phone(qianren):
    group = qianren.groups.get(name="服务对象")
    for phone in ("138 0000 0001", "13800000001", "13900000009"):
        Representative.objects.create(campaign=qianren, group=group, name="张三", phone=phone)
    c = composition(qianren)
    assert c.duplicates == [("张三", "13800000001", 2)]
    assert "“张三”(手机 13800000001)重复出现 2 次。" in c.warnings


def test_no_representatives_is_a_warning(qianren):
    assert composition(qianren).warnings == ["尚未录入评议代表。"]


def test_composition_page(client, qianren, office, leader, clerk):
    reps(qianren, {"服务对象": 8, "党政干部和各界代表": 2})
    url = reverse("representatives", args=[qianren.slug])
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    for user in (office, leader):
        client.force_login(user)
        page = client.get(url).content.decode()
        assert "“服务对象”8 人,占 80.0%,应为 60.0%" in page
        assert "不符合" in page
        assert "/admin/" not in page.split("<main", 1)[1]  # import from the office's page
        assert "评议范围" not in page  # no pools here


def test_composition_page_shows_each_groups_pool(client, campaign_factory, office):
    camp = _liangping(campaign_factory)
    reps(camp, {"全体干部职工": 10, "党代表": 1, "人大代表": 1, "政协委员": 1, "服务对象代表": 3})
    client.force_login(office)
    page = client.get(reverse("representatives", args=[camp.slug])).content.decode()
    assert "占比(范围内)" in page
    row = page.split("<td>服务对象代表</td>", 1)[1].split("</tr>", 1)[0]
    assert "<td>社会评议</td>" in row and "50.0%" in row


# --- issue 16: the header the page asks for, unknown columns, re-import preview -----------


IMPORT = "admin:campaigns_representative_import"


def _preview(client, campaign, rows, header=HEADER):
    data = xlsx_bytes({"代表": [header, *rows]})
    return client.post(
        reverse(IMPORT), {"campaign": campaign.pk, "file": SimpleUploadedFile("r.xlsx", data)}
    )


@pytest.mark.parametrize("new_header", ["新聘", "新聘(是/否)", "新聘\uff08是\uff0f否\uff09", "新聘 (是/否)"])
def test_new_column_as_the_page_writes_it(qianren, tmp_path, new_header):
    from campaigns.representatives import HEADER_HELP

    path = xlsx_file(tmp_path, "r.xlsx", {"代表": [
        (*HEADER[:5], new_header), ("张三", "服务对象", "", "", "", "是"),
    ]})
    call_command("import_representatives", qianren.slug, str(path))
    assert Representative.objects.get(name="张三").is_new
    assert "新聘(是/否)" in HEADER_HELP


def test_the_page_shows_the_columns_the_parser_reads(client, office, qianren):
    from campaigns.representatives import COLUMN_DEFS, HEADER_HELP

    client.force_login(office)
    page = client.get(reverse(IMPORT)).content.decode()
    assert page.count(HEADER_HELP) == 2  # the help paragraph and the file field's help
    assert [c.key for c in COLUMN_DEFS][:2] == ["姓名", "代表类别"]


def test_unknown_column_is_an_error_naming_sheet_and_column(qianren, tmp_path):
    from campaigns.representatives import UnknownColumns, representatives_parse

    path = xlsx_file(tmp_path, "r.xlsx", {"名单": [
        (*HEADER, "备注"), ("张三", "服务对象", "", "", "", "是", "x"),
    ]})
    with pytest.raises(UnknownColumns) as exc:
        representatives_parse(qianren, path, "r.xlsx")
    assert "工作表“名单”第1行第G列:不认识的列“备注”" in str(exc.value)
    with pytest.raises(CommandError, match="第G列"):
        call_command("import_representatives", qianren.slug, str(path))
    plan = representatives_parse(qianren, path, "r.xlsx", ignore_unknown=True)
    assert len(plan.rows) == 1 and "备注" in str(plan.unknown[0])
    assert not Representative.objects.exists()


def test_admin_unknown_column_needs_the_checkbox(client, office, qianren):
    client.force_login(office)
    r = _preview(client, qianren, [("张三", "服务对象", "", "", "", "是", "x")],
                 header=(*HEADER, "备注"))
    page = r.content.decode()
    assert "不认识的列“备注”" in page and "第G列" in page and 'name="ignore_unknown"' in page
    upload = r.context["upload"]
    # Confirmed without ticking the box: nothing imported, the preview again, still staged.
    r = client.post(reverse(IMPORT), {"upload": upload.pk, "campaign": qianren.pk})
    assert r.status_code == 200 and "请勾选“忽略这些列”" in r.content.decode()
    assert not Representative.objects.exists()
    upload.refresh_from_db()
    assert upload.state == StagedUpload.State.STAGED
    r = client.post(
        reverse(IMPORT), {"upload": upload.pk, "campaign": qianren.pk, "ignore_unknown": "1"}
    )
    assert r.status_code == 302 and Representative.objects.get().name == "张三"


def test_reimport_previews_and_updates_who_is_already_there(client, office, qianren):
    client.force_login(office)
    r = _preview(client, qianren, [
        ("张三", "服务对象", "东区", "", "13800000001", "否"),
        ("李四", "服务对象", "西区", "", "13800000002", "否"),
    ])
    client.post(reverse(IMPORT), {"upload": r.context["upload"].pk, "campaign": qianren.pk})
    assert Representative.objects.count() == 2
    r = _preview(client, qianren, [
        ("张三", "党政干部和各界代表", "南区", "", "138-0000-0001", "是"),  # changed
        ("李四", "服务对象", "西区", "", "13800000002", "否"),  # the same
        ("王五", "服务对象", "", "", "", "否"),  # new
    ])
    plan = r.context["plan"]
    assert (plan.created_count, plan.matched_count, len(plan.changes)) == (1, 2, 1)
    page = r.content.decode()
    assert "新增 1 人;与本活动已有代表(姓名和手机相同)匹配 2 人,将被更新,其中 1 人的信息有变化" in page
    assert "代表类别:服务对象 → 党政干部和各界代表" in page and "片区:东区 → 南区" in page
    assert "新聘:否 → 是" in page
    assert Representative.objects.count() == 2  # nothing saved by the preview
    r = client.post(reverse(IMPORT), {"upload": r.context["upload"].pk, "campaign": qianren.pk})
    assert r.status_code == 302 and Representative.objects.count() == 3
    zhang = Representative.objects.get(name="张三")
    assert (zhang.group.name, zhang.district, zhang.phone, zhang.is_new) == (
        "党政干部和各界代表", "南区", "138-0000-0001", True
    )
    assert not composition(qianren).duplicates
