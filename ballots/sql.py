"""All raw SQL of the ballots app, and every difference between PostgreSQL and SQLite in it.

Most of the app goes through Django's ORM. What is here is written by hand because it runs on
the busiest paths (hundreds of online submissions a second, 10,000-ballot imports) or needs
what the ORM cannot say (COPY, FOR SHARE, UPDATE … RETURNING, one-statement writes):

- storing ballots — three paths, one row: `insert_ballot` (one ballot, as Django's save()
  would), `write_ballot_rows` (a whole import: COPY on PostgreSQL, executemany on SQLite) and
  `submit_in_one_statement` (an online ballot and its code in one statement, PostgreSQL);
- reading for writers: `campaign_status_for_write`, `claim_code`;
- reading for the busiest page and the reports: `ballot_page_row`, `ballot_items_rows`,
  `recent_attempts_sql`, `paper_counts`;
- `fetchone_prepared`: a prepared statement on PostgreSQL for the submission's two statements.
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from ballots.models import AccessCode, Ballot, CodeAttempt, Comment, KeyedEntry, PrintedRange
from campaigns.models import (
    Campaign,
    CampaignUnit,
    Category,
    Dimension,
    ImportBatch,
    RatingOption,
    Representative,
    Unit,
)


def fetchone_prepared(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    """`sql` with `params` (placeholders `%s`), its first row. PostgreSQL: a prepared
    statement through psycopg's server-side binding, on Django's connection and in its
    transaction (or its autocommit); other databases: Django's cursor."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()
    import psycopg

    connection.ensure_connection()
    # Errors come out as Django's (IntegrityError, DataError…), and Django's transaction
    # handling learns of them, as through its own cursor.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=True)
        return cur.fetchone()


# --- Storing ballots ---------------------------------------------------------------------


def db_value(field: Any, obj: Ballot) -> Any:
    """The value Django's save() would send for one field of a new ballot (`pre_save` sets
    the day of `received_on`). On PostgreSQL the answers go as one array literal: psycopg
    would otherwise quote the 66 elements one by one in Python on every submission."""
    value = field.get_db_prep_save(field.pre_save(obj, True), connection)
    if field.attname == "answers" and connection.vendor == "postgresql" and value is not None:
        return "{" + ",".join(map(str, value)) + "}"
    return value


def insert_ballot(obj: Ballot) -> Ballot:
    """INSERT one new ballot as Django's save() would, minus the query building: during a
    vote in a hall this runs hundreds of times a second, and building the INSERT cost more
    than running it. Same columns, same conversions; the database's constraints check it as
    for any other write."""
    fields = Ballot._meta.concrete_fields
    values = [db_value(f, obj) for f in fields]
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


class _SqliteWriter:
    """executemany into the tables Django made (UUIDs stored as 32 hex characters)."""

    def ballots(self, campaign_id: int, batch_id: int, today: Any, rows: list[tuple]) -> None:
        sql = (
            f"INSERT INTO {Ballot._meta.db_table} (id, campaign_id, source, serial, channel, "
            "group_id, district, status, invalid_reason, invalid_note, is_blank, batch_id, "
            "access_code_id, received_on, answers) VALUES (?, ?, 'paper', ?, ?, ?, '', ?, ?, '', "
            "?, ?, NULL, ?, ?)"
        )
        day = today.isoformat()
        with connection.cursor() as cur:
            cur.executemany(
                sql.replace("?", "%s"),
                [
                    (
                        bid.hex,
                        campaign_id,
                        serial,
                        channel,
                        group,
                        status,
                        reason,
                        blank,
                        batch_id,
                        day,
                        json.dumps(answers, separators=(",", ":")),
                    )
                    for bid, serial, channel, group, status, reason, blank, answers in rows
                ],
            )


