"""Issue 16: the rules in words follow the configuration as it is now, on the campaign page,
the ballot page and in the reports; nothing shows text that was stored when the campaign was
created and went stale when a quota changed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from campaigns import rules
from campaigns.presets import PRESETS
from scoring import presentation
from tests.test_online_submit import one_code, open_campaign


def _raise_quota(campaign) -> None:
    first = campaign.categories.order_by("order", "id").first()
    assert first.winners == 5  # 千人评议: 地方管理部门类 前5名
    first.winners = 6
    first.save(update_fields=["winners"])


def _stale(text: str) -> bool:
    return bool(re.search(r"前\s*5\s*名", text))


def test_campaign_page_says_the_new_quota(client, leader, campaign_factory):
    campaign = campaign_factory("qianren")
    _raise_quota(campaign)
    client.force_login(leader)
    page = client.get(reverse("campaign_detail", args=[campaign.slug])).content.decode()
    assert "地方管理部门类:前 6 名为优胜单位" in page
    assert not _stale(page)


def test_ballot_page_says_the_new_quota(client, campaign_factory):
    campaign = open_campaign(campaign_factory)
    _raise_quota(campaign)
    code = one_code(campaign)
    r = client.post(reverse("vote_enter_campaign", args=[campaign.slug]), {"code": code.code})
    page = client.get(r.url).content.decode()
    assert 'id="ballot-rules"' in page
    assert "地方管理部门类:前 6 名为优胜单位" in page and not _stale(page)
    assert "未填写的单位按“弃权”计" in page  # from the campaign's blank_means


def test_ballot_page_follows_a_changed_threshold(client, campaign_factory):
    campaign = open_campaign(campaign_factory)
    campaign.threshold = "0.85"
    campaign.save(update_fields=["threshold"])
    code = one_code(campaign)
    r = client.post(reverse("vote_enter_campaign", args=[campaign.slug]), {"code": code.code})
    page = client.get(r.url).content.decode()
    assert "满意率低于 85.00% 的单位" in page and "90.00%" not in page


def test_reports_rules_say_the_new_quota(campaign_factory):
    campaign = campaign_factory("qianren")
    _raise_quota(campaign)
    words = "".join(presentation.rules_in_words(campaign))
    assert "地方管理部门类:前 6 名为优胜单位" in words and not _stale(words)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_configured_scale_reads_as_the_engine_does(campaign_factory, preset):
    """The campaign layer words the rules from `ConfiguredScale`; the tally from
    `engine.Scale`. They must name the same options, or the pages would contradict the
    reports."""
    campaign = campaign_factory(preset)
    mine = rules.configured_scale(campaign)
    engine_scale = presentation.campaign_scale(campaign)
    for term in ("best", "satisfied", "counted", "not_counted"):
        assert getattr(mine, term) == getattr(engine_scale, term), term
    for aggregation in ("sum", "mean"):
        assert mine.scored(aggregation) == engine_scale.scored(aggregation)
    assert rules.rules_in_words(campaign) == presentation.rules_in_words(campaign)


def test_stale_numbers_finds_restated_configuration():
    assert rules.stale_numbers("地方管理部门类前5名为优胜单位") == ["5"]
    assert rules.stale_numbers("满意率低于90%的须整改") == ["9", "0", "%"]
    assert rules.stale_numbers("前五名为优胜") == ["前五名"]
    assert rules.stale_numbers("连续两年被评为末位的,从严处理。") == []


def test_a_unit_both_winner_and_key_rectification_carries_a_note_saying_why(
    client, office, qianren
):
    """Readers take 优胜 with 重点整改 for a contradiction: the table says both rules apply."""
    from django.urls import reverse

    from ballots.services import Answer, ballot_create
    from tests.helpers import add_units

    add_units(qianren, {"地方管理部门类": ["甲局", "乙局"]})
    units = {u.name: u.pk for u in qianren.units.all()}
    opts = {o.label: o.pk for o in qianren.options.all()}
    for i in range(10):
        first = "满意" if i < 8 else "不满意"  # 甲局: score 16, rate 80% < 90%
        ballot_create(campaign=qianren, source="paper", serial=f"{i:06d}", answers=[
            Answer(units["甲局"], None, opts[first]), Answer(units["乙局"], None, opts["不满意"]),
        ])
    client.force_login(office)
    page = client.get(reverse("results", args=[qianren.slug])).content.decode()
    assert "“甲局”同时是优胜单位" in page and "互不排除" in page
    assert "“乙局”同时是优胜单位" not in page


def test_zero_quotas_honours_and_the_dimension_line_are_said_and_follow_the_kind(
    campaign_factory
):
    from campaigns.models import CampaignUnit, Unit

    campaign = campaign_factory("qianren")
    first = campaign.categories.order_by("order", "id").first()
    first.winners = first.last_place = 0
    first.save(update_fields=["winners", "last_place"])
    words = rules.rules_in_words(campaign)
    assert any(f"{first.name}:不评优胜,也不评末位。" in w for w in words)
    assert not any("前 0 名" in w or "后 0 名" in w for w in words)
    # The other categories still name some: how they are drawn stays.
    assert any(w.startswith("末位单位先认定") for w in words)
    assert not any("先进科室" in w or "该项列为重点整改" in w for w in words)
    campaign.honoured_quota, campaign.dimension_line = 10, True
    campaign.save(update_fields=["honoured_quota", "dimension_line"])
    words = rules.rules_in_words(campaign)
    assert any("前 10 名评为先进科室" in w for w in words)
    assert any("任一评议内容的满意率低于 90.00% 的(末位除外),该项列为重点整改" in w for w in words)
    # Leaders only: the threshold's sentence names them, never 单位.
    team = Unit.objects.create(name="某局领导班子", kind="领导班子")
    for name, kind in (("某局领导班子", "领导班子"), ("王五", "领导干部")):
        unit = team if kind == "领导班子" else Unit.objects.create(name=name, kind=kind, parent=team)
        CampaignUnit.objects.create(campaign=campaign, unit=unit, category=first, name=name)
    threshold = rules.threshold_in_words(campaign)
    assert "评议对象" in threshold and "单位" not in threshold
    assert "没有有效票的评议对象不排名,列在本类别最后。" in rules.rules_in_words(campaign)
    assert not any("单位" in r for r in rules.scale_in_words(campaign))


def test_no_quota_anywhere_leaves_out_how_winners_and_last_places_are_drawn(campaign_factory):
    campaign = campaign_factory("liangping")
    words = rules.rules_in_words(campaign)
    assert not any(w.startswith(("末位单位先认定", "优胜单位在其余单位中认定")) for w in words)
    assert any("不评优胜,也不评末位" in w for w in words)
