"""Which campaigns a user may see: the one place every staff page asks.

Issue 16 ("Offices and access"): staff, clerks, leaders and auditors belong to an office
(评议办公室) and see only their office's campaigns, unless granted more. Every staff view looks
a campaign up through `campaign_for`, never with a bare `get_object_or_404(Campaign, …)`, so
the rule has one implementation.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from campaigns.models import Campaign

ALL_OFFICES = "campaigns.access_all_offices"


def sees_all_offices(user: Any) -> bool:
    """Superusers and province-level staff granted `access_all_offices` see every campaign,
    including those made before offices existed (no office)."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(ALL_OFFICES))


def visible_campaigns(user: Any) -> QuerySet[Campaign]:
    """The campaigns `user` may see on staff pages: their offices' campaigns, or all of them
    when granted all offices. A campaign without an office matches no membership."""
    if sees_all_offices(user):
        return Campaign.objects.all()
    if not user.is_authenticated:
        return Campaign.objects.none()
    return Campaign.objects.filter(office__in=user.offices.all())


def campaign_for(user: Any, slug: str) -> Campaign:
    """The campaign `slug` if `user` may see it, else 404 (not 403: a page must not tell a
    stranger that another office's campaign exists)."""
    try:
        return visible_campaigns(user).get(slug=slug)
    except Campaign.DoesNotExist:
        raise Http404 from None
