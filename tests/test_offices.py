"""Issue 16: offices and access. A user sees only their office's campaigns on every staff
page (404, not 403, for another office's), unless granted all offices; superusers see all."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Permission
from django.http import Http404
from django.urls import reverse

from campaigns.access import campaign_for, visible_campaigns
from campaigns.models import Campaign, Office
from campaigns.services import campaign_clone_for_next_year, campaign_create_from_preset
from tests.conftest import default_office, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def other(campaign_factory):
    """A campaign of another office (B); the role fixtures are members of office A."""
    office_b = Office.objects.create(name="另一县评议办公室")
    return campaign_factory("qianren", slug="b-qianren", name="B县千人评议", office=office_b)


def staff_urls(slug: str) -> list[str]:
    c = [slug]
    return [
        reverse("results", args=c),
        reverse("unit_results", args=[slug, 1]),
        reverse("report_start", args=c),
        reverse("results_publish", args=c),
        reverse("results_unpublish", args=c),
        reverse("codes", args=c),
        reverse("codes_generate", args=c),
        reverse("codes_download", args=c),
        reverse("codes_slips", args=c),
        reverse("code_attempts", args=c),
        reverse("code_change", args=[slug, uuid.uuid4(), "revoke"]),
        reverse("representatives", args=c),
        reverse("paper_entry", args=c),
        reverse("paper_serial_check", args=c),
        reverse("paper_disputes", args=c),
        reverse("paper_dispute", args=[slug, 1]),
        reverse("paper_print", args=c),
        reverse("paper_reprint", args=[slug, 1]),
        reverse("reconciliation", args=c),
        reverse("paper_ballots", args=c),
        reverse("ballot_import", args=c),
        reverse("ballot_import_undo", args=[slug, 1]),
    ]


def superuser():
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root", "root@example.org", "pw-root")


def test_office_staff_get_404_on_every_staff_page_of_another_office(client, office, other):
    client.force_login(office)
    for url in staff_urls(other.slug):
        statuses = {client.get(url).status_code, client.post(url).status_code}
        # 404 for the method the page takes; 405 only for the method it refuses outright.
        assert 404 in statuses and statuses <= {404, 405}, (url, statuses)


@pytest.mark.parametrize("role", ["clerk", "leader", "auditor"])
def test_other_roles_get_404_on_another_offices_pages(client, request, role, other):
    client.force_login(request.getfixturevalue(role))
    for url in (reverse("results", args=[other.slug]), reverse("paper_entry", args=[other.slug]),
                reverse("codes_download", args=[other.slug])):
        assert client.get(url).status_code in (403, 404), url
    # Where the role has the permission, the other office's page is a 404.
    own = {"clerk": "paper_entry", "leader": "results", "auditor": "results"}[role]
    assert client.get(reverse(own, args=[other.slug])).status_code == 404


def test_own_office_pages_still_open(client, office, qianren, other):
    client.force_login(office)
    for name in ("results", "codes", "paper_entry", "reconciliation", "ballot_import"):
        assert client.get(reverse(name, args=[qianren.slug])).status_code == 200, name


def test_home_lists_only_the_users_offices_campaigns(client, office, qianren, other):
    client.force_login(office)
    page = client.get(reverse("home")).content.decode()
    assert qianren.name in page
    assert other.name not in page


def test_granted_all_offices_sees_both(client, leader, qianren, other):
    leader.user_permissions.add(Permission.objects.get(codename="access_all_offices"))
    leader = type(leader).objects.get(pk=leader.pk)  # fresh permission cache
    page = (client.force_login(leader), client.get(reverse("home")))[1].content.decode()
    assert qianren.name in page and other.name in page
    assert client.get(reverse("results", args=[other.slug])).status_code == 200
    assert set(visible_campaigns(leader)) == {qianren, other}


def test_superuser_sees_both(client, qianren, other):
    root = superuser()
    client.force_login(root)
    page = client.get(reverse("home")).content.decode()
    assert qianren.name in page and other.name in page
    assert client.get(reverse("results", args=[other.slug])).status_code == 200


def test_campaign_without_office_is_hidden_from_office_members(client, office, qianren):
    Campaign.objects.filter(pk=qianren.pk).update(office=None)
    client.force_login(office)
    assert qianren.name not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("results", args=[qianren.slug])).status_code == 404
    with pytest.raises(Http404):
        campaign_for(office, qianren.slug)
    assert campaign_for(superuser(), qianren.slug) == qianren


def test_anonymous_sees_nothing_on_staff_lookups(qianren):
    from django.contrib.auth.models import AnonymousUser

    assert not visible_campaigns(AnonymousUser()).exists()


def test_public_home_still_lists_published_campaigns(client, other):
    Campaign.objects.filter(pk=other.pk).update(status=Campaign.Status.PUBLISHED)
    assert other.name in client.get(reverse("home")).content.decode()


def test_new_campaigns_get_an_office_and_clones_keep_it(other):
    office_b = other.office
    made = campaign_create_from_preset(preset="qianren", slug="b-2027", name="B 2027", year=2027,
                                       office=office_b)
    assert made.office == office_b
    # The previous campaign is the same office's, never another office's.
    assert made.previous == other
    a = campaign_create_from_preset(preset="qianren", slug="a-2027", name="A 2027", year=2027,
                                    office=default_office())
    assert a.previous is None
    clone = campaign_clone_for_next_year(source=made, slug="b-2028")
    assert clone.office == office_b


def test_admin_preset_view_gives_the_users_only_office(client, office):
    client.force_login(office)
    response = client.post(reverse("admin:campaigns_campaign_preset"), {
        "preset": "qianren", "name": "新活动", "slug": "new-2026", "year": 2026})
    assert response.status_code == 302, response.content.decode()[:1000]
    assert Campaign.objects.get(slug="new-2026").office == default_office()


def test_admin_preset_view_offers_a_choice_with_several_offices(client, office):
    second = Office.objects.create(name="第二评议办公室")
    second.members.add(office)
    client.force_login(office)
    assert "第二评议办公室" in client.get(reverse("admin:campaigns_campaign_preset")).content.decode()
    response = client.post(reverse("admin:campaigns_campaign_preset"), {
        "preset": "qianren", "name": "新活动", "slug": "new-2026", "year": 2026,
        "office": second.pk})
    assert response.status_code == 302, response.content.decode()[:1000]
    assert Campaign.objects.get(slug="new-2026").office == second


def test_admin_hides_other_offices_campaigns(client, office, qianren, other):
    client.force_login(office)
    listing = client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert qianren.name in listing and other.name not in listing
    change = reverse("admin:campaigns_campaign_change", args=[other.pk])
    assert client.get(change).status_code in (302, 404)
    clone = reverse("admin:campaigns_campaign_clone", args=[other.pk])
    assert client.get(clone).status_code == 404


def test_office_staff_cannot_join_another_office_in_the_admin(client, office, other):
    client.force_login(office)
    change = reverse("admin:campaigns_office_change", args=[other.office.pk])
    client.post(change, {"name": other.office.name, "members": [office.pk]})
    assert not other.office.members.filter(pk=office.pk).exists()


def test_user_without_role_is_in_no_office(db):
    assert not make_user("nobody", None).offices.exists()


def test_admin_lists_of_ballots_and_collection_rows_hide_other_offices(
    client, office, auditor, qianren, other
):
    """Ballots, printed ranges, keyed entries, import batches, representatives and wrong-code
    records of another office's campaign are neither listed nor named in the filters."""
    from ballots.models import Ballot, CodeAttempt, KeyedEntry, PrintedRange
    from ballots.paper.keying import entry_key
    from ballots.paper.ranges import range_create
    from ballots.services import ballot_create
    from campaigns.models import ImportBatch, Representative
    from tests.helpers import add_units

    for camp, serial in ((qianren, "000001"), (other, "000009")):
        add_units(camp, {"地方管理部门类": [f"{camp.slug}-甲局"]})
        range_create(campaign=camp, first=1, last=10, width=6)
        ballot_create(campaign=camp, source="paper", serial=serial, answers=[])
        ImportBatch.objects.create(campaign=camp, kind="ballots", filename=f"{camp.slug}.xlsx",
                                   sha256=camp.slug)
        Representative.objects.create(campaign=camp, group=camp.groups.first(),
                                      name=f"{camp.slug}-代表")
        CodeAttempt.objects.create(campaign=camp, client=f"10.0.0.{camp.pk}", reason="unknown")
    clerk_b = make_user("clerk-b", None)
    clerk_b.user_permissions.add(Permission.objects.get(codename="key_paper_ballots"))
    other.office.members.add(clerk_b)
    entry_key(campaign=other, clerk=clerk_b, serial="000005", keys=" ")
    assert KeyedEntry.objects.filter(campaign=other).exists()
    for user in (office, auditor):
        client.force_login(user)
        for model in (Ballot, PrintedRange, KeyedEntry, ImportBatch, Representative, CodeAttempt):
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            page = client.get(url)
            if page.status_code == 403:
                continue  # this role may not list this model at all
            html = page.content.decode()
            assert other.name not in html and other.slug not in html, (user, url)
            assert not any(str(pk) in html for pk in model.objects.filter(
                campaign=other).values_list("pk", flat=True) if len(str(pk)) > 6), (user, url)
