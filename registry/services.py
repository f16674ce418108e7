"""The cleanup's writes (issue 22), one small atomic service each, audit-logged in the same
transaction and guarded by the database's constraints: a cleanup made from a preset and its
status; organisers and their accounts; an activity registered, corrected or withdrawn by its
department (or the office) while that is allowed, and the department's self-inspection
submitted or returned; review rounds, each activity's decision in a round, a round closed.
Each `*_problems` function says what stands in the way, in words for the page; the write
refuses (ValidationError) when there is any. Publication is in registry/publication.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit, snapshot
from registry.models import (
    Activity,
    Cleanup,
    CleanupPhase,
    Decision,
    DepartmentAccount,
    Organiser,
    Round,
    RoundDecision,
)
from registry.presets import PRESETS, on

S = Cleanup.Status
# The status changes a page may ask for; 公示 comes only through cleanup_publish and back to
# 审核 only through cleanup_unpublish (registry/publication.py).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.PREPARING: (S.SELF_CHECK,),
    S.SELF_CHECK: (S.REVIEW,),
    S.REVIEW: (S.SELF_CHECK,),
    S.PUBLICITY: (S.DONE,),
    S.DONE: (),
}


def _refuse(problems: list[str] | dict[str, list[str]]) -> None:
    if problems:
        raise ValidationError(problems)


# --- the cleanup -----------------------------------------------------------------------


@transaction.atomic
def cleanup_create(*, preset: str, slug: str, name: str, year: int, office: str,
                   level: str = Cleanup.Level.CITY, user: Any = None) -> Cleanup:
    """A cleanup with the phases, deadlines and review rounds of a preset (registry/presets)."""
    spec = PRESETS.get(preset)
    if spec is None:
        raise ValidationError(_("未知的预设 %(p)s,可选:%(all)s")
                              % {"p": preset, "all": ", ".join(PRESETS)})
    if Cleanup.objects.filter(slug=slug).exists():
        raise ValidationError(_("标识 %(slug)s 已被使用") % {"slug": slug})
    cleanup = Cleanup.objects.create(
        name=name, slug=slug, year=year, level=level, office=office, preset=spec.key,
        self_check_deadline=on(year, spec.self_check_deadline),
        screening_deadline=on(year, spec.screening_deadline))
    CleanupPhase.objects.bulk_create(
        CleanupPhase(cleanup=cleanup, order=i, name=p.name, description=p.description,
                     start=on(year, p.start), end=on(year, p.end))
        for i, p in enumerate(spec.phases))
    Round.objects.bulk_create(
        Round(cleanup=cleanup, order=i + 1, name=r.name, kind=r.kind, date=on(year, r.date))
        for i, r in enumerate(spec.rounds))
    audit(user=user, action="registry.cleanup_create", obj=cleanup, after=snapshot(cleanup),
          reason=_("由预设 %(p)s 创建") % {"p": preset})
    return cleanup


def status_problems(cleanup: Cleanup, status: str) -> list[str]:
    if status not in TRANSITIONS.get(cleanup.status, ()):
        return [_("不能从“%(a)s”改为“%(b)s”")
                % {"a": S(cleanup.status).label, "b": S(status).label if status in S.values
                   else status}]
    if status == S.REVIEW and not cleanup.activities.filter(
            status=Activity.Status.REGISTERED).exists():
        return [_("还没有登记任何项目")]
    return []


@transaction.atomic
def cleanup_set_status(*, cleanup: Cleanup, status: str, user: Any = None,
                       reason: str = "") -> Cleanup:
    """准备 → 自查 → 审核 (→ 公示 by publishing) → 完成; 审核 back to 自查 with a reason."""
    locked = Cleanup.objects.select_for_update().get(pk=cleanup.pk)
    problems = status_problems(locked, status)
    if locked.status == S.REVIEW and status == S.SELF_CHECK and not reason.strip():
        problems.append(_("退回自查须说明理由"))
    _refuse(problems)
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status"])
    audit(user=user, action="registry.cleanup_status", obj=locked, before={"status": before},
          after={"status": status}, reason=reason.strip())
    return locked


# --- organisers and accounts -----------------------------------------------------------


@transaction.atomic
def organiser_add(*, cleanup: Cleanup, name: str, user: Any = None) -> Organiser:
    name = name.strip()
    if not name:
        raise ValidationError(_("举办单位名称为空"))
    organiser, created = Organiser.objects.get_or_create(cleanup=cleanup, name=name)
    if created:
        audit(user=user, action="registry.organiser_add", obj=organiser,
              after=snapshot(organiser))
    return organiser


@transaction.atomic
def account_link(*, organiser: Organiser, account: Any, user: Any = None) -> DepartmentAccount:
    link, created = DepartmentAccount.objects.get_or_create(user=account, organiser=organiser)
    if created:
        audit(user=user, action="registry.account_link", obj=link,
              after={"user": account.get_username(), "organiser": organiser.name})
    return link


def organisers_of(user: Any, cleanup: Cleanup) -> list[Organiser]:
    """The organisers a department account registers for in this cleanup."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Organiser.objects.filter(cleanup=cleanup, accounts__user=user).distinct())


