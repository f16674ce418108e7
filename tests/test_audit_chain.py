"""The audit log's hash chains (core/chain.py): every entry links to the one before it, in the
whole log and in its campaign, and `verify` / `manage.py verify_audit` find an entry edited,
deleted or slipped in straight in the database."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from core.audit import audit
from core.chain import (
    HEAD_MISSING,
    INSERTED,
    MISSING_PREV,
    MODIFIED,
    at_text,
    audit_rows,
    chain_head,
    content_hash,
    entry_hash,
    verify,
)
from core.models import AuditChainHead, AuditLog

A = SimpleNamespace(pk=910001, slug="chain-a")
B = SimpleNamespace(pk=910002, slug="chain-b")


def log(n: int = 1, campaign: Any = None, **kw: Any) -> list[AuditLog]:
    return [
        audit(user=None, action=kw.get("action", "test.chain"), campaign=campaign,
              after={"n": i, **kw.get("after", {})}, reason=kw.get("reason", ""))
        for i in range(n)
    ]


def mixed_log() -> list[AuditLog]:
    """Entries without campaign and of two campaigns, interleaved."""
    entries = []
    for i in range(4):
        entries += log(1)
        entries += log(1, A)
        entries += log(1, B if i % 2 else A)
    return entries


def sql(query: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    with connection.cursor() as cur:
        cur.execute(query, params)


def run_command(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def raw_insert(*, prev: str, campaign_prev: str = "", made_up: bool = False,
               entry_id: int | None = None, campaign: Any = None) -> int:
    """An entry written straight into the table, with plausible fields."""
    at = timezone.now()
    fields: dict[str, Any] = dict(
        at=at, username="office", campaign_id=campaign.pk if campaign else None,
        campaign_slug=campaign.slug if campaign else "", action="campaign.update",
        object_type="campaigns.Campaign", object_id="1", object_repr="千人评议",
        before=None, after=None, reason="", prev_hash=prev, campaign_prev_hash=campaign_prev,
    )
    digest = "ab" * 32 if made_up else content_hash(fields)
    columns = ["at", "user_id", "username", "campaign_id", "campaign_slug", "action",
               "object_type", "object_id", "object_repr", "before", "after", "reason",
               "prev_hash", "campaign_prev_hash", "hash"]
    values = [connection.ops.adapt_datetimefield_value(at), None, *list(fields.values())[1:],
              digest]
    if entry_id is not None:
        columns.insert(0, "id")
        values.insert(0, entry_id)
    sql(f"INSERT INTO core_auditlog ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(values))})", values)
    if entry_id is not None and connection.vendor == "postgresql":
        sql("SELECT setval(pg_get_serial_sequence('core_auditlog', 'id'), "
            "(SELECT max(id) FROM core_auditlog))")
    return AuditLog.objects.filter(hash=digest).latest("id").pk


# ---------------------------------------------------------------------------------------------
# Chaining


@pytest.mark.django_db
def test_entries_are_chained_globally_and_per_campaign():
    mixed_log()
    entries = list(AuditLog.objects.order_by("id"))
    assert len(entries) == 12
    prev = ""
    by_campaign: dict[int, str] = {}
    for e in entries:
        assert len(e.hash) == 64 and e.hash == entry_hash(e)
        assert e.prev_hash == prev
        prev = e.hash
        if e.campaign_id is None:
            assert e.campaign_prev_hash == ""
        else:
            assert e.campaign_prev_hash == by_campaign.get(e.campaign_id, "")
            by_campaign[e.campaign_id] = e.hash
    assert chain_head() == entries[-1].hash
    assert chain_head(A.pk) == by_campaign[A.pk] and chain_head(B.pk) == by_campaign[B.pk]
    assert AuditChainHead.objects.get(pk="global").count == 12
    assert AuditChainHead.objects.get(pk=f"campaign:{A.pk}").count == 6
    assert AuditChainHead.objects.get(pk=f"campaign:{B.pk}").count == 2
    assert chain_head(999_999) == ""


@pytest.mark.django_db
def test_verify_is_ok_on_a_fresh_log(qianren):
    assert verify().ok and verify(qianren.pk).ok  # the campaign's own creation entries
    entries = mixed_log()
    result = verify()
    assert result.ok and result.broken is None
    assert result.entries == AuditLog.objects.count()
    assert result.head == entries[-1].hash
    assert verify(A.pk).ok and verify(A.pk).entries == 6
    code, out, err = run_command()
    assert code == 0 and err == ""
    assert out.strip() == f"审计日志完整:{result.entries} 条记录,链尾 {result.head}"
    code, out, _ = run_command("qianren", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["broken"] is None
    assert data["head"] == chain_head(qianren.pk) and data["entries"] >= 1


@pytest.mark.django_db
def test_empty_chain_is_ok():
    sql("DELETE FROM core_auditlog")
    sql("DELETE FROM core_auditchainhead")
    result = verify()
    assert result.ok and result.entries == 0 and result.head == ""
    assert run_command()[0] == 0


@pytest.mark.django_db
def test_the_time_and_json_read_back_give_the_same_hash():
    """What the database gives back (a datetime, jsonb's numbers) hashes as what was written."""
    at_whole_second = timezone.now().replace(microsecond=0)
    entry = audit(user=None, action="t", after={"big": 1e16, "huge": 1e300,
                                               "odd": 12345678901234567.0, "two": 2.0, "tenth": 0.1,
                                               "neg": -1.5e-7, "中文": ["评议", None, True]})
    again = AuditLog.objects.get(pk=entry.pk)
    assert again.hash == entry_hash(again) == entry.hash
    fields = {f: getattr(again, f) for f in ("username", "campaign_id", "campaign_slug",
                                            "action", "object_type", "object_id",
                                            "object_repr", "before", "after", "reason",
                                            "prev_hash", "campaign_prev_hash")}
    one = content_hash({**fields, "at": at_whole_second})
    other = content_hash({**fields, "at": at_whole_second.astimezone(dt.timezone(
        dt.timedelta(hours=8)))})
    assert one == other  # the time is hashed in UTC, whatever zone it is given in
    assert verify().ok


@pytest.mark.django_db
def test_entries_are_written_only_by_audit():
    with pytest.raises(PermissionError):
        AuditLog.objects.create(action="x")
    with pytest.raises(PermissionError):
        AuditLog.objects.bulk_create([AuditLog(action="x", hash="0" * 64)])


@pytest.mark.django_db
def test_rolled_back_transaction_leaves_the_chain_intact():
    log(2, A)
    with pytest.raises(RuntimeError), transaction.atomic():
        log(2)
        log(2, A)
        log(1, B)
        raise RuntimeError("boom")
    assert not AuditChainHead.objects.filter(pk=f"campaign:{B.pk}").exists()
    log(1, A)
    log(1, B)
    assert verify().ok and verify(A.pk).ok and verify(B.pk).ok
    assert verify(A.pk).entries == 3 and verify(B.pk).entries == 1


# ---------------------------------------------------------------------------------------------
# Tampering


@pytest.mark.django_db
def test_an_edited_entry_is_named():
    entries = mixed_log()
    victim = entries[5]
    sql("UPDATE core_auditlog SET reason = 'x' WHERE id = %s", [victim.pk])
    result = verify()
    assert not result.ok and result.broken is not None
    assert (result.broken.id, result.broken.reason) == (victim.pk, MODIFIED)
    assert result.entries == 5
    code, out, err = run_command()
    assert code == 1 and out == ""
    assert f"第 {victim.pk} 条记录" in err and MODIFIED in err and victim.action in err
    code, out, _ = run_command("--json")
    assert code == 1
    assert json.loads(out)["broken"] == {"id": victim.pk, "reason": MODIFIED}


@pytest.mark.django_db
def test_an_edited_time_or_json_is_caught():
    entries = log(3)
    sql("UPDATE core_auditlog SET after = NULL WHERE id = %s", [entries[1].pk])
    assert verify().broken.id == entries[1].pk  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_deleted_middle_entry_is_caught():
    entries = mixed_log()
    sql("DELETE FROM core_auditlog WHERE id = %s", [entries[4].pk])
    result = verify()
    assert not result.ok and result.broken is not None
    # The entry after the hole no longer links to what comes before it.
    assert (result.broken.id, result.broken.reason) == (entries[5].pk, MISSING_PREV)


@pytest.mark.django_db
def test_a_deleted_first_entry_is_caught():
    sql("DELETE FROM core_auditlog")
    entries = log(3)
    sql("DELETE FROM core_auditlog WHERE id = %s", [entries[0].pk])
    assert verify().broken == verify().broken
    broken = verify().broken
    assert broken is not None and (broken.id, broken.reason) == (entries[1].pk, MISSING_PREV)


@pytest.mark.django_db
def test_a_deleted_last_entry_is_caught():
    entries = mixed_log()
    sql("DELETE FROM core_auditlog WHERE id = %s", [entries[-1].pk])
    result = verify()
    assert not result.ok and result.broken is not None
    assert (result.broken.id, result.broken.reason) == (entries[-1].pk, HEAD_MISSING)
    code, _, err = run_command()
    assert code == 1 and str(entries[-1].pk) in err


@pytest.mark.django_db
def test_an_inserted_entry_with_a_made_up_hash_is_caught():
    entries = log(3)
    slipped = raw_insert(prev=entries[-1].hash, made_up=True)
    broken = verify().broken
    assert broken is not None and (broken.id, broken.reason) == (slipped, INSERTED)


@pytest.mark.django_db
def test_an_inserted_entry_with_a_correct_hash_at_the_end_is_caught():
    entries = log(3)
    slipped = raw_insert(prev=entries[-1].hash)
    assert AuditLog.objects.get(pk=slipped).hash == entry_hash(AuditLog.objects.get(pk=slipped))
    broken = verify().broken
    assert broken is not None and (broken.id, broken.reason) == (slipped, INSERTED)


@pytest.mark.django_db
@pytest.mark.parametrize("made_up", [False, True])
def test_an_entry_slipped_in_between_is_caught(made_up):
    """An entry put between two others: even with its own hash right and linked to the one
    before it, the one after it still links past it."""
    (first,) = log(1)
    slipped = raw_insert(prev=first.hash, made_up=made_up, entry_id=first.pk + 1)
    (after,) = log(1)
    assert after.pk > slipped and after.prev_hash == first.hash
    result = verify()
    assert result.broken is not None
    assert (result.broken.id, result.broken.reason) == (slipped, INSERTED)
    code, _, err = run_command()
    assert code == 1 and f"第 {slipped} 条记录" in err and INSERTED in err


@pytest.mark.django_db
def test_a_campaign_chain_finds_an_edited_campaign_entry(campaign_factory):
    one = campaign_factory("qianren", slug="one")
    two = campaign_factory("qianren", slug="two")
    log(2, one)
    log(2, two)
    victims = list(AuditLog.objects.filter(campaign_id=one.pk).order_by("id"))
    victim = victims[1]
    sql("UPDATE core_auditlog SET object_repr = 'x' WHERE id = %s", [victim.pk])
    result = verify(one.pk)
    assert result.broken is not None
    assert (result.broken.id, result.broken.reason) == (victim.pk, MODIFIED)
    assert result.entries == 1
    assert verify(two.pk).ok
    code, _, err = run_command("one")
    assert code == 1 and f"第 {victim.pk} 条记录" in err
    assert run_command("two")[0] == 0
    with pytest.raises(CommandError, match="no-such-campaign"):
        run_command("no-such-campaign")


@pytest.mark.django_db
def test_a_campaign_chain_finds_a_deleted_campaign_entry():
    mixed_log()
    a_entries = list(AuditLog.objects.filter(campaign_id=A.pk).order_by("id"))
    sql("DELETE FROM core_auditlog WHERE id = %s", [a_entries[2].pk])
    broken = verify(A.pk).broken
    assert broken is not None and (broken.id, broken.reason) == (a_entries[3].pk, MISSING_PREV)
    assert verify(B.pk).ok


@pytest.mark.django_db
def test_a_slug_used_twice_means_the_newest_campaign():
    old = SimpleNamespace(pk=920001, slug="again")
    new = SimpleNamespace(pk=920002, slug="again")
    log(1, old)
    log(3, new)
    code, out, _ = run_command("again", "--json")
    assert code == 0 and json.loads(out)["entries"] == 3


# ---------------------------------------------------------------------------------------------
# Export and migration


@pytest.mark.django_db
def test_audit_rows_for_a_csv_export():
    entries = log(2, A, after={"名": "甲局", "x": 1.0})
    rows = list(audit_rows(A.pk))
    assert rows[0][0] == "编号" and rows[0][-2:] == ["前一条哈希(活动链)", "哈希"]
    assert len(rows) == 3 and all(len(r) == len(rows[0]) for r in rows)
    assert rows[1][0] == str(entries[0].pk) and rows[2][-2:] == [entries[0].hash, entries[1].hash]
    # As hashed: a whole float is written as its integer (core/chain.py), none is "".
    assert rows[1][10] == '{"n":0,"x":1,"名":"甲局"}' and rows[1][9] == ""
    assert rows[1][1] == at_text(entries[0].at) and rows[1][1].endswith("Z")
    # The file checks on its own, as the notary's copy does (recount/audit.py).
    from recount.audit import row_hash

    assert [row_hash(r) for r in rows[1:]] == [e.hash for e in entries]


@pytest.mark.django_db
def test_the_migration_chains_entries_written_before_it():
    from django.db.migrations.executor import MigrationExecutor

    mod = __import__("core.migrations.0006_audit_chain", fromlist=["chain_existing_entries"])
    mixed_log()
    expected = list(AuditLog.objects.order_by("id").values_list("id", "prev_hash",
                                                                "campaign_prev_hash", "hash"))
    sql("UPDATE core_auditlog SET prev_hash = '', campaign_prev_hash = '', hash = ''")
    sql("DELETE FROM core_auditchainhead")
    state = MigrationExecutor(connection).loader.project_state(("core", "0006_audit_chain"))
    mod.chain_existing_entries(state.apps, SimpleNamespace(connection=connection))
    again = list(AuditLog.objects.order_by("id").values_list("id", "prev_hash",
                                                             "campaign_prev_hash", "hash"))
    assert again == expected
    assert verify().ok and verify(A.pk).ok and verify(B.pk).ok


# ---------------------------------------------------------------------------------------------
# Several writers at once (PostgreSQL: SQLite lets one writer in at a time)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("db-races")
def test_concurrent_writers_leave_a_verified_chain():
    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL (SQLite serialises writers)")
    writers, each = 8, 15
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            for j in range(each):
                with transaction.atomic():
                    camp = (A, B, None)[(i + j) % 3]
                    audit(user=None, action="race", campaign=camp, after={"w": i, "j": j})
                    if j % 5 == 0:  # two entries in one transaction
                        audit(user=None, action="race", campaign=A, after={"w": i, "j": -j})
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    total = writers * (each + 3)
    assert AuditLog.objects.count() == total
    result = verify()
    assert result.ok and result.entries == total
    assert verify(A.pk).ok and verify(B.pk).ok
    assert verify(A.pk).entries + verify(B.pk).entries + AuditLog.objects.filter(
        campaign_id__isnull=True).count() == total
