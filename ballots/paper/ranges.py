"""Printed ranges of serials, and finding the range of a keyed serial."""

from __future__ import annotations

import bisect
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ballots.models import PrintedRange
from ballots.paper.cells import DIGITS, PaperError
from campaigns.models import Campaign
from core.audit import audit

# --- Printed ranges and serials --------------------------------------------------------------


class Ranges:
    """The campaign's printed ranges, for finding the one that holds a serial."""

    def __init__(self, campaign: Campaign) -> None:
        self.ranges = list(PrintedRange.objects.filter(campaign=campaign).order_by("first"))
        self._starts = [r.first for r in self.ranges]

    def find(self, serial: str) -> PrintedRange | None:
        if not DIGITS.fullmatch(serial or ""):
            return None
        n = int(serial)
        i = bisect.bisect_right(self._starts, n) - 1
        if i >= 0 and self.ranges[i].holds(n):
            return self.ranges[i]
        return None

    def width(self) -> int:
        return max((r.width for r in self.ranges), default=6)


def resolve_serial(
    campaign: Campaign, raw: str, *, allow_out_of_range: bool = False, ranges: Ranges | None = None
) -> tuple[str, PrintedRange | None]:
    """The serial as stored (zero-padded like its range) and the range that holds it."""
    raw = (raw or "").strip()
    if not raw:
        raise PaperError(_("请填写选票编号"), code="serial", field="serial")
    if len(raw) > 40:
        raise PaperError(_("编号过长(最多 40 个字符)"), code="serial", field="serial")
    ranges = ranges or Ranges(campaign)
    rng = ranges.find(raw)
    if rng is not None:
        return rng.fmt(int(raw)), rng
    if not allow_out_of_range:
        printed = "、".join(r.label() for r in ranges.ranges[:5]) or _("尚未登记任何编号段")
        raise PaperError(
            _("编号 %(s)s 不在已印制的编号段内(%(printed)s)。请核对编号;确需录入须由主管允许。")
            % {"s": raw, "printed": printed},
            code="out_of_range",
            field="serial",
        )
    # Digits are padded like the printed serials so "12" and "000012" are the same paper.
    return (raw.zfill(ranges.width()) if DIGITS.fullmatch(raw) else raw), None


def range_create(
    *,
    campaign: Campaign,
    first: int,
    last: int,
    width: int = 6,
    channel: str = "",
    district: str = "",
    note: str = "",
    user: Any = None,
) -> PrintedRange:
    """Record serials first..last as printed and issued; refuses overlaps with other ranges."""
    if first < 1 or last < first:
        raise PaperError(_("编号段无效:起始编号须不小于 1,且不大于结束编号"), field="first")
    if not 1 <= width <= 12 or last >= 10**width:
        raise PaperError(
            _("结束编号 %(n)d 超过 %(w)d 位数") % {"n": last, "w": width}, field="width"
        )
    with transaction.atomic():
        # Lock the campaign row so two staff recording ranges at once cannot both pass the
        # overlap check.
        Campaign.objects.select_for_update().get(pk=campaign.pk)
        clash = (
            PrintedRange.objects.filter(campaign=campaign, first__lte=last, last__gte=first)
            .order_by("first")
            .first()
        )
        if clash is not None:
            raise PaperError(_("编号段与已登记的 %(r)s 重叠") % {"r": clash.label()}, field="first")
        rng = PrintedRange.objects.create(
            campaign=campaign,
            first=first,
            last=last,
            width=width,
            channel=channel.strip(),
            district=district.strip(),
            note=note.strip(),
            count=last - first + 1,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        audit(
            user=user,
            action="paper_range_create",
            obj=rng,
            campaign=campaign,
            after={
                "first": first,
                "last": last,
                "width": width,
                "channel": rng.channel,
                "district": rng.district,
                "count": rng.count,
            },
        )
    return rng
