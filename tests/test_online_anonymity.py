"""Anonymous campaigns: nothing stored joins a ballot to its code or to a person.

Checked on the schema (no relation, no time finer than a day, random keys) and on the data
after real submissions (no value of a code's row appears in its ballot's rows, and back)."""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, models

from ballots.models import AccessCode, Ballot, CodeAttempt, Comment
from ballots.online.codes import codes_unnamed, receipt_for
from ballots.online.submit import ballot_submit
from campaigns.models import Campaign, Representative
from campaigns.services import campaign_set_status
from tests.test_online_submit import all_satisfied, open_campaign

BALLOT_SIDE = (Ballot, Comment)  # a ballot's answers are a column of its row
CODE_SIDE = (AccessCode,)
PERSON = (Representative, get_user_model(), CodeAttempt)


def test_ballot_rows_have_no_relation_to_a_person_or_an_attempt():
    for model in BALLOT_SIDE:
        for f in model._meta.concrete_fields:
            if f.is_relation:
                assert f.related_model not in PERSON, f"{model.__name__}.{f.name}"
                if f.related_model is AccessCode:
                    # The one link, for named campaigns only: nullable, and the service never
                    # fills it in an anonymous campaign (test below).
                    assert (model, f.name, f.null) == (Ballot, "access_code", True)
    for f in AccessCode._meta.concrete_fields:
        assert f.related_model not in BALLOT_SIDE, f"AccessCode.{f.name}"
    # A failed-attempt record stores no code at all, only who tried and why.
    assert {f.name for f in CodeAttempt._meta.concrete_fields} == {
        "id", "at", "client", "campaign", "reason"
    }


def _columns(model: type[models.Model]) -> dict[str, str]:
    with connection.cursor() as cur:
        desc = connection.introspection.get_table_description(cur, model._meta.db_table)
    out = {}
    for d in desc:
        try:
            out[d.name] = connection.introspection.get_field_type(d.type_code, d)
        except KeyError:  # a type Django does not map back (e.g. the answers' smallint[])
            out[d.name] = f"db type {d.type_code}"
    return out


@pytest.mark.django_db
def test_no_time_finer_than_a_day_in_the_database():
    for model in (*BALLOT_SIDE, *CODE_SIDE):
        for name, kind in _columns(model).items():
            assert kind not in ("DateTimeField", "TimeField", "DurationField"), (
                f"{model._meta.db_table}.{name} is {kind}"
            )
        for f in model._meta.concrete_fields:
            assert not isinstance(f, models.DateTimeField | models.TimeField)


@pytest.mark.django_db
def test_keys_are_random_not_sequential():
    for model in (*BALLOT_SIDE, *CODE_SIDE):
        assert isinstance(model._meta.pk, models.UUIDField), model.__name__
        assert model._meta.pk.default is uuid.uuid4
    if connection.vendor == "postgresql":
        tables = [m._meta.db_table for m in (*BALLOT_SIDE, *CODE_SIDE)]
        with connection.cursor() as cur:
            cur.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_name = ANY(%s) AND (column_default LIKE 'nextval%%' "
                "OR is_identity = 'YES')",
                [tables],
            )
            assert cur.fetchall() == []


