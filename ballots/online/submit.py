"""Casting an online ballot with a one-time code: exactly one ballot per code, in one
transaction (or, on PostgreSQL for an anonymous ballot without comments, in one statement)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ballots import sql
from ballots.models import AccessCode, Ballot
from ballots.online.codes import new_receipt, normalise
from ballots.services import (
    Answer,
    BallotError,
    Layout,
    _new_ballot,
    ballot_create,
)
from campaigns.models import Campaign, Representative


class CodeRefused(BallotError):
    """The code cannot cast a ballot. `reason` is recorded in CodeAttempt for staff."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Receipt:
    number: str
    on: _dt.date
    # True when the code had already been used: the stored receipt, and no new ballot.
    repeated: bool = False


def _campaign_is_open(campaign: Campaign) -> bool:
    return sql.campaign_status_for_write(campaign) == Campaign.Status.OPEN


def ballot_submit(
    *,
    campaign: Campaign,
    code: str,
    answers: Iterable[Answer],
    comments: Mapping[int | None, str] | None = None,
    channel: str = "",
    layout: Layout | None = None,
) -> Receipt:
    """Cast an online ballot with a one-time code, in one transaction; return its receipt.

    Submitting again with a used code returns the stored receipt and records nothing, so a
    double click or a retry over a flaky connection still makes one ballot. In an anonymous
    campaign the ballot gets no link to the code (the receipt is stored on the code only and
    is random); in a named campaign `Ballot.access_code` (one-to-one) stores it.
    """
    normal = normalise(code)
    if normal is None:
        raise CodeRefused("malformed", "评议码格式不正确:应为16位字母和数字")
    layout = layout or Layout.of(campaign)
    units = {u for u, _d in layout.cells}
    for unit_id in (comments or {}).keys():
        if unit_id is not None and unit_id not in units:
            raise BallotError(f"单位不属于本次评议:{unit_id}")
    receipt, today = new_receipt(), timezone.localdate()
    answers = list(answers)  # read twice when the one-statement path below writes nothing
    if (
        sql.one_round_trip_reads()
        and campaign.anonymous
        and not any(t and t.strip() for t in (comments or {}).values())
    ):
        try:
            ballot = _new_ballot(
                campaign=campaign,
                source=Ballot.Source.ONLINE,
                marks=layout.marks(answers),
                layout=layout,
                channel=channel,
            )
        except BallotError:
            ballot = None  # the transaction below refuses it, or answers for a used code
        if ballot is not None and sql.submit_in_one_statement(
            campaign=campaign, code=normal, receipt=receipt, today=today, ballot=ballot
        ):
            return Receipt(number=receipt, on=today)
        # Nothing was written: the code is not active or the campaign not open. The
        # transaction below finds out which, as it does for every other submission.
    with transaction.atomic():
        claimed = (
            sql.claim_code(campaign=campaign, code=normal, receipt=receipt, today=today)
            if _campaign_is_open(campaign)
            else None
        )
        if claimed is not None and campaign.anonymous:
            # The common case, kept to the fewest queries: hundreds of voters submit at once.
            group_id, rep_id = claimed
            district = ""
            if rep_id is not None:
                rep_group, district = Representative.objects.values_list(
                    "group_id", "district"
                ).get(pk=rep_id)
                group_id = group_id or rep_group
            ballot_create(
                campaign=campaign,
                source=Ballot.Source.ONLINE,
                answers=answers,
                channel=channel,
                group_id=group_id,
                district=district or "",
                comments=comments,
                layout=layout,
            )
            return Receipt(number=receipt, on=today)
        # `code` is unique: no ORDER BY (which .first() would add).
        row = next(
            iter(
                AccessCode.objects.select_related("group", "representative__group").filter(
                    campaign=campaign, code=normal
                )[:1]
            ),
            None,
        )
        if row is None:
            raise CodeRefused("unknown", "评议码不正确,请核对后重新输入")
        if claimed is None:
            if row.status == AccessCode.Status.USED:
                return Receipt(number=row.receipt, on=row.used_on or today, repeated=True)
            if row.status == AccessCode.Status.REVOKED:
                raise CodeRefused("revoked", "此评议码已作废,请与评议办公室联系")
            raise CodeRefused("closed", "本次评议当前未开放,不能提交")
        rep = row.representative
        ballot_create(
            campaign=campaign,
            source=Ballot.Source.ONLINE,
            answers=answers,
            channel=channel,
            group=row.group or (rep.group if rep else None),
            district=rep.district if rep else "",
            comments=comments,
            access_code=row,
            layout=layout,
        )
    return Receipt(number=receipt, on=today)