# --- activities ------------------------------------------------------------------------


@dataclass
class ActivityData:
    """What a department fills in for one activity (自查登记表's columns)."""

    name: str
    system: str
    kind: str
    frequency: str
    basis_kind: str
    proposal: str
    level: str = "city"
    for_system: bool = False
    for_grassroots: bool = False
    for_enterprises: bool = False
    basis_document: str = ""
    charges_fees: bool = False
    asks_contributions: bool = False
    improper_payments: bool = False
    first_year: int | None = None
    proposal_merge_into: Activity | None = None
    proposal_reason: str = ""

    def fields(self) -> dict[str, Any]:
        data = asdict(self)
        data["proposal_merge_into"] = self.proposal_merge_into
        data["name"] = self.name.strip()
        data["basis_document"] = self.basis_document.strip()
        data["proposal_reason"] = self.proposal_reason.strip()
        return data


def editing_problems(organiser: Organiser, *, by_office: bool) -> list[str]:
    """Whether the organiser's registrations may change now: a department while the cleanup
    is in 自查 and its self-inspection is not submitted; the office up to the review."""
    status = organiser.cleanup.status
    if by_office:
        if status not in (S.PREPARING, S.SELF_CHECK, S.REVIEW):
            return [_("清理工作处于“%(s)s”阶段,项目不能再修改") % {"s": S(status).label}]
        return []
    if status != S.SELF_CHECK:
        return [_("现在不是自查登记阶段(当前:%(s)s)") % {"s": S(status).label}]
    if organiser.submitted_at is not None:
        return [_("本单位的自查已于 %(at)s 报送,如需修改请联系联席会议办公室退回")
                % {"at": f"{timezone.localtime(organiser.submitted_at):%Y-%m-%d %H:%M}"}]
    return []


