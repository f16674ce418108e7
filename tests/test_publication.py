"""Publication (公示): only closed campaigns, a fixed public copy with rankings and flags only,
withdrawal and republication audit-logged, and only the office may do it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ballots.models import Ballot
from ballots.services import BallotError, ballot_invalidate
from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from core.models import AuditLog
from scoring.models import Publication
from tests.results_fixtures import results_campaign, tally_data  # noqa: F401


def close(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CLOSED)


def test_nothing_is_public_before_publication(client, results_campaign):  # noqa: F811
    assert client.get(reverse("public_results", args=["golden"])).status_code == 404


def test_an_open_campaign_cannot_be_published(client, office, results_campaign):  # noqa: F811
    client.force_login(office)
    r = client.post(reverse("results_publish", args=["golden"]), follow=True)
    assert "评议结束" in r.content.decode() and not Publication.objects.exists()


def test_public_page_shows_rankings_and_flags_and_nothing_else(client, office, results_campaign):  # noqa: F811
    close(results_campaign)
    client.force_login(office)
    client.post(reverse("results_publish", args=["golden"]))
    results_campaign.refresh_from_db()
    assert results_campaign.status == "published" and results_campaign.results_published_at
    client.logout()
    page = client.get(reverse("public_results", args=["golden"])).content.decode()
    data = tally_data("golden")
    for cat in data["categories"]:
        for u in cat["units"]:
            assert u["unit"] in page
    assert "优胜" in page and "末位" in page
    # No counts, no comments, no ballot figures.
    for absent in ("办事效率高", "总体满意", "基本满意", "有效票", "选票总数", "废票"):
        assert absent not in page, absent
    pub = Publication.objects.get()
    assert set(pub.data) == {"campaign", "year", "categories"}
    assert set(pub.data["categories"][0]["units"][0]) == {
        "rank",
        "unit",
        "score",
        "satisfaction_rate",
        "flags",
    }


def test_the_public_copy_is_fixed_until_republished(client, office, results_campaign):  # noqa: F811
    close(results_campaign)
    client.force_login(office)
    client.post(reverse("results_publish", args=["golden"]))
    before = Publication.objects.get().data
    copy = Ballot.objects.filter(campaign=results_campaign, status="valid").first()
    # A published count is final: a ballot cannot change under it.
    with pytest.raises(BallotError):
        ballot_invalidate(ballot=copy, reason="复核发现复印件", user=office)
    assert Publication.objects.get().data == before  # the announcement did not move
    # Withdraw (reason required), reopen, correct, close and republish: a new copy, and three
    # audit entries of the publication.
    r = client.post(reverse("results_unpublish", args=["golden"]), {"reason": ""}, follow=True)
    assert "请填写撤回原因" in r.content.decode()
    client.post(reverse("results_unpublish", args=["golden"]), {"reason": "更正一张选票"})
    assert client.get(reverse("public_results", args=["golden"])).status_code == 404
    campaign_set_status(campaign=results_campaign, status=Campaign.Status.OPEN, user=office)
    ballot_invalidate(ballot=copy, reason="复核发现复印件", user=office)
    campaign_set_status(campaign=results_campaign, status=Campaign.Status.CLOSED, user=office)
    client.post(reverse("results_publish", args=["golden"]))
    live = Publication.objects.get(withdrawn_at__isnull=True)
    assert live.data != before
    actions = list(
        AuditLog.objects.filter(action__startswith="results.")
        .order_by("at", "id")
        .values_list("action", "reason")
    )
    assert actions == [
        ("results.publish", ""),
        ("results.unpublish", "更正一张选票"),
        ("results.republish", ""),
    ]


@pytest.mark.parametrize("who", ["leader", "clerk", "auditor"])
def test_only_the_office_publishes(client, who, request, results_campaign):  # noqa: F811
    close(results_campaign)
    client.force_login(request.getfixturevalue(who))
    assert client.post(reverse("results_publish", args=["golden"])).status_code == 403
    assert (
        client.post(reverse("results_unpublish", args=["golden"]), {"reason": "x"}).status_code
        == 403
    )
    assert not Publication.objects.exists()


def test_one_live_publication_per_campaign_is_a_database_rule(results_campaign):  # noqa: F811
    from django.db import IntegrityError, transaction

    Publication.objects.create(campaign=results_campaign, data={}, fingerprint="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        Publication.objects.create(campaign=results_campaign, data={}, fingerprint="b")
