"""Unit import (spec section 10): errors name the row and column; nothing is half-saved."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns.models import CampaignUnit, Category, Unit
from core.models import AuditLog
from tests.helpers import xlsx_file

HEADER = ("类别", "单位", "垂直管理", "一票否决")


def run(campaign, path):
    call_command("import_units", campaign.slug, str(path))


def test_imports_units_with_flags_and_quota_sheet(qianren, tmp_path):
    path = xlsx_file(tmp_path, "u.xlsx", {
        "单位": [HEADER, ("地方管理部门类", "市委办公室", "否", "否"),
                 ("垂直管理部门类", "国税局", "是", "是"), ("新类别", "气象局", "否", "否")],
        "类别": [("类别", "优胜名额", "末位名额"), ("地方管理部门类", 6, 1), ("新类别", 2, 0)],
    })
    run(qianren, path)
    units = {u.name: u for u in CampaignUnit.objects.filter(campaign=qianren)}
    assert set(units) == {"市委办公室", "国税局", "气象局"}
    assert units["国税局"].vertical and units["国税局"].vetoed
    assert not units["市委办公室"].vetoed
    cats = {c.name: (c.winners, c.last_place) for c in qianren.categories.all()}
    assert cats["地方管理部门类"] == (6, 1)  # overridden by the 类别 sheet
    assert cats["垂直管理部门类"] == (3, 1)  # preset quota kept
    assert cats["新类别"] == (2, 0)
    assert AuditLog.objects.filter(action="units.import", campaign_id=qianren.pk).count() == 1
    assert AuditLog.objects.filter(action="unit.create", campaign_id=qianren.pk).count() == 3


def test_optional_columns_may_be_missing(qianren, tmp_path):
    path = xlsx_file(tmp_path, "u.xlsx", {"单位": [("类别", "单位"), ("金融部门类", "人行")]})
    run(qianren, path)
    assert CampaignUnit.objects.get(campaign=qianren).name == "人行"


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("类别", "单位名称"), ("金融部门类", "人行")], "第1行第B列:未知的列名“单位名称”"),
        ([("类别", "垂直管理"), ("金融部门类", "是")], "缺少列“单位”"),
        ([HEADER, ("金融部门类", "人行", "否", "否"), ("", "中行", "否", "否")],
         "第3行第A列:类别为空"),
        ([HEADER, ("金融部门类", "人行", "否", "否"), ("金融部门类", "人行", "否", "否")],
         "第3行第B列:单位“人行”重复(已在第2行)"),
        ([HEADER, ("金融部门类", "人行", "否", "可能")], "第2行第D列:“可能”应为“是”或“否”"),
        ([HEADER, ("金融部门类", "", "否", "否")], "第2行第B列:单位名称为空"),
    ],
    ids=["bad-header", "missing-column", "empty-category", "duplicate-unit", "bad-yes-no",
         "empty-name"],
)
def test_errors_name_row_and_column_and_import_nothing(qianren, tmp_path, rows, message):
    # A good row comes first in every case: it must not be saved either.
    path = xlsx_file(tmp_path, "bad.xlsx", {"单位": rows})
    with pytest.raises(CommandError) as exc:
        run(qianren, path)
    assert message in str(exc.value)
    assert "工作表“单位”" in str(exc.value)
    assert not CampaignUnit.objects.filter(campaign=qianren).exists()
    assert not Unit.objects.exists()
    assert not AuditLog.objects.filter(action="units.import").exists()


def test_every_error_is_listed_at_once(qianren, tmp_path):
    path = xlsx_file(tmp_path, "bad.xlsx", {"单位": [
        HEADER, ("", "人行", "否", "否"), ("金融部门类", "中行", "否", "嗯")]})
    with pytest.raises(CommandError) as exc:
        run(qianren, path)
    assert "第2行第A列" in str(exc.value) and "第3行第D列" in str(exc.value)


def test_same_file_twice_is_refused_naming_the_earlier_import(qianren, tmp_path):
    path = xlsx_file(tmp_path, "u.xlsx", {"单位": [HEADER, ("金融部门类", "人行", "否", "否")]})
    run(qianren, path)
    with pytest.raises(CommandError) as exc:
        run(qianren, path)
    assert "已于" in str(exc.value) and "u.xlsx" in str(exc.value)


def test_category_without_quota_gets_default_with_warning(qianren, tmp_path, capsys):
    from campaigns.services import units_parse

    path = xlsx_file(tmp_path, "u.xlsx", {
        "单位": [HEADER, ("其他类", "气象局", "否", "否")],
        "类别": [("类别", "优胜名额", "末位名额"), ("其他类", 0, 1)],
    })
    plan = units_parse(qianren, path, "u.xlsx")
    assert plan.new_categories == ["其他类"] and plan.warnings == []


def test_unknown_category_without_a_category_sheet_is_warned_not_refused(qianren, tmp_path):
    """Spec section 10: 0 winners and 1 last place, with a warning; the import goes ahead."""
    from campaigns.services import units_import, units_parse

    path = xlsx_file(tmp_path, "u.xlsx", {"单位": [HEADER, ("其他类", "气象局", "否", "否")]})
    plan = units_parse(qianren, path, "u.xlsx")
    assert plan.warnings == ["类别“其他类”没有设置名额,按优胜0名、末位1名处理"]
    units_import(campaign=qianren, plan=plan)
    cat = Category.objects.get(campaign=qianren, name="其他类")
    assert (cat.winners, cat.last_place) == (0, 1)
    assert CampaignUnit.objects.get(campaign=qianren).category == cat


def test_a_category_of_the_preset_keeps_the_presets_quotas(qianren, tmp_path):
    from campaigns.services import units_import, units_parse

    Category.objects.filter(campaign=qianren, name="垂直管理部门类").delete()
    path = xlsx_file(tmp_path, "u.xlsx", {"单位": [HEADER, ("垂直管理部门类", "国税局", "是", "否")]})
    plan = units_parse(qianren, path, "u.xlsx")
    assert plan.warnings == []
    units_import(campaign=qianren, plan=plan)
    cat = Category.objects.get(campaign=qianren, name="垂直管理部门类")
    assert (cat.winners, cat.last_place) == (3, 1)  # the qianren preset's quota (spec section 8)


def test_more_cells_than_a_ballot_can_hold_are_refused_at_unit_import(qianren, tmp_path):
    """2,048 units would import and then break every ballot: refused, naming the limit."""
    rows = [HEADER] + [("金融部门类", f"单位{i:04d}", "否", "否") for i in range(2048)]
    path = xlsx_file(tmp_path, "u.xlsx", {"单位": rows})
    with pytest.raises(CommandError) as exc:
        run(qianren, path)
    assert "2048" in str(exc.value) and "2047" in str(exc.value)
    assert not CampaignUnit.objects.filter(campaign=qianren).exists()
    # One unit fewer fits.
    run(qianren, xlsx_file(tmp_path, "v.xlsx", {"单位": rows[:-1]}))
    assert CampaignUnit.objects.filter(campaign=qianren).count() == 2047


def test_renamed_registry_unit_is_found_by_former_name(qianren, campaign_factory, tmp_path):
    unit = Unit.objects.create(name="劳动社保局", former_names="劳动局")
    path = xlsx_file(tmp_path, "u.xlsx", {"单位": [HEADER, ("地方管理部门类", "劳动局", "否", "否")]})
    run(qianren, path)
    cu = CampaignUnit.objects.get(campaign=qianren)
    assert cu.unit == unit and cu.name == "劳动局"
    assert Unit.objects.count() == 1


def test_not_an_xlsx_is_a_clear_error(qianren, tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_text("类别,单位\n")
    with pytest.raises(CommandError) as exc:
        run(qianren, path)
    assert "不是有效的 .xlsx 文件" in str(exc.value)
    assert Category.objects.filter(campaign=qianren).count() == 3
