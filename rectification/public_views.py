"""整改公示: the fixed copy of the ledger's public columns, for anyone; staff publish and
withdraw it (with a reason) through rectification/followup.py's services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from campaigns.access import campaign_for
from core.permissions import perm_required
from rectification.followup import ledger_publish, ledger_unpublish
from rectification.models import CampaignRectification


@require_GET
def public_progress(request: HttpRequest, slug: str) -> HttpResponse:
    rect = get_object_or_404(CampaignRectification.objects.select_related("campaign"),
                             campaign__slug=slug, published_at__isnull=False)
    return render(request, "rectification/public.html", {
        "campaign": rect.campaign, "rows": rect.publication, "published_at": rect.published_at,
    })


@perm_required("rectification.manage_cases")
@require_POST
def progress_publication(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    try:
        if action == "publish":
            ledger_publish(campaign=campaign, user=request.user)
        elif action == "withdraw":
            ledger_unpublish(campaign=campaign, user=request.user,
                             reason=request.POST.get("reason", ""))
        else:
            raise Http404
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("已完成。"))
    back = request.POST.get("next", "")
    # Only a path of this site (the ledger page's form gives its own).
    return redirect(back if back.startswith("/") and not back.startswith("//")
                    else f"/c/{campaign.slug}/")