def _copy_text(value: object) -> str:
    """One field in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


class _PostgresWriter:
    """COPY ... FROM STDIN through psycopg 3: about 2 M rows a second."""

    def _copy(self, table: str, columns: str, lines: Iterator[str]) -> None:
        with connection.cursor() as cur:
            raw = cur.cursor  # psycopg's own cursor, inside Django's transaction
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                buf = io.StringIO()
                size = 0
                for line in lines:
                    buf.write(line)
                    size += 1
                    if size >= 20_000:
                        copy.write(buf.getvalue())
                        buf = io.StringIO()
                        size = 0
                if size:
                    copy.write(buf.getvalue())

    def ballots(self, campaign_id: int, batch_id: int, today: Any, rows: list[tuple]) -> None:
        day = today.isoformat()
        self._copy(
            Ballot._meta.db_table,
            "id, campaign_id, source, serial, channel, group_id, district, status, "
            "invalid_reason, invalid_note, is_blank, batch_id, access_code_id, received_on, "
            "answers",
            (
                "\t".join(
                    _copy_text(v)
                    for v in (
                        bid,
                        campaign_id,
                        "paper",
                        serial,
                        channel,
                        group,
                        "",
                        status,
                        reason,
                        "",
                        blank,
                        batch_id,
                        None,
                        day,
                    )
                )
                + "\t{"
                + ",".join(map(str, answers))
                + "}\n"
                for bid, serial, channel, group, status, reason, blank, answers in rows
            ),
        )


def write_ballot_rows(campaign_id: int, batch_id: int, today: Any, rows: list[tuple]) -> None:
    """A whole import's paper ballots, `rows` of (id, serial, channel, group id, status,
    reason, is_blank, answers): COPY on PostgreSQL, executemany on SQLite."""
    writer = _PostgresWriter() if connection.vendor == "postgresql" else _SqliteWriter()
    writer.ballots(campaign_id, batch_id, today, rows)
    if connection.vendor == "postgresql" and len(rows) >= 1000:
        # Rows bulk-loaded by COPY are invisible to the planner until autovacuum gets round to
        # them; without statistics the tally's join ran as a nested loop (minutes, not ms).
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {Ballot._meta.db_table}")


def claim_code(
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


def submit_in_one_statement(*, campaign: Campaign, code: str, ballot: Ballot) -> tuple[bool, bool]:
    """An anonymous online ballot without comments, on PostgreSQL, in ONE statement: the
    campaign row read FOR SHARE while it is open, the code read (never written) while it is
    active, and the ballot inserted with its token, the code's group (or its
    representative's) and district, unless a ballot with that token exists.

    Returns (written, code found): (True, True) a new ballot; (False, True) the code had voted
    already (its token is taken); (False, False) nothing was written because the code is
    unknown, revoked or settled, or the campaign not open, and the caller finds out which.

    No row of the code's table is written, so no transaction pairs a code with a ballot
    (README, threat model). Closing and revoking lock the campaign row FOR UPDATE, so they
    wait for this statement, and it for them. Two submissions of one code: the second waits
    on the first's token, then inserts nothing.

    Every column but group and district is a parameter, cast to its type (INSERT … SELECT
    does not type bare literals by the target column); text columns are not cast, so a value
    too long for its column is refused as in any INSERT, never cut."""
    statement, fields = one_statement_sql()
    params = [db_value(f, ballot) for f in fields]
    head = [
        campaign.pk,
        Campaign.Status.OPEN.value,
        code,
        AccessCode.Status.ACTIVE.value,
    ]
    row = fetchone_prepared(statement, head + params)
    assert row is not None  # two counts, always one row
    return row[0] == 1, row[1] == 1


@functools.cache
def one_statement_sql() -> tuple[str, list[Any]]:
    """The statement of `submit_in_one_statement` and the ballot fields it takes as
    parameters, in order: built once per process."""
    qn = connection.ops.quote_name
    columns, values, fields = [], [], []
    for f in Ballot._meta.concrete_fields:
        columns.append(qn(f.column))
        if f.attname == "group_id":
            values.append("COALESCE(code.group_id, code.rep_group_id)")
        elif f.attname == "district":
            values.append("COALESCE(code.district, '')")
        else:
            if isinstance(f, models.CharField | models.TextField):
                values.append("%s")
            else:
                cast = f.cast_db_type(connection)  # type: ignore[attr-defined]  # django-stubs lacks Field.cast_db_type
                values.append(f"CAST(%s AS {cast})")
            fields.append(f)
    statement = f"""
        WITH open AS (
            SELECT id FROM {Campaign._meta.db_table} WHERE id = %s AND status = %s FOR SHARE
        ), code AS (
            SELECT c.group_id, r.group_id AS rep_group_id, r.district
            FROM {AccessCode._meta.db_table} c
            LEFT JOIN {Representative._meta.db_table} r ON r.id = c.representative_id
            WHERE c.campaign_id IN (SELECT id FROM open) AND c.code = %s AND c.status = %s
        ), made AS (
            INSERT INTO {Ballot._meta.db_table} ({", ".join(columns)})
            SELECT {", ".join(values)} FROM code
            ON CONFLICT (token) DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM made), (SELECT count(*) FROM code)
    """
    return statement, fields


def shuffle_ballots(campaign_id: int) -> int:
    """Rewrite a campaign's ballots and comments in random order, in this transaction: their
    rows then neither lie in arrival order (ctid, rowid) nor carry the transaction that wrote
    each (xmin), which timed logs could match. The same ids and values; the foreign keys to
    ballots are checked at commit (Django makes them deferred). Returns the ballots moved."""
    moved = 0
    for model in (Ballot, Comment):
        table = model._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"CREATE TEMPORARY TABLE pingyi_shuffle AS SELECT * FROM {table} "
                "WHERE campaign_id = %s",
                [campaign_id],
            )
            cur.execute(f"DELETE FROM {table} WHERE campaign_id = %s", [campaign_id])
            cur.execute(f"INSERT INTO {table} SELECT * FROM pingyi_shuffle ORDER BY random()")
            if model is Ballot:
                moved = cur.rowcount
            cur.execute("DROP TABLE pingyi_shuffle")
    return moved


# --- Reading for writers and reports ------------------------------------------------------


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


def paper_counts(campaign: Campaign) -> list[tuple[int | None, str, str, str, bool, int]]:
    """The campaign's paper ballots counted by (printed range, status, reason, how they came
    in: "" keyed, "import" from a spreadsheet, "scan" from the scanner; verified by two
    passes), in one GROUP BY: the reports print this table, and reading
    11,000 ballots into Python to count them was a tenth of the ranking PDF's time.

    The range is found as `Ranges.find` finds it: a serial of ASCII digits only, read as a
    number, falls in the range with the greatest first serial not above it if that range
    holds it, else in none (范围外). Serials of more than 18 significant digits exceed every
    range (PrintedRange.last is an integer column) and are not cast."""
    from django.db import connection

    b, k, r, ib = (m._meta.db_table for m in (Ballot, KeyedEntry, PrintedRange, ImportBatch))
    if connection.vendor == "postgresql":
        digits = "b.serial ~ '^[0-9]+$'"
    else:
        digits = "b.serial <> '' AND b.serial NOT GLOB '*[^0-9]*'"
    sql = f"""
        WITH passes AS (
            SELECT ballot_id, count(*) AS n FROM {k}
            WHERE campaign_id = %s AND status IN (%s, %s) GROUP BY ballot_id
        ), paper AS (
            SELECT b.status, b.invalid_reason,
                   CASE WHEN b.batch_id IS NULL THEN '' WHEN bt.kind = 'scans' THEN 'scan'
                        ELSE 'import' END AS imported,
                   COALESCE(p.n, 0) >= 2 AS verified,
                   CASE WHEN {digits} AND length(ltrim(b.serial, '0')) <= 18
                        THEN CAST(b.serial AS BIGINT) END AS num
            FROM {b} b LEFT JOIN passes p ON p.ballot_id = b.id
            LEFT JOIN {ib} bt ON bt.id = b.batch_id
            WHERE b.campaign_id = %s AND b.source = %s
        ), placed AS (
            SELECT paper.*, (
                SELECT r.id FROM {r} r WHERE r.campaign_id = %s AND r.first <= paper.num
                ORDER BY r.first DESC LIMIT 1
            ) AS candidate FROM paper
        )
        SELECT r.id, placed.status, placed.invalid_reason, placed.imported, placed.verified,
               count(*)
        FROM placed LEFT JOIN {r} r ON r.id = placed.candidate AND placed.num <= r.last
        GROUP BY r.id, placed.status, placed.invalid_reason, placed.imported, placed.verified
    """
    done = [str(s) for s in KeyedEntry.DONE]
    params: list[int | str] = [
        campaign.pk,
        *done,
        campaign.pk,
        Ballot.Source.PAPER.value,
        campaign.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (rid, status, reason, str(imported), bool(verified), n)
            for rid, status, reason, imported, verified, n in cursor.fetchall()
        ]


# --- The ballot page: everything a submission reads before it writes -----------------------


def one_round_trip_reads() -> bool:
    """Whether the ballot page reads campaign, lists and wrong-code count in one prepared
    query (`ballot_page_row`), and an anonymous submission writes in one statement
    (`submit_in_one_statement`): PostgreSQL. Elsewhere both go through the ORM and a
    transaction."""
    return connection.vendor == "postgresql"


def ballot_page_row(slug: str, client: str) -> tuple[Any, ...] | None:
    """The campaign's columns, its units (with their kind and post), dimensions and options
    as JSON arrays in ballot order, and `client`'s recent wrong codes: one round trip
    (PostgreSQL), None if no such campaign. Hundreds of representatives submit in one hall: four round trips, each with
    its Python and its planning in the database, were a fifth of a submission's time."""
    attempts, params = recent_attempts_sql(client)
    return fetchone_prepared(_ballot_page_sql(attempts), [*params, slug])


