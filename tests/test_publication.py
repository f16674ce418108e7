"""Publication (公示): only closed campaigns, a fixed public copy with rankings and flags only,
withdrawal and republication audit-logged, and only the office may do it."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from ballots.models import Ballot
from ballots.services import BallotError, ballot_invalidate
from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from core.models import AuditLog
from scoring.models import Publication
from tests.results_fixtures import results_campaign, tally_data  # noqa: F401

NOTICE = {
    "notice_from": date(2026, 12, 1),
    "notice_to": date(2026, 12, 7),
    "objection_phone": "0571-8888 1234",
    "objection_address": "示例市民主评议办公室(示例路 1 号)",
    "objection_email": "pingyi@example.gov.cn",
    "issuer": "示例市民主评议工作领导小组办公室",
}


def close(campaign: Campaign, **notice) -> None:
    """Closed, with the notice a 公示 needs (or what is given instead)."""
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.CLOSED, **(NOTICE | notice)
    )


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
    assert set(pub.data) == {"campaign", "year", "notice", "categories"}
    assert set(pub.data["categories"][0]["units"][0]) == {
        "rank",
        "unit",
        "kind",  # 单位, 领导干部 …: the page's heading, not a figure
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


def test_public_page_reads_as_a_notice_with_period_objections_and_signoff(client, office, results_campaign):  # noqa: F811
    close(results_campaign)
    client.force_login(office)
    client.post(reverse("results_publish", args=["golden"]))
    client.logout()
    page = client.get(reverse("public_results", args=["golden"])).content.decode()
    assert "公示期为2026年12月1日至2026年12月7日" in page
    assert "请于2026年12月7日前" in page
    assert 'href="tel:0571-88881234"' in page and "0571-8888 1234" in page
    assert "示例市民主评议办公室(示例路 1 号)" in page
    assert 'href="mailto:pingyi@example.gov.cn"' in page
    # 落款: the issuer, then the date of publication, after the rankings.
    today = timezone.localdate()
    signoff = f"{today.year}年{today.month}月{today.day}日"
    last_unit = tally_data("golden")["categories"][-1]["units"][-1]["unit"]
    assert page.index(last_unit) < page.index(NOTICE["issuer"]) < page.rindex(signoff)


def test_the_notice_is_fixed_with_the_publication(client, office, results_campaign):  # noqa: F811
    close(results_campaign)
    client.force_login(office)
    client.post(reverse("results_publish", args=["golden"]))
    Campaign.objects.filter(pk=results_campaign.pk).update(objection_phone="110")
    page = client.get(reverse("public_results", args=["golden"])).content.decode()
    assert "0571-8888 1234" in page and "110" not in page


@pytest.mark.parametrize(
    ("notice", "message"),
    [
        ({"notice_from": None}, "请先在评议活动中填写公示期"),
        ({"notice_to": None}, "请先在评议活动中填写公示期"),
        ({"notice_to": date(2026, 11, 30)}, "公示截止日期不能早于开始日期"),
        ({"objection_phone": "", "objection_address": " ", "objection_email": ""}, "异议受理方式"),
        ({"issuer": ""}, "发布单位"),
    ],
)
def test_publishing_is_refused_without_a_complete_notice(client, office, results_campaign, notice, message):  # noqa: F811
    close(results_campaign, **notice)
    client.force_login(office)
    r = client.post(reverse("results_publish", args=["golden"]), follow=True)
    assert message in r.content.decode()
    assert not Publication.objects.exists()
    results_campaign.refresh_from_db()
    assert results_campaign.status == "closed"


def test_one_channel_is_enough(client, office, results_campaign):  # noqa: F811
    close(results_campaign, objection_phone="", objection_address="")
    client.force_login(office)
    client.post(reverse("results_publish", args=["golden"]))
    assert Publication.objects.filter(withdrawn_at__isnull=True).exists()
    page = client.get(reverse("public_results", args=["golden"])).content.decode()
    assert "mailto:" in page and "tel:" not in page


def test_notice_is_edited_in_the_campaign_form_and_cloned_without_its_period(client, office, qianren):
    from campaigns.services import campaign_clone_for_next_year
    from tests.test_campaign_lock import inline_post

    client.force_login(office)
    url = reverse("admin:campaigns_campaign_change", args=[qianren.pk])
    fields = {k: str(v) for k, v in NOTICE.items()}
    r = client.post(url, inline_post(qianren, **fields))
    assert r.status_code == 302, r.content.decode()[:2000]
    qianren.refresh_from_db()
    assert {k: getattr(qianren, k) for k in NOTICE} == NOTICE
    new = campaign_clone_for_next_year(source=qianren, slug="next-year")
    assert new.issuer == NOTICE["issuer"] and new.objection_email == NOTICE["objection_email"]
    assert new.objection_phone == NOTICE["objection_phone"]
    assert new.notice_from is None and new.notice_to is None


def test_a_publication_from_before_notices_still_shows_its_rankings(client, office, results_campaign):  # noqa: F811
    close(results_campaign)
    client.force_login(office)
    client.post(reverse("results_publish", args=["golden"]))
    pub = Publication.objects.get()
    pub.data.pop("notice")
    pub.save(update_fields=["data"])
    page = client.get(reverse("public_results", args=["golden"])).content.decode()
    assert "公示日期:" in page and "异议受理" not in page and NOTICE["issuer"] not in page
    assert pub.data["categories"][0]["units"][0]["unit"] in page


def test_the_results_page_says_what_is_missing_before_the_button_is_pressed(
    client, office, results_campaign  # noqa: F811
):
    close(results_campaign, issuer="", objection_phone="", objection_address="",
          objection_email="")
    client.force_login(office)
    page = client.get(reverse("results", args=["golden"])).content.decode()
    assert 'id="publish-problems"' in page
    button = page[page.index('action="/c/golden/results/publish/"'):]
    assert "disabled" in button[: button.index("</form>")]
    close(results_campaign)
    page = client.get(reverse("results", args=["golden"])).content.decode()
    assert 'id="publish-problems"' not in page
    button = page[page.index('action="/c/golden/results/publish/"'):]
    assert "disabled" not in button[: button.index("</form>")]
