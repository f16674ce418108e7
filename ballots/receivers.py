"""Ballot collection's part in a campaign's status change (campaigns.signals).

Connected in `BallotsConfig.ready`, so they are always connected wherever Django runs;
tests/test_campaign_lock.py and tests/test_paper_keying.py show a close refused with open
paper entries, tests/test_online_anonymity.py the scrub after closing."""

from __future__ import annotations

from typing import Any

from campaigns.models import Campaign


def paper_blocks_close(*, campaign: Campaign, old: str, new: str, **kwargs: Any) -> list[str]:
    """Open keyed entries (a first pass without its second, a dispute) block closing."""
    if new != Campaign.Status.CLOSED or old != Campaign.Status.OPEN:
        return []
    from ballots.paper.disputes import close_blockers

    return close_blockers(campaign)


def scrub_after_close(*, campaign: Campaign, new: str, user: Any, **kwargs: Any) -> None:
    """Voting is over: rewrite the used codes so PostgreSQL's transaction ids no longer pair a
    code with its ballot (ballots/online/codes.py)."""
    if new == Campaign.Status.CLOSED and campaign.anonymous:
        from ballots.online.codes import codes_scrub_traces

        codes_scrub_traces(campaign=campaign, user=user)