@functools.cache
def _ballot_page_sql(attempts: str) -> str:
    """The query of `ballot_page_row` around the wrong-code count's subquery: built once."""
    qn = connection.ops.quote_name
    columns = ", ".join(f"c.{qn(f.column)}" for f in Campaign._meta.concrete_fields)
    units, cats, dims, opts, registry = (
        m._meta.db_table for m in (CampaignUnit, Category, Dimension, RatingOption, Unit)
    )
    return f"""
        SELECT {columns},
            (SELECT json_agg(json_build_array(u.id, u.name, u.category_id, k.name, r.kind, u.post)
                             ORDER BY k."order", u."order", u.id)
             FROM {units} u JOIN {cats} k ON k.id = u.category_id
             JOIN {registry} r ON r.id = u.unit_id WHERE u.campaign_id = c.id),
            (SELECT json_agg(json_build_array(d.id, d.name) ORDER BY d."order", d.id)
             FROM {dims} d WHERE d.campaign_id = c.id),
            (SELECT json_agg(json_build_array(o.id, o.label) ORDER BY o."order", o.id)
             FROM {opts} o WHERE o.campaign_id = c.id),
            ({attempts})
        FROM {Campaign._meta.db_table} c WHERE c.slug = %s
    """


def ballot_items_rows(campaign_id: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The ballot's units (id, name, category id, category name, kind, post) in ballot order,
    and its dimensions and options as (0 or 1, id, name, order): two round trips of plain
    SQL, since every submission on SQLite reads this and building three ORM queries cost more
    than running them."""
    unit_t, cat_t = CampaignUnit._meta.db_table, Category._meta.db_table
    dim_t, opt_t = Dimension._meta.db_table, RatingOption._meta.db_table
    reg_t = Unit._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT u.id, u.name, u.category_id, c.name, r.kind, u.post FROM {unit_t} u "
            f"JOIN {cat_t} c ON c.id = u.category_id "
            f"JOIN {reg_t} r ON r.id = u.unit_id WHERE u.campaign_id = %s "
            'ORDER BY c."order", u."order", u.id',
            [campaign_id],
        )
        rows = cur.fetchall()
        cur.execute(
            f'SELECT 0, id, name, "order" FROM {dim_t} WHERE campaign_id = %s '
            f'UNION ALL SELECT 1, id, label, "order" FROM {opt_t} WHERE campaign_id = %s '
            "ORDER BY 1, 4, 2",
            [campaign_id, campaign_id],
        )
        return rows, cur.fetchall()


def recent_attempts_sql(client: str) -> tuple[str, list[Any]]:
    """A query counting `client`'s wrong codes in the window, up to the limit: as a scalar
    subquery, so the ballot page can ask it in the same round trip as its other reads."""
    limit = settings.PINGYI_CODE_ATTEMPTS_PER_WINDOW
    since = timezone.now() - _dt.timedelta(seconds=settings.PINGYI_CODE_WINDOW_SECONDS)
    return (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {CodeAttempt._meta.db_table} "
        "WHERE client = %s AND at > %s LIMIT %s) recent",
        [client[:64], since, limit],
    )


def recent_attempts(client: str) -> int:
    """`client`'s wrong codes in the window, counted up to the limit (recent_attempts_sql)."""
    sql, params = recent_attempts_sql(client)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def vacuum_codes() -> bool:
    """VACUUM the codes', ballots' and comments' tables after the scrub, so the rewritten
    rows' old versions (in arrival order, with the voting transactions' ids) are gone.
    PostgreSQL only (returns whether it ran)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cur:
        for model in (AccessCode, Ballot, Comment):
            cur.execute(f"VACUUM {model._meta.db_table}")
    return True
