"""Who sees which cleanup: the joint meeting's office, reviewers, leaders and auditors (the
permission registry.view_cleanup) see every cleanup; a department account (role 举办单位)
only the cleanups it has an organiser in, and there only its own organiser's activities."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from registry.models import Activity, Cleanup, Organiser

VIEW = "registry.view_cleanup"
MANAGE = "registry.manage_cleanup"
REVIEW = "registry.review_activities"
REGISTER = "registry.register_activities"


def visible_cleanups(user: Any) -> QuerySet[Cleanup]:
    if not getattr(user, "is_authenticated", False):
        return Cleanup.objects.none()
    if user.has_perm(VIEW):
        return Cleanup.objects.all()
    if user.has_perm(REGISTER):
        return Cleanup.objects.filter(organisers__accounts__user=user).distinct()
    return Cleanup.objects.none()


def cleanup_for(user: Any, slug: str) -> Cleanup:
    """404 for a cleanup the user may not see (a page must not tell that it exists)."""
    try:
        return visible_cleanups(user).get(slug=slug)
    except Cleanup.DoesNotExist:
        raise Http404 from None


def own_organisers(user: Any, cleanup: Cleanup) -> list[Organiser]:
    if not getattr(user, "is_authenticated", False) or not user.has_perm(REGISTER):
        return []
    return list(cleanup.organisers.filter(accounts__user=user).distinct())


def activity_for(user: Any, cleanup: Cleanup, pk: int) -> tuple[Activity, bool]:
    """(the activity, whether the user acts as the office); a department sees only its own."""
    try:
        activity = cleanup.activities.select_related("organiser", "cleanup").get(pk=pk)
    except Activity.DoesNotExist:
        raise Http404 from None
    if user.has_perm(VIEW):
        return activity, user.has_perm(MANAGE)
    if activity.organiser in own_organisers(user, cleanup):
        return activity, False
    raise Http404


def require(user: Any, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied
