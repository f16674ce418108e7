"""Each role sees only what it may."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import Campaign


@pytest.fixture
def urls(qianren):
    return {
        "admin_campaign": reverse("admin:campaigns_campaign_change", args=[qianren.pk]),
        "admin_auditlog": reverse("admin:core_auditlog_changelist"),
        "preset": reverse("admin:campaigns_campaign_preset"),
        "detail": reverse("campaign_detail", args=[qianren.slug]),
    }


def test_office_configures(client, office, urls):
    client.force_login(office)
    assert client.get(urls["admin_campaign"]).status_code == 200
    assert client.get(urls["preset"]).status_code == 200
    assert client.get(urls["admin_auditlog"]).status_code == 403


def test_auditor_reads_everything_changes_nothing(client, auditor, urls, qianren):
    client.force_login(auditor)
    page = client.get(urls["admin_campaign"])
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # read-only view
    assert client.get(urls["admin_auditlog"]).status_code == 200
    assert client.get(urls["preset"]).status_code == 403
    assert client.post(urls["admin_campaign"], {"name": "x"}).status_code == 403
    assert client.get(urls["detail"]).status_code == 200
    qianren.refresh_from_db()
    assert qianren.name == "千人评议机关测试"


@pytest.mark.parametrize("who", ["leader", "clerk"])
def test_leaders_and_clerks_have_no_admin(client, request, urls, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(urls["admin_campaign"])
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get(urls["detail"]).status_code == 200


def test_outsider_sees_nothing(client, outsider, urls):
    client.force_login(outsider)
    assert client.get(urls["detail"]).status_code == 403
    assert client.get(urls["admin_campaign"]).status_code == 302


def test_role_permissions(office, clerk, leader, auditor):
    assert office.has_perm("campaigns.configure_campaign")
    assert not clerk.has_perm("campaigns.view_results")
    assert clerk.has_perm("campaigns.key_paper_ballots")
    assert leader.has_perm("campaigns.download_reports")
    assert not leader.has_perm("campaigns.configure_campaign")
    assert not leader.has_perm("campaigns.key_paper_ballots")
    assert auditor.has_perm("campaigns.view_auditlog")
    assert not auditor.has_perm("campaigns.change_campaign")
    assert not office.has_perm("core.change_auditlog")


def test_home_lists_only_published_campaigns_to_the_public(client, qianren, campaign_factory):
    published = campaign_factory("zhengfeng", name="已公示的政风行风评议")
    published.status = Campaign.Status.PUBLISHED
    published.save()
    text = client.get(reverse("home")).content.decode()
    assert "已公示的政风行风评议" in text and "千人评议机关测试" not in text


def test_home_lists_everything_to_staff(client, leader, qianren):
    client.force_login(leader)
    assert "千人评议机关测试" in client.get(reverse("home")).content.decode()