def activity_problems(data: ActivityData, organiser: Organiser,
                      instance: Activity | None = None) -> dict[str, list[str]]:
    """The form's problems, by field ("__all__" for the whole)."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    name = data.name.strip()
    if not name:
        add("name", _("项目名称为空"))
    elif Activity.objects.filter(organiser=organiser, name=name).exclude(
            pk=instance.pk if instance else 0).exists():
        add("name", _("本单位已登记名为“%(n)s”的项目") % {"n": name})
    if not (data.for_system or data.for_grassroots or data.for_enterprises):
        add("for_system", _("请至少选择一个面向对象"))
    if data.proposal in (Decision.KEEP, Decision.MERGE) and not data.proposal_reason.strip():
        add("proposal_reason", _("拟保留或合并的项目须说明具体理由"))
    target = data.proposal_merge_into
    if data.proposal == Decision.MERGE:
        if target is None:
            add("proposal_merge_into", _("拟合并的项目须选择合并到哪个项目"))
        elif instance is not None and target.pk == instance.pk:
            add("proposal_merge_into", _("项目不能合并到自身"))
        elif target.cleanup_id != organiser.cleanup_id:
            add("proposal_merge_into", _("只能合并到本次清理工作中登记的项目"))
        elif target.status != Activity.Status.REGISTERED:
            add("proposal_merge_into", _("“%(n)s”已撤回登记") % {"n": target.name})
    elif target is not None:
        add("proposal_merge_into", _("只有拟合并的项目才选择合并到的项目"))
    return problems


@transaction.atomic
def activity_register(*, organiser: Organiser, data: ActivityData, user: Any = None,
                      by_office: bool = False) -> Activity:
    # Locked and read afresh: a submission or a status change in between is seen.
    organiser = Organiser.objects.select_for_update().select_related("cleanup").get(
        pk=organiser.pk)
    _refuse(editing_problems(organiser, by_office=by_office))
    _refuse(activity_problems(data, organiser))
    activity = Activity.objects.create(
        cleanup=organiser.cleanup, organiser=organiser,
        created_by=user if getattr(user, "is_authenticated", False) else None, **data.fields())
    audit(user=user, action="registry.activity_register", obj=activity,
          after=snapshot(activity))
    return activity


@transaction.atomic
def activity_update(*, activity: Activity, data: ActivityData, user: Any = None,
                    by_office: bool = False) -> Activity:
    locked = Activity.objects.select_for_update().select_related("organiser__cleanup").get(
        pk=activity.pk)
    _refuse(editing_problems(locked.organiser, by_office=by_office))
    if locked.status != Activity.Status.REGISTERED:
        _refuse([_("该项目已撤回登记")])
    _refuse(activity_problems(data, locked.organiser, locked))
    before = snapshot(locked)
    for field, value in data.fields().items():
        setattr(locked, field, value)
    locked.save()
    audit(user=user, action="registry.activity_update", obj=locked, before=before,
          after=snapshot(locked))
    return locked


@transaction.atomic
def activity_withdraw(*, activity: Activity, reason: str, user: Any = None,
                      by_office: bool = False) -> Activity:
    """Withdraw a registration made by mistake (not a decision to cancel the activity)."""
    locked = Activity.objects.select_for_update().select_related("organiser__cleanup").get(
        pk=activity.pk)
    problems = editing_problems(locked.organiser, by_office=by_office)
    if locked.status != Activity.Status.REGISTERED:
        problems.append(_("该项目已撤回登记"))
    if not reason.strip():
        problems.append(_("撤回登记须说明理由"))
    if locked.decisions.exists():
        problems.append(_("该项目已有审核意见,不能撤回登记"))
    if Activity.objects.filter(proposal_merge_into=locked,
                               status=Activity.Status.REGISTERED).exists():
        problems.append(_("有项目拟合并到该项目,不能撤回登记"))
    _refuse(problems)
    locked.status, locked.withdrawn_reason = Activity.Status.WITHDRAWN, reason.strip()
    locked.save(update_fields=["status", "withdrawn_reason", "updated_at"])
    audit(user=user, action="registry.activity_withdraw", obj=locked, reason=reason.strip())
    return locked


@transaction.atomic
def organiser_submit(*, organiser: Organiser, user: Any = None) -> Organiser:
    """报送自查: the department's registrations go to the office and no longer change."""
    locked = Organiser.objects.select_for_update().select_related("cleanup").get(pk=organiser.pk)
    problems = editing_problems(locked, by_office=False)
    if not locked.activities.filter(status=Activity.Status.REGISTERED).exists():
        problems.append(_("还没有登记任何项目;没有项目的单位也请登记后报送,或联系联席会议办公室"))
    _refuse(problems)
    locked.submitted_at = timezone.now()
    locked.save(update_fields=["submitted_at"])
    audit(user=user, action="registry.self_check_submit", obj=locked,
          after={"activities": locked.activities.filter(
              status=Activity.Status.REGISTERED).count()})
    return locked


