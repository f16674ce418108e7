"""Publishing results (公示): check, then do; every step audit-logged."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from core.audit import audit
from scoring.ballot_file import build_ballot_file
from scoring.models import Publication
from scoring.output import json_number
from scoring.tally import CampaignTally, tally_campaign


def notice_data(campaign: Campaign) -> dict[str, str]:
    """The notice around the rankings (公示期, 异议渠道, 落款), fixed with them: what the
    office announced stays what the public page shows until it republishes."""
    return {
        "from": campaign.notice_from.isoformat() if campaign.notice_from else "",
        "to": campaign.notice_to.isoformat() if campaign.notice_to else "",
        "phone": campaign.objection_phone.strip(),
        "address": campaign.objection_address.strip(),
        "email": campaign.objection_email.strip(),
        "issuer": campaign.issuer.strip(),
    }


def public_data(t: CampaignTally) -> dict[str, Any]:
    """The rankings and flags, and the notice around them, and nothing else: no vote counts,
    no ballot totals, no comments, no breakdowns."""
    return {
        "campaign": t.campaign.name,
        "year": t.campaign.year,
        "notice": notice_data(t.campaign),
        "categories": [
            {
                "name": c.category.name,
                "units": [
                    {
                        "rank": u.rank,
                        "unit": u.unit.name,
                        "kind": u.unit.kind,  # the public page's heading: never 单位 for a person
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


def public_notice(pub: Publication) -> dict[str, Any] | None:
    """The notice of a publication for its page: dates as dates; `None` for a publication
    made before notices were recorded, whose page then shows the rankings alone."""
    data = pub.data.get("notice")
    if not data:
        return None
    notice: dict[str, Any] = dict(data)
    for key in ("from", "to"):
        notice[key] = date.fromisoformat(data[key]) if data.get(key) else None
    notice["date"] = timezone.localtime(pub.published_at).date()
    return notice


def live_publication(campaign: Campaign) -> Publication | None:
    return Publication.objects.filter(campaign=campaign, withdrawn_at__isnull=True).first()


def check_publish(campaign: Campaign) -> list[str]:
    problems = []
    if campaign.status != Campaign.Status.CLOSED:
        problems.append(_("评议结束(状态为“已结束”)后才能公示结果"))
    if live_publication(campaign) is not None:
        problems.append(_("结果已在公示中"))
    # Refused, not warned: a 公示 is there so that objections can be raised, within a stated
    # period, somewhere, to someone. Without these it is no notice, and once published its
    # fixed copy could only be corrected by withdrawing it.
    if not (campaign.notice_from and campaign.notice_to):
        problems.append(_("请先在评议活动中填写公示期(开始和截止日期)"))
    elif campaign.notice_to < campaign.notice_from:
        problems.append(_("公示截止日期不能早于开始日期"))
    if not (
        campaign.objection_phone.strip()
        or campaign.objection_address.strip()
        or campaign.objection_email.strip()
    ):
        problems.append(_("请先在评议活动中填写至少一种异议受理方式(电话、地址或邮箱)"))
    if not campaign.issuer.strip():
        problems.append(_("请先在评议活动中填写发布单位(落款)"))
    return problems


@transaction.atomic
def results_publish(*, campaign: Campaign, user: Any) -> Publication:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    problems = check_publish(campaign)
    if problems:
        raise ValidationError(problems)
    t = tally_campaign(campaign)
    again = Publication.objects.filter(campaign=campaign).exists()
    # The ballot file the result was counted from is kept with the fixed copy (private until
    # staff publish it too: scoring.verification), and its fingerprint is the one announced.
    ballots = build_ballot_file(campaign)
    pub = Publication(
        campaign=campaign,
        published_by=user if getattr(user, "is_authenticated", False) else None,
        data=public_data(t),
        fingerprint=ballots.fingerprint,
        ballot_manifest=ballots.manifest,
    )
    pub.ballot_rows.save("ballots.jsonl", ContentFile(ballots.jsonl), save=False)
    pub.save()
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
