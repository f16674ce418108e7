"""`quick_ballot` reads a POSTed ballot without building the 133-field form: whenever it
accepts a ballot, BallotForm accepts it too, with the same answers and comments; whenever the
form has something to say, quick_ballot steps aside (returns None) so the form says it."""

from __future__ import annotations

import random

import pytest
from django.http import QueryDict

from ballots.online.forms import BallotForm, BallotItems, field_name, quick_ballot
from campaigns.models import Dimension
from tests.test_online_submit import open_campaign


def _post(fields: dict[str, str]) -> QueryDict:
    q = QueryDict(mutable=True)
    for k, v in fields.items():
        q[k] = v
    return q


def _random_post(rng: random.Random, items: BallotItems) -> dict[str, str]:
    ids = [str(o.pk) for o in items.options]
    values = [*ids, *ids, *ids, "", None, "999999", "abc", f" {ids[0]} ", "1.5"]
    texts = ["", "  ", "窗口排队太久", " 前后有空格 ", "长" * 2001, "a\x00b"]
    data: dict[str, str] = {}
    dims = items.dimensions or [None]
    for u in items.units:
        for d in dims:
            v = rng.choice(values)
            if v is not None:
                data[field_name(u.pk, d.pk if d else None)] = v
        if rng.random() < 0.3:
            data[f"c{u.pk}"] = rng.choice(texts)
    if rng.random() < 0.3:
        data["general"] = rng.choice(texts)
    b = rng.choice([None, "on", "false", "", "true"])
    if b is not None:
        data["blanks_ok"] = b
    data["code"] = rng.choice(["ABCD-EFGH-JKMN-PQRS", "", "X" * 65])
    return data


@pytest.mark.parametrize("with_dimensions", [False, True])
def test_quick_agrees_with_the_form(campaign_factory, with_dimensions):
    camp = open_campaign(campaign_factory)
    if with_dimensions:
        for i, name in enumerate(("作风", "效能")):
            Dimension.objects.create(campaign=camp, name=name, order=i)
    items = BallotItems.of(camp)
    rng = random.Random(7)
    accepted = 0
    for _ in range(400):
        data = _post(_random_post(rng, items))
        quick = quick_ballot(data, items)
        form = BallotForm(data, campaign=camp, items=items)
        valid = form.is_valid()
        if quick is None:
            continue
        accepted += 1
        assert valid, (dict(data), form.errors)
        assert quick.answers == form.answers()
        assert quick.comments == form.comments()
    assert accepted > 20  # the fast path is taken, not always stepped around


def test_a_plain_full_ballot_takes_the_quick_path(campaign_factory):
    camp = open_campaign(campaign_factory)
    items = BallotItems.of(camp)
    best = items.options[0]
    data = _post({field_name(u.pk, None): str(best.pk) for u in items.units} | {"code": "X"})
    quick = quick_ballot(data, items)
    assert quick is not None and [a.option_id for a in quick.answers] == [best.pk] * 3
    # One unit left blank without the confirmation: the form must ask, so quick steps aside.
    del data[field_name(items.units[0].pk, None)]
    assert quick_ballot(data, items) is None
    data["blanks_ok"] = "on"
    assert quick_ballot(data, items) is not None