@transaction.atomic
def organiser_return(*, organiser: Organiser, reason: str, user: Any = None) -> Organiser:
    """退回自查: the office sends a submitted self-inspection back for correction."""
    locked = Organiser.objects.select_for_update().select_related("cleanup").get(pk=organiser.pk)
    problems = []
    if locked.submitted_at is None:
        problems.append(_("该单位尚未报送自查"))
    if locked.cleanup.status not in (S.SELF_CHECK, S.REVIEW):
        problems.append(_("现在不能退回自查"))
    if not reason.strip():
        problems.append(_("退回须说明理由"))
    _refuse(problems)
    locked.submitted_at = None
    locked.save(update_fields=["submitted_at"])
    audit(user=user, action="registry.self_check_return", obj=locked, reason=reason.strip())
    return locked


# --- rounds and decisions --------------------------------------------------------------


@transaction.atomic
def round_add(*, cleanup: Cleanup, name: str, kind: str, date: dt.date | None = None,
              user: Any = None) -> Round:
    name = name.strip()
    problems = []
    if not name:
        problems.append(_("轮次名称为空"))
    elif cleanup.rounds.filter(name=name).exists():
        problems.append(_("已有名为“%(n)s”的轮次") % {"n": name})
    if kind not in Round.Kind.values:
        problems.append(_("未知的轮次类型"))
    if cleanup.status in (S.PUBLICITY, S.DONE):
        problems.append(_("清理工作已公示,不能再增加审核轮次"))
    _refuse(problems)
    order = (cleanup.rounds.aggregate(m=Max("order"))["m"] or 0) + 1
    rnd = Round.objects.create(cleanup=cleanup, order=order, name=name, kind=kind, date=date)
    audit(user=user, action="registry.round_add", obj=rnd, after=snapshot(rnd))
    return rnd


@transaction.atomic
def round_close(*, round: Round, user: Any = None) -> Round:
    locked = Round.objects.select_for_update().get(pk=round.pk)
    _refuse([_("该轮次已经结束")] if locked.closed_at else [])
    _refuse([] if locked.decisions.exists() else [_("该轮次还没有任何审核意见")])
    locked.closed_at = timezone.now()
    locked.save(update_fields=["closed_at"])
    audit(user=user, action="registry.round_close", obj=locked,
          after={"decisions": locked.decisions.count()})
    return locked


