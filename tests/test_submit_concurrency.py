"""A code is used exactly once under real concurrency (PostgreSQL only: SQLite serialises
writers, so it cannot show a race).

Each submitter is a thread with its own database connection; a Barrier releases them
together. The deterministic tests do not rely on timing: they pause a submitter at a chosen
point with events and watch pg_stat_activity to see the other one wait for the row lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from ballots import sql as ballot_sql
from ballots.models import Ballot
from ballots.online import submit as services
from ballots.online.codes import receipt_of, voted_on
from ballots.online.submit import Receipt, ballot_submit
from ballots.services import Layout
from tests.test_online_submit import all_satisfied, one_code, open_campaign

# Many connections at once: these run one after another in one xdist worker (scripts/test.sh
# runs with --dist loadgroup), so two races never share the server's connections.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("db-races"),
]

SUBMITTERS = 200
ROUNDS = 20
WAIT = 120  # seconds; only a safety net against a hung test, never part of an assertion


@pytest.fixture
def pg() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("races can only be shown on PostgreSQL")


@pytest.fixture
def many_connections(pg) -> None:
    with connection.cursor() as cur:
        cur.execute("show max_connections")
        (max_conn,) = cur.fetchone()
    if int(max_conn) < 250:  # the race alone; scripts/test.sh gives 500 for two workers
        pytest.skip(f"max_connections={max_conn} < 250 (scripts/test.sh starts a server with 500)")


def run_threads(n: int, target: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def body(i: int) -> None:
        try:
            value = target(i)
            with lock:
                results.append(value)
        except BaseException as exc:  # reported by the test
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads), "a submitter hung"
    return results, errors


@pytest.mark.parametrize("anonymous", [True, False], ids=["anonymous", "named"])
def test_200_simultaneous_submissions_of_one_code_make_one_ballot(
    many_connections, campaign_factory, anonymous
):
    camp = open_campaign(campaign_factory, anonymous=anonymous)
    answers = all_satisfied(camp)
    layout = Layout.of(camp)
    rounds = ROUNDS if anonymous else 5  # the named case has the one-to-one as a second guard
    for round_no in range(1, rounds + 1):
        code = one_code(camp)
        barrier = threading.Barrier(SUBMITTERS, timeout=WAIT)

        def submit(_i: int, code: str = code.code, barrier: threading.Barrier = barrier) -> Receipt:
            connection.ensure_connection()  # connect first, so the barrier releases queries
            barrier.wait()
            return ballot_submit(campaign=camp, code=code, answers=answers, layout=layout)

        results, errors = run_threads(SUBMITTERS, submit)
        assert errors == []
        assert len(results) == SUBMITTERS
        assert sum(not r.repeated for r in results) == 1, f"round {round_no}"
        assert len({r.number for r in results}) == 1, f"round {round_no}"
        assert Ballot.objects.filter(campaign=camp).count() == round_no, f"round {round_no}"
        code.refresh_from_db()
        assert voted_on(code) is not None and receipt_of(code) == results[0].number
    assert [len(b.answers) for b in Ballot.objects.filter(campaign=camp)] == [3] * rounds


def _paths(monkeypatch, second: str) -> None:
    """The thread named "first" takes the transaction's path (it can be paused inside it);
    the others take `second`: the transaction's path too, or the one-statement path that
    anonymous submissions take on PostgreSQL (ballot_sql.submit_in_one_statement)."""
    original = ballot_sql.submit_in_one_statement

    def chosen(**kw: Any) -> tuple[bool, bool]:
        if threading.current_thread().name == "first" or second == "transaction":
            return False, False  # as when it finds nothing to write: hands over
        return original(**kw)

    monkeypatch.setattr(ballot_sql, "submit_in_one_statement", chosen)


PATHS = pytest.mark.parametrize("second", ["transaction", "one statement"])


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def _wait_until_blocked(pid: int) -> None:
    """Poll until backend `pid` waits for a lock (deterministic: no sleep decides anything)."""
    import time

    deadline = time.monotonic() + WAIT
    with connection.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cur.fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.01)
    raise AssertionError("the second submitter never waited for the code's row lock")


@PATHS
def test_second_submitter_waits_for_the_first_and_gets_its_receipt(pg, campaign_factory,
                                                                   monkeypatch, second):
    """Pause the first submitter after its ballot is inserted, before it commits: the
    second one's INSERT of the same token waits on the first's transaction, then writes
    nothing and answers with the same receipt."""
    _paths(monkeypatch, second)
    camp = open_campaign(campaign_factory)
    code = one_code(camp)
    paused, release = threading.Event(), threading.Event()
    original = services.ballot_create

    def ballot_create_pausing(**kw: Any) -> Ballot:
        ballot = original(**kw)
        if threading.current_thread().name == "first":
            paused.set()
            assert release.wait(WAIT)
        return ballot

    monkeypatch.setattr(services, "ballot_create", ballot_create_pausing)
    out: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            out[f"{name}_pid"] = _backend_pid()
            out[name] = ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
        except BaseException as exc:
            out[name] = exc
        finally:
            if name == "second":
                out["second_done"] = True
            connections.close_all()

    first = threading.Thread(target=run, args=("first",), name="first")
    first.start()
    assert paused.wait(WAIT)
    second = threading.Thread(target=run, args=("second",), name="second")
    second.start()
    while "second_pid" not in out:
        second.join(0.01)
    _wait_until_blocked(out["second_pid"])
    assert "second_done" not in out  # still waiting: the database serialises the two
    release.set()
    first.join(WAIT)
    second.join(WAIT)
    assert isinstance(out["first"], Receipt) and not out["first"].repeated
    assert isinstance(out["second"], Receipt) and out["second"].repeated
    assert out["second"].number == out["first"].number
    assert Ballot.objects.filter(campaign=camp).count() == 1


@PATHS
def test_check_passed_in_both_then_write_still_one_ballot(
    pg, campaign_factory, monkeypatch, second
):
    """Pause the first submitter between its checks (code active, no ballot with its token)
    and its INSERT; meanwhile a second submitter commits a ballot with the same code. When
    the first resumes, the database refuses it a second ballot (the token is unique), and it
    answers with the same receipt."""
    _paths(monkeypatch, second)
    camp = open_campaign(campaign_factory)
    code = one_code(camp)
    checked, release = threading.Event(), threading.Event()
    original = services.ballot_create

    def create_after_pause(**kw: Any) -> Ballot:
        if threading.current_thread().name == "first":
            assert not Ballot.objects.filter(campaign=camp).exists()  # the checks passed
            checked.set()
            assert release.wait(WAIT)
        return original(**kw)

    monkeypatch.setattr(services, "ballot_create", create_after_pause)
    out: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            out[name] = ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
        except BaseException as exc:
            out[name] = exc
        finally:
            connections.close_all()

    first = threading.Thread(target=run, args=("first",), name="first")
    first.start()
    assert checked.wait(WAIT)
    second = threading.Thread(target=run, args=("second",), name="second")
    second.start()
    second.join(WAIT)  # the second commits while the first is paused after its checks
    assert isinstance(out["second"], Receipt) and not out["second"].repeated
    assert Ballot.objects.filter(campaign=camp).count() == 1
    release.set()
    first.join(WAIT)
    assert isinstance(out["first"], Receipt) and out["first"].repeated
    assert out["first"].number == out["second"].number
    assert Ballot.objects.filter(campaign=camp).count() == 1


def test_closing_waits_for_no_one_statement_and_it_writes_nothing_after(pg, campaign_factory):
    """A submission's one statement reads the campaign row FOR SHARE: while the office is
    closing the campaign (its transaction holds the row FOR UPDATE) the statement waits;
    once the close commits it finds the campaign closed, claims nothing, writes nothing, and
    the voter is told the campaign is not open. The code stays usable."""
    from campaigns.models import Campaign

    camp = open_campaign(campaign_factory)
    code = one_code(camp)
    locked, release = threading.Event(), threading.Event()
    out: dict[str, Any] = {}

    def close() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                Campaign.objects.select_for_update().get(pk=camp.pk)
                Campaign.objects.filter(pk=camp.pk).update(status=Campaign.Status.CLOSED)
                locked.set()
                assert release.wait(WAIT)
        finally:
            connections.close_all()

    def vote() -> None:
        try:
            out["pid"] = _backend_pid()
            out["vote"] = ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
        except BaseException as exc:
            out["vote"] = exc
        finally:
            connections.close_all()

    closer = threading.Thread(target=close, name="closer")
    closer.start()
    assert locked.wait(WAIT)
    voter = threading.Thread(target=vote, name="voter")
    voter.start()
    while "pid" not in out:
        voter.join(0.01)
    _wait_until_blocked(out["pid"])
    assert "vote" not in out  # waiting for the close
    release.set()
    closer.join(WAIT)
    voter.join(WAIT)
    assert isinstance(out["vote"], services.CodeRefused) and out["vote"].reason == "closed"
    assert not Ballot.objects.filter(campaign=camp).exists()
    code.refresh_from_db()
    assert code.status == "active" and code.receipt == ""


def test_revoking_waits_for_a_submission_in_flight_and_then_refuses(
    pg, campaign_factory, monkeypatch
):
    """A code's row is not written when it votes, so revoking cannot rely on it: it locks
    the campaign row (submissions hold it FOR SHARE), waits for the submission in flight to
    commit, then finds the code's token among the ballots and refuses."""
    from ballots.online.codes import CodeError, code_revoke

    camp = open_campaign(campaign_factory)
    code = one_code(camp)
    paused, release = threading.Event(), threading.Event()
    original = services.ballot_create

    def ballot_create_pausing(**kw: Any) -> Ballot:
        ballot = original(**kw)
        paused.set()
        assert release.wait(WAIT)
        return ballot

    monkeypatch.setattr(services, "ballot_create", ballot_create_pausing)
    monkeypatch.setattr(ballot_sql, "submit_in_one_statement", lambda **kw: (False, False))
    out: dict[str, Any] = {}

    def vote() -> None:
        try:
            out["vote"] = ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
        finally:
            connections.close_all()

    def revoke() -> None:
        try:
            out["pid"] = _backend_pid()
            code_revoke(code=code, user=None, reason="码条遗失")
            out["revoke"] = "revoked"
        except BaseException as exc:
            out["revoke"] = exc
        finally:
            connections.close_all()

    voter = threading.Thread(target=vote, name="voter")
    voter.start()
    assert paused.wait(WAIT)
    revoker = threading.Thread(target=revoke, name="revoker")
    revoker.start()
    while "pid" not in out:
        revoker.join(0.01)
    _wait_until_blocked(out["pid"])
    assert "revoke" not in out  # waiting for the submission
    release.set()
    voter.join(WAIT)
    revoker.join(WAIT)
    assert isinstance(out["vote"], Receipt) and not out["vote"].repeated
    assert isinstance(out["revoke"], CodeError) and "已使用" in str(out["revoke"])
    code.refresh_from_db()
    assert code.status == "active"  # its row untouched until voting closes
    assert Ballot.objects.filter(campaign=camp).count() == 1
