"""Finalising (定稿) and publishing (公示) an assessment (assessment.md section 5): one small
atomic service each, audited. Once finalised, entries are read-only and the result carries
its fingerprint; only a finalised result is published, as a fixed copy."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import engine
from assessments.adapter import assess_assessment
from assessments.models import Assessment, Entry
from core.audit import audit


def finalise_problems(assessment: Assessment) -> list[str]:
    """What keeps an assessment from being finalised, in words."""
    problems = []
    pending = Entry.objects.filter(assessment=assessment, status=Entry.Status.PENDING).count()
    if pending:
        problems.append(_("还有 %(n)d 条扣分或得分待审核。") % {"n": pending})
    lodged = Entry.objects.filter(assessment=assessment,
                                  objection=Entry.Objection.LODGED).count()
    if lodged:
        problems.append(_("还有 %(n)d 条申诉待处理。") % {"n": lodged})
    try:
        done = assess_assessment(assessment)
    except engine.AssessmentError as exc:
        return [*problems, str(exc)]
    incomplete = [u.unit.name for c in done.result.categories for u in c.units if u.missing]
    if incomplete:
        problems.append(_("以下单位数据不全:%(u)s") % {"u": "、".join(incomplete)})
    if not assessment.units.exists():
        problems.append(_("还没有参加考核的单位。"))
    return problems


@transaction.atomic
def assessment_finalise(*, assessment: Assessment, user: Any) -> Assessment:
    a = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if a.finalised_at is not None:
        raise ValidationError(_("考核已定稿。"))
    if problems := finalise_problems(a):
        raise ValidationError(problems)
    a.fingerprint = assess_assessment(a).fingerprint()
    a.finalised_at = timezone.now()
    a.save(update_fields=["fingerprint", "finalised_at"])
    audit(user=user, action="assessment.finalise", obj=a, after={"fingerprint": a.fingerprint})
    return a


@transaction.atomic
def assessment_reopen(*, assessment: Assessment, user: Any, reason: str) -> Assessment:
    """Back to editing (a correction after finalising), with a reason; withdraws its 公示."""
    a = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if a.finalised_at is None:
        raise ValidationError(_("考核尚未定稿。"))
    if not reason.strip():
        raise ValidationError(_("撤销定稿须说明理由。"))
    before = {"fingerprint": a.fingerprint, "published": a.published_at is not None}
    a.finalised_at, a.published_at = None, None
    a.save(update_fields=["finalised_at", "published_at"])
    audit(user=user, action="assessment.reopen", obj=a, before=before, reason=reason)
    return a


def public_copy(assessment: Assessment) -> dict[str, Any]:
    """What the 公示 shows: the ranked result with grades and honours, nothing else."""
    done = assess_assessment(assessment)
    return {
        "name": assessment.name, "year": assessment.year, "fingerprint": done.fingerprint(),
        "categories": [
            {"name": c.category.name, "units": [
                {"unit": u.unit.name, "rank": u.rank, "total": engine.shown(u.total),
                 "grade": u.grade, "flags": list(u.flags)} for u in c.units]}
            for c in done.result.categories
        ],
    }


NOTICE_FIELDS = ("notice_from", "notice_to", "objection_phone", "objection_address",
                 "objection_email", "issuer")


def notice_problems(a: Assessment) -> list[str]:
    """A 公示 is there so that objections can be raised, within a stated period, somewhere,
    to someone: without these it is no notice (as scoring.publication.check_publish)."""
    problems = []
    if not (a.notice_from and a.notice_to):
        problems.append(_("请填写公示期(开始和截止日期)"))
    elif a.notice_to < a.notice_from:
        problems.append(_("公示截止日期不能早于开始日期"))
    if not (a.objection_phone.strip() or a.objection_address.strip()
            or a.objection_email.strip()):
        problems.append(_("请填写至少一种异议受理方式(电话、地址或邮箱)"))
    if not a.issuer.strip():
        problems.append(_("请填写发布单位(落款)"))
    return problems


@transaction.atomic
def assessment_publish(*, assessment: Assessment, user: Any,
                       notice: dict[str, Any] | None = None) -> Assessment:
    """Publish the finalised result with its notice (`notice`: the NOTICE_FIELDS to set)."""
    a = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if a.finalised_at is None:
        raise ValidationError(_("考核定稿后才能公示。"))
    for name, value in (notice or {}).items():
        if name in NOTICE_FIELDS:
            setattr(a, name, value)
    if problems := notice_problems(a):
        raise ValidationError(problems)
    copy = public_copy(a)
    if copy["fingerprint"] != a.fingerprint:
        # Nothing may change a finalised result; if it did, it is not the one to publish.
        raise ValidationError(_("考核结果与定稿时不一致,请撤销定稿后重新核对。"))
    a.publication, a.published_at = copy, timezone.now()
    a.save(update_fields=["publication", "published_at", *NOTICE_FIELDS])
    audit(user=user, action="assessment.publish", obj=a, after={"fingerprint": a.fingerprint})
    return a


@transaction.atomic
def assessment_unpublish(*, assessment: Assessment, user: Any, reason: str) -> Assessment:
    a = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if a.published_at is None:
        raise ValidationError(_("考核结果没有公示。"))
    if not reason.strip():
        raise ValidationError(_("撤回公示须说明理由。"))
    a.published_at = None
    a.save(update_fields=["published_at"])
    audit(user=user, action="assessment.unpublish", obj=a, reason=reason)
    return a
