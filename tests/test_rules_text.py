"""The rules in words name the options the arithmetic used (spec 1, 3-5), and a scale the
arithmetic refuses (a satisfied option that is not counted) cannot be saved."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from ballots.services import Answer, ballot_create
from campaigns.models import Campaign, RatingOption, RepresentativeGroup
from scoring.engine import UnitResult
from scoring.presentation import context, rules_in_words
from scoring.tally import tally_campaign
from tests.helpers import add_units
from tests.test_campaign_lock import inline_post

Factory = Callable[..., Campaign]  # tests.conftest.campaign_factory
TIE_BREAK = re.compile(r"再相同的比“(.+?)”票所占比例")


def set_scale(campaign: Campaign, options: Sequence[tuple[str, str, bool, bool]]) -> None:
    """Replace the campaign's scale: (label, weight, satisfied, counted), best first."""
    campaign.options.all().delete()
    for i, (label, weight, satisfied, counted) in enumerate(options):
        RatingOption.objects.create(
            campaign=campaign,
            order=i,
            label=label,
            weight=Decimal(weight),
            satisfied=satisfied,
            counted=counted,
        )
    campaign.refresh_from_db()


def vote(campaign: Campaign, ballots: Sequence[dict[str, str]]) -> None:
    """One online ballot per dict of unit name -> option label."""
    units = dict(campaign.units.values_list("name", "id"))
    options = dict(campaign.options.values_list("label", "id"))
    for marks in ballots:
        answers = [Answer(units[u], None, options[o]) for u, o in marks.items()]
        ballot_create(campaign=campaign, source="online", answers=answers)


def named_best(rules: list[str]) -> str:
    found = [m.group(1) for r in rules if (m := TIE_BREAK.search(r))]
    assert len(found) == 1, rules
    return found[0]


def test_a_tie_is_broken_by_the_option_the_text_names(qianren: Campaign) -> None:
    # 非常满意 weighs most but comes third; the engine breaks ties by the first option (5.3).
    set_scale(
        qianren,
        [
            ("满意", "1", True, True),
            ("基本满意", "1", True, True),
            ("非常满意", "2", True, True),
            ("不满意", "0", False, True),
        ],
    )
    add_units(qianren, {"地方管理部门类": ["甲", "乙"]})
    # 甲: 满意 2, 非常满意 1, 不满意 1; 乙: 基本满意 2, 非常满意 1, 不满意 1. Both score 4
    # with a rate of 3/4 and the same share of 非常满意: only the share of 满意 differs.
    vote(
        qianren,
        [
            {"甲": "满意", "乙": "基本满意"},
            {"甲": "满意", "乙": "基本满意"},
            {"甲": "非常满意", "乙": "非常满意"},
            {"甲": "不满意", "乙": "不满意"},
        ],
    )
    t = tally_campaign(qianren)
    best = named_best(context(t)["rules"])
    assert best == "满意"
    units = {u.unit.name: u for c in t.result.categories for u in c.units}
    a, b = units["甲"], units["乙"]
    assert (a.score, a.satisfaction_rate) == (b.score, b.satisfaction_rate)
    assert (a.rank, b.rank) == (1, 2)

    # A reader checking the tie by hand with the named option gets the same order.
    def share(u: UnitResult) -> Fraction:
        n = dict(u.counts)  # every option of this scale is counted
        return Fraction(n[best], sum(n.values()))

    assert share(a) > share(b)
    assert share(a) == a.best_share and share(b) == b.best_share


def test_a_reversed_scale_names_its_first_option(campaign_factory: Factory) -> None:
    # The 4-level scale of 政风行风评议 in reverse: the first option is 不满意 (0 points).
    campaign = campaign_factory("zhengfeng")
    set_scale(
        campaign,
        [
            ("不满意", "0", False, True),
            ("基本满意", "1", True, True),
            ("满意", "1", True, True),
            ("不了解", "0", False, False),
        ],
    )
    category = campaign.categories.order_by("order").first()
    assert category is not None
    add_units(campaign, {category.name: ["甲"]})
    vote(campaign, [{"甲": "不满意"}, {"甲": "满意"}, {"甲": "满意"}, {"甲": "不了解"}])
    t = tally_campaign(campaign)
    rules = context(t)["rules"]
    assert named_best(rules) == "不满意" == t.input.scale.best
    # The engine's third key is the share of exactly that option: 1 of 3 counted votes.
    u = t.result.categories[0].units[0]
    assert u.best_share == Fraction(1, 3)
    # Satisfied and counted options in the text are the engine's, in scale order.
    assert "满意率 =(基本满意+满意)票数 ÷ 有效票数(不满意、基本满意、满意)。" in rules
    assert "“不了解”不计入有效票。" in rules
    # Without a tally at hand (the workbook), the text reads the same scale.
    assert rules_in_words(campaign) == rules


def test_weighted_groups_say_the_best_share_is_not_weighted(campaign_factory: Factory) -> None:
    campaign = campaign_factory("wanren")
    campaign.groups.all().delete()
    RepresentativeGroup.objects.create(campaign=campaign, order=0, name="服务对象", weight="0.6")
    RepresentativeGroup.objects.create(campaign=campaign, order=1, name="党政干部", weight="0.4")
    rules = rules_in_words(campaign)
    assert (
        "“满意”票所占比例不加权:为全部有效票中“满意”票数 ÷ 有效票数(满意、基本满意、不满意)。"
        in rules
    )
    # Without weights the sentence would be noise: it is left out.
    campaign.groups.update(weight=None)
    assert not any("不加权" in r for r in rules_in_words(campaign))


# --- a satisfied option must be counted (spec 1) --------------------------------------------


def test_saving_a_satisfied_option_that_is_not_counted_is_refused(qianren: Campaign) -> None:
    option = qianren.options.get(label="满意")
    option.counted = False
    with pytest.raises(ValidationError) as form_error:
        option.full_clean()
    assert "counted" in form_error.value.message_dict
    with pytest.raises(ValidationError, match="满意"):
        option.save()
    option.refresh_from_db()
    assert option.counted is True
    # Not satisfied and not counted (不了解) stays allowed.
    option.satisfied = False
    option.counted = False
    option.full_clean()
    option.save()


def test_the_admin_refuses_a_satisfied_option_that_is_not_counted(
    client: Client,
    office: Any,
    qianren: Campaign,
) -> None:
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[qianren.pk])
    data = inline_post(qianren)
    index = list(qianren.options.all()).index(qianren.options.get(label="基本满意"))
    del data[f"options-{index}-counted"]  # an unticked box is not posted
    response = client.post(url, data)
    assert response.status_code == 200
    assert "必须同时计入有效票" in response.content.decode()
    assert qianren.options.get(label="基本满意").counted is True
    # The same post with the box ticked again is accepted.
    data[f"options-{index}-counted"] = "on"
    assert client.post(url, data).status_code == 302
