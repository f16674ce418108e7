"""ballot_submit: one transaction, one ballot per code, idempotent resubmission, open campaigns
only, the named/anonymous difference, and the deterministic check-then-write interleaving."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from ballots import sql as ballot_sql
from ballots.models import AccessCode, Ballot, Comment
from ballots.online import submit as services
from ballots.online.codes import ALPHABET, ballot_token, codes_unnamed, receipt_of, voted_on
from ballots.online.submit import CodeRefused, ballot_submit
from ballots.services import Answer, BallotError
from campaigns.models import Campaign, CampaignUnit, Representative, Unit


def add_units(campaign: Campaign, names: list[str] | None = None) -> list[CampaignUnit]:
    names = names or ["甲局", "乙局", "丙局"]
    cat = campaign.categories.order_by("order").first()
    return [
        CampaignUnit.objects.create(
            campaign=campaign,
            category=cat,
            name=name,
            order=i,
            unit=Unit.objects.get_or_create(name=name)[0],
        )
        for i, name in enumerate(names)
    ]


def open_campaign(factory, *, preset: str = "qianren", anonymous: bool = True, units=None):
    campaign = factory(preset)
    add_units(campaign, units)
    campaign.status = Campaign.Status.OPEN
    campaign.anonymous = anonymous
    campaign.save(update_fields=["status", "anonymous"])
    return campaign


def one_code(campaign: Campaign, user=None) -> AccessCode:
    return codes_unnamed(campaign=campaign, count=1, group=None, user=user)[0]


def all_satisfied(campaign: Campaign) -> list[Answer]:
    best = campaign.options.order_by("order").first()
    return [Answer(u.pk, None, best.pk) for u in campaign.units.all()]


@pytest.fixture
def camp(campaign_factory):
    return open_campaign(campaign_factory)


def test_submit_records_one_ballot_and_uses_the_code(camp):
    code = one_code(camp)
    unit = camp.units.first()
    receipt = ballot_submit(
        campaign=camp,
        code=code.code,
        answers=all_satisfied(camp),
        comments={unit.pk: "窗口排队太久", None: "总体不错"},
    )
    assert not receipt.repeated and len(receipt.number) == 11
    assert set(receipt.number.replace("-", "")) <= set(ALPHABET)
    ballot = Ballot.objects.get(campaign=camp)
    assert ballot.source == "online" and ballot.status == "valid" and ballot.access_code is None
    assert [v.kind for v in ballot.votes()] == ["option"] * 3
    assert set(Comment.objects.filter(ballot=ballot).values_list("text", flat=True)) == {
        "窗口排队太久",
        "总体不错",
    }
    code.refresh_from_db()
    # Anonymous: the code's row is not written while voting goes on (README, threat model);
    # the ballot holds the code's token, and the application knows the code has voted.
    assert (code.status, code.receipt, code.used_on) == ("active", "", None)
    assert ballot.token == ballot_token(camp.pk, code.code)
    assert voted_on(code) == receipt.on and receipt_of(code) == receipt.number


def test_resubmitting_gives_the_same_receipt_and_still_one_ballot(camp):
    code = one_code(camp)
    first = ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
    # A retry with different answers (a back button) changes nothing.
    worst = camp.options.get(label="不满意")
    again = ballot_submit(
        campaign=camp,
        code=code.code.lower().replace("-", " "),
        answers=[Answer(u.pk, None, worst.pk) for u in camp.units.all()],
    )
    assert again.repeated and again.number == first.number
    assert Ballot.objects.filter(campaign=camp).count() == 1
    (ballot,) = Ballot.objects.filter(campaign=camp)
    assert worst.pk not in {v.option_id for v in ballot.votes()}


@pytest.mark.parametrize("status", ["draft", "closed", "published"])
def test_only_an_open_campaign_accepts_ballots(campaign_factory, status):
    camp = open_campaign(campaign_factory)
    code = one_code(camp)
    Campaign.objects.filter(pk=camp.pk).update(status=status)
    with pytest.raises(CodeRefused) as exc:
        ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
    assert exc.value.reason == "closed" and "未开放" in str(exc.value)
    code.refresh_from_db()
    assert code.status == "active" and not Ballot.objects.exists()


def test_a_used_code_still_shows_its_receipt_after_closing(camp):
    code = one_code(camp)
    first = ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
    Campaign.objects.filter(pk=camp.pk).update(status="closed")
    again = ballot_submit(campaign=camp, code=code.code, answers=[])
    assert again.repeated and again.number == first.number


def test_unknown_malformed_revoked_and_foreign_codes_are_refused(camp, campaign_factory):
    other = open_campaign(campaign_factory, units=["丁局"])
    foreign = one_code(other)
    revoked = one_code(camp)
    AccessCode.objects.filter(pk=revoked.pk).update(status="revoked")
    cases = [
        ("AAAA-AAAA-AAAA-AAAA", "unknown"),
        ("12345", "malformed"),
        ("OOOO-IIII-LLLL-1111", "malformed"),  # look-alikes are not in the alphabet
        (revoked.code, "revoked"),
        (foreign.code, "unknown"),  # a code works only in its own campaign
    ]
    for text, reason in cases:
        with pytest.raises(CodeRefused) as exc:
            ballot_submit(campaign=camp, code=text, answers=all_satisfied(camp))
        assert exc.value.reason == reason, text
    assert not Ballot.objects.exists()
    foreign.refresh_from_db()
    assert foreign.status == "active"


def test_bad_answers_roll_back_the_code(camp, campaign_factory):
    code = one_code(camp)
    other = open_campaign(campaign_factory, units=["丁局"])
    with pytest.raises(BallotError):
        ballot_submit(
            campaign=camp,
            code=code.code,
            answers=[Answer(other.units.get().pk, None, camp.options.first().pk)],
        )
    with pytest.raises(BallotError):
        ballot_submit(
            campaign=camp, code=code.code, answers=[], comments={other.units.get().pk: "x"}
        )
    code.refresh_from_db()
    assert code.status == "active" and code.receipt == "" and not Ballot.objects.exists()


def test_named_campaign_stores_the_code_and_the_database_refuses_a_second_ballot(
    campaign_factory,
):
    camp = open_campaign(campaign_factory, anonymous=False)
    group = camp.groups.get(name="服务对象")
    rep = Representative.objects.create(campaign=camp, group=group, name="张三", district="东区")
    code = AccessCode.objects.create(campaign=camp, code="ABCD-EFGH-JKMN-PQRS", representative=rep)
    ballot_submit(campaign=camp, code="abcd efgh jkmn pqrs", answers=all_satisfied(camp))
    ballot = Ballot.objects.get()
    assert ballot.access_code_id == code.pk
    assert ballot.group == group and ballot.district == "东区"
    # Even if a buggy path skipped the conditional update, the one-to-one refuses a second.
    with pytest.raises(IntegrityError), transaction.atomic():
        services.ballot_create(
            campaign=camp, source="online", answers=all_satisfied(camp), access_code=code
        )
    assert Ballot.objects.count() == 1


def test_anonymous_campaign_keeps_group_and_district_but_not_the_code(camp):
    group = camp.groups.get(name="服务对象")
    rep = Representative.objects.create(campaign=camp, group=group, name="李四", district="西区")
    code = AccessCode.objects.create(campaign=camp, code="ABCD-EFGH-JKMN-PQRT", representative=rep)
    ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
    ballot = Ballot.objects.get()
    assert ballot.access_code_id is None
    assert ballot.group == group and ballot.district == "西区"


def test_check_then_write_interleaving_still_gives_one_ballot(camp, monkeypatch):
    """Deterministic: another submission of the same code commits between this one's check
    (no ballot has the code's token) and its INSERT. The INSERT then meets the token, the
    savepoint rolls back, and the answer is the same receipt: one ballot. (The race itself,
    with real transactions, is tests/test_submit_concurrency.py's, on PostgreSQL.)"""
    code = one_code(camp)
    first = ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
    checks: list[bool] = []
    real = services._token_taken

    def stale_check(token: str) -> bool:
        checks.append(True)
        # The first check ran before the other submission committed: it saw no ballot.
        return False if len(checks) == 1 else real(token)

    monkeypatch.setattr(services, "_token_taken", stale_check)
    monkeypatch.setattr(ballot_sql, "submit_in_one_statement", lambda **kw: (False, False))
    again = ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
    assert len(checks) == 2  # the stale check, then the one after the INSERT failed
    assert again.repeated and again.number == first.number
    assert Ballot.objects.filter(campaign=camp).count() == 1


def test_named_campaign_check_then_write_interleaving_still_gives_one_ballot(
    campaign_factory, monkeypatch
):
    """The same for a named campaign, whose code is claimed by a conditional update: a
    second submission completing between the first's check and its claim leaves the claim
    nothing to change."""
    camp = open_campaign(campaign_factory, anonymous=False)
    code = one_code(camp)
    original = ballot_sql.claim_code
    interleaved: list[services.Receipt] = []
    paused_once: list[bool] = []

    def paused(**kw):
        if not paused_once:
            paused_once.append(True)
            assert AccessCode.objects.get(pk=code.pk).status == "active"  # the check passed
            interleaved.append(
                ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
            )
        return original(**kw)

    monkeypatch.setattr(ballot_sql, "claim_code", paused)
    first = ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
    assert first.repeated and first.number == interleaved[0].number
    assert Ballot.objects.filter(campaign=camp).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PG's")
def test_one_statement_submission_hands_over_when_it_writes_nothing(camp, monkeypatch):
    """Anonymous, no comments, PostgreSQL: one statement writes the ballot with the code's
    token. When a second submission of the code commits first, the statement writes nothing
    (the token is taken) and says the code was found: the same receipt, one ballot."""
    code = one_code(camp)
    original = ballot_sql.submit_in_one_statement
    calls: list[bool] = []
    interleaved: list[services.Receipt] = []

    def racing(**kw):
        if not calls:
            calls.append(True)
            interleaved.append(
                ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
            )
        wrote, found = original(**kw)
        calls.append(wrote)
        return wrote, found

    monkeypatch.setattr(ballot_sql, "submit_in_one_statement", racing)
    first = ballot_submit(
        campaign=camp,
        code=code.code,
        answers=iter(all_satisfied(camp)),  # read only once
    )
    assert calls == [True, True, False]  # the racer wrote; the first's statement did not
    assert first.repeated and first.number == interleaved[0].number
    ballot = Ballot.objects.get(campaign=camp)
    assert receipt_of(AccessCode.objects.get(pk=code.pk)) == first.number
    assert len(ballot.answers) == camp.units.count() and ballot.access_code_id is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PG's")
def test_one_statement_path_writes_what_the_transaction_writes(camp, monkeypatch):
    """The same submission through both paths gives the same ballot row, column by column
    (but its id and token), and leaves both code rows as they were."""
    group = camp.groups.get(name="服务对象")
    rep = Representative.objects.create(campaign=camp, group=group, name="王五", district="北区")
    a = AccessCode.objects.create(campaign=camp, code="ABCD-EFGH-JKMN-PQR2", representative=rep)
    b = AccessCode.objects.create(campaign=camp, code="ABCD-EFGH-JKMN-PQR3", representative=rep)
    answers = all_satisfied(camp)[1:]  # one unit left blank
    ballot_submit(campaign=camp, code=a.code, answers=answers, channel="大厅")
    monkeypatch.setattr(ballot_sql, "submit_in_one_statement", lambda **kw: (False, False))
    ballot_submit(campaign=camp, code=b.code, answers=answers, channel="大厅")
    one, other = Ballot.objects.filter(campaign=camp).values()
    assert {one.pop("token"), other.pop("token")} == {
        ballot_token(camp.pk, a.code), ballot_token(camp.pk, b.code)}
    one.pop("id"), other.pop("id")
    assert one == other
    assert one["district"] == "北区" and one["group_id"] == group.pk
    assert one["channel"] == "大厅" and one["access_code_id"] is None
    codes = list(AccessCode.objects.filter(pk__in=[a.pk, b.pk]).values("status", "used_on"))
    assert codes == [{"status": "active", "used_on": None}] * 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PG's")
def test_one_statement_refuses_a_value_too_long_for_its_column_and_writes_nothing(camp):
    """The statement inserts through SELECT, where an explicit cast would cut a long text to
    its column; text goes uncast, so it is refused as by any INSERT, and the code with it."""
    from django.db import DataError

    code = one_code(camp)
    with pytest.raises(DataError), transaction.atomic():
        ballot_submit(
            campaign=camp, code=code.code, answers=all_satisfied(camp), channel="渠" * 101
        )
    assert not Ballot.objects.filter(campaign=camp).exists()
    code.refresh_from_db()
    assert code.status == "active" and code.receipt == ""
