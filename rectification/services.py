"""The rectification loop's steps (issue 19), one small atomic service each, audited: cases
proposed from a result and opened by staff; a unit contact's plan, reviewed; progress and
completion reports; acceptance. And the ledger (整改台账), the one reading every page, export
and `manage.py ledger` share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.adapter import assess_assessment
from assessments.entries import evidence_problems
from assessments.models import Assessment
from campaigns.models import Campaign, Unit
from core.audit import audit, snapshot
from rectification.models import CampaignRectification, Case, Measure, Plan, Report
from scoring import engine
from scoring.tally import tally_campaign

DEFAULT_MONTHS = 6  # 000: 限期半年整改


@dataclass(frozen=True)
class Proposal:
    """A case the result suggests: a unit, what flagged it, the problem in general terms."""

    unit_id: int
    unit_name: str
    flag: str
    problem: str


def settings_of(campaign: Campaign) -> CampaignRectification:
    return CampaignRectification.objects.get_or_create(campaign=campaign)[0]


@transaction.atomic
def deadline_months_set(*, campaign: Campaign, months: int, user: Any) -> None:
    """The campaign's rectification period (000: half a year), audited when it changes."""
    row = CampaignRectification.objects.select_for_update().get(pk=settings_of(campaign).pk)
    before = row.deadline_months
    if before == months:
        return
    row.deadline_months = months
    row.full_clean()
    row.save(update_fields=["deadline_months"])
    audit(user=user, action="rectification.deadline_months", obj=row, campaign=campaign,
          before={"deadline_months": before}, after={"deadline_months": months})


