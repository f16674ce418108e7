"""The freeze of 003 四(二): 清理规范工作期间,一律不得举办新的评比达标表彰活动 — except those based
on law, administrative regulations, central documents or approved by the province. While a
cleanup is in progress (any cleanup not 完成), a new campaign must name a registered activity
that may go on — retained (final decision 保留) or, undecided, with such a basis — or carry
an override with a reason (audit-logged by the caller). campaigns/services.py asks here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.audit import audit
from registry.models import LEGAL_BASES, Activity, Cleanup, Decision
from registry.services import final_decision


def cleanup_in_progress() -> Cleanup | None:
    """The cleanup under way (the latest, if several), or None."""
    return Cleanup.objects.exclude(status=Cleanup.Status.DONE).order_by("-year", "-id").first()


def activity_may_run(activity: Activity) -> tuple[bool, str]:
    """(may a campaign run under it, why not)."""
    if activity.status != Activity.Status.REGISTERED:
        return False, _("项目“%(n)s”已撤回登记") % {"n": activity.name}
    final = final_decision(activity)
    if final is not None:
        if final.decision == Decision.KEEP:
            return True, ""
        if final.decision == Decision.MERGE and final.merged_into is not None:
            return False, _("项目“%(n)s”已决定合并到“%(m)s”,请选择“%(m)s”") % {
                "n": activity.name, "m": final.merged_into.name}
        return False, _("项目“%(n)s”已决定撤销(%(r)s)") % {"n": activity.name,
                                                            "r": final.round.name}
    if activity.basis_kind in LEGAL_BASES:
        return True, ""
    return False, _("项目“%(n)s”尚未审定保留,也没有法律、行政法规、中央文件或省批准的依据") % {
        "n": activity.name}


def eligible_activities() -> QuerySet[Activity]:
    """The activities a new campaign may choose (retained, or undecided with a legal basis)."""
    ids = [a.pk for a in Activity.objects.filter(status=Activity.Status.REGISTERED)
           .select_related("organiser") if activity_may_run(a)[0]]
    return (Activity.objects.filter(pk__in=ids).select_related("organiser", "cleanup")
            .order_by("-cleanup__year", "organiser__name", "name"))


def campaign_activity_problems(activity: Activity | None, override_reason: str = "",
                               when: Any = None) -> list[str]:
    """What stands against creating a campaign under `activity` (None: no activity named).

    No cleanup in progress: only an activity that may not run (cancelled, merged away,
    withdrawn) is refused. In progress: an activity that may run is required. Either way an
    override reason lifts the refusal (the caller logs it). `when` is accepted for callers that
    date the check; the freeze is "a cleanup not yet 完成", whatever the date."""
    reason = (override_reason or "").strip()
    problems: list[str] = []
    if activity is not None:
        ok, why = activity_may_run(activity)
        if not ok:
            problems.append(why)
    elif (cleanup := cleanup_in_progress()) is not None:
        problems.append(_("“%(c)s”正在进行:清理规范期间不得举办新的评比达标表彰活动,"
                          "请选择已审定保留或有法定依据的登记项目,或填写例外理由")
                        % {"c": cleanup.name})
    if problems and reason:
        return []
    return problems


def freeze_check(activity: Activity | None, override_reason: str) -> None:
    """Refuse (ValueError, in words, as campaign creation refuses) what the freeze stands
    against."""
    problems = campaign_activity_problems(activity, override_reason)
    if problems:
        raise ValueError(";".join(problems))


def freeze_log(campaign: Any, user: Any, activity: Activity | None,
               override_reason: str) -> None:
    """Log a campaign made through the freeze by its override, with the reason, in the
    caller's transaction (the campaign passed as a model: registry imports no campaign)."""
    if override_used(activity, override_reason):
        audit(user=user, action="campaign.freeze_override", obj=campaign,
              after={"activity": activity.pk if activity else None},
              reason=override_reason.strip())


def override_used(activity: Activity | None, override_reason: str) -> bool:
    """Whether creating a campaign so goes through the freeze only by its override."""
    return bool((override_reason or "").strip()) and bool(
        campaign_activity_problems(activity, ""))
