"""The office's own pages for running a campaign (issue 16): the checklist, starting and
ending with a preflight, creating from a preset."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ballots.models import AccessCode
from ballots.paper.keying import entry_key
from ballots.paper.ranges import range_create
from campaigns.models import Campaign, Phase
from campaigns.services import campaign_set_status
from core.models import AuditLog
from tests.helpers import add_units
from tests.test_paper_browser import browser, logged_in, shot  # noqa: F401, F811  (browser: the fixture)
from workspace.preflight import Facts, warnings_for


def steps(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-step="(\w+)" data-done="([01])"', page))


def detail(client, campaign) -> str:  # type: ignore[no-untyped-def]
    return client.get(reverse("campaign_detail", args=[campaign.slug])).content.decode()


def status_url(campaign, action: str) -> str:  # type: ignore[no-untyped-def]
    return reverse("campaign_status", args=[campaign.slug, action])


def test_checklist_shows_missing_then_done(client, office, qianren):
    client.force_login(office)
    before = steps(detail(client, qianren))
    assert before["scale"] == "1" and before["categories"] == "1"
    assert before["units"] == "0" and before["phases"] == "0" and before["codes"] == "0"
    assert before["ranges"] == "0"
    page = detail(client, qianren)
    assert reverse("setup_units", args=[qianren.slug]) in page
    assert reverse("codes", args=[qianren.slug]) in page
    assert reverse("paper_print", args=[qianren.slug]) in page
    assert "开始评议" in page

    add_units(qianren, {"地方管理部门类": ["甲局"]})
    Phase.objects.filter(campaign=qianren).update(start="2026-03-01")
    AccessCode.objects.create(campaign=qianren, code="TESTCODE0001")
    range_create(campaign=qianren, first=1, last=10, user=office)
    after = steps(detail(client, qianren))
    for key in ("units", "phases", "codes", "ranges"):
        assert after[key] == "1", key


def test_start_refused_without_units_then_allowed(client, office, qianren):
    client.force_login(office)
    preflight = client.post(status_url(qianren, "open")).content.decode()
    assert "还没有被评单位" in preflight and 'name="confirm"' not in preflight
    refused = client.post(status_url(qianren, "open"), {"confirm": "True"})
    assert refused.status_code == 409 and "还没有被评单位" in refused.content.decode()
    qianren.refresh_from_db()
    assert qianren.status == Campaign.Status.DRAFT

    add_units(qianren, {"地方管理部门类": ["甲局"]})
    preflight = client.post(status_url(qianren, "open")).content.decode()
    assert 'name="confirm"' in preflight and "还没有被评单位" not in preflight
    # Warnings are shown, and do not block.
    assert "还没有生成评议码" in preflight and "尚未录入评议代表" in preflight
    assert "以下阶段还没有日期" in preflight
    response = client.post(status_url(qianren, "open"), {"confirm": "True"})
    assert response.status_code == 302
    assert response["Location"] == reverse("campaign_detail", args=[qianren.slug])
    qianren.refresh_from_db()
    assert qianren.status == Campaign.Status.OPEN
    entry = AuditLog.objects.filter(action="campaign.status").latest("id")
    assert entry.user_id == office.pk


def test_end_refused_while_a_paper_entry_is_keyed_once(client, office, clerk, clerk2, qianren):
    add_units(qianren, {"地方管理部门类": ["甲局", "乙局"]})
    campaign_set_status(campaign=qianren, status=Campaign.Status.OPEN, user=office)
    range_create(campaign=qianren, first=1, last=100, user=office)
    keyed = entry_key(campaign=qianren, clerk=clerk, serial="7", keys="12")
    assert keyed.entry.status == "pending"
    client.force_login(office)
    page = detail(client, qianren)
    assert "结束评议" in page
    preflight = client.post(status_url(qianren, "close")).content.decode()
    assert 'id="blocks"' in preflight and 'name="confirm"' not in preflight
    refused = client.post(status_url(qianren, "close"), {"confirm": "True"})
    assert refused.status_code == 409 and 'id="blocks"' in refused.content.decode()
    qianren.refresh_from_db()
    assert qianren.status == Campaign.Status.OPEN

    entry_key(campaign=qianren, clerk=clerk2, serial="7", keys="12")  # the second pass
    preflight = client.post(status_url(qianren, "close")).content.decode()
    assert 'id="blocks"' not in preflight and 'name="confirm"' in preflight
    assert client.post(status_url(qianren, "close"), {"confirm": "True"}).status_code == 302
    qianren.refresh_from_db()
    assert qianren.status == Campaign.Status.CLOSED


def test_warnings_are_pure_and_follow_the_facts():
    base = dict(
        status="draft", n_options=4, n_categories=3, quotas=(), threshold="90%", phases=2,
        phases_without_dates=(), n_units=3, unit_kinds=("单位",) * 3, n_groups=2,
        n_representatives=10,
        composition_warnings=(), n_codes=10, n_slip_jobs=1, n_ranges=0,
        paper_expected=False, n_valid=0,
    )
    assert warnings_for(Facts(**base), "open") == []  # type: ignore[arg-type]
    paper = Facts(**{**base, "paper_expected": True, "composition_warnings": ("x",)})  # type: ignore[arg-type]
    found = warnings_for(paper, "open")
    assert any("编号段" in w for w in found) and any("x" in w for w in found)


def test_create_from_preset_lands_on_its_checklist(client, office):
    client.force_login(office)
    home = client.get(reverse("home")).content.decode()
    assert reverse("campaign_new") in home
    form = client.get(reverse("campaign_new")).content.decode()
    # What each preset contains: scale, quotas, dimensions, phases, rules in words.
    for text in ("基本满意", "地方管理部门类", "依法行政", "宣传发动", "末位单位先认定"):
        assert text in form
    response = client.post(
        reverse("campaign_new"),
        {"preset": "zhengfeng", "name": "2027年政风行风评议", "slug": "zf-2027", "year": 2027},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("campaign_detail", args=["zf-2027"])
    c = Campaign.objects.get(slug="zf-2027")
    assert list(c.categories.values_list("name", flat=True)) == ["政府部门及其它机构", "公共服务行业"]
    assert c.office is not None and c.office.members.filter(pk=office.pk).exists()
    assert "工作清单" in client.get(response["Location"]).content.decode()
    # The preview left nothing behind.
    assert Campaign.objects.count() == 1


def test_slug_new_is_refused(client, office):
    client.force_login(office)
    response = client.post(
        reverse("campaign_new"), {"preset": "qianren", "name": "x", "slug": "new", "year": 2027}
    )
    assert response.status_code == 200 and not Campaign.objects.exists()


@pytest.mark.parametrize("who", ["leader", "clerk"])
def test_leader_and_clerk_cannot_start_end_or_create(client, request, qianren, who):
    add_units(qianren, {"地方管理部门类": ["甲局"]})
    client.force_login(request.getfixturevalue(who))
    assert client.post(status_url(qianren, "open"), {"confirm": "True"}).status_code == 403
    assert client.get(reverse("campaign_new")).status_code == 403
    assert client.post(
        reverse("campaign_new"), {"preset": "qianren", "name": "x", "slug": "x1", "year": 2027}
    ).status_code == 403
    qianren.refresh_from_db()
    assert qianren.status == Campaign.Status.DRAFT
    assert not Campaign.objects.filter(slug="x1").exists()
    if who == "leader":
        page = detail(client, qianren)
        assert "工作清单" in page and status_url(qianren, "open") not in page
        assert reverse("campaign_new") not in client.get(reverse("home")).content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_checklist_fits_a_phone_and_the_desktop(live_server, browser, office, qianren):  # noqa: F811
    add_units(qianren, {"地方管理部门类": ["甲局"]})
    for width in (1280, 360):
        page = logged_in(browser, live_server, office, width=width)
        page.goto(f"{live_server.url}{reverse('campaign_detail', args=[qianren.slug])}")
        assert page.locator("#checklist > li").count() == 9
        # Nothing wider than the screen: no sideways scrolling on a phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"workspace-checklist-{width}", full_page=True)
        page.context.close()


def test_the_units_step_counts_leaders_as_leaders(client, office, campaign_factory):
    from campaigns.models import CampaignUnit, Unit

    c = campaign_factory("liangping")
    categories = {x.name: x for x in c.categories.all()}
    team = Unit.objects.create(name="某局领导班子", kind="领导班子")
    CampaignUnit.objects.create(campaign=c, unit=team, name=team.name,
                                category=categories["领导班子"])
    for name in ("甲", "乙"):
        unit = Unit.objects.create(name=name, kind="领导干部", parent=team)
        CampaignUnit.objects.create(campaign=c, unit=unit, name=name,
                                    category=categories["领导干部"])
    client.force_login(office)
    page = client.get(reverse("campaign_detail", args=[c.slug])).content.decode()
    step = page.split('data-step="units"')[1].split("</li>")[0]
    assert "共 2 名领导干部、1 个领导班子" in step and "个单位" not in step
    assert "评议对象数" in page and "单位数" not in page
