"""After the cases: the follow-up survey (回头看 / 整改落实情况满意率测评) over the units with
cases, with each case's satisfaction before and after; and the 整改公示 of the ledger's public
columns. One audited service each."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, Representative
from campaigns.services import campaign_clone_for_next_year
from core.audit import audit
from rectification.models import Case
from rectification.services import ledger, settings_of
from scoring.tally import tally_campaign

# What the 整改公示 shows of a case (the documents: 通过公开栏、网站公示): never the measures'
# owners, the reports or the acceptors.
PUBLIC_COLUMNS = ("unit", "problem", "measures", "status_label", "acceptance")


@transaction.atomic
def followup_create(*, campaign: Campaign, slug: str, user: Any,
                    reuse_representatives: bool = True) -> Campaign:
    """A campaign over the units with cases, the same scale and configuration, no 优胜 and no
    末位 (it measures the rectification, it does not rank anew), outside the series (next
    year's campaign still follows this one); the original representatives copied unless new
    ones are wanted."""
    rect = settings_of(campaign)
    if rect.followup_id is not None:
        raise ValidationError(_("已经建立了整改落实情况测评。"))
    units = set(Case.objects.filter(campaign=campaign).values_list("unit_id", flat=True))
    if not units:
        raise ValidationError(_("还没有整改事项。"))
    follow = campaign_clone_for_next_year(
        source=campaign, slug=slug, year=campaign.year, user=user,
        name=_("%(c)s整改落实情况满意率测评") % {"c": campaign.name})
    follow.previous, follow.series = None, ""
    follow.save(update_fields=["previous", "series"])
    follow.units.exclude(unit_id__in=units).delete()
    follow.categories.update(winners=0, last_place=0)
    follow.categories.filter(units__isnull=True).delete()
    if reuse_representatives:
        groups = {g.name: g for g in follow.groups.all()}
        Representative.objects.bulk_create(
            Representative(campaign=follow, group=groups[r.group.name], name=r.name,
                           district=r.district, affiliation=r.affiliation, phone=r.phone,
                           is_new=r.is_new)
            for r in campaign.representatives.select_related("group")
        )
    rect.followup = follow
    rect.save(update_fields=["followup"])
    audit(user=user, action="rectification.followup", obj=follow, campaign=campaign,
          after={"followup": follow.slug, "units": len(units)})
    return follow


def before_after(campaign: Campaign) -> dict[int, tuple[Fraction | None, Fraction | None]]:
    """Registry unit → (satisfaction in this campaign, in its follow-up) for the units with
    cases; the follow-up's is None until it has votes."""
    units = set(Case.objects.filter(campaign=campaign).values_list("unit_id", flat=True))

    def rates(c: Campaign) -> dict[int, Fraction | None]:
        t = tally_campaign(c)
        registry = dict(c.units.values_list("id", "unit_id"))
        return {registry[int(u.unit.key)]: u.satisfaction_rate
                for cat in t.result.categories for u in cat.units}

    before = rates(campaign)
    follow = settings_of(campaign).followup
    after = rates(follow) if follow is not None else {}
    return {u: (before.get(u), after.get(u)) for u in units}


@transaction.atomic
def ledger_publish(*, campaign: Campaign, user: Any) -> list[dict[str, Any]]:
    """整改公示: a fixed copy of the ledger's public columns."""
    rect = settings_of(campaign)
    rows = ledger(Case.objects.filter(campaign=campaign))
    if not rows:
        raise ValidationError(_("还没有整改事项。"))
    copy = [{k: r[k] for k in PUBLIC_COLUMNS} for r in rows]
    for r in copy:
        r["measures"] = [m["text"] for m in r["measures"]]
    rect.publication, rect.published_at = copy, timezone.now()
    rect.save(update_fields=["publication", "published_at"])
    audit(user=user, action="rectification.publish", obj=rect, campaign=campaign,
          after={"cases": len(copy)})
    return copy


@transaction.atomic
def ledger_unpublish(*, campaign: Campaign, user: Any, reason: str) -> None:
    rect = settings_of(campaign)
    if rect.published_at is None:
        raise ValidationError(_("整改情况没有公示。"))
    if not reason.strip():
        raise ValidationError(_("撤回公示须说明理由。"))
    rect.published_at = None
    rect.save(update_fields=["published_at"])
    audit(user=user, action="rectification.unpublish", obj=rect, campaign=campaign,
          reason=reason)
