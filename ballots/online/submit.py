"""Casting an online ballot with a one-time code: exactly one ballot per code.

Anonymous campaigns (the usual kind): the ballot records its code's token, an HMAC of the code
under the application's key (codes.ballot_token), unique among ballots; the code's own row is
not written at all while voting goes on, and is marked used only when voting closes, all
codes at once (codes.codes_settle). So no database transaction, and nothing in the WAL,
pairs a code with its ballot (README, threat model). On PostgreSQL a ballot without comments
is written by one statement (sql.submit_in_one_statement); otherwise in one transaction.

Named campaigns store the link by design (`Ballot.access_code`) and mark the code used in the
ballot's transaction."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ballots import sql
from ballots.models import AccessCode, Ballot
from ballots.online.codes import ballot_token, new_receipt, normalise, receipt_for
from ballots.services import (
    Answer,
    BallotError,
    Layout,
    _new_ballot,
    ballot_create,
)
from campaigns.models import Campaign


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


def ballot_submit(
    *,
    campaign: Campaign,
    code: str,
    answers: Iterable[Answer],
    comments: Mapping[int | None, str] | None = None,
    channel: str = "",
    layout: Layout | None = None,
) -> Receipt:
    """Cast an online ballot with a one-time code; return its receipt.

    Submitting again with a used code returns the same receipt and records nothing, so a
    double click or a retry over a flaky connection still makes one ballot."""
    normal = normalise(code)
    if normal is None:
        raise CodeRefused("malformed", "评议码格式不正确:应为16位字母和数字")
    layout = layout or Layout.of(campaign)
    units = {u for u, _d in layout.cells}
    for unit_id in (comments or {}).keys():
        if unit_id is not None and unit_id not in units:
            raise BallotError(f"单位不属于本次评议:{unit_id}")
    answers = list(answers)  # read twice when the one-statement path below writes nothing
    if not campaign.anonymous:
        return _submit_named(
            campaign=campaign, code=normal, answers=answers, comments=comments,
            channel=channel, layout=layout,
        )
    token, receipt = ballot_token(campaign.pk, normal), receipt_for(campaign.pk, normal)
    today = timezone.localdate()
    if sql.one_round_trip_reads() and not any(t and t.strip() for t in (comments or {}).values()):
        try:
            ballot = _new_ballot(
                campaign=campaign,
                source=Ballot.Source.ONLINE,
                marks=layout.marks(answers),
                layout=layout,
                channel=channel,
                token=token,
            )
        except BallotError:
            ballot = None  # the transaction below refuses it, or answers for a used code
        if ballot is not None:
            written, found = sql.submit_in_one_statement(
                campaign=campaign, code=normal, ballot=ballot
            )
            if written:
                return Receipt(number=receipt, on=today)
            if found:
                return _repeated(token, receipt, today)
        # Nothing was written: the code is unknown, revoked or settled, or the campaign not
        # open. The transaction below finds out which, as it does for every other submission.
    with transaction.atomic():
        is_open = sql.campaign_status_for_write(campaign) == Campaign.Status.OPEN
        row = _code_row(campaign, normal)
        if row is None:
            raise CodeRefused("unknown", "评议码不正确,请核对后重新输入")
        if row.status == AccessCode.Status.REVOKED:
            raise CodeRefused("revoked", "此评议码已作废,请与评议办公室联系")
        if row.status == AccessCode.Status.USED or _token_taken(token):
            return _repeated(token, receipt, today)
        if not is_open:
            raise CodeRefused("closed", "本次评议当前未开放,不能提交")
        try:
            # A savepoint: a concurrent submission of the same code that committed first
            # makes this INSERT fail on the token, and the transaction must survive it.
            with transaction.atomic():
                _cast(row, campaign, answers, comments, channel, layout, token=token)
        except IntegrityError:
            # Between the check above and this INSERT another submission of the code
            # committed: its ballot stands, and this one gets the same receipt.
            if not _token_taken(token):
                raise
            return _repeated(token, receipt, today)
    return Receipt(number=receipt, on=today)


def _cast(
    row: AccessCode,
    campaign: Campaign,
    answers: list[Answer],
    comments: Mapping[int | None, str] | None,
    channel: str,
    layout: Layout,
    **link: Any,
) -> Ballot:
    """The ballot of code `row`, with the group and district of its holder (or of the code),
    and `link`: its token (anonymous) or the code itself (named)."""
    rep = row.representative
    return ballot_create(
        campaign=campaign,
        source=Ballot.Source.ONLINE,
        answers=answers,
        channel=channel,
        group=row.group or (rep.group if rep else None),
        district=rep.district if rep else "",
        comments=comments,
        layout=layout,
        **link,
    )


def _code_row(campaign: Campaign, code: str) -> AccessCode | None:
    # `code` is unique: no ORDER BY (which .first() would add). A plain read: locking the row
    # would write to it.
    return next(
        iter(
            AccessCode.objects.select_related("group", "representative__group").filter(
                campaign=campaign, code=code
            )[:1]
        ),
        None,
    )


def _token_taken(token: str) -> bool:
    return Ballot.objects.filter(token=token).exists()


def _repeated(token: str, receipt: str, today: _dt.date) -> Receipt:
    """The receipt of a code that has voted: the same number, and the day its ballot came."""
    day = Ballot.objects.filter(token=token).values_list("received_on", flat=True).first()
    return Receipt(number=receipt, on=day or today, repeated=True)


def _submit_named(
    *,
    campaign: Campaign,
    code: str,
    answers: list[Answer],
    comments: Mapping[int | None, str] | None,
    channel: str,
    layout: Layout,
) -> Receipt:
    """A named campaign's ballot: the code is claimed (conditionally marked used) and the
    ballot stored with its link in one transaction; the database refuses a second ballot for
    a code (`Ballot.access_code` is one-to-one)."""
    receipt, today = new_receipt(), timezone.localdate()
    with transaction.atomic():
        is_open = sql.campaign_status_for_write(campaign) == Campaign.Status.OPEN
        claimed = (
            sql.claim_code(campaign=campaign, code=code, receipt=receipt, today=today)
            if is_open
            else None
        )
        row = _code_row(campaign, code)
        if row is None:
            raise CodeRefused("unknown", "评议码不正确,请核对后重新输入")
        if claimed is None:
            if row.status == AccessCode.Status.USED:
                return Receipt(number=row.receipt, on=row.used_on or today, repeated=True)
            if row.status == AccessCode.Status.REVOKED:
                raise CodeRefused("revoked", "此评议码已作废,请与评议办公室联系")
            raise CodeRefused("closed", "本次评议当前未开放,不能提交")
        _cast(row, campaign, answers, comments, channel, layout, access_code=row)
    return Receipt(number=receipt, on=today)
