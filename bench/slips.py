"""Code slips (评议码条, ballots/online/slips.py): 1,000 slips as one PDF, half of them named
(a representative and their group, in Chinese) and half unnamed, as a campaign prints them.
Target: under 10 s (issue 16; laid out slip by slip in WeasyPrint they took 2 s a slip)."""

from __future__ import annotations

import time
from typing import Any

SLIPS = 1_000


def slips_1000(run: int) -> dict[str, Any]:
    from ballots.online.codes import codes_for_representatives, codes_unnamed
    from ballots.online.slips import slip_codes, slips_pdf
    from campaigns.models import Campaign, Representative
    from campaigns.services import campaign_create_from_preset

    slug = f"bench-slips-{run}"
    Campaign.objects.filter(slug=slug).delete()
    campaign = campaign_create_from_preset(
        preset="qianren", slug=slug, name=f"基准 {slug} 政风行风评议", year=2026
    )
    groups = list(campaign.groups.order_by("order"))
    Representative.objects.bulk_create(
        Representative(campaign=campaign, group=groups[i % len(groups)], name=f"代表{i:04d}号")
        for i in range(SLIPS // 2)
    )
    codes_for_representatives(campaign=campaign, user=None)
    codes_unnamed(campaign=campaign, count=SLIPS - SLIPS // 2, group=None, user=None)
    codes = slip_codes(campaign, "all")
    assert len(codes) == SLIPS
    start = time.perf_counter()
    pdf = slips_pdf(campaign, codes, "https://pingyi.example.gov.cn")
    seconds = time.perf_counter() - start
    Campaign.objects.filter(slug=slug).delete()
    return {"seconds": [seconds], "slips": SLIPS, "pdf_bytes": len(pdf)}
