"""Writes that matter: recording a ballot, invalidating and restoring one.

Every path that creates ballots (online submission, keyed paper entry, spreadsheet import)
reads the ballot with `read_answers` (spec section 2), so there is one implementation of
"blank", "spoiled" and `blank_means`. Functions are keyword-only, atomic, and rely on database
constraints (one answer per unit and dimension, status/reason consistency) as the last guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connection, models, transaction

from ballots.answers import KIND_BLANK, KIND_OPTION, KIND_SPOILED, LayoutError, Storage
from ballots.models import AccessCode, Ballot, Comment, ImportBatch
from ballots.validity import own_validity, refresh_serial_validity
from campaigns.audit import audit
from campaigns.models import Campaign, Representative, RepresentativeGroup


class BallotError(Exception):
    """A ballot that cannot be recorded; the message is shown to the user as is."""


@dataclass(frozen=True)
class Answer:
    """What one ballot says about one unit (and dimension).

    `option_id` is the marked option, or None when nothing is marked; `spoiled` means several
    options were marked (paper only)."""

    unit_id: int
    dimension_id: int | None
    option_id: int | None
    spoiled: bool = False


class VoteRow(NamedTuple):
    # A tuple, not a frozen dataclass: 66-150 are made per ballot read, and a frozen
    # dataclass sets each field through object.__setattr__.
    unit_id: int
    dimension_id: int | None
    option_id: int | None
    kind: str


@dataclass(frozen=True)
class Reading:
    is_blank: bool
    votes: tuple[VoteRow, ...]


@dataclass(frozen=True)
class Layout:
    """The cells a ballot of the campaign has: (unit, dimension) pairs, and the scale."""

    cells: tuple[tuple[int, int | None], ...]
    option_ids: frozenset[int]
    blank_means_id: int | None
    storage: Storage

    @classmethod
    def of(cls, campaign: Campaign) -> Layout:
        units = list(
            campaign.units.order_by("category__order", "order", "id").values_list("id", flat=True)
        )
        dims: list[int | None] = list(
            campaign.dimensions.order_by("order", "id").values_list("id", flat=True)
        )
        return cls.build(campaign, units, dims, campaign.options.values_list("id", flat=True))

    @classmethod
    def build(
        cls,
        campaign: Campaign,
        unit_ids: Iterable[int],
        dimension_ids: Iterable[int | None],
        option_ids: Iterable[int],
    ) -> Layout:
        """The layout from ids already loaded (units and dimensions in ballot order), so the
        ballot page does not ask the database again for what its form holds."""
        dims = list(dimension_ids) or [None]
        cells = tuple((u, d) for u in unit_ids for d in dims)
        options = frozenset(option_ids)
        try:
            storage = Storage.build(cells, options)
        except LayoutError as exc:
            raise BallotError(str(exc)) from exc
        return cls(
            cells=cells,
            option_ids=options,
            blank_means_id=campaign.blank_means_id,
            storage=storage,
        )


def read_answers(layout: Layout, answers: Iterable[Answer]) -> Reading:
    """Spec section 2 for one ballot: one answer per cell of the layout.

    A cell the answers do not mention is unmarked. Raises BallotError for an answer about a
    unit, dimension or option that is not part of the campaign, or for a cell answered twice.
    """
    given: dict[tuple[int, int | None], Answer] = {}
    cells = set(layout.cells)
    for a in answers:
        key = (a.unit_id, a.dimension_id)
        if key not in cells:
            raise BallotError(f"单位或评议内容不属于本次评议:{key}")
        if key in given:
            raise BallotError(f"同一单位重复作答:{key}")
        if a.option_id is not None and a.option_id not in layout.option_ids:
            raise BallotError(f"评价等次不属于本次评议:{a.option_id}")
        given[key] = a
    marked = any(a.spoiled or a.option_id is not None for a in given.values())
    rows: list[VoteRow] = []
    for unit_id, dim_id in layout.cells:
        a = given.get((unit_id, dim_id))
        if a is not None and a.spoiled:
            rows.append(VoteRow(unit_id, dim_id, None, KIND_SPOILED))
        elif a is not None and a.option_id is not None:
            rows.append(VoteRow(unit_id, dim_id, a.option_id, KIND_OPTION))
        elif layout.blank_means_id is not None:
            rows.append(VoteRow(unit_id, dim_id, layout.blank_means_id, KIND_OPTION))
        else:
            rows.append(VoteRow(unit_id, dim_id, None, KIND_BLANK))
    return Reading(is_blank=not marked, votes=tuple(rows))


def _db_value(field: Any, obj: Ballot) -> Any:
    """The value Django's save() would send for one field of a new ballot (`pre_save` sets
    the day of `received_on`). On PostgreSQL the answers go as one array literal: psycopg
    would otherwise quote the 66 elements one by one in Python on every submission."""
    value = field.get_db_prep_save(field.pre_save(obj, True), connection)
    if field.attname == "answers" and connection.vendor == "postgresql" and value is not None:
        return "{" + ",".join(map(str, value)) + "}"
    return value


def _insert(obj: Ballot) -> Ballot:
    """INSERT one new ballot as Django's save() would, minus the query building: during a
    vote in a hall this runs hundreds of times a second, and building the INSERT cost more
    than running it. Same columns, same conversions; the database's constraints check it as
    for any other write."""
    fields = Ballot._meta.concrete_fields
    values = [_db_value(f, obj) for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {Ballot._meta.db_table} ({columns}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})",
            values,
        )
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def _new_ballot(
    *, campaign: Campaign, source: str, answers: Iterable[Answer], layout: Layout, **fields: Any
) -> Ballot:
    """An unsaved ballot: its answers read (spec section 2) and encoded, its own validity."""
    reading = read_answers(layout, answers)
    stored = layout.storage.encode(
        (v.unit_id, v.dimension_id, v.option_id, v.kind) for v in reading.votes
    )
    status, reason = own_validity(is_blank=reading.is_blank)
    return Ballot(
        campaign=campaign,
        source=source,
        status=status,
        invalid_reason=reason,
        is_blank=reading.is_blank,
        answers=stored,
        **fields,
    )


def ballot_create(
    *,
    campaign: Campaign,
    source: str,
    answers: Iterable[Answer],
    serial: str = "",
    channel: str = "",
    group: RepresentativeGroup | None = None,
    group_id: int | None = None,
    district: str = "",
    comments: Mapping[int | None, str] | None = None,
    batch: ImportBatch | None = None,
    access_code: AccessCode | None = None,
    layout: Layout | None = None,
) -> Ballot:
    """Record one ballot with its answers and comments, and re-derive duplicate serials.

    Call inside the caller's transaction when it must be atomic with other writes (e.g. the
    access code update); on its own it is atomic too.
    """
    if access_code is not None and campaign.anonymous:
        # Secrecy by construction: an anonymous campaign never stores the link.
        raise BallotError("匿名评议不得记录评议码与选票的关联")
    if source == Ballot.Source.PAPER and not serial:
        raise BallotError("纸质选票必须有编号")
    layout = layout or Layout.of(campaign)
    new = _new_ballot(
        campaign=campaign,
        source=source,
        answers=answers,
        layout=layout,
        serial=serial,
        channel=channel,
        group_id=group.pk if group is not None else group_id,
        district=district,
        batch=batch,
        access_code=access_code,
    )
    # No savepoint: if anything below fails, the caller's whole transaction (e.g. the code
    # being claimed) must fail with it anyway.
    with transaction.atomic(savepoint=False):
        ballot = _insert(new)
        texts = [(u, t.strip()) for u, t in (comments or {}).items() if t and t.strip()]
        Comment.objects.bulk_create(
            Comment(ballot=ballot, campaign=campaign, unit_id=u, text=t[:2000]) for u, t in texts
        )
        if source == Ballot.Source.PAPER:
            refresh_serial_validity(campaign, [serial])
            ballot.refresh_from_db(fields=["status", "invalid_reason"])
    return ballot


def ballot_invalidate(*, ballot: Ballot, reason: str, user: Any) -> Ballot:
    """Staff judge a ballot invalid (e.g. a photocopy), with a written reason."""
    reason = (reason or "").strip()
    if not reason:
        raise BallotError("请填写认定无效的原因")
    with transaction.atomic():
        locked = Ballot.objects.select_for_update().get(pk=ballot.pk)
        if locked.invalid_reason == Ballot.Reason.MANUAL:
            raise BallotError("该选票已被认定无效")
        before = {"status": locked.status, "invalid_reason": locked.invalid_reason}
        locked.status = Ballot.Status.INVALID
        locked.invalid_reason = Ballot.Reason.MANUAL
        locked.invalid_note = reason
        locked.save(update_fields=["status", "invalid_reason", "invalid_note"])
        audit(
            user=user,
            action="ballot_invalidate",
            obj=locked,
            campaign=locked.campaign,
            before=before,
            after={"status": locked.status, "invalid_reason": locked.invalid_reason},
            reason=reason,
        )
    return locked


def ballot_restore(*, ballot: Ballot, reason: str, user: Any) -> Ballot:
    """Undo a manual invalidation: the ballot is judged again on its own and its serial."""
    reason = (reason or "").strip()
    if not reason:
        raise BallotError("请填写恢复的原因")
    with transaction.atomic():
        locked = Ballot.objects.select_for_update().get(pk=ballot.pk)
        if locked.invalid_reason != Ballot.Reason.MANUAL:
            raise BallotError("只有人工认定无效的选票可以恢复")
        status, why = own_validity(is_blank=locked.is_blank)
        locked.status, locked.invalid_reason, locked.invalid_note = status, why, ""
        locked.save(update_fields=["status", "invalid_reason", "invalid_note"])
        if locked.source == Ballot.Source.PAPER:
            refresh_serial_validity(locked.campaign, [locked.serial])
            locked.refresh_from_db(fields=["status", "invalid_reason"])
        audit(
            user=user,
            action="ballot_restore",
            obj=locked,
            campaign=locked.campaign,
            before={"invalid_reason": Ballot.Reason.MANUAL},
            after={"status": locked.status, "invalid_reason": locked.invalid_reason},
            reason=reason,
        )
    return locked


# --- Online submission (issue 4) ---------------------------------------------------------
# Appended here because every path that records a ballot lives in this module. The imports
# sit with the code that needs them so the module's earlier part stays as it was.
import datetime as _dt  # noqa: E402
import functools  # noqa: E402

from django.utils import timezone  # noqa: E402

from ballots.codes import new_receipt, normalise  # noqa: E402
from ballots.sql import fetchone_prepared  # noqa: E402


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


def campaign_status_for_write(campaign: Campaign) -> str | None:
    """The campaign's status, read inside a writing transaction (online submissions, keyed
    paper entries).

    On PostgreSQL the row is read FOR SHARE: writers do not block each other, but closing
    the campaign (which locks the row FOR UPDATE) waits for writes in flight, so nothing lands
    after the campaign was closed. SQLite transactions here are IMMEDIATE (settings), which
    serialises writers anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "SELECT status FROM campaigns_campaign WHERE id = %s FOR SHARE", [campaign.pk]
            )
            row = cur.fetchone()
    else:
        row = Campaign.objects.filter(pk=campaign.pk).values_list("status").first()
    return row[0] if row is not None else None


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
                answers=answers,
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
