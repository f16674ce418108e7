from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from campaigns.models import Campaign
from campaigns.rules import rules_in_words


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Staff see every campaign; the public sees only published ones (and the code entry)."""
    campaigns = Campaign.objects.annotate(
        n_units=Count("units", distinct=True),
        n_valid=Count("ballots", filter=Q(ballots__status="valid"), distinct=True),
    ).order_by("-year", "name")  # Meta.ordering is not applied to GROUP BY queries
    can_see_all = request.user.is_authenticated and (
        request.user.has_perm("campaigns.view_campaign")
        or request.user.has_perm("campaigns.view_results")
    )
    if not can_see_all:
        campaigns = campaigns.filter(status=Campaign.Status.PUBLISHED)
    return render(
        request, "campaigns/home.html", {"campaigns": campaigns, "can_see_all": can_see_all}
    )


@login_required
@require_GET
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    if not (
        request.user.has_perm("campaigns.view_campaign")
        or request.user.has_perm("campaigns.view_results")
    ):
        raise PermissionDenied
    campaign = get_object_or_404(
        Campaign.objects.prefetch_related("phases", "categories", "options", "dimensions",
                                          "groups"),
        slug=slug,
    )
    stats = campaign.ballots.aggregate(
        total=Count("id"),
        valid=Count("id", filter=Q(status="valid")),
        online=Count("id", filter=Q(source="online")),
        paper=Count("id", filter=Q(source="paper")),
    )
    units_by_category = campaign.categories.annotate(n=Count("units"))
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "stats": stats,
            "units_by_category": units_by_category,
            # Built from the configuration at every request (campaigns/rules.py), never the
            # text stored at creation: a changed quota shows at once.
            "rules": rules_in_words(campaign),
        },
    )