def decision_problems(*, round: Round, activity: Activity, decision: str,
                      merged_into: Activity | None, reason: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if round.cleanup.status != S.REVIEW:
        add("__all__", _("只有在审核阶段才能记录审核意见(当前:%(s)s)")
            % {"s": S(round.cleanup.status).label})
    if round.closed_at is not None:
        add("__all__", _("“%(r)s”已经结束,意见不能再修改") % {"r": round.name})
    if activity.cleanup_id != round.cleanup_id or activity.status != Activity.Status.REGISTERED:
        add("__all__", _("该项目不在本次清理工作的登记项目中"))
    if decision not in Decision.values:
        add("decision", _("请选择保留、合并或撤销"))
    if decision == Decision.MERGE:
        if merged_into is None:
            add("merged_into", _("合并须选择合并到哪个项目"))
        elif merged_into.pk == activity.pk:
            add("merged_into", _("项目不能合并到自身"))
        elif (merged_into.cleanup_id != round.cleanup_id
              or merged_into.status != Activity.Status.REGISTERED):
            add("merged_into", _("只能合并到本次清理工作中登记的项目"))
    elif merged_into is not None:
        add("merged_into", _("只有合并才选择合并到的项目"))
    if not reason.strip():
        add("reason", _("请写明理由"))
    return problems


@transaction.atomic
def decision_record(*, round: Round, activity: Activity, decision: str,
                    merged_into: Activity | None = None, reason: str,
                    user: Any = None) -> RoundDecision:
    """This round's decision on the activity (again: revised, the earlier one in the log)."""
    round = Round.objects.select_for_update().select_related("cleanup").get(pk=round.pk)
    _refuse(decision_problems(round=round, activity=activity, decision=decision,
                              merged_into=merged_into, reason=reason))
    existing = RoundDecision.objects.filter(round=round, activity=activity).first()
    before = snapshot(existing) if existing else None
    who = user if getattr(user, "is_authenticated", False) else None
    row, _created = RoundDecision.objects.update_or_create(
        round=round, activity=activity,
        defaults={"decision": decision, "merged_into": merged_into, "reason": reason.strip(),
                  "decided_by": who})
    audit(user=user, action="registry.decision", obj=row, before=before, after=snapshot(row),
          reason=reason.strip(), object_repr=f"{round.name} · {activity}")
    return row


def previous_decisions(round: Round) -> dict[int, RoundDecision]:
    """Each activity's latest decision in a round before this one."""
    out: dict[int, RoundDecision] = {}
    for d in RoundDecision.objects.filter(round__cleanup_id=round.cleanup_id,
                                          round__order__lt=round.order).order_by("round__order"):
        out[d.activity_id] = d
    return out


@transaction.atomic
def round_carry_forward(*, round: Round, user: Any = None) -> int:
    """同意上一轮意见: every activity without a decision in this round takes its latest earlier
    decision (the office's opinion, the plenary's), the reason saying so; or, before any
    round, the department's proposal. Returns how many were recorded; the rest stay."""
    count = 0
    earlier = previous_decisions(round)
    done = set(round.decisions.values_list("activity_id", flat=True))
    for a in Activity.objects.filter(cleanup_id=round.cleanup_id,
                                     status=Activity.Status.REGISTERED).exclude(pk__in=done):
        prev = earlier.get(a.pk)
        if prev is not None:
            decision, into = prev.decision, prev.merged_into
            reason = _("同意“%(r)s”意见:%(why)s") % {"r": prev.round.name, "why": prev.reason}
        else:
            decision, into = a.proposal, a.proposal_merge_into
            reason = _("同意举办单位意见:%(why)s") % {
                "why": a.proposal_reason or Decision(a.proposal).label}
        decision_record(round=round, activity=a, decision=decision, merged_into=into,
                        reason=reason[:2000], user=user)
        count += 1
    return count


def final_decisions(cleanup: Cleanup) -> dict[int, RoundDecision]:
    """Each activity's final decision: its decision in the last round that decided it."""
    return {d.activity_id: d for d in RoundDecision.objects.filter(
        round__cleanup=cleanup).select_related("round", "merged_into").order_by("round__order")}


def final_decision(activity: Activity) -> RoundDecision | None:
    return (activity.decisions.select_related("round", "merged_into")
            .order_by("-round__order").first())


@dataclass(frozen=True)
class Event:
    """One line of an activity's history."""

    when: Any
    title: str
    decision: str  # a Decision value, or ""
    text: str
    merged_into: Activity | None = None
    final: bool = False


def timeline(activity: Activity) -> list[Event]:
    """登记 (the proposal), then each round's decision in the order of the rounds."""
    events = [Event(activity.created_at, _("自查登记(%(o)s)") % {"o": activity.organiser.name},
                    activity.proposal, activity.proposal_reason, activity.proposal_merge_into)]
    decisions = list(activity.decisions.select_related("round", "merged_into")
                     .order_by("round__order"))
    for i, d in enumerate(decisions):
        events.append(Event(d.round.date or d.decided_at, d.round.name, d.decision, d.reason,
                            d.merged_into, final=i == len(decisions) - 1))
    if activity.status == Activity.Status.WITHDRAWN:
        events.append(Event(activity.updated_at, _("撤回登记"), "", activity.withdrawn_reason))
    return events
