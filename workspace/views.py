"""The office's own pages for running a campaign: the checklist (the campaign's page), the
status change with its preflight, and creating a campaign from a preset."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from campaigns.access import campaign_for
from campaigns.models import Campaign
from campaigns.presets import PRESETS
from campaigns.rules import rules_in_words
from campaigns.services import campaign_create_from_preset, campaign_set_status
from campaigns.subjects import units_only
from core.chain import chain_head
from core.permissions import perm_required
from workspace.forms import ConfirmForm, PresetCampaignForm
from workspace.preflight import (
    ACTION_IN_STATUS,
    ACTIONS,
    blocks_for,
    checklist,
    facts_of,
    warnings_for,
)

CONFIGURE = "campaigns.configure_campaign"


@login_required
@require_GET
def campaign_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign's page: the checklist of what is done and what is missing, then the
    configuration."""
    if not (
        request.user.has_perm("campaigns.view_campaign")
        or request.user.has_perm("campaigns.view_results")
    ):
        raise PermissionDenied
    campaign = campaign_for(request.user, slug)
    stats = campaign.ballots.aggregate(
        total=Count("id"),
        valid=Count("id", filter=Q(status="valid")),
        online=Count("id", filter=Q(source="online")),
        paper=Count("id", filter=Q(source="paper")),
    )
    action = ACTION_IN_STATUS.get(Campaign.Status(campaign.status))
    facts = facts_of(campaign)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "steps": checklist(facts),
            "units_only": units_only(facts.unit_kinds),
            "action": action,
            "action_label": ACTIONS[action][1] if action else "",
            "stats": stats,
            "units_by_category": campaign.categories.annotate(n=Count("units")),
            # Built from the configuration at every request (campaigns/rules.py), never the
            # text stored at creation: a changed quota shows at once.
            "rules": rules_in_words(campaign),
            # The audit log's chain head (core/chain.py), for the auditor to note or compare
            # with a printed report.
            "audit_head": chain_head(campaign.pk)
            if request.user.has_perm("campaigns.view_auditlog") else "",
        },
    )


@perm_required(CONFIGURE)
@require_http_methods(["GET", "POST"])
def campaign_status(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    """开始评议 / 结束评议: a page listing what blocks and what only warns; confirming it
    changes the status through the one service."""
    if action not in ACTIONS:
        raise Http404
    campaign = campaign_for(request.user, slug)
    target, label = ACTIONS[action]
    refused: list[str] = []
    if request.method == "POST" and ConfirmForm(request.POST).is_valid():
        try:
            campaign_set_status(campaign=campaign, status=target, user=request.user)
        except ValidationError as exc:
            refused = exc.messages
        else:
            messages.success(
                request, _("评议活动已改为“%(s)s”。") % {"s": Campaign.Status(target).label}
            )
            return redirect("campaign_detail", slug=campaign.slug)
        campaign.refresh_from_db()
    blocks = refused or blocks_for(campaign, action)
    return render(
        request,
        "workspace/status.html",
        {
            "campaign": campaign,
            "action": action,
            "label": label,
            "target": Campaign.Status(target).label,
            "blocks": blocks,
            "refused": bool(refused),
            "warnings": warnings_for(facts_of(campaign), action),
            "form": ConfirmForm(initial={"confirm": True}),
        },
        status=409 if refused else 200,
    )


def _preset_previews() -> list[dict[str, Any]]:
    """What each preset contains, with its rules in words from campaigns/rules.py: each preset
    is made into a campaign inside a transaction that is rolled back, so the words are the
    ones a campaign made from it will show."""
    previews: list[dict[str, Any]] = []
    for key, preset in PRESETS.items():
        rules: list[str] = []
        try:
            with transaction.atomic():
                # Rolled back: never a campaign, so no freeze stands against it.
                campaign = campaign_create_from_preset(
                    preset=key, slug=f"~preview~{key}", name=preset.series, year=2000,
                    activity_override_reason="preview",
                )
                rules = rules_in_words(campaign)
                raise _Rollback
        except (_Rollback, ValueError):
            pass
        previews.append({"key": key, "preset": preset, "rules": rules})
    return previews


class _Rollback(Exception):
    pass


@perm_required(CONFIGURE)
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    """由预设创建: choose a preset, see what it contains, name it; lands on its checklist."""
    form = PresetCampaignForm(request.POST or None, user=request.user)
    if not (form.all_offices or form.offices.exists()):
        raise PermissionDenied(_("您不属于任何评议办公室,不能创建评议活动。"))
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_create_from_preset(user=request.user, **form.service_kwargs())
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已由预设创建评议活动。"))
            return redirect("campaign_detail", slug=campaign.slug)
    return render(
        request, "workspace/new.html", {"form": form, "previews": _preset_previews()}
    )
