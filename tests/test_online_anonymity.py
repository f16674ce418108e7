"""Anonymous campaigns: nothing stored joins a ballot to its code or to a person.

Checked on the schema (no relation, no time finer than a day, random keys) and on the data
after real submissions (no value of a code's row appears in its ballot's rows, and back)."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, models

from ballots.models import AccessCode, Ballot, CodeAttempt, Comment
from ballots.online.codes import codes_unnamed
from ballots.online.submit import ballot_submit
from campaigns.models import Representative
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
def test_submitted_ballots_share_no_value_with_their_codes(campaign_factory):
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
def test_receipts_are_random_not_derived_from_the_code(campaign_factory):
    """The same code text, used twice (in two campaigns one after the other), gets two
    different receipts: the receipt is drawn when the ballot is cast, not computed."""
    numbers = []
    for _ in range(2):
        camp = open_campaign(campaign_factory)
        AccessCode.objects.filter(code="ABCD-EFGH-JKMN-PQRS").delete()
        code = AccessCode.objects.create(campaign=camp, code="ABCD-EFGH-JKMN-PQRS")
        numbers.append(ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp)))
    assert numbers[0].number != numbers[1].number
    assert all("ABCD" not in n.number.replace("-", "") for n in numbers)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_scrub_ends_the_transaction_id_link_on_postgresql(campaign_factory, capsys):
    """PostgreSQL stamps rows with the writing transaction's id (xmin): a code marked used and
    its ballot carry the same or adjacent ids (the ballot is written in a savepoint, a
    sub-transaction). After `scrub_code_traces` all used codes carry one id, so neither
    equality nor order pairs a code with a ballot."""
    if connection.vendor != "postgresql":
        pytest.skip("xmin is PostgreSQL's")
    from django.core.management import call_command

    camp = open_campaign(campaign_factory)
    for c in codes_unnamed(campaign=camp, count=3, group=None, user=None):
        ballot_submit(campaign=camp, code=c.code, answers=all_satisfied(camp))

    def xmins(sql: str) -> list[str]:
        with connection.cursor() as cur:
            cur.execute(sql, [camp.pk])
            return [r[0] for r in cur.fetchall()]

    ballots = set(xmins("SELECT xmin::text FROM ballots_ballot WHERE campaign_id = %s"))
    used = "SELECT xmin::text FROM ballots_accesscode WHERE campaign_id = %s AND status = 'used'"
    before = xmins(used)
    # The link exists: every code's id is within one of a ballot's.
    assert len(ballots) == 3 and all(
        any(abs(int(c) - int(b)) <= 1 for b in ballots) for c in before
    )
    call_command("scrub_code_traces", camp.slug, "--vacuum")
    after = xmins(used)
    assert len(after) == 3 and len(set(after)) == 1  # gone: one id for all codes
    assert not set(after) & ballots
    assert "已重写 3 个" in capsys.readouterr().out
