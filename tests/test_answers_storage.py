"""A ballot's answers are one array on its row (ballots/answers.py): the encoding, what the
database refuses, and what the tally checks."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from ballots.answers import (
    KIND_BLANK,
    KIND_OPTION,
    KIND_SPOILED,
    LayoutError,
    Storage,
)
from ballots.models import Ballot
from ballots.services import Answer, ballot_create
from scoring.tally import TallyIntegrityError, tally_campaign
from tests.helpers import add_units

UNITS = ("甲局", "乙局", "丙局")


@pytest.fixture
def camp(qianren):
    add_units(qianren, {"地方管理部门类": UNITS})
    return qianren


def test_encode_and_decode_round_trip():
    storage = Storage.build([(30, None), (10, None), (20, None)], [7, 5, 6])
    answers = [
        (10, None, 5, KIND_OPTION),
        (20, None, None, KIND_SPOILED),
        (30, None, 7, KIND_OPTION),
    ]
    stored = storage.encode(answers)
    # Slots and option codes follow the ids, not the order given.
    assert stored == [0 * 16 + 2, 1 * 16 + 1, 2 * 16 + 4]
    assert [
        (d.unit_id, d.dimension_id, d.option_id, d.kind) for d in storage.decode_all(stored)
    ] == answers
    assert storage.decode(2 * 16 + 0).kind == KIND_BLANK


def test_encode_refuses_a_missing_or_doubled_cell():
    storage = Storage.build([(1, None), (2, None)], [5])
    with pytest.raises(ValueError, match="not answered"):
        storage.encode([(1, None, 5, KIND_OPTION)])
    with pytest.raises(ValueError, match="twice"):
        storage.encode([(1, None, 5, KIND_OPTION), (1, None, None, KIND_BLANK)])
    with pytest.raises(KeyError):
        storage.encode([(1, None, 5, KIND_OPTION), (3, None, 5, KIND_OPTION)])


def test_too_many_options_are_refused():
    with pytest.raises(LayoutError):
        Storage.build([(1, None)], range(1, 16))


def test_reordering_units_after_voting_moves_no_answer(camp):
    """Display order may change once ballots exist; the stored answers follow unit ids."""
    units = {u.name: u for u in camp.units.all()}
    opts = {o.label: o.pk for o in camp.options.all()}
    answers = [
        Answer(units["甲局"].pk, None, opts["满意"]),
        Answer(units["乙局"].pk, None, opts["不满意"]),
        Answer(units["丙局"].pk, None, opts["基本满意"]),
    ]
    ballot_create(campaign=camp, source="online", answers=answers)

    def counts() -> dict[str, tuple]:
        t = tally_campaign(camp)
        return {u.unit.name: u.counts for c in t.result.categories for u in c.units}

    before = counts()
    for i, u in enumerate(reversed(list(camp.units.order_by("order", "id")))):
        u.order = i
        u.save(update_fields=["order"])
    assert counts() == before
    assert dict(before["乙局"])["不满意"] == 1 and dict(before["丙局"])["基本满意"] == 1


@pytest.mark.django_db
def test_the_database_refuses_a_ballot_answering_a_cell_twice(camp):
    if connection.vendor != "postgresql":
        pytest.skip("the CHECK constraint is PostgreSQL's (SQLite has no arrays)")
    refused = {
        "empty": [],
        "slot 0 twice": [0, 0, 32],
        "out of order": [16, 0, 32],
        "slot 2 twice": [0, 16, 32 + 2, 32 + 3],
        "negative": [-1, 16, 32],
    }
    for why, answers in refused.items():
        with pytest.raises(IntegrityError, match="ballot_answers_one_per_slot"):
            with transaction.atomic():
                Ballot.objects.create(campaign=camp, source="online", answers=answers)
                pytest.fail(f"accepted: {why}")
    Ballot.objects.create(campaign=camp, source="online", answers=[2, 16 + 3, 32 + 4])


def test_the_tally_refuses_answers_that_do_not_add_up(camp):
    """A ballot missing a cell (impossible through the services; PostgreSQL refuses it too)
    stops the tally rather than giving a unit fewer votes than the others."""
    opts = {o.label: o.pk for o in camp.options.all()}
    for _ in range(2):
        ballot_create(
            campaign=camp,
            source="online",
            answers=[Answer(u.pk, None, opts["满意"]) for u in camp.units.all()],
        )
    assert tally_campaign(camp).ballots.valid == 2
    if connection.vendor == "postgresql":
        return  # the CHECK constraint will not let the damage below happen
    ballot = Ballot.objects.filter(campaign=camp).first()
    Ballot.objects.filter(pk=ballot.pk).update(answers=ballot.answers[:-1])
    with pytest.raises(TallyIntegrityError):
        tally_campaign(camp)


def test_a_campaign_too_big_to_store_refuses_ballots_with_a_message(camp, monkeypatch):
    import ballots.answers
    from ballots.services import BallotError

    monkeypatch.setattr(ballots.answers, "MAX_SLOTS", 2)  # the campaign has 3 units
    with pytest.raises(BallotError, match="最多 2 项"):
        ballot_create(campaign=camp, source="online", answers=[])
    assert not Ballot.objects.exists()
