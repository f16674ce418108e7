from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.models import Campaign, CampaignUnit, GradeBand, Unit
from campaigns.services import campaign_clone_for_next_year
from core.models import AuditLog


@pytest.fixture
def configured(qianren):
    cat = qianren.categories.get(name="金融部门类")
    cat.winners = 4
    cat.save()
    for i, name in enumerate(["人行", "中行"]):
        CampaignUnit.objects.create(campaign=qianren, unit=Unit.objects.create(name=name),
                                    category=cat, name=name, order=i, vetoed=(i == 0))
    GradeBand.objects.create(campaign=qianren, minimum=Decimal(90), label="优秀")
    qianren.groups.update(weight=Decimal("0.5"))
    return qianren


def test_clone_copies_configuration_and_links_previous(configured, office):
    new = campaign_clone_for_next_year(source=configured, slug="q27", name="2027", year=2027,
                                       user=office)
    assert new.previous == configured and new.series == configured.series
    assert new.year == 2027 and new.status == Campaign.Status.DRAFT

    def opts(c):
        return [(o.label, o.weight, o.satisfied, o.counted) for o in c.options.all()]
    assert opts(new) == opts(configured)
    assert new.blank_means.label == "弃权" and new.blank_means.campaign == new
    assert [(c.name, c.winners, c.last_place) for c in new.categories.all()] == [
        (c.name, c.winners, c.last_place) for c in configured.categories.all()]
    pairs = {(u.unit_id, u.category.name, u.vetoed) for u in new.units.all()}
    # Same registry units (identity kept), vetoes not carried into the new year.
    assert pairs == {(u.unit_id, u.category.name, False) for u in configured.units.all()}
    assert [g.weight for g in new.groups.all()] == [g.weight for g in configured.groups.all()]
    assert [p.name for p in new.phases.all()] == [p.name for p in configured.phases.all()]
    assert list(new.grade_bands.values_list("minimum", "label")) == [(Decimal(90), "优秀")]
    entry = AuditLog.objects.get(action="campaign.clone")
    assert entry.username == "office" and entry.campaign_id == new.pk


def test_clone_through_admin(client, office, configured):
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_clone", args=[configured.pk])
    page = client.get(url)
    assert "qianren-2027" in page.content.decode()  # suggested slug
    response = client.post(url, {"name": "2027年千人评议", "slug": "qianren-2027", "year": 2027})
    assert response.status_code == 302
    new = Campaign.objects.get(slug="qianren-2027")
    assert new.units.count() == 2 and new.previous == configured


def test_clone_refuses_taken_slug(configured):
    with pytest.raises(ValueError):
        campaign_clone_for_next_year(source=configured, slug=configured.slug)
