"""The freeze of document 003 四(二) (issue 22): while a cleanup is in progress, a new campaign
names a registered activity that may go on (retained, or undecided with a legal basis) or
carries an override with a reason, which is audit-logged; without a cleanup nothing changes.
Through the service, the 新建评议活动 page, the create_campaign command and the clone."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.services import campaign_clone_for_next_year, campaign_create_from_preset
from core.models import AuditLog
from registry.freeze import campaign_activity_problems, cleanup_in_progress, eligible_activities
from registry.services import decision_record
from tests.conftest import default_office
from tests.registry_fixtures import (  # noqa: F401  (fixtures)
    cleanup_fixture,
    jiwei_fixture,
    organiser_fixture,
    register,
    to_status,
)


def make(slug: str = "q1", **kw):  # type: ignore[no-untyped-def]
    return campaign_create_from_preset(preset="qianren", slug=slug, name="千人评议", year=2026,
                                       office=default_office(), **kw)


def test_without_a_cleanup_campaigns_are_created_as_before(db):
    assert cleanup_in_progress() is None
    campaign = make()
    assert campaign.activity is None and campaign.activity_override_reason == ""
    assert not AuditLog.objects.filter(action="campaign.freeze_override").exists()


def test_during_a_cleanup_a_campaign_without_an_activity_is_refused(cleanup):
    with pytest.raises(ValueError, match="清理规范期间不得举办新的评比达标表彰活动"):
        make()
    assert not Campaign.objects.exists()


def test_an_activity_with_a_legal_basis_may_run_while_undecided(cleanup, organiser):
    legal = register(organiser, "依法开展的表彰", basis_kind="law", basis_document="某法第十条")
    own = register(organiser, "自行设置的评比", basis_kind="local", proposal="cancel",
                   proposal_reason="")
    assert campaign_activity_problems(legal) == []
    assert "尚未审定保留" in campaign_activity_problems(own)[0]
    assert list(eligible_activities()) == [legal]
    assert make(activity=legal).activity == legal
    with pytest.raises(ValueError, match="尚未审定保留"):
        make("q2", activity=own)


def test_the_final_decision_rules_retained_merged_and_cancelled(cleanup, organiser, jiwei):
    kept = register(organiser, "保留的项目", basis_kind="local")
    gone = register(organiser, "撤销的项目", basis_kind="law", basis_document="某法")
    merged = register(organiser, "合并的项目", basis_kind="central")
    cleanup = to_status(cleanup, "self_check", "review")
    rnd = cleanup.rounds.get(order=1)
    decision_record(round=rnd, activity=kept, decision="keep", reason="确需保留", user=jiwei)
    decision_record(round=rnd, activity=gone, decision="cancel", reason="不符合实际需要",
                    user=jiwei)
    decision_record(round=rnd, activity=merged, decision="merge", merged_into=kept,
                    reason="内容相近", user=jiwei)
    assert campaign_activity_problems(kept) == []
    assert "已决定撤销" in campaign_activity_problems(gone)[0]
    assert "请选择“保留的项目”" in campaign_activity_problems(merged)[0]
    assert set(eligible_activities()) == {kept}
    assert make(activity=kept).activity == kept


def test_an_override_with_a_reason_goes_through_and_is_audit_logged(cleanup, office):
    campaign = campaign_create_from_preset(
        preset="qianren", slug="q1", name="千人评议", year=2026, office=default_office(),
        user=office, activity_override_reason="  市委决定的年度评议,依据市委文件  ")
    assert campaign.activity_override_reason == "市委决定的年度评议,依据市委文件"
    log = AuditLog.objects.get(action="campaign.freeze_override")
    assert log.reason == "市委决定的年度评议,依据市委文件" and log.campaign_slug == "q1"
    assert log.username == "office"


def test_a_finished_cleanup_no_longer_freezes(cleanup):
    cleanup.status = "done"
    cleanup.save()
    assert make().activity is None


def test_the_clone_for_next_year_is_frozen_too_and_keeps_the_activity(db, organiser):
    legal = register(organiser, "依法开展的评议", basis_kind="law", basis_document="某法")
    source = make(activity=legal)
    new = campaign_clone_for_next_year(source=source, slug="q-next")
    assert new.activity == legal
    bare = Campaign.objects.create(name="旧活动", slug="old", year=2025)
    with pytest.raises(ValueError, match="清理规范期间"):
        campaign_clone_for_next_year(source=bare, slug="old-next")
    assert campaign_clone_for_next_year(source=bare, slug="old-next",
                                        activity_override_reason="回头看").activity is None


def test_the_new_campaign_page_asks_for_the_activity_or_a_reason(client, office, cleanup,
                                                                   organiser):
    legal = register(organiser, "依法开展的表彰", basis_kind="law", basis_document="某法第十条")
    client.force_login(office)
    url = reverse("campaign_new")
    page = client.get(url).content.decode()
    assert "清理规范期间不得举办新的评比达标表彰活动" in page
    assert "依法开展的表彰" in page and 'name="activity_override_reason"' in page
    form = {"preset": "qianren", "name": "千人评议", "slug": "qr", "year": 2026}
    refused = client.post(url, form)
    assert refused.status_code == 200 and not Campaign.objects.filter(slug="qr").exists()
    assert "请选择已审定保留或有法定依据的登记项目" in refused.content.decode()
    done = client.post(url, {**form, "activity": legal.pk})
    assert done.status_code == 302
    campaign = Campaign.objects.get(slug="qr")
    assert campaign.activity == legal
    detail = client.get(reverse("campaign_detail", args=["qr"])).content.decode()
    assert 'id="campaign-activity"' in detail and "依法开展的表彰" in detail
    assert "某法第十条" in detail
    client.post(url, {**form, "slug": "qr2", "activity_override_reason": "上级部署的活动"})
    other = Campaign.objects.get(slug="qr2")
    assert other.activity is None and other.activity_override_reason == "上级部署的活动"
    assert "上级部署的活动" in client.get(
        reverse("campaign_detail", args=["qr2"])).content.decode()
    assert AuditLog.objects.filter(action="campaign.freeze_override",
                                   campaign_slug="qr2").exists()


def test_the_preset_previews_still_show_their_rules_during_a_cleanup(client, office, cleanup):
    client.force_login(office)
    page = client.get(reverse("campaign_new")).content.decode()
    assert page.count("<details><summary>") >= 4 and "<li>" in page.split("计分与认定规则")[1]


def test_the_create_campaign_command_takes_an_activity_or_a_reason(cleanup, organiser):
    legal = register(organiser, "依法开展的表彰", basis_kind="law", basis_document="某法")
    with pytest.raises(CommandError, match="清理规范期间"):
        call_command("create_campaign", "--preset", "qianren", "--slug", "c1", "--name", "评议",
                     "--year", "2026")
    call_command("create_campaign", "--preset", "qianren", "--slug", "c1", "--name", "评议",
                 "--year", "2026", "--activity", str(legal.pk))
    call_command("create_campaign", "--preset", "qianren", "--slug", "c2", "--name", "评议",
                 "--year", "2026", "--override-reason", "上级部署")
    assert Campaign.objects.get(slug="c1").activity == legal
    assert Campaign.objects.get(slug="c2").activity_override_reason == "上级部署"


def test_the_admins_clone_during_a_freeze_says_why_instead_of_failing(client, office, cleanup):
    source = Campaign.objects.create(name="2025年千人评议", slug="q2025", year=2025,
                                     office=default_office())
    client.force_login(office)
    url = reverse("admin:campaigns_campaign_clone", args=[source.pk])
    page = client.post(url, {"name": "2026年千人评议", "slug": "q2026", "year": 2026})
    assert page.status_code == 200 and "清理规范期间" in page.content.decode()
    assert not Campaign.objects.filter(slug="q2026").exists()