def _row(obj: models.Model) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.mark.django_db
def test_submitted_ballots_share_no_value_with_their_codes(
    campaign_factory, django_capture_on_commit_callbacks
):
    camp = open_campaign(campaign_factory)
    group = camp.groups.get(name="服务对象")
    codes = []
    for i in range(4):
        rep = Representative.objects.create(
            campaign=camp, group=group, name=f"代表{i}", phone=f"1380000000{i}", district="东区"
        )
        codes.append(AccessCode.objects.create(
            campaign=camp, code=f"ABCD-EFGH-JKMN-PQR{'STVW'[i]}", representative=rep, group=group
        ))
    unit = camp.units.first()
    for c in codes:
        ballot_submit(
            campaign=camp, code=c.code, answers=all_satisfied(camp),
            comments={unit.pk: "意见", None: "总体"},
        )
    # Voting closes: the codes that voted are marked used, with their receipts, and the
    # ballots are rewritten (after the close commits).
    with django_capture_on_commit_callbacks(execute=True):
        campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED)
    ballots = list(Ballot.objects.filter(campaign=camp))
    assert len(ballots) == 4
    # Shared by design and harmless: the campaign, the group (needed for group weights),
    # the district and the day.
    allowed = {"campaign_id", "group_id", "district", "received_on", "used_on"}
    for c in codes:
        c.refresh_from_db()
        assert c.status == "used"
        # What identifies the code or its holder. (Integer ids of other tables, e.g. the
        # representative's, mean nothing on a ballot row: no ballot column points there.)
        rep = c.representative
        code_values = {str(c.pk), c.code, c.receipt, rep.name, rep.phone}
        for b in ballots:
            assert b.access_code_id is None
            assert isinstance(b.pk, uuid.UUID) and b.pk.version == 4
            rows = [_row(b)] + [_row(m) for m in b.comments.all()]
            for row in rows:
                for k, v in row.items():
                    if k in allowed or v in (None, ""):
                        continue
                    assert str(v) not in code_values, f"{k}={v} also on code {c.code}"
                    # Nothing on a ballot-side row carries a code's id, code text or receipt.
                    assert c.receipt not in str(v) and c.code not in str(v)
            assert str(b.pk) not in {str(v) for v in _row(c).values()}
    # The day is the finest time either side keeps.
    assert {b.received_on for b in ballots} == {c.used_on for c in codes}


@pytest.mark.django_db
def test_receipts_say_nothing_of_the_code_without_the_key(campaign_factory, settings):
    """The same code text in two campaigns gets two receipts, neither showing any of the
    code; and with another key the same code in the same campaign gets another receipt, so
    nobody without the key can compute one from a code."""
    numbers = []
    for _ in range(2):
        camp = open_campaign(campaign_factory)
        AccessCode.objects.filter(code="ABCD-EFGH-JKMN-PQRS").delete()
        code = AccessCode.objects.create(campaign=camp, code="ABCD-EFGH-JKMN-PQRS")
        numbers.append(ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp)))
    assert numbers[0].number != numbers[1].number
    assert all("ABCD" not in n.number.replace("-", "") for n in numbers)
    before = receipt_for(camp.pk, "ABCD-EFGH-JKMN-PQRS")
    settings.PINGYI_BALLOT_KEY = "another key"
    assert receipt_for(camp.pk, "ABCD-EFGH-JKMN-PQRS") != before


def _vote_through_pages(client: Any, camp: Campaign, code: str, **extra: str) -> None:
    from django.urls import reverse

    client.post(reverse("vote_enter_campaign", args=[camp.slug]), {"code": code})
    option = camp.options.order_by("order").first()
    data = {f"u{u.pk}": option.pk for u in camp.units.all()}
    client.post(reverse("vote_ballot", args=[camp.slug]), {**data, "code": code, **extra})


def _relations(*models_: type[models.Model]) -> set[str]:
    """The files of the models' tables and their indexes and TOAST, as pg_waldump names them
    ("database oid/relfilenode": another test database made from the same template has the
    same relfilenodes)."""
    tables = [m._meta.db_table for m in models_]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT (SELECT oid FROM pg_database WHERE datname = current_database())::text"
            " || '/' || c.relfilenode::text FROM pg_class c WHERE c.oid IN ("
            " SELECT oid FROM pg_class WHERE relname = ANY(%s)"
            " UNION SELECT indexrelid FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
            "  WHERE t.relname = ANY(%s)"
            " UNION SELECT reltoastrelid FROM pg_class WHERE relname = ANY(%s))"
            " AND c.relfilenode <> 0",
            [tables, tables, tables],
        )
        return {r[0] for r in cur.fetchall()}


