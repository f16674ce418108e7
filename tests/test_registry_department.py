"""A department's self-inspection (自查, issue 22): its account registers, corrects and
withdraws its own activities by form while the cleanup is in 自查 and until it submits; the
《自查统计表》 counts are generated; other departments' activities stay out of its sight."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import AuditLog
from registry.models import Activity
from registry.services import (
    activity_register,
    activity_update,
    organiser_add,
    organiser_return,
    organiser_submit,
)
from registry.stats import self_check_table
from tests.registry_fixtures import (  # noqa: F401  (fixtures)
    cleanup_fixture,
    data,
    dept_fixture,
    jiwei_fixture,
    organiser_fixture,
    register,
    to_status,
)

FORM = {"name": "全市语言文字规范化达标学校评估", "system": "government", "level": "city",
        "kind": "compliance", "for_grassroots": "on", "frequency": "biennial",
        "basis_kind": "central", "basis_document": "国语委文件〔2000〕3号", "proposal": "keep",
        "proposal_reason": "国家语委部署"}


def test_a_department_registers_by_form_only_during_self_check(client, cleanup, dept,
                                                                 organiser):
    client.force_login(dept)
    url = reverse("registry_activity_new", args=[cleanup.slug])
    page = client.post(url, FORM)
    assert page.status_code == 200 and "现在不是自查登记阶段" in page.content.decode()
    to_status(cleanup, "self_check")
    assert client.get(url).status_code == 200
    assert client.post(url, FORM).status_code == 302
    a = Activity.objects.get()
    assert a.organiser == organiser and a.created_by == dept and a.kind == "compliance"
    assert AuditLog.objects.filter(action="registry.activity_register").exists()
    again = client.post(url, FORM).content.decode()
    assert "本单位已登记名为" in again
    keep_without_reason = client.post(url, {**FORM, "name": "另一项", "proposal_reason": ""})
    assert "拟保留或合并的项目须说明具体理由" in keep_without_reason.content.decode()
    no_target = client.post(url, {**FORM, "name": "另一项", "for_grassroots": ""})
    assert "请至少选择一个面向对象" in no_target.content.decode()


def test_the_department_page_shows_its_own_with_flags_and_counts(client, cleanup, dept,
                                                                  organiser):
    to_status(cleanup, "self_check")
    register(organiser, "教育系统评比", basis_kind="local", charges_fees=True)
    other = organiser_add(cleanup=cleanup, name="市卫健委")
    register(other, "卫生系统评比")
    client.force_login(dept)
    page = client.get(reverse("registry_mine", args=[cleanup.slug])).content.decode()
    assert "教育系统评比" in page and "卫生系统评比" not in page
    assert "以各种名目收费" in page and "报送自查" in page
    foreign = Activity.objects.get(name="卫生系统评比")
    assert client.get(reverse("registry_activity_edit",
                              args=[cleanup.slug, foreign.pk])).status_code == 404
    assert client.get(reverse("registry_list")).status_code == 302  # straight to its page


def test_correcting_withdrawing_and_submitting(client, cleanup, dept, organiser, jiwei):
    to_status(cleanup, "self_check")
    a = register(organiser, "教育系统评比")
    client.force_login(dept)
    edit = reverse("registry_activity_edit", args=[cleanup.slug, a.pk])
    assert client.post(edit, {**FORM, "name": "教育系统评比(更正)"}).status_code == 302
    a.refresh_from_db()
    assert a.name == "教育系统评比(更正)"
    b = register(organiser, "重复的项目")
    withdraw = reverse("registry_activity_withdraw", args=[cleanup.slug, b.pk])
    client.post(withdraw, {"reason": ""})
    b.refresh_from_db()
    assert b.status == "registered"
    client.post(withdraw, {"reason": "重复登记"})
    b.refresh_from_db()
    assert b.status == "withdrawn" and Activity.objects.count() == 2  # nothing deleted
    client.post(reverse("registry_submit", args=[cleanup.slug, organiser.pk]))
    organiser.refresh_from_db()
    assert organiser.submitted_at is not None
    assert client.post(edit, FORM).status_code == 200  # refused, with the reason shown
    with pytest.raises(ValidationError, match="已于"):
        activity_update(activity=a, data=data("x"), user=dept)
    organiser_return(organiser=organiser, reason="请补充依据文件", user=jiwei)
    activity_update(activity=a, data=data("教育系统评比"), user=dept)
    assert AuditLog.objects.filter(action="registry.self_check_return",
                                   reason="请补充依据文件").exists()


def test_submitting_needs_something_registered(cleanup, organiser):
    to_status(cleanup, "self_check")
    with pytest.raises(ValidationError, match="还没有登记任何项目"):
        organiser_submit(organiser=organiser)


def test_a_proposal_to_merge_names_an_activity_of_the_same_cleanup(cleanup, organiser):
    to_status(cleanup, "self_check")
    kept = register(organiser, "保留的")
    with pytest.raises(ValidationError) as exc:
        activity_register(organiser=organiser, data=data("并入的", proposal="merge"))
    assert "proposal_merge_into" in exc.value.message_dict
    merged = activity_register(organiser=organiser, data=data(
        "并入的", proposal="merge", proposal_merge_into=kept))
    assert merged.proposal_merge_into == kept


def test_the_self_check_table_is_counted_from_the_rows(cleanup, organiser):
    register(organiser, "甲", kind="appraisal", basis_kind="local", proposal="cancel",
             proposal_reason="")
    register(organiser, "乙", kind="compliance", charges_fees=True)
    register(organiser, "丙", kind="commendation", basis_kind="law")
    other = organiser_add(cleanup=cleanup, name="市委宣传部")
    register(other, "丁", system="party", basis_kind="local", proposal="cancel",
             proposal_reason="")
    organiser_add(cleanup=cleanup, name="市妇联")  # nothing registered: still listed
    orgs, systems, total = self_check_table(cleanup)
    rows = {c.label: c.row() for c in orgs}
    # 登记, 评比 达标 表彰, 拟保留 拟合并 拟撤销, 有法定依据, 涉及收费或摊派, 甄别提示
    assert rows["市教育局"] == [3, 1, 1, 1, 2, 0, 1, 2, 1, 2]
    assert rows["市委宣传部"] == [1, 0, 0, 1, 0, 0, 1, 0, 0, 1]
    assert rows["市妇联"] == [0] * 10
    assert total.row() == [4, 1, 1, 2, 2, 0, 2, 2, 1, 3]
    assert [s.label for s in systems] == ["党委", "政府部门"]


def test_the_office_sees_the_table_on_the_cleanup_page(client, cleanup, organiser, jiwei):
    register(organiser, "甲")
    client.force_login(jiwei)
    page = client.get(reverse("registry_cleanup", args=[cleanup.slug])).content.decode()
    assert "自查统计表" in page and "市教育局" in page and "动员部署" in page
    assert client.post(reverse("registry_status", args=[cleanup.slug]),
                       {"status": "self_check"}).status_code == 302
    cleanup.refresh_from_db()
    assert cleanup.status == "self_check"


def test_creating_a_cleanup_through_the_page(client, jiwei, office):
    client.force_login(office)
    assert client.get(reverse("registry_new")).status_code == 403
    client.force_login(jiwei)
    response = client.post(reverse("registry_new"), {
        "preset": "pingbi", "name": "2027年清理", "slug": "pb27", "year": 2027,
        "level": "city", "office": "市联席会议办公室"})
    assert response.status_code == 302
    assert client.get(reverse("registry_list")).content.decode().count("2027年清理") == 1


def test_the_status_moves_one_step_at_a_time(cleanup, organiser, jiwei):
    from registry.services import cleanup_set_status

    with pytest.raises(ValidationError, match="不能从“准备”改为“审核”"):
        cleanup_set_status(cleanup=cleanup, status="review")
    cleanup = to_status(cleanup, "self_check")
    with pytest.raises(ValidationError, match="还没有登记任何项目"):
        cleanup_set_status(cleanup=cleanup, status="review")
    register(organiser, "甲")
    cleanup = to_status(cleanup, "review")
    with pytest.raises(ValidationError, match="退回自查须说明理由"):
        cleanup_set_status(cleanup=cleanup, status="self_check")
    cleanup = cleanup_set_status(cleanup=cleanup, status="self_check", reason="补充登记",
                                 user=jiwei)
    with pytest.raises(ValidationError, match="不能从“自查”改为“公示”"):
        cleanup_set_status(cleanup=cleanup, status="publicity")
    assert AuditLog.objects.filter(action="registry.cleanup_status", reason="补充登记").exists()
