"""An entry's review (assessment.md section 5), one small atomic service per step, each
audited: a source office submits, staff approve or reject with a reason, the unit lodges
one objection per approved entry within the window, staff uphold it (the entry stands) or
accept it (the entry is rejected). A correction is a new entry superseding the old one;
nothing is deleted; a finalised assessment's entries are read-only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.config import plain
from assessments.models import Assessment, AssessmentUnit, Entry, Item, Section
from core.audit import audit, snapshot

# How long a unit has to object once its entry is approved (section 5's window).
OBJECTION_DAYS = 7
# Evidence: a scan or a PDF of the 通报, nothing that a browser would run.
EVIDENCE_SUFFIXES = {".pdf", ".jpg", ".jpeg", ".png"}
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024


def evidence_problems(f: UploadedFile) -> list[str]:
    """Why an evidence file is refused (type by name and first bytes, size)."""
    problems = []
    suffix = Path(f.name or "").suffix.lower()
    head = f.read(8)
    f.seek(0)
    magic = head.startswith((b"%PDF", b"\xff\xd8\xff", b"\x89PNG"))
    if suffix not in EVIDENCE_SUFFIXES or not magic:
        problems.append(_("证明材料只收 PDF、JPG 或 PNG 文件"))
    if (f.size or 0) > EVIDENCE_MAX_BYTES:
        problems.append(_("证明材料不能超过 10 MB"))
    return problems


def _locked(entry_or_assessment: Entry | Assessment) -> Entry | Assessment:
    """The row, locked; refused once the assessment is finalised."""
    model = type(entry_or_assessment)
    row = model.objects.select_for_update().get(pk=entry_or_assessment.pk)
    assessment = row if isinstance(row, Assessment) else row.assessment
    if assessment.finalised_at is not None:
        raise ValidationError(_("考核已定稿,扣分和得分不能再改动。"))
    return row


def check_entry(*, section: Section, item: Item | None, count: int | None,
                points: Decimal | None, score: Decimal | None) -> list[str]:
    """What is wrong with an entry's figures (section 2 and 7), in words."""
    problems = []
    if section.kind == Section.Kind.ITEMS:
        if item is None or item.section_id != section.pk:
            problems.append(_("请选择本考核项目的扣分事项"))
        if count is None or count < 1:
            problems.append(_("次数应为不小于 1 的整数"))
        if item is not None and item.points is None:
            assert item.min_points is not None and item.max_points is not None
            if points is None or not item.min_points <= points <= item.max_points:
                problems.append(_("分值应在 %(lo)s 到 %(hi)s 之间") % {
                    "lo": plain(item.min_points), "hi": plain(item.max_points)})
    elif section.kind == Section.Kind.SCORE:
        top = section.max_points
        if score is None or score < 0 or (top is not None and score > top):
            problems.append(_("得分应在 0 到 %(m)s 之间") % {
                "m": plain(top) if top is not None else "—"})
    else:
        problems.append(_("“%(s)s”的结果来自评议活动,不能录入") % {"s": section.name})
    return problems


@transaction.atomic
def entry_submit(
    *, unit: AssessmentUnit, section: Section, source: str, basis: str, user: Any,
    item: Item | None = None, count: int | None = None, points: Decimal | None = None,
    score: Decimal | None = None, date: dt.date | None = None, supersedes: Entry | None = None,
    evidence: UploadedFile | None = None,
) -> Entry:
    """A source office's entry (待审核); with `supersedes`, the correction of that entry;
    `evidence` (a scan of the 通报, checked by `evidence_problems`) kept privately."""
    _locked(unit.assessment)
    problems = check_entry(section=section, item=item, count=count, points=points, score=score)
    if not source or not basis:
        problems.append(_("提供单位和依据都须填写"))
    if supersedes is not None and (supersedes.unit_id, supersedes.section_id) != (unit.pk,
                                                                               section.pk):
        problems.append(_("更正的条目须是同一单位、同一考核项目的"))
    if evidence is not None:
        problems += evidence_problems(evidence)
    if problems:
        raise ValidationError(problems)
    is_item = section.kind == Section.Kind.ITEMS
    entry = Entry.objects.create(
        assessment=unit.assessment, unit=unit, section=section, source=source, basis=basis,
        item=item if is_item else None, count=count if is_item else None,
        points=points if is_item and item is not None and item.points is None else None,
        score=None if is_item else score, date=date, supersedes=supersedes,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    if evidence is not None:
        entry.evidence.save(evidence.name or "evidence", evidence, save=False)
        entry.evidence_name = (evidence.name or "")[:200]
        entry.save(update_fields=["evidence", "evidence_name"])
    audit(user=user, action="entry.submit", obj=entry, after=snapshot(entry))
    return entry


@transaction.atomic
def entry_review(*, entry: Entry, approve: bool, reason: str, user: Any) -> Entry:
    """Staff approve or reject a pending entry, with a reason (required to reject)."""
    row = _locked(entry)
    assert isinstance(row, Entry)
    if row.status != Entry.Status.PENDING:
        raise ValidationError(_("该条目已审核。"))
    if not approve and not reason.strip():
        raise ValidationError(_("不通过须说明理由。"))
    before = snapshot(row)
    row.status = Entry.Status.APPROVED if approve else Entry.Status.REJECTED
    row.review_reason, row.reviewed_by, row.reviewed_at = reason, user, timezone.now()
    row.save(update_fields=["status", "review_reason", "reviewed_by", "reviewed_at"])
    audit(user=user, action="entry.approve" if approve else "entry.reject", obj=row,
          before=before, after=snapshot(row), reason=reason)
    return row


@transaction.atomic
def objection_lodge(*, entry: Entry, text: str, user: Any) -> Entry:
    """The unit's one objection (申诉) to an approved entry, within OBJECTION_DAYS."""
    row = _locked(entry)
    assert isinstance(row, Entry)
    if row.status != Entry.Status.APPROVED:
        raise ValidationError(_("只能对已通过的条目申诉。"))
    if row.objection:
        raise ValidationError(_("每个条目只能申诉一次。"))
    if row.reviewed_at and timezone.now() > row.reviewed_at + dt.timedelta(days=OBJECTION_DAYS):
        raise ValidationError(_("申诉期(审核通过后 %(d)d 天)已过。") % {"d": OBJECTION_DAYS})
    if not text.strip():
        raise ValidationError(_("请写明申诉理由。"))
    before = snapshot(row)
    row.objection, row.objection_text = Entry.Objection.LODGED, text
    row.save(update_fields=["objection", "objection_text"])
    audit(user=user, action="entry.object", obj=row, before=before, after=snapshot(row))
    return row


@transaction.atomic
def objection_decide(*, entry: Entry, accept: bool, reason: str, user: Any) -> Entry:
    """Staff decide an objection with a reason: accepted, the entry no longer counts."""
    row = _locked(entry)
    assert isinstance(row, Entry)
    if row.objection != Entry.Objection.LODGED:
        raise ValidationError(_("该条目没有待处理的申诉。"))
    if not reason.strip():
        raise ValidationError(_("处理申诉须说明理由。"))
    before = snapshot(row)
    row.objection_reason = reason
    if accept:
        row.objection, row.status = Entry.Objection.ACCEPTED, Entry.Status.REJECTED
    else:
        row.objection = Entry.Objection.UPHELD
    row.save(update_fields=["objection", "objection_reason", "status"])
    audit(user=user, action="entry.objection_accept" if accept else "entry.objection_uphold",
          obj=row, before=before, after=snapshot(row), reason=reason)
    return row
