"""Subjects of other kinds (issue 17; scoring.md section 10): the units sheet's 类型, 上级单位
and 职务 columns, registry identities by name under a parent, refused rows named, all or
nothing; and the engine's list of kinds is the model's."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns.models import CampaignUnit, SubjectKind, Unit
from scoring import engine
from tests.helpers import xlsx_file

HEADER = ("类别", "单位", "类型", "上级单位", "职务")


def run(campaign, path):  # type: ignore[no-untyped-def]
    call_command("import_units", campaign.slug, str(path))


def test_the_engines_kinds_are_the_models():
    assert engine.SUBJECT_KINDS == tuple(SubjectKind.values)
    assert engine.SUB_UNIT_KINDS == {SubjectKind.SECTION, SubjectKind.WINDOW,
                                     SubjectKind.STATION}


def test_a_team_and_its_leaders_with_posts(campaign_factory, tmp_path):
    c = campaign_factory("qianren")
    path = xlsx_file(tmp_path, "u.xlsx", {"对象": [
        HEADER,
        ("领导干部", "张三", "领导干部", "市交通局领导班子", "局长"),  # parent defined below
        ("领导班子", "市交通局领导班子", "领导班子", "", ""),
        ("领导干部", "李四", "领导干部", "市交通局领导班子", "副局长"),
    ]})
    run(c, path)
    team = Unit.objects.get(name="市交通局领导班子")
    assert team.kind == "领导班子" and team.parent is None
    leaders = {u.name: u for u in Unit.objects.filter(parent=team)}
    assert set(leaders) == {"张三", "李四"} and {u.kind for u in leaders.values()} == {"领导干部"}
    posts = dict(CampaignUnit.objects.filter(campaign=c).values_list("name", "post"))
    assert posts == {"张三": "局长", "市交通局领导班子": "", "李四": "副局长"}


def test_sections_share_a_name_under_different_parents_in_the_registry(
    campaign_factory, tmp_path
):
    first, second = campaign_factory("qianren"), campaign_factory("qianren")
    for campaign, parent in ((first, "市税务局"), (second, "市公安局")):
        run(campaign, xlsx_file(tmp_path, f"{parent}.xlsx", {"对象": [
            HEADER, ("单位", parent, "", "", ""), ("科室", "办公室", "内设科室", parent, ""),
        ]}))
    offices = Unit.objects.filter(name="办公室")
    assert sorted(u.parent.name for u in offices) == ["市公安局", "市税务局"]  # type: ignore[union-attr]
    # Next year the same section under the same parent is the same registry subject.
    third = campaign_factory("qianren")
    run(third, xlsx_file(tmp_path, "again.xlsx", {"对象": [
        HEADER, ("科室", "办公室", "内设科室", "市税务局", ""),  # parent from the registry
    ]}))
    tax_office = offices.get(parent__name="市税务局")
    assert CampaignUnit.objects.get(campaign=third).unit_id == tax_office.pk
    assert Unit.objects.filter(name="办公室").count() == 2


@pytest.mark.parametrize(("row", "words"), [
    (("科室", "办公室", "科长室", "", ""), "类型“科长室”不是以下之一"),
    (("科室", "办公室", "内设科室", "不存在的局", ""), "上级单位“不存在的局”既不在本文件中"),
    (("科室", "办公室", "内设科室", "办公室", ""), "不能是自己的上级单位"),
    (("科室", "秘书", "内设科室", "张三", ""), "是领导干部,不能有下级"),
])
def test_a_bad_kind_or_parent_is_refused_naming_row_and_column_and_nothing_is_saved(
    campaign_factory, tmp_path, row, words
):
    c = campaign_factory("qianren")
    path = xlsx_file(tmp_path, "u.xlsx", {"对象": [
        HEADER, ("单位", "市税务局", "", "", ""), ("领导干部", "张三", "领导干部", "", "局长"),
        row,
    ]})
    with pytest.raises(CommandError) as info:
        run(c, path)
    message = str(info.value)
    assert words in message and "第4行" in message, message
    assert not CampaignUnit.objects.filter(campaign=c).exists()
    assert not Unit.objects.filter(name__in=["市税务局", "张三", "办公室", "秘书"]).exists()


def test_a_loop_of_parents_is_refused(campaign_factory, tmp_path):
    c = campaign_factory("qianren")
    path = xlsx_file(tmp_path, "u.xlsx", {"对象": [
        HEADER, ("科室", "甲科", "内设科室", "乙科", ""), ("科室", "乙科", "内设科室", "甲科", ""),
    ]})
    with pytest.raises(CommandError, match="循环:甲科→乙科→甲科"):
        run(c, path)
    assert not Unit.objects.filter(name__in=["甲科", "乙科"]).exists()


@pytest.mark.django_db
def test_registry_lookup_costs_a_few_queries_per_level_not_per_row():
    from dataclasses import dataclass

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.subjects import registry_resolve

    @dataclass
    class R:
        row: int
        name: str
        kind: str = "单位"
        parent: str = ""
        post: str = ""

    def queries(n: int) -> int:
        rows = [R(1, "局")] + [R(i + 2, f"科{i}", "内设科室", "局") for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            registry_resolve(rows)
        return len(ctx.captured_queries)

    Unit.objects.create(name="局")
    assert queries(3) == queries(60) <= 6