def default_deadline(campaign: Campaign | None, today: dt.date | None = None) -> dt.date:
    """Today plus the campaign's months (000: half a year)."""
    months = settings_of(campaign).deadline_months if campaign else DEFAULT_MONTHS
    today = today or timezone.localdate()
    month = today.month - 1 + months
    year, month = today.year + month // 12, month % 12 + 1
    for day in (today.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _flag_problem(flag: str) -> str:
    if flag == engine.FLAG_LAST_PLACE:
        return _("评议结果为末位,须限期整改")
    if flag == engine.FLAG_KEY_RECTIFICATION:
        return _("群众满意率低于整改线,列为重点整改")
    if flag.startswith(engine.FLAG_KEY_RECTIFICATION_ON):
        return _("“%(d)s”满意率低于整改线,须限期整改") % {
            "d": flag.removeprefix(engine.FLAG_KEY_RECTIFICATION_ON)}
    return flag


def proposals_for_campaign(campaign: Campaign) -> list[Proposal]:
    """末位, 重点整改 and each dimension's 重点整改 of the whole campaign's tally, for the
    units not yet with such a case."""
    t = tally_campaign(campaign)
    registry = dict(campaign.units.values_list("id", "unit_id"))
    opened = set(Case.objects.filter(campaign=campaign).values_list("unit_id", "source_flag"))
    out = []
    for c in t.result.categories:
        for u in c.units:
            unit_id = registry[int(u.unit.key)]
            for flag in u.flags:
                wanted = flag in (engine.FLAG_LAST_PLACE, engine.FLAG_KEY_RECTIFICATION) or (
                    flag.startswith(engine.FLAG_KEY_RECTIFICATION_ON))
                if wanted and (unit_id, flag) not in opened:
                    out.append(Proposal(unit_id, u.unit.name, flag, _flag_problem(flag)))
    return out


def proposals_for_assessment(assessment: Assessment) -> list[Proposal]:
    """The units whose grade's consequence requires rectification (section 4)."""
    done = assess_assessment(assessment)
    registry = dict(assessment.units.values_list("id", "unit_id"))
    opened = set(Case.objects.filter(assessment=assessment).values_list("unit_id",
                                                                        "source_flag"))
    bands = {b.label: b for b in done.input.bands}
    out = []
    for c in done.result.categories:
        for u in c.units:
            if u.rectify and u.grade:
                flag = f"grade:{u.grade}"
                unit_id = registry[int(u.unit.key)]
                if (unit_id, flag) not in opened:
                    band = bands[u.grade]
                    out.append(Proposal(unit_id, u.unit.name, flag, _(
                        "考核等次为%(g)s:%(c)s") % {"g": u.grade, "c": band.consequence}))
    return out


@transaction.atomic
def case_open(
    *, unit: Unit, unit_name: str, flag: str, problem: str, deadline: dt.date, user: Any,
    campaign: Campaign | None = None, assessment: Assessment | None = None,
    acceptors: list[Any] | None = None,
) -> Case:
    """Staff open a case (from a proposal, or from a comment with flag "comment")."""
    if (campaign is None) == (assessment is None):
        raise ValueError("a case comes from one campaign or one assessment")
    if not problem.strip():
        raise ValidationError(_("请写明问题。"))
    try:
        with transaction.atomic():
            case = Case.objects.create(campaign=campaign, assessment=assessment, unit=unit,
                                       unit_name=unit_name, source_flag=flag, problem=problem,
                                       deadline=deadline, opened_by=user)
    except IntegrityError:
        raise ValidationError(_("“%(u)s”的这一整改事项已立项。") % {"u": unit_name}) from None
    if acceptors:
        case.acceptors.set(acceptors)
    audit(user=user, action="case.open", obj=case, campaign=campaign, after=snapshot(case))
    return case


def _locked(case: Case, *allowed: str) -> Case:
    row = Case.objects.select_for_update().get(pk=case.pk)
    if row.status not in allowed:
        raise ValidationError(_("整改事项目前为“%(s)s”,不能进行这一步。")
                              % {"s": row.get_status_display()})
    return row


@transaction.atomic
def plan_submit(*, case: Case, problems: str, measures: list[tuple[str, str, dt.date]],
                user: Any) -> Plan:
    """The unit's 整改方案: problems found and measures (text, owner, deadline)."""
    row = _locked(case, Case.Status.AWAITING_PLAN)
    if not problems.strip():
        raise ValidationError(_("请写明查摆出的问题。"))
    if not measures or any(not t.strip() or not o.strip() for t, o, _d in measures):
        raise ValidationError(_("至少写一条措施,每条措施都要有责任人和时限。"))
    plan = Plan.objects.create(case=row, problems=problems, submitted_by=user)
    Measure.objects.bulk_create(Measure(plan=plan, order=i, text=t, owner=o, deadline=d)
                                for i, (t, o, d) in enumerate(measures))
    row.status = Case.Status.PLAN_SUBMITTED
    row.save(update_fields=["status"])
    audit(user=user, action="case.plan_submit", obj=row, campaign=row.campaign,
          after={"plan": plan.pk, "measures": len(measures)})
    return plan


@transaction.atomic
def plan_review(*, plan: Plan, approve: bool, reason: str, user: Any) -> Plan:
    """Staff (or an acceptor) approve the plan, or return it for rework with a reason."""
    row = _locked(plan.case, Case.Status.PLAN_SUBMITTED)
    if not approve and not reason.strip():
        raise ValidationError(_("退回须说明理由。"))
    plan.status = Plan.Status.APPROVED if approve else Plan.Status.RETURNED
    plan.review_reason, plan.reviewed_by, plan.reviewed_at = reason, user, timezone.now()
    plan.save(update_fields=["status", "review_reason", "reviewed_by", "reviewed_at"])
    row.status = Case.Status.IN_PROGRESS if approve else Case.Status.AWAITING_PLAN
    row.save(update_fields=["status"])
    audit(user=user, action="case.plan_approve" if approve else "case.plan_return", obj=row,
          campaign=row.campaign, reason=reason)
    return plan


@transaction.atomic
def report_submit(*, case: Case, kind: str, text: str, user: Any,
                  attachment: UploadedFile | None = None) -> Report:
    """A progress report (整改中), or the completion report that asks for acceptance."""
    row = _locked(case, Case.Status.IN_PROGRESS)
    if kind not in Report.Kind.values or not text.strip():
        raise ValidationError(_("请写明整改进展。"))
    if attachment is not None and (problems := evidence_problems(attachment)):
        raise ValidationError(problems)
    report = Report.objects.create(case=row, kind=kind, text=text, submitted_by=user)
    if attachment is not None:
        report.attachment.save(attachment.name or "attachment", attachment, save=False)
        report.attachment_name = (attachment.name or "")[:200]
        report.save(update_fields=["attachment", "attachment_name"])
    if kind == Report.Kind.COMPLETION:
        row.status = Case.Status.AWAITING_ACCEPTANCE
        row.save(update_fields=["status"])
    audit(user=user, action=f"case.report_{kind}", obj=row, campaign=row.campaign,
          after={"report": report.pk})
    return report


@transaction.atomic
def case_accept(*, case: Case, accept: bool, note: str, user: Any) -> Case:
    """验收: accept the rectification, or send it back (to 整改中) with reasons."""
    row = _locked(case, Case.Status.AWAITING_ACCEPTANCE)
    if not note.strip():
        raise ValidationError(_("请填写验收意见。"))
    row.acceptance_note = note
    if accept:
        row.status, row.accepted_at = Case.Status.ACCEPTED, timezone.now()
    else:
        row.status = Case.Status.IN_PROGRESS
    row.save(update_fields=["status", "acceptance_note", "accepted_at"])
    audit(user=user, action="case.accept" if accept else "case.send_back", obj=row,
          campaign=row.campaign, reason=note)
    return row


# --- the ledger (整改台账) ------------------------------------------------------------------

OVERDUE = "overdue"


def days_overdue(case: Case, today: dt.date) -> int:
    """Days past the deadline of a case not yet accepted (0 otherwise)."""
    if case.status == Case.Status.ACCEPTED:
        return 0
    return max(0, (today - case.deadline).days)


def ledger(cases: Any, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Every case with its status (逾期 when past its deadline and not accepted), deadline,
    days overdue, its approved plan's measures and its acceptance: the JSON of
    `manage.py ledger` and the rows of every ledger page and export."""
    today = today or timezone.localdate()
    out = []
    for case in cases.prefetch_related("plans__measures", "reports"):
        plans = list(case.plans.all())
        plan = next((p for p in reversed(plans) if p.status == Plan.Status.APPROVED),
                    plans[-1] if plans else None)
        late = days_overdue(case, today)
        reports = [r for r in case.reports.all()]
        out.append({
            "id": case.pk,
            "unit": case.unit_name,
            "source": case.source_flag,
            "problem": case.problem,
            "status": OVERDUE if late else case.status,
            "status_label": str(_("逾期")) if late else str(case.get_status_display()),
            "deadline": case.deadline.isoformat(),
            "days_to_deadline": (case.deadline - today).days,
            "days_overdue": late,
            "measures": [
                {"text": m.text, "owner": m.owner, "deadline": m.deadline.isoformat()}
                for m in (plan.measures.all() if plan else [])
            ],
            "progress": reports[-1].text if reports else "",
            "acceptance": case.acceptance_note if case.status == Case.Status.ACCEPTED else "",
        })
    return out
