"""Publishing results (公示): check, then do; every step audit-logged."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from core.audit import audit
from scoring.engine import json_number
from scoring.models import Publication
from scoring.tally import CampaignTally, tally_campaign, tally_fingerprint, tally_json


def public_data(t: CampaignTally) -> dict[str, Any]:
    """The rankings and flags, and nothing else: no vote counts, no ballot totals, no
    comments, no breakdowns."""
    return {
        "campaign": t.campaign.name,
        "year": t.campaign.year,
        "categories": [
            {
                "name": c.category.name,
                "units": [
                    {
                        "rank": u.rank,
                        "unit": u.unit.name,
                        "score": json_number(u.score),
                        "satisfaction_rate": json_number(u.satisfaction_rate),
                        "flags": list(u.flags),
                    }
                    for u in c.units
                ],
            }
            for c in t.result.categories
        ],
    }


def live_publication(campaign: Campaign) -> Publication | None:
    return Publication.objects.filter(campaign=campaign, withdrawn_at__isnull=True).first()


def check_publish(campaign: Campaign) -> list[str]:
    problems = []
    if campaign.status != Campaign.Status.CLOSED:
        problems.append(_("评议结束(状态为“已结束”)后才能公示结果"))
    if live_publication(campaign) is not None:
        problems.append(_("结果已在公示中"))
    return problems


@transaction.atomic
def results_publish(*, campaign: Campaign, user: Any) -> Publication:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    problems = check_publish(campaign)
    if problems:
        raise ValidationError(problems)
    t = tally_campaign(campaign)
    again = Publication.objects.filter(campaign=campaign).exists()
    pub = Publication.objects.create(
        campaign=campaign,
        published_by=user if getattr(user, "is_authenticated", False) else None,
        data=public_data(t),
        fingerprint=tally_fingerprint(tally_json(campaign, t)),
    )
    campaign_set_status(campaign=campaign, status=Campaign.Status.PUBLISHED, user=user)
    Campaign.objects.filter(pk=campaign.pk).update(results_published_at=pub.published_at)
    audit(
        user=user,
        action="results.republish" if again else "results.publish",
        obj=pub,
        campaign=campaign,
        after={"fingerprint": pub.fingerprint},
    )
    return pub


@transaction.atomic
def results_unpublish(*, campaign: Campaign, user: Any, reason: str) -> Publication:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not reason.strip():
        raise ValidationError(_("请填写撤回原因"))
    pub = live_publication(campaign)
    if pub is None:
        raise ValidationError(_("结果没有在公示中"))
    pub.withdrawn_at = timezone.now()
    pub.withdrawn_by = user if getattr(user, "is_authenticated", False) else None
    pub.withdraw_reason = reason.strip()
    pub.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
    campaign_set_status(campaign=campaign, status=Campaign.Status.CLOSED, user=user)
    Campaign.objects.filter(pk=campaign.pk).update(results_published_at=None)
    audit(
        user=user,
        action="results.unpublish",
        obj=pub,
        campaign=campaign,
        reason=pub.withdraw_reason,
    )
    return pub