def _wal(start: str, end: str) -> list[tuple[str, set[str]]]:
    """(transaction id, relfilenodes written) of every WAL record from `start` to `end`, read
    by pg_waldump from the server's own WAL: what a database administrator, a replica or a
    WAL archive sees."""
    import glob
    import subprocess

    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('data_directory')")
        (data,) = cur.fetchone()
    tools = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_waldump"))
    wal = f"{data}/pg_wal"
    if not tools or not os.access(wal, os.R_OK):
        pytest.skip("pg_waldump or the server's WAL is not reachable from here")
    out = subprocess.run(
        [tools[-1], "-p", wal, "-s", start, "-e", end],
        capture_output=True, text=True, check=False,
    ).stdout
    records = [
        (m.group(1), set(re.findall(r"rel \d+/(\d+/\d+)", line)))
        for line in out.splitlines()
        if (m := re.search(r"tx:\s+(\d+)", line))
    ]
    assert records, "pg_waldump read no records"
    return records


def _lsn() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT pg_current_wal_insert_lsn()::text")
        return cur.fetchone()[0]


def _physical_order(camp: Campaign) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id::text FROM ballots_ballot WHERE campaign_id = %s ORDER BY ctid", [camp.pk]
        )
        return [r[0] for r in cur.fetchall()]


def _distinct_xmin(table: str, camp: Campaign, where: str = "") -> int:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(DISTINCT xmin::text) FROM {table} WHERE campaign_id = %s {where}",
            [camp.pk],
        )
        return cur.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_wal_pairs_no_code_with_a_ballot(campaign_factory, client):
    """What PostgreSQL writes to its WAL (and so to archives, replicas and base backups)
    while representatives vote through the pages, with and without comments, and when the
    campaign closes: no transaction writes both a code's table and a ballot's; no code row
    and no session row is written while voting goes on; after closing, the ballots neither
    lie in arrival order nor carry one transaction each."""
    if connection.vendor != "postgresql":
        pytest.skip("the WAL is PostgreSQL's")
    from django.contrib.sessions.models import Session
    from django.core.management import call_command

    camp = open_campaign(campaign_factory)
    codes = codes_unnamed(campaign=camp, count=12, group=None, user=None)
    start = _lsn()
    for i, c in enumerate(codes):
        extra = {"general": "意见"} if i % 2 else {}  # the transaction path and the statement
        _vote_through_pages(client.__class__(), camp, c.code, **extra)
    voted = _lsn()
    arrival = _physical_order(camp)
    assert len(arrival) == 12 and _distinct_xmin("ballots_ballot", camp) == 12
    campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED)
    assert AccessCode.objects.filter(campaign=camp, status="used").count() == 12
    closed = _lsn()

    code_side = _relations(AccessCode)
    ballot_side = _relations(Ballot, Comment)
    by_tx: dict[str, set[str]] = {}
    for tx, rels in _wal(start, closed):
        by_tx.setdefault(tx, set()).update(rels)
    assert any(rels & ballot_side for rels in by_tx.values())  # the ballots were seen
    assert any(rels & code_side for rels in by_tx.values())  # and the codes' settling
    both = [tx for tx, rels in by_tx.items() if rels & code_side and rels & ballot_side]
    assert both == [], f"transactions writing codes and ballots: {both}"
    while_voting = _wal(start, voted)
    assert not any(rels & code_side for _tx, rels in while_voting)
    assert not any(rels & _relations(Session) for _tx, rels in while_voting)

    # Closed (and VACUUMed by scrub_code_traces --vacuum): one transaction wrote every live
    # ballot row, and their physical order is not the order they came in.
    call_command("scrub_code_traces", camp.slug, "--vacuum")
    assert _distinct_xmin("ballots_ballot", camp) == 1
    assert _distinct_xmin("ballots_accesscode", camp, "AND status = 'used'") == 1
    shuffled = _physical_order(camp)
    assert sorted(shuffled) == sorted(arrival) and shuffled != arrival
