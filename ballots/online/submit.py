"""Casting an online ballot with a one-time code: exactly one ballot per code, in one
transaction (or, on PostgreSQL for an anonymous ballot without comments, in one statement)."""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from ballots.models import AccessCode, Ballot
from ballots.online.codes import new_receipt, normalise
from ballots.services import (
    Answer,
    BallotError,
    Layout,
    _db_value,
    _new_ballot,
    ballot_create,
    campaign_status_for_write,
)
from ballots.sql import fetchone_prepared
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
    return campaign_status_for_write(campaign) == Campaign.Status.OPEN


def _claim_code(
    *, campaign: Campaign, code: str, receipt: str, today: _dt.date
) -> tuple[int | None, int | None] | None:
    """The conditional write that makes a code single-use: (group id, representative id) of
    the code it claimed, or None when it claimed nothing.

    Concurrent submitters of one code queue on the row lock; once the winner commits, the
    others' WHERE status='active' no longer matches and they change nothing. RETURNING saves
    reading the code back on the busiest path (PostgreSQL, and SQLite since 3.35)."""
    table = AccessCode._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET status = %s, used_on = %s, receipt = %s "
            "WHERE campaign_id = %s AND code = %s AND status = %s "
            "RETURNING group_id, representative_id",
            [
                AccessCode.Status.USED,
                today,
                receipt,
                campaign.pk,
                code,
                AccessCode.Status.ACTIVE,
            ],
        )
        row = cur.fetchone()
    if row is None:
        return None
    return row[0], row[1]


def _submit_in_one_statement(
    *, campaign: Campaign, code: str, receipt: str, today: _dt.date, ballot: Ballot
) -> bool:
    """An anonymous online ballot without comments, on PostgreSQL, recorded by ONE statement:
    the campaign row read FOR SHARE while it is open, the code claimed, the ballot inserted
    with the code's group (or its representative's) and district. Returns whether it wrote.

    What the transaction in `ballot_submit` does in five round trips (BEGIN, FOR SHARE, the
    claim, the INSERT, COMMIT), one statement does in one, and a statement is atomic on its
    own: either the code is claimed and the ballot written, or neither. Locks and their
    waits are the same: closing the campaign waits for the FOR SHARE; a second submission of
    the code waits on the code's row, then finds it no longer active and writes nothing.

    Every column but group and district is a parameter, cast to its type (INSERT … SELECT
    does not type bare literals by the target column); text columns are not cast, so a value
    too long for its column is refused as in any INSERT, never cut."""
    sql, fields = _one_statement_sql()
    params = [_db_value(f, ballot) for f in fields]
    head = [
        campaign.pk,
        Campaign.Status.OPEN.value,
        AccessCode.Status.USED.value,
        today,
        receipt,
        code,
        AccessCode.Status.ACTIVE.value,
    ]
    row = fetchone_prepared(sql, head + params)
    return row is not None and row[0] == 1


@functools.cache
def _one_statement_sql() -> tuple[str, list[Any]]:
    """The statement of `_submit_in_one_statement` and the ballot fields it takes as
    parameters, in order: built once per process."""
    qn = connection.ops.quote_name
    columns, values, fields = [], [], []
    for f in Ballot._meta.concrete_fields:
        columns.append(qn(f.column))
        if f.attname == "group_id":
            values.append("COALESCE(claimed.group_id, r.group_id)")
        elif f.attname == "district":
            values.append("COALESCE(r.district, '')")
        else:
            text = isinstance(f, models.CharField | models.TextField)
            values.append("%s" if text else f"CAST(%s AS {f.cast_db_type(connection)})")
            fields.append(f)
    sql = f"""
        WITH open AS (
            SELECT id FROM {Campaign._meta.db_table} WHERE id = %s AND status = %s FOR SHARE
        ), claimed AS (
            UPDATE {AccessCode._meta.db_table} SET status = %s, used_on = %s, receipt = %s
            WHERE campaign_id IN (SELECT id FROM open) AND code = %s AND status = %s
            RETURNING group_id, representative_id
        ), made AS (
            INSERT INTO {Ballot._meta.db_table} ({", ".join(columns)})
            SELECT {", ".join(values)}
            FROM claimed LEFT JOIN {Representative._meta.db_table} r
                ON r.id = claimed.representative_id
            RETURNING 1
        )
        SELECT count(*) FROM made
    """
    return sql, fields


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
        connection.vendor == "postgresql"
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
        if ballot is not None and _submit_in_one_statement(
            campaign=campaign, code=normal, receipt=receipt, today=today, ballot=ballot
        ):
            return Receipt(number=receipt, on=today)
        # Nothing was written: the code is not active or the campaign not open. The
        # transaction below finds out which, as it does for every other submission.
    with transaction.atomic():
        claimed = (
            _claim_code(campaign=campaign, code=normal, receipt=receipt, today=today)
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
