"""公示 of the retained list (003 三(四)1: 对保留的项目以适当方式进行公示) and its withdrawal.
Publishing fixes a copy of the outcome in the cleanup (what the public page shows, whatever
changes later) and moves the cleanup to 公示; withdrawing (with a reason) takes it back to 审核."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit
from registry.models import BasisKind, Cleanup, Decision, Frequency, Kind, System
from registry.services import final_decisions
from registry.stats import outcome_table, registered

NOTICE_FIELDS = ("notice_from", "notice_to", "objection_phone", "objection_address", "issuer")


def publish_problems(cleanup: Cleanup) -> list[str]:
    problems: list[str] = []
    if cleanup.status != Cleanup.Status.REVIEW:
        problems.append(_("只有审核阶段的清理工作才能公示(当前:%(s)s)")
                        % {"s": Cleanup.Status(cleanup.status).label})
    activities = registered(cleanup)
    if not activities:
        problems.append(_("还没有登记任何项目"))
    finals = final_decisions(cleanup)
    undecided = [a.name for a in activities if a.pk not in finals]
    if undecided:
        problems.append(_("%(n)d 个项目还没有审核意见:%(names)s")
                        % {"n": len(undecided), "names": "、".join(undecided[:10])})
    for a in activities:
        d = finals.get(a.pk)
        if d is not None and d.decision == Decision.MERGE and d.merged_into is not None:
            survivor = finals.get(d.merged_into.pk)
            if survivor is None or survivor.decision != Decision.KEEP:
                problems.append(_("“%(a)s”合并到“%(t)s”,但“%(t)s”的最终意见不是保留")
                                % {"a": a.name, "t": d.merged_into.name})
    for r in cleanup.rounds.filter(closed_at__isnull=True, decisions__isnull=False).distinct():
        problems.append(_("“%(r)s”尚未结束") % {"r": r.name})
    if not (cleanup.notice_from and cleanup.notice_to):
        problems.append(_("请填写公示期"))
    elif cleanup.notice_to < cleanup.notice_from:
        problems.append(_("公示截止日期不能早于开始日期"))
    if not cleanup.issuer.strip():
        problems.append(_("请填写发布单位"))
    if not (cleanup.objection_phone.strip() or cleanup.objection_address.strip()):
        problems.append(_("请填写异议受理电话或地址"))
    return problems


def retained_rows(cleanup: Cleanup) -> list[dict[str, Any]]:
    """The retained activities, each with the activities merged into it."""
    finals = final_decisions(cleanup)
    activities = registered(cleanup)
    names = {a.pk: a.name for a in activities}
    merged: dict[int, list[str]] = {}
    for dec in finals.values():
        if dec.decision == Decision.MERGE and dec.merged_into_id is not None:
            merged.setdefault(dec.merged_into_id, []).append(names.get(dec.activity_id, ""))
    rows = []
    for a in activities:
        d = finals.get(a.pk)
        if d is None or d.decision != Decision.KEEP:
            continue
        rows.append({
            "organiser": a.organiser.name, "name": a.name, "kind": str(Kind(a.kind).label),
            "system": str(System(a.system).label),
            "frequency": str(Frequency(a.frequency).label),
            "basis_kind": str(BasisKind(a.basis_kind).label),
            "basis_document": a.basis_document, "merged": sorted(merged.get(a.pk, [])),
        })
    return rows


def publication_of(cleanup: Cleanup) -> dict[str, Any]:
    outcomes, total = outcome_table(cleanup)
    return {
        "retained": retained_rows(cleanup),
        "counts": [{"organiser": o.label, "row": o.row()} for o in outcomes],
        "total": total.row(),
        "notice": {
            "from": cleanup.notice_from.isoformat() if cleanup.notice_from else "",
            "to": cleanup.notice_to.isoformat() if cleanup.notice_to else "",
            "phone": cleanup.objection_phone, "address": cleanup.objection_address,
            "issuer": cleanup.issuer,
        },
    }


@transaction.atomic
def notice_save(*, cleanup: Cleanup, user: Any = None, **fields: Any) -> Cleanup:
    locked = Cleanup.objects.select_for_update().get(pk=cleanup.pk)
    if locked.status in (Cleanup.Status.PUBLICITY, Cleanup.Status.DONE):
        raise ValidationError(_("已公示,公示内容不能再修改;请先撤回公示"))
    before = {f: getattr(locked, f) for f in NOTICE_FIELDS}
    for f in NOTICE_FIELDS:
        if f in fields:
            setattr(locked, f, fields[f])
    locked.save(update_fields=list(NOTICE_FIELDS))
    audit(user=user, action="registry.notice", obj=locked, before=before,
          after={f: getattr(locked, f) for f in NOTICE_FIELDS})
    return locked


@transaction.atomic
def cleanup_publish(*, cleanup: Cleanup, user: Any = None) -> Cleanup:
    locked = Cleanup.objects.select_for_update().get(pk=cleanup.pk)
    problems = publish_problems(locked)
    if problems:
        raise ValidationError(problems)
    locked.publication = publication_of(locked)
    locked.published_at = timezone.now()
    locked.status = Cleanup.Status.PUBLICITY
    locked.save(update_fields=["publication", "published_at", "status"])
    audit(user=user, action="registry.publish", obj=locked,
          before={"status": Cleanup.Status.REVIEW},
          after={"status": locked.status, "retained": len(locked.publication["retained"])})
    return locked


@transaction.atomic
def cleanup_unpublish(*, cleanup: Cleanup, reason: str, user: Any = None) -> Cleanup:
    locked = Cleanup.objects.select_for_update().get(pk=cleanup.pk)
    problems = []
    if locked.status != Cleanup.Status.PUBLICITY:
        problems.append(_("没有正在公示的名单"))
    if not reason.strip():
        problems.append(_("撤回公示须说明理由"))
    if problems:
        raise ValidationError(problems)
    locked.status, locked.published_at = Cleanup.Status.REVIEW, None
    locked.save(update_fields=["status", "published_at"])
    audit(user=user, action="registry.unpublish", obj=locked, reason=reason.strip(),
          before={"status": Cleanup.Status.PUBLICITY}, after={"status": locked.status})
    return locked
