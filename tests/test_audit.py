"""The audit log: every configuration change writes who, when, what, before and after."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import Campaign, CampaignUnit, Unit
from campaigns.services import campaign_set_status
from core.models import AuditLog
from tests.test_campaign_lock import inline_post


def test_create_from_preset_in_admin_is_logged(client, office):
    client.force_login(office)
    response = client.post(reverse("admin:campaigns_campaign_preset"),
                           {"preset": "wanren", "name": "万人评议", "slug": "w", "year": 2026})
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="campaign.create")
    assert entry.user == office and entry.campaign_slug == "w"
    assert entry.after["aggregation"] == "mean"


def test_admin_edit_records_before_and_after(client, office, qianren):
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[qianren.pk])
    response = client.post(url, inline_post(qianren, threshold="0.85",
                                            **{"categories-2-winners": "3"}))
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="campaign.update")
    assert entry.before["threshold"] == "0.9" and entry.after["threshold"] == "0.85"
    cat = AuditLog.objects.get(action="category.update")
    assert (cat.before["winners"], cat.after["winners"]) == (2, 3)
    assert cat.campaign_id == qianren.pk and cat.username == "office"


def test_inline_delete_and_unit_changes_are_logged(client, office, qianren):
    client.force_login(office)
    unit = CampaignUnit.objects.create(campaign=qianren, unit=Unit.objects.create(name="人行"),
                                       category=qianren.categories.first(), name="人行")
    url = reverse("admin:campaigns_campaignunit_change", args=[unit.pk])
    client.post(url, {"campaign": qianren.pk, "unit": unit.unit_id, "category": unit.category_id,
                      "name": "人行", "order": 0, "note": "", "vetoed": "on"})
    entry = AuditLog.objects.get(action="campaignunit.update")
    assert entry.before["vetoed"] is False and entry.after["vetoed"] is True
    data = inline_post(qianren, **{"phases-5-DELETE": "on"})
    client.post(reverse("admin:campaigns_campaign_change", args=[qianren.pk]), data)
    deleted = AuditLog.objects.get(action="phase.delete")
    assert deleted.before["name"] == "年终评议" and deleted.campaign_id == qianren.pk


def test_status_change_is_logged(qianren, office):
    CampaignUnit.objects.create(campaign=qianren, unit=Unit.objects.create(name="人行"),
                                category=qianren.categories.first(), name="人行")
    campaign_set_status(campaign=qianren, status=Campaign.Status.OPEN, user=office)
    entry = AuditLog.objects.get(action="campaign.status")
    assert (entry.before["status"], entry.after["status"]) == ("draft", "open")


def test_audit_log_is_append_only(qianren):
    entry = AuditLog.objects.first()
    entry.reason = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.update(reason="x")


def test_nobody_edits_the_log_in_admin(client, office, auditor, qianren):
    entry = AuditLog.objects.first()
    client.force_login(auditor)
    url = reverse("admin:core_auditlog_change", args=[entry.pk])
    page = client.get(url)
    assert page.status_code == 200 and "campaign.create" in page.content.decode()
    assert client.post(url, {"reason": "x"}).status_code == 403
    client.force_login(office)
    assert client.get(reverse("admin:core_auditlog_changelist")).status_code == 403


def test_closing_in_the_admin_goes_through_the_status_service(
    client, office, qianren, django_capture_on_commit_callbacks
):
    """The admin's status field is not saved with the other fields: the one service decides,
    logs and applies what closing means (an anonymous campaign's codes are settled)."""
    from ballots.models import AccessCode
    from ballots.online.codes import codes_unnamed
    from ballots.online.submit import ballot_submit
    from ballots.services import Answer
    from tests.helpers import add_units
    from tests.test_campaign_lock import inline_post

    add_units(qianren, {"地方管理部门类": ["甲局"]})
    campaign_set_status(campaign=qianren, status=Campaign.Status.OPEN, user=office)
    qianren.refresh_from_db()
    (code,) = codes_unnamed(campaign=qianren, count=1, group=None, user=office)
    unit = qianren.units.get()
    ballot_submit(campaign=qianren, code=code.code,
                  answers=[Answer(unit.pk, None, qianren.options.first().pk)])
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[qianren.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, inline_post(qianren, status="closed"))
    assert response.status_code == 302
    qianren.refresh_from_db()
    assert qianren.status == "closed"
    entry = AuditLog.objects.filter(action="campaign.status").latest("id")
    assert (entry.before["status"], entry.after["status"]) == ("open", "closed")
    assert AccessCode.objects.get(pk=code.pk).status == "used"  # settled on closing
    assert AuditLog.objects.filter(action="codes.scrub").exists()
    # Publishing is not offered here: it needs the results page's publication record.
    page = client.get(url).content.decode()
    assert 'value="published"' not in page
