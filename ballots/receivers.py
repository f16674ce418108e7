"""Ballot collection's part in a campaign's status change (campaigns.signals).

Connected in `BallotsConfig.ready`, so they are always connected wherever Django runs;
tests/test_campaign_lock.py and tests/test_paper_keying.py show a close refused with open
paper entries, tests/test_online_anonymity.py the scrub after closing, tests/test_private_files.py
the code slips deleted after closing."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from campaigns.models import Campaign


def paper_blocks_close(*, campaign: Campaign, old: str, new: str, **kwargs: Any) -> list[str]:
    """Open keyed entries (a first pass without its second, a dispute) block closing."""
    if new != Campaign.Status.CLOSED or old != Campaign.Status.OPEN:
        return []
    from ballots.paper.disputes import close_blockers

    return close_blockers(campaign)


def scans_block_close(*, campaign: Campaign, old: str, new: str, **kwargs: Any) -> list[str]:
    """Scanned pages still to confirm, to type a serial for, waiting for their other page or
    unreadable block closing: each is a ballot not yet counted (ballots/scan/services.py)."""
    if new != Campaign.Status.CLOSED or old != Campaign.Status.OPEN:
        return []
    from ballots.scan.services import close_blockers

    return close_blockers(campaign)


def scrub_after_close(*, campaign: Campaign, new: str, user: Any, **kwargs: Any) -> None:
    """Voting is over: mark the codes that voted as used and shuffle the ballots
    (ballots/online/codes.py codes_scrub_traces), each in a transaction of its own after the
    close commits: no transaction writes both codes and ballots, not even this one."""
    if new == Campaign.Status.CLOSED and campaign.anonymous:
        from ballots.online.codes import codes_scrub_traces

        transaction.on_commit(lambda: codes_scrub_traces(campaign=campaign, user=user))


def delete_code_files_after_close(*, campaign: Campaign, new: str, **kwargs: Any) -> None:
    """Voting is over: the code slips made for it go, and their job pages say why. Done once
    the close is committed, the jobs looked up then, so that a slip job finishing meanwhile is
    either found here or finds the campaign closed (ballots/online/slips.py)."""
    if new in (Campaign.Status.DRAFT, Campaign.Status.OPEN):
        return
    from ballots.online.slips import code_files_remove

    campaign_id = campaign.pk
    transaction.on_commit(lambda: code_files_remove(campaign_id))
