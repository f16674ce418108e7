"""Ballot validity (spec section 2) that depends on other ballots: repeated serials.

A serial printed on more than one paper ballot of a campaign makes *every* ballot with that
serial invalid, because the original cannot be told from the photocopy. When a batch is undone
the remaining ballots of a serial may become unique again and regain their own validity.
Staff decisions (`manual`) are never overridden here, and a blank ballot stays blank.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, QuerySet

from ballots.models import Ballot
from campaigns.models import Campaign

DUP = Ballot.Reason.DUPLICATE_SERIAL


def refresh_serial_validity(campaign: Campaign, serials: Iterable[str]) -> list[str]:
    """Re-derive duplicate_serial for the given serials; return those now duplicated.

    Call inside the transaction that added or removed ballots with these serials.
    """
    serials = sorted({s for s in serials if s})
    if not serials:
        return []
    paper = Ballot.objects.filter(campaign=campaign, source=Ballot.Source.PAPER)
    duplicated: list[str] = []
    # Chunked so a 10,000-serial import stays within SQLite's parameter limit.
    for start in range(0, len(serials), 500):
        chunk = serials[start : start + 500]
        counts = dict(
            paper.filter(serial__in=chunk)
            .values("serial")
            .annotate(n=Count("id"))
            .values_list("serial", "n")
        )
        dup = [s for s in chunk if counts.get(s, 0) > 1]
        single = [s for s in chunk if counts.get(s, 0) == 1]
        duplicated += dup
        if dup:
            paper.filter(serial__in=dup).exclude(invalid_reason=Ballot.Reason.MANUAL).update(
                status=Ballot.Status.INVALID, invalid_reason=DUP
            )
        if single:
            # A lone ballot that was only invalid as a duplicate regains its own validity.
            lone = paper.filter(serial__in=single, invalid_reason=DUP)
            lone.filter(is_blank=True).update(invalid_reason=Ballot.Reason.BLANK_BALLOT)
            lone.filter(is_blank=False).update(status=Ballot.Status.VALID, invalid_reason="")
    return duplicated


# Spec section 2: a ballot counts under the first reason that applies, in this order. Every
# figure that lists reasons (import summary, tally, reports) lists them in it.
REASON_ORDER = (Ballot.Reason.MANUAL, Ballot.Reason.DUPLICATE_SERIAL, Ballot.Reason.BLANK_BALLOT)


def invalid_reasons(ballots: QuerySet[Ballot]) -> dict[str, int]:
    """How many of `ballots` are invalid for each reason, in the spec's order (zeros left out).

    A stored ballot has exactly one reason, already the first that applies: staff decisions
    are never overridden and a repeated serial overrides a blank ballot (refresh_serial_validity)."""
    counts = dict(
        ballots.filter(status=Ballot.Status.INVALID)
        .values("invalid_reason")
        .annotate(n=Count("id"))
        .values_list("invalid_reason", "n")
        .order_by()
    )
    return {str(r): counts[r] for r in REASON_ORDER if counts.get(r)}
