"""Who sees which assessment: the one place the assessments' pages ask (as campaigns/access.py
for campaigns). Office staff, leaders and auditors see their offices' assessments; a source
office (提供单位) sees those with a section it reports for; an assessed unit those it is in."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from assessments.models import Assessment, Section
from campaigns.access import sees_all_offices

ENTER = "assessments.enter_assessment_entries"


def visible_assessments(user: Any) -> QuerySet[Assessment]:
    """The assessments `user` may see: their offices', or all when granted all offices. An
    assessment without an office matches no membership."""
    if sees_all_offices(user):
        return Assessment.objects.all()
    if not user.is_authenticated:
        return Assessment.objects.none()
    return Assessment.objects.filter(office__in=user.offices.all())


def assessment_for(user: Any, slug: str) -> Assessment:
    """The assessment `slug` if `user` may see it, else 404 (never telling a stranger that
    another office's assessment exists)."""
    try:
        return visible_assessments(user).get(slug=slug)
    except Assessment.DoesNotExist:
        raise Http404 from None


def names_source(section: Section, source: str) -> bool:
    """Whether a section's 提供单位 (one office, or several joined by 、,;) names `source`."""
    return source in {part.strip() for part in re.split(r"[、,,;;/]", section.source)}


def source_of(user: Any) -> str | None:
    account = getattr(user, "assessment_source", None)
    return account.source if account is not None and user.has_perm(ENTER) else None


def sections_for(assessment: Assessment, source: str) -> list[Section]:
    """The sections a source office enters: items and score sections naming it."""
    return [s for s in assessment.sections.filter(kind__in=[Section.Kind.ITEMS,
                                                            Section.Kind.SCORE])
            if names_source(s, source)]




def entering_for(user: Any) -> list[Assessment]:
    """The assessments a source office reports to (a section naming it, not yet finalised)."""
    source = source_of(user)
    if source is None:
        return []
    return [a for a in Assessment.objects.filter(finalised_at__isnull=True).order_by("-year")
            if sections_for(a, source)]


def assessed_in(user: Any) -> QuerySet[Assessment]:
    """The assessments an assessed unit's login is in."""
    account = getattr(user, "assessment_unit", None)
    if account is None or not user.has_perm("assessments.view_assessment"):
        return Assessment.objects.none()
    return Assessment.objects.filter(units__unit=account.unit).order_by("-year")
