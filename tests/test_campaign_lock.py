"""Once a campaign has ballots, its scale, dimensions and units are locked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ballots.services import ballot_create
from campaigns.models import CampaignUnit, Unit
from campaigns.services import units_import, units_parse
from tests.helpers import xlsx_file


@pytest.fixture
def voted(qianren):
    cat = qianren.categories.first()
    unit = CampaignUnit.objects.create(campaign=qianren, unit=Unit.objects.create(name="人行"),
                                       category=cat, name="人行")
    ballot_create(campaign=qianren, source="paper", serial="1", answers=[])
    return qianren, unit


def inline_post(campaign, **changes):
    """The admin change form of a campaign as the browser would post it, with changes."""
    data = {
        "name": campaign.name, "slug": campaign.slug, "office": campaign.office_id or "",
        "year": campaign.year,
        "series": campaign.series, "status": campaign.status,
        "aggregation": campaign.aggregation, "threshold": str(campaign.threshold),
        "blank_means": campaign.blank_means_id or "", "anonymous": "on",
        "double_entry": "on", "rules_text": campaign.rules_text,
        "scale_explanation": "", "instructions": "", "min_new_share": "",
        "min_cell_ballots": campaign.min_cell_ballots,
        "notice_from": campaign.notice_from or "", "notice_to": campaign.notice_to or "",
        "objection_phone": campaign.objection_phone,
        "objection_address": campaign.objection_address,
        "objection_email": campaign.objection_email, "issuer": campaign.issuer,
    }
    prefixes = {
        "options": list(campaign.options.all()),
        "dimensions": list(campaign.dimensions.all()),
        "categories": list(campaign.categories.all()),
        "phases": list(campaign.phases.all()),
        "groups": list(campaign.groups.all()),
        "grade_bands": list(campaign.grade_bands.all()),
    }
    fields = {
        "options": ("order", "label", "weight", "satisfied", "counted"),
        "dimensions": ("order", "name", "description"),
        "categories": ("order", "name", "winners", "last_place"),
        "phases": ("order", "name", "start", "end", "description"),
        "groups": ("order", "name", "target_share", "target_is_minimum", "weight"),
        "grade_bands": ("minimum", "label"),
    }
    for prefix, objs in prefixes.items():
        data[f"{prefix}-TOTAL_FORMS"] = len(objs)
        data[f"{prefix}-INITIAL_FORMS"] = len(objs)
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
        data[f"{prefix}-MAX_NUM_FORMS"] = 1000
        for i, obj in enumerate(objs):
            data[f"{prefix}-{i}-id"] = obj.pk
            data[f"{prefix}-{i}-campaign"] = campaign.pk
            for f in fields[prefix]:
                value = getattr(obj, f)
                if isinstance(value, bool):
                    if value:
                        data[f"{prefix}-{i}-{f}"] = "on"
                else:
                    data[f"{prefix}-{i}-{f}"] = "" if value is None else str(value)
    data.update(changes)
    return data


def test_changing_a_weight_is_refused_once_ballots_exist(client, office, voted):
    campaign, _unit = voted
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    response = client.post(url, inline_post(campaign, **{"options-0-weight": "3"}))
    assert response.status_code == 200  # the form is shown again with the message
    assert "已有选票" in response.content.decode()
    assert campaign.options.get(label="满意").weight == 2


def test_same_change_is_accepted_without_ballots(client, office, qianren):
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[qianren.pk])
    response = client.post(url, inline_post(qianren, **{"options-0-weight": "3"}))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert qianren.options.get(label="满意").weight == 3


def test_quota_changes_stay_allowed_after_ballots(client, office, voted):
    campaign, _unit = voted
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    response = client.post(url, inline_post(campaign, **{"categories-0-winners": "7"}))
    assert response.status_code == 302
    assert campaign.categories.get(order=0).winners == 7


def test_unit_category_change_refused_but_veto_allowed(client, office, voted):
    campaign, unit = voted
    client.force_login(office)
    url = reverse("admin:campaigns_campaignunit_change", args=[unit.pk])
    other = campaign.categories.exclude(pk=unit.category_id).first()
    base = {"campaign": campaign.pk, "unit": unit.unit_id, "category": unit.category_id,
            "name": unit.name, "order": 0, "note": ""}
    response = client.post(url, {**base, "category": other.pk})
    assert "已有选票" in response.content.decode()
    unit.refresh_from_db()
    assert unit.category_id != other.pk
    response = client.post(url, {**base, "vetoed": "on"})
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.vetoed


def test_unit_import_refused_once_ballots_exist(voted, tmp_path):
    campaign, _unit = voted
    path = xlsx_file(tmp_path, "u.xlsx", {"单位": [("类别", "单位"), ("金融部门类", "中行")]})
    plan = units_parse(campaign, path, "u.xlsx")
    with pytest.raises(ValidationError) as exc:
        units_import(campaign=campaign, plan=plan)
    assert "已有选票" in str(exc.value)
    assert not campaign.units.filter(name="中行").exists()


def test_anonymous_cannot_be_switched_off_once_ballots_exist(client, office, voted):
    campaign, _unit = voted
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    data = inline_post(campaign)
    del data["anonymous"]
    response = client.post(url, data)
    assert "不能改为记名" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.anonymous


def test_named_cannot_become_anonymous_once_ballots_exist(client, office, voted):
    campaign, _unit = voted
    type(campaign).objects.filter(pk=campaign.pk).update(anonymous=False)
    campaign.refresh_from_db()
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    response = client.post(url, inline_post(campaign))  # inline_post ticks "anonymous"
    assert "记名评议不能改为匿名" in response.content.decode()
    campaign.refresh_from_db()
    assert not campaign.anonymous


def test_the_breakdown_minimum_can_be_raised_but_not_lowered_once_ballots_exist(
    client, office, voted
):
    """Lowering it after seeing results would show slices that were hidden."""
    campaign, _unit = voted
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    r = client.post(url, inline_post(campaign, min_cell_ballots=3))
    assert r.status_code == 200 and "只能提高,不能降低" in r.content.decode()
    campaign.refresh_from_db()
    assert campaign.min_cell_ballots == 10
    r = client.post(url, inline_post(campaign, min_cell_ballots=20))
    assert r.status_code == 302
    campaign.refresh_from_db()
    assert campaign.min_cell_ballots == 20
