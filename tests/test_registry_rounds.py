"""Review rounds (issue 22): the office's screening, the plenary meetings and the higher
level's feedback each record a decision per activity with its reason; a later round may change
it, the last one is final, merges name the surviving activity, and every activity's history
reads as a timeline. Closed rounds and past decisions do not change; nothing is deleted."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.models import AuditLog
from registry.models import Activity, RoundDecision
from registry.services import (
    activity_withdraw,
    decision_record,
    final_decision,
    final_decisions,
    round_add,
    round_carry_forward,
    round_close,
    timeline,
)
from tests.registry_fixtures import (  # noqa: F401  (fixtures)
    cleanup_fixture,
    dept_fixture,
    jiwei_fixture,
    organiser_fixture,
    register,
    to_status,
)


@pytest.fixture
def three(cleanup, organiser):  # type: ignore[no-untyped-def]
    a = register(organiser, "全市教育系统先进集体评选", basis_kind="local")
    b = register(organiser, "全市优秀教师表彰", basis_kind="provincial",
                 basis_document="省政府批准文件")
    c = register(organiser, "校园文化达标评比", basis_kind="none", kind="compliance",
                 proposal="merge", proposal_merge_into=b, proposal_reason="与优秀教师表彰重复")
    return to_status(cleanup, "self_check", "review"), a, b, c


def test_the_preset_brings_the_rounds_phases_and_deadlines_of_003(cleanup):
    assert [r.name for r in cleanup.rounds.all()] == [
        "联席会议办公室甄别审核", "联席会议第二次全体会议", "上级联席会议办公室反馈",
        "联席会议第三次全体会议"]
    assert [p.name for p in cleanup.phases.all()] == ["动员部署", "自查自纠", "审核上报", "建章立制"]
    assert str(cleanup.self_check_deadline) == "2026-02-28"
    assert str(cleanup.screening_deadline) == "2026-03-06"
    assert str(cleanup.rounds.get(order=4).date) == "2026-03-31"
    assert str(cleanup.phases.get(name="建章立制").end) == "2026-06-30"


def test_decisions_change_from_round_to_round_and_the_last_is_final(three, jiwei):
    cleanup, a, b, c = three
    r1, r2, r3, r4 = cleanup.rounds.all()
    decision_record(round=r1, activity=a, decision="cancel", reason="无依据", user=jiwei)
    assert final_decision(a).decision == "cancel"
    decision_record(round=r2, activity=a, decision="keep", reason="全体会议认为确需保留",
                    user=jiwei)
    assert final_decision(a).decision == "keep" and final_decision(a).round == r2
    decision_record(round=r4, activity=a, decision="merge", merged_into=b,
                    reason="按上级反馈合并", user=jiwei)
    final = final_decisions(cleanup)[a.pk]
    assert final.decision == "merge" and final.merged_into == b and final.round == r4
    events = timeline(a)
    assert [e.title for e in events] == ["自查登记(市教育局)", r1.name, r2.name, r4.name]
    assert [e.decision for e in events] == ["keep", "cancel", "keep", "merge"]
    assert [e.final for e in events] == [False, False, False, True]
    assert events[-1].merged_into == b
    assert AuditLog.objects.filter(action="registry.decision").count() == 3


def test_a_decision_is_revised_within_its_open_round_and_the_log_keeps_the_earlier(three,
                                                                                  jiwei):
    cleanup, a, _b, _c = three
    r1 = cleanup.rounds.get(order=1)
    decision_record(round=r1, activity=a, decision="keep", reason="初步保留", user=jiwei)
    decision_record(round=r1, activity=a, decision="cancel", reason="复核后撤销", user=jiwei)
    assert RoundDecision.objects.filter(round=r1, activity=a).count() == 1
    last = AuditLog.objects.filter(action="registry.decision").order_by("-id").first()
    assert last.before["decision"] == "keep" and last.after["decision"] == "cancel"
    round_close(round=r1, user=jiwei)
    with pytest.raises(ValidationError, match="已经结束"):
        decision_record(round=r1, activity=a, decision="keep", reason="再改", user=jiwei)


def test_merges_point_at_another_activity_of_the_same_cleanup(three, jiwei, organiser):
    cleanup, a, b, _c = three
    r1 = cleanup.rounds.get(order=1)
    with pytest.raises(ValidationError, match="合并到自身"):
        decision_record(round=r1, activity=a, decision="merge", merged_into=a, reason="x")
    with pytest.raises(ValidationError, match="须选择合并到哪个项目"):
        decision_record(round=r1, activity=a, decision="merge", reason="x")
    with pytest.raises(ValidationError, match="只有合并"):
        decision_record(round=r1, activity=a, decision="keep", merged_into=b, reason="x")
    from registry.services import cleanup_create, organiser_add

    other = cleanup_create(preset="pingbi", slug="other", name="另一次清理", year=2027,
                           office="办")
    foreign = register(organiser_add(cleanup=other, name="某局"), "别处的项目")
    with pytest.raises(ValidationError, match="只能合并到本次清理工作"):
        decision_record(round=r1, activity=a, decision="merge", merged_into=foreign,
                        reason="x")
    with pytest.raises(ValidationError, match="请写明理由"):
        decision_record(round=r1, activity=a, decision="cancel", reason="  ")


def test_the_database_refuses_a_merge_into_itself_or_without_a_target(three):
    cleanup, a, b, _c = three
    r1 = cleanup.rounds.get(order=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoundDecision.objects.create(round=r1, activity=a, decision="merge", merged_into=a,
                                     reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        RoundDecision.objects.create(round=r1, activity=a, decision="merge", reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        RoundDecision.objects.create(round=r1, activity=a, decision="keep", reason="")
    RoundDecision.objects.create(round=r1, activity=a, decision="keep", reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        RoundDecision.objects.create(round=r1, activity=a, decision="cancel", reason="y")
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(pk=b.pk).update(proposal="merge", proposal_merge_into=b)


def test_carry_forward_takes_the_proposal_then_the_previous_round(three, jiwei):
    cleanup, a, b, c = three
    r1, r2 = cleanup.rounds.all()[:2]
    decision_record(round=r1, activity=a, decision="cancel", reason="无依据", user=jiwei)
    assert round_carry_forward(round=r1, user=jiwei) == 2
    got = final_decisions(cleanup)
    assert got[b.pk].decision == "keep" and got[c.pk].decision == "merge"
    assert got[c.pk].merged_into == b and got[c.pk].reason.startswith("同意举办单位意见")
    decision_record(round=r2, activity=b, decision="keep", reason="全体会议同意", user=jiwei)
    assert round_carry_forward(round=r2, user=jiwei) == 2
    assert RoundDecision.objects.get(round=r2, activity=a).reason == (
        "同意“联席会议办公室甄别审核”意见:无依据")


def test_rounds_are_added_in_order_and_only_while_not_published(three, jiwei):
    cleanup, *_ = three
    rnd = round_add(cleanup=cleanup, name="联席会议第四次全体会议", kind="plenary", user=jiwei)
    assert rnd.order == 5
    with pytest.raises(ValidationError, match="已有名为"):
        round_add(cleanup=cleanup, name="联席会议第四次全体会议", kind="plenary")
    with pytest.raises(ValidationError, match="还没有任何审核意见"):
        round_close(round=rnd)


def test_decisions_only_during_review_and_withdrawn_registrations_keep_their_history(
        cleanup, organiser, jiwei):
    a = register(organiser, "重复登记的项目")
    r1 = cleanup.rounds.get(order=1)
    with pytest.raises(ValidationError, match="只有在审核阶段"):
        decision_record(round=r1, activity=a, decision="keep", reason="x")
    activity_withdraw(activity=a, reason="与另一项重复登记", by_office=True, user=jiwei)
    a.refresh_from_db()
    assert a.status == "withdrawn" and timeline(a)[-1].text == "与另一项重复登记"


def test_the_reviewers_pages_record_decisions_and_show_the_timeline(client, three, jiwei):
    cleanup, a, b, c = three
    client.force_login(jiwei)
    listing = client.get(reverse("registry_activities", args=[cleanup.slug])).content.decode()
    assert "没有法律、行政法规、中央文件明确规定" in listing
    assert listing.count('data-activity="') == 3
    flagged = client.get(reverse("registry_activities", args=[cleanup.slug]),
                         {"show": "flagged"}).content.decode()
    assert flagged.count('data-activity="') == 2  # a (local) and c (none)
    r1 = cleanup.rounds.get(order=1)
    url = reverse("registry_activity", args=[cleanup.slug, a.pk])
    page = client.get(url).content.decode()
    assert "记录审核意见" in page and "甄别提示" in page
    bad = client.post(url, {"round": r1.pk, "decision": "merge", "reason": "合并"})
    assert "合并须选择合并到哪个项目" in bad.content.decode()
    done = client.post(url, {"round": r1.pk, "decision": "merge", "merged_into": b.pk,
                             "reason": "内容与优秀教师表彰重叠"})
    assert done.status_code == 302
    page = client.get(url).content.decode()
    assert 'id="timeline"' in page and "内容与优秀教师表彰重叠" in page
    round_page = reverse("registry_round", args=[cleanup.slug, r1.pk])
    client.post(round_page, {"action": "carry"})
    client.post(round_page, {"action": "close"})
    r1.refresh_from_db()
    assert r1.closed_at is not None and r1.decisions.count() == 3
    assert client.get(reverse("registry_activities", args=[cleanup.slug]),
                      {"show": "undecided"}).content.decode().count('data-activity="') == 0


def test_who_may_review(client, three, dept, leader):
    cleanup, a, *_ = three
    url = reverse("registry_activity", args=[cleanup.slug, a.pk])
    client.force_login(leader)
    assert "记录审核意见" not in client.get(url).content.decode()
    assert client.post(url, {"round": 1, "decision": "keep", "reason": "x"}).status_code == 403
    client.force_login(dept)
    assert client.get(reverse("registry_activities", args=[cleanup.slug])).status_code == 403
    assert client.get(url).status_code == 403
    assert client.get(reverse("registry_cleanup", args=[cleanup.slug])).status_code == 302
