"""ballot_submit: one transaction, one ballot per code, idempotent resubmission, open campaigns
only, the named/anonymous difference, and the deterministic check-then-write interleaving."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from ballots import services
from ballots.codes import ALPHABET, codes_unnamed
from ballots.models import AccessCode, Ballot, Comment
from ballots.services import Answer, BallotError, CodeRefused, ballot_submit
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
    assert code.status == "used" and code.receipt == receipt.number
    assert code.used_on == receipt.on


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
    """Deterministic: between the first submitter's check (campaign open, code active) and
    its write, a second submission of the same code runs to completion. The conditional
    update then changes no row, so the first gets the stored receipt and no second ballot."""
    code = one_code(camp)
    original = services._claim_code
    interleaved: list[services.Receipt] = []
    paused_once = []

    def paused(**kw):
        if not paused_once:
            paused_once.append(True)
            assert AccessCode.objects.get(pk=code.pk).status == "active"  # the check passed
            interleaved.append(
                ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
            )
        return original(**kw)

    monkeypatch.setattr(services, "_claim_code", paused)
    first = ballot_submit(campaign=camp, code=code.code, answers=all_satisfied(camp))
    assert first.repeated and first.number == interleaved[0].number
    assert Ballot.objects.filter(campaign=camp).count() == 1
