"""Issue 19, the loop's services: proposals from a result, a case opened once, a plan
returned then approved, progress and completion, acceptance sent back then given; the ledger
says it all, overdue included; every step is in the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Campaign
from core.models import AuditLog
from rectification.models import Case
from rectification.services import (
    case_accept,
    case_open,
    default_deadline,
    ledger,
    plan_review,
    plan_submit,
    proposals_for_campaign,
    report_submit,
)
from tests.test_assessment_commands import survey_campaign


@pytest.fixture
def pz(db, tmp_path):  # type: ignore[no-untyped-def]
    survey_campaign(tmp_path)
    return Campaign.objects.get(slug="pz")


def test_proposals_follow_the_flags_and_a_case_opens_once(pz, office):
    proposals = proposals_for_campaign(pz)
    flagged = {(p.unit_name, p.flag) for p in proposals}
    assert ("丙局", "last_place") in flagged  # 80%, last of its category
    assert ("乙局", "key_rectification") in flagged  # 87.5% < 90%
    assert not any(p.unit_name == "甲局" for p in proposals)  # 95%
    p = next(p for p in proposals if p.unit_name == "乙局" and p.flag == "key_rectification")
    unit = pz.units.get(name="乙局").unit
    case_open(campaign=pz, unit=unit, unit_name=p.unit_name, flag=p.flag, problem=p.problem,
              deadline=default_deadline(pz, dt.date(2026, 12, 2)), user=office)
    assert Case.objects.get().deadline == dt.date(2027, 6, 2)  # half a year (000)
    with pytest.raises(ValidationError, match="已立项"):
        case_open(campaign=pz, unit=unit, unit_name="乙局", flag=p.flag, problem="x",
                  deadline=dt.date(2027, 6, 2), user=office)
    assert ("乙局", "key_rectification") not in {
        (q.unit_name, q.flag) for q in proposals_for_campaign(pz)}


def test_the_whole_loop_and_the_ledger(pz, office):
    unit = pz.units.get(name="丙局").unit
    case = case_open(campaign=pz, unit=unit, unit_name="丙局", flag="key_rectification",
                     problem="群众满意率低于整改线", deadline=dt.date(2027, 6, 1), user=office)
    with pytest.raises(ValidationError):
        report_submit(case=case, kind="completion", text="完成", user=office)  # no plan yet
    plan = plan_submit(case=case, problems="办事效率低", user=office,
                       measures=[("压缩办理时限", "张科长", dt.date(2027, 3, 1))])
    with pytest.raises(ValidationError, match="理由"):
        plan_review(plan=plan, approve=False, reason="", user=office)
    plan_review(plan=plan, approve=False, reason="措施不具体", user=office)
    case.refresh_from_db()
    assert case.status == "awaiting_plan"
    plan = plan_submit(case=case, problems="办事效率低", user=office,
                       measures=[("窗口办理时限压缩到3日", "张科长", dt.date(2027, 3, 1))])
    plan_review(plan=plan, approve=True, reason="", user=office)
    report_submit(case=case, kind="progress", text="已完成流程再造", user=office)
    report_submit(case=case, kind="completion", text="整改完成", user=office)
    case_accept(case=case, accept=False, note="群众仍有反映", user=office)
    report_submit(case=case, kind="completion", text="再次整改完成", user=office)
    case_accept(case=case, accept=True, note="整改到位,同意验收", user=office)
    row = ledger(Case.objects.all(), today=dt.date(2027, 7, 1))[0]
    assert row["status"] == "accepted" and row["days_overdue"] == 0
    assert row["measures"] == [{"text": "窗口办理时限压缩到3日", "owner": "张科长",
                                "deadline": "2027-03-01"}]
    assert row["acceptance"] == "整改到位,同意验收"
    actions = list(AuditLog.objects.filter(object_type="rectification.Case")
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["case.open", "case.plan_submit", "case.plan_return", "case.plan_submit",
                       "case.plan_approve", "case.report_progress", "case.report_completion",
                       "case.send_back", "case.report_completion", "case.accept"]


def test_a_case_past_its_deadline_is_overdue_in_the_ledger(pz, office):
    unit = pz.units.get(name="乙局").unit
    case_open(campaign=pz, unit=unit, unit_name="乙局", flag="key_rectification",
              problem="x", deadline=dt.date(2027, 6, 1), user=office)
    row = ledger(Case.objects.all(), today=dt.date(2027, 6, 11))[0]
    assert row["status"] == "overdue" and row["days_overdue"] == 10
    assert row["status_label"] == "逾期" and row["days_to_deadline"] == -10


def test_a_followup_survey_over_the_units_with_cases_gives_before_and_after(
    pz, office, tmp_path
):
    from django.core.management import call_command

    from rectification.followup import before_after, followup_create, ledger_publish
    from tests.helpers import xlsx_file

    unit = pz.units.get(name="乙局").unit
    case_open(campaign=pz, unit=unit, unit_name="乙局", flag="key_rectification",
              problem="满意率低", deadline=dt.date(2027, 6, 1), user=office)
    follow = followup_create(campaign=pz, slug="pz-hkk", user=office)
    assert list(follow.units.values_list("name", flat=True)) == ["乙局"]
    assert follow.previous is None and follow.series == ""
    assert all(c.winners == 0 and c.last_place == 0 for c in follow.categories.all())
    with pytest.raises(ValidationError):
        followup_create(campaign=pz, slug="pz-hkk2", user=office)
    assert before_after(pz)[unit.pk] == (pytest.approx(0.875), None)
    rows = [("编号", "乙局")] + [(f"{i}", "满意" if i < 19 else "不满意") for i in range(20)]
    call_command("import_ballots", "pz-hkk", str(xlsx_file(tmp_path, "f.xlsx", {"票": rows})))
    before, after = before_after(pz)[unit.pk]
    assert float(before) == 0.875 and float(after) == 0.95  # type: ignore[arg-type]
    copy = ledger_publish(campaign=pz, user=office)
    assert set(copy[0]) == {"unit", "problem", "measures", "status_label", "acceptance"}


def test_the_public_progress_page_shows_only_public_columns(client, pz, office):
    from django.urls import reverse

    unit = pz.units.get(name="乙局").unit
    case = case_open(campaign=pz, unit=unit, unit_name="乙局", flag="key_rectification",
                     problem="办事效率有待提高", deadline=dt.date(2027, 6, 1), user=office)
    plan = plan_submit(case=case, problems="x", user=office,
                       measures=[("压缩办理时限", "张三科长", dt.date(2027, 3, 1))])
    plan_review(plan=plan, approve=True, reason="", user=office)
    public = reverse("rectification_public", args=[pz.slug])
    assert client.get(public).status_code == 404
    pz.office = office.offices.first()
    pz.save(update_fields=["office"])
    client.force_login(office)
    publish = reverse("rectification_publication", args=[pz.slug, "publish"])
    client.post(publish)
    client.logout()
    page = client.get(public).content.decode()
    assert "办事效率有待提高" in page and "压缩办理时限" in page and "整改中" in page
    assert "张三科长" not in page  # owners are not public
    client.force_login(office)
    client.post(reverse("rectification_publication", args=[pz.slug, "withdraw"]), {"reason": ""})
    assert client.get(public).status_code == 200
    client.post(reverse("rectification_publication", args=[pz.slug, "withdraw"]),
                {"reason": "内容更新"})
    client.logout()
    assert client.get(public).status_code == 404
