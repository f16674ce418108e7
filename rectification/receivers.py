"""Rectification in the campaign's reports (scoring/extensions.py): a 整改情况 section once
cases exist, and each unit's open cases on its 反馈单."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils.translation import gettext as _

from rectification.models import CampaignRectification, Case
from rectification.services import ledger
from scoring.extensions import (
    ReportSection,
    public_sections,
    report_sections,
    unit_history,
    unit_notes,
)


@receiver(report_sections, dispatch_uid="rectification.report_sections")
def rectification_section(sender: Any, campaign: Any, **kwargs: Any) -> list[ReportSection]:
    rows = ledger(Case.objects.filter(campaign=campaign))
    if not rows:
        return []
    return [ReportSection(
        _("整改情况"),
        (_("单位"), _("问题"), _("整改措施"), _("状态"), _("整改时限"), _("验收意见")),
        tuple((r["unit"], r["problem"], ";".join(m["text"] for m in r["measures"]) or "—",
               r["status_label"], r["deadline"], r["acceptance"] or "—") for r in rows),
    )]


@receiver(unit_notes, dispatch_uid="rectification.unit_notes")
def open_cases(sender: Any, campaign: Any, **kwargs: Any) -> dict[int, list[str]]:
    notes: dict[int, list[str]] = {}
    for case in Case.objects.filter(campaign=campaign).exclude(status=Case.Status.ACCEPTED):
        notes.setdefault(case.unit_id, []).append(
            _("整改事项:%(p)s(整改时限 %(d)s,%(s)s)")
            % {"p": case.problem, "d": case.deadline.isoformat(),
               "s": case.get_status_display()})
    return notes


@receiver(unit_history, dispatch_uid="rectification.unit_history")
def past_cases(sender: Any, unit_id: int, **kwargs: Any) -> list[str]:
    """Every case of the unit, newest first, and how it stands or ended."""
    lines = []
    for case in Case.objects.filter(unit_id=unit_id).select_related(
            "campaign", "assessment").order_by("-opened_at"):
        source = case.campaign or case.assessment
        outcome = case.get_status_display()
        if case.status == Case.Status.ACCEPTED and case.acceptance_note:
            outcome += f"({case.acceptance_note})"
        lines.append(_("%(s)s:%(p)s —— %(o)s") % {"s": source, "p": case.problem, "o": outcome})
    return lines


@receiver(public_sections, dispatch_uid="rectification.public_sections")
def published_progress(sender: Any, campaign: Any, **kwargs: Any) -> list[ReportSection]:
    """The 整改公示 on the campaign's 公示 page, once staff published it (its fixed copy)."""
    rect = CampaignRectification.objects.filter(campaign=campaign,
                                                published_at__isnull=False).first()
    if rect is None:
        return []
    return [ReportSection(
        _("整改情况公示"),
        (_("单位"), _("问题"), _("整改措施"), _("整改情况"), _("验收意见")),
        tuple((r["unit"], r["problem"], ";".join(r["measures"]) or "—", r["status_label"],
               r["acceptance"] or "—") for r in rect.publication),
    )]
