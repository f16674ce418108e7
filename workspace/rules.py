"""Saving a campaign's categories' quotas, its threshold, its phases' dates, its
representative groups' target shares and its 公示 notice fields from the office's rules page: one small atomic service that audits every
change (before/after).

Quotas, threshold and dates are not what a ballot voted on, so they stay changeable once a
campaign has ballots, as in the admin (Campaign.assert_configurable locks only the scale,
the dimensions and the units)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.configuration import save_audited
from campaigns.models import Campaign, Category, Phase, RepresentativeGroup

# The 公示 as a notice (scoring.publication.check_publish): its period, where objections go,
# who signs it. Not what a ballot voted on, so changeable at any time, like the threshold.
NOTICE_FIELDS = ("notice_from", "notice_to", "objection_phone", "objection_address",
                 "objection_email", "issuer")


def campaign_rules_save(
    *,
    campaign: Campaign,
    user: Any,
    threshold: Decimal,
    quotas: dict[int, tuple[int, int]],
    dates: dict[int, tuple[date | None, date | None]],
    notice: dict[str, Any] | None = None,
    groups: dict[int, tuple[Decimal | None, bool, Decimal | None]] | None = None,
) -> int:
    """Save the threshold, each category's (优胜名额, 末位名额) by category id, each
    phase's (start, end) by phase id and the 公示 notice fields (`notice`: Campaign field
    name to value, only those of NOTICE_FIELDS) and each representative group's (目标比例,
    比例为下限, 计分权重) by group id, all or nothing. Returns how many objects changed.
    Ids not of this campaign are refused (ValidationError)."""
    notice = dict(notice or {})
    if not set(notice) <= set(NOTICE_FIELDS):
        raise ValueError(f"not notice fields: {sorted(set(notice) - set(NOTICE_FIELDS))}")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        categories = {c.pk: c for c in Category.objects.filter(campaign=locked)}
        phases = {p.pk: p for p in Phase.objects.filter(campaign=locked)}
        groups_now = {g.pk: g for g in RepresentativeGroup.objects.filter(campaign=locked)}
        groups = dict(groups or {})
        if not (set(quotas) <= set(categories) and set(dates) <= set(phases)
                and set(groups) <= set(groups_now)):
            raise ValidationError(_("类别、阶段或代表类别不属于本评议活动。"))
        changed = int(save_audited(locked, {"threshold": threshold, **notice}, user=user))
        for pk, (winners, last_place) in quotas.items():
            changed += save_audited(
                categories[pk], {"winners": winners, "last_place": last_place}, user=user
            )
        for pk, (start, end) in dates.items():
            changed += save_audited(phases[pk], {"start": start, "end": end}, user=user)
        for pk, (share, minimum, weight) in groups.items():
            changed += save_audited(
                groups_now[pk],
                {"target_share": share, "target_is_minimum": minimum, "weight": weight},
                user=user,
            )
    campaign.threshold = locked.threshold
    for name in notice:
        setattr(campaign, name, getattr(locked, name))
    return changed
