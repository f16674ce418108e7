from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from campaigns.access import visible_campaigns
from campaigns.models import Campaign


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Staff see their offices' campaigns (campaigns/access.py); the public sees only
    published ones (and the code entry)."""
    can_see_all = request.user.is_authenticated and (
        request.user.has_perm("campaigns.view_campaign")
        or request.user.has_perm("campaigns.view_results")
    )
    if can_see_all:
        listed = visible_campaigns(request.user)
    else:
        listed = Campaign.objects.filter(status=Campaign.Status.PUBLISHED)
    campaigns = listed.annotate(
        n_units=Count("units", distinct=True),
        n_valid=Count("ballots", filter=Q(ballots__status="valid"), distinct=True),
    ).order_by("-year", "name")  # Meta.ordering is not applied to GROUP BY queries
    return render(
        request, "campaigns/home.html", {"campaigns": campaigns, "can_see_all": can_see_all}
    )

