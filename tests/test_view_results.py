"""The results page, the unit page and report downloads: who sees what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ballots.models import Ballot
from campaigns.models import CampaignUnit
from core.models import BackgroundJob
from tests.results_fixtures import results_campaign, tally_data  # noqa: F401


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def do(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return do


def test_leader_sees_every_category_rank_and_flag(client, leader, results_campaign):  # noqa: F811
    client.force_login(leader)
    page = client.get(reverse("results", args=["golden"])).content.decode()
    data = tally_data("golden")
    for cat in data["categories"]:
        assert cat["name"] in page
        for u in cat["units"]:
            assert u["unit"] in page
    assert (
        page.count('class="flag flag-winner"')
        == sum("winner" in u["flags"] for c in data["categories"] for u in c["units"]) + 1
    )  # + the heading of the winners' list
    assert "<svg" in page and "重点整改线 90%" in page  # the charts, with the 90% line
    assert "得分 = Σ(各等次分值 × 该等次票数)" in page  # the rules in words


@pytest.mark.parametrize("who", ["clerk", "outsider"])
def test_clerks_and_strangers_see_no_results(client, who, request, results_campaign):  # noqa: F811
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("results", args=["golden"])).status_code == 403
    unit = CampaignUnit.objects.filter(campaign=results_campaign).first()
    assert client.get(reverse("unit_results", args=["golden", unit.pk])).status_code == 403
    r = client.post(reverse("report_start", args=["golden"]), {"format": "pdf"})
    assert r.status_code == 403 and not BackgroundJob.objects.exists()


def test_anonymous_visitors_are_sent_to_login(client, results_campaign):  # noqa: F811
    r = client.get(reverse("results", args=["golden"]))
    assert r.status_code == 302 and reverse("login") in r.url


def test_filter_by_channel_counts_only_those_ballots(client, leader, results_campaign):  # noqa: F811
    valid = Ballot.objects.filter(status="valid").exclude(channel="")
    sizes = {
        c: valid.filter(channel=c).count() for c in set(valid.values_list("channel", flat=True))
    }
    assert len(sizes) >= 2
    channel = max(sizes, key=lambda c: (sizes[c], c))  # a channel large enough to stand alone
    client.force_login(leader)
    page = client.get(reverse("results", args=["golden"]), {"channel": channel})
    assert page.status_code == 200
    assert page.context["tally"].filters.channel == channel
    first = page.context["tables"][0].rows[0]
    assert sum(first.counts) + first.result.blank + first.result.spoiled == sizes[channel]
    assert "当前只统计所选范围内的选票" in page.content.decode()


def test_a_small_channel_is_neither_offered_nor_filtered(client, leader, results_campaign):  # noqa: F811
    """Issue 15: a filter on a slice under the campaign's minimum would show a few people's
    votes; it is refused with the reason, and the page shows all ballots."""
    valid = Ballot.objects.filter(status="valid")
    small = "群众监督员评"  # 3 ballots in the golden example
    assert 0 < valid.filter(channel=small).count() < results_campaign.min_cell_ballots
    client.force_login(leader)
    url = reverse("results", args=["golden"])
    offered = [v for v, _label in client.get(url).context["form"].fields["channel"].choices]
    assert small not in offered and "社会随机评" in offered
    page = client.get(url, {"channel": small})
    assert page.status_code == 200 and page.context["tally"].filters.channel is None
    assert "不单独显示" in page.content.decode()
    assert "当前只统计所选范围内的选票" not in page.content.decode()


def test_leader_downloads_a_report_through_a_job(client, leader, results_campaign, post):  # noqa: F811
    client.force_login(leader)
    r = post(reverse("report_start", args=["golden"]), {"format": "xlsx", "comments": "on"})
    job = BackgroundJob.objects.get()
    assert r.status_code == 302 and r.url == reverse("job_page", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "done", job.message
    download = client.get(reverse("job_download", args=[job.pk]))
    body = b"".join(download.streaming_content)
    from urllib.parse import unquote

    assert body[:2] == b"PK" and "评议结果.xlsx" in unquote(download["Content-Disposition"])
    # Another leader cannot fetch someone else's report by its id.
    from core.roles import LEADER
    from tests.conftest import make_user

    client.force_login(make_user("leader2", LEADER))
    assert client.get(reverse("job_download", args=[job.pk])).status_code == 403


def test_unit_page_has_figures_breakdowns_history_and_bare_comments(
    client,
    leader,
    results_campaign,  # noqa: F811
):
    from scoring.tally import tally_campaign

    unit = CampaignUnit.objects.filter(campaign=results_campaign).order_by("id").first()
    client.force_login(leader)
    r = client.get(reverse("unit_results", args=["golden", unit.pk]))
    page = r.content.decode()
    result = tally_campaign(results_campaign).unit(unit.pk)
    assert (
        r.context["u"].rank == result.rank and r.context["counts"][0] == dict(result.counts)["满意"]
    )
    assert "分渠道" in page and "分代表类别" in page
    # The golden example's 3 ballots of 群众监督员评 are merged (issue 15), and said so.
    assert "群众监督员评" not in page and "合并为“其他”" in page
    # Comments: escaped, and nothing from their ballots (serial, channel, group).
    assert "&lt;script&gt;alert(1)&lt;/script&gt;办事效率高" in page and "<script>alert" not in page
    for ballot in Ballot.objects.filter(comments__isnull=False):
        assert ballot.serial not in page
    assert r.context["comments"] == sorted(r.context["comments"])


def test_unit_history_follows_the_registry_not_the_name(client, leader, results_campaign):  # noqa: F811
    from campaigns.services import campaign_clone_for_next_year

    nxt = campaign_clone_for_next_year(source=results_campaign, slug="golden-2027", year=2027)
    unit = CampaignUnit.objects.filter(campaign=nxt).order_by("id").first()
    old_name = unit.name
    unit.name = unit.name + "(更名)"
    unit.save()
    client.force_login(leader)
    r = client.get(reverse("unit_results", args=["golden-2027", unit.pk]))
    history = r.context["history"]
    assert [h["campaign"].slug for h in history] == ["golden"]
    assert history[0]["name"] == old_name and "时称" in r.content.decode()


def _big_channel() -> str:
    valid = Ballot.objects.filter(status="valid").exclude(channel="")
    sizes = {
        c: valid.filter(channel=c).count() for c in set(valid.values_list("channel", flat=True))
    }
    return max(sizes, key=lambda c: (sizes[c], c))


def test_a_filtered_ranking_shows_the_whole_campaigns_flags(client, leader, results_campaign):  # noqa: F811
    """Issue 16: a slice's own 优胜/末位 would read as a verdict. Figures come from the slice,
    every flag (table, charts, lists) from the tally of all ballots."""
    from scoring.tally import Filters, tally_campaign

    channel = _big_channel()
    whole = tally_campaign(results_campaign)
    alone = tally_campaign(results_campaign, Filters(channel=channel))
    whole_flags = {u.unit.key: u.flags for c in whole.result.categories for u in c.units}
    own_flags = {u.unit.key: u.flags for c in alone.result.categories for u in c.units}
    assert own_flags != whole_flags  # the slice alone would flag other units
    client.force_login(leader)
    page = client.get(reverse("results", args=["golden"]), {"channel": channel})
    shown = {
        r.result.unit.key: r.result.flags for table in page.context["tables"] for r in table.rows
    }
    assert shown == whole_flags
    scores = {u.unit.key: u.score for c in alone.result.categories for u in c.units}
    assert {r.result.unit.key: r.result.score for t in page.context["tables"] for r in t.rows} == (
        scores
    )  # the figures stay the slice's
    html = page.content.decode()
    assert "认定(全部选票)" in html
    winners = sum("winner" in f for f in whole_flags.values())
    assert html.count('class="flag flag-winner"') == winners + 1  # + the list's heading


def test_filtered_summary_counts_follow_the_filter_and_say_so(client, leader, results_campaign):  # noqa: F811
    channel = _big_channel()
    client.force_login(leader)
    page = client.get(reverse("results", args=["golden"]), {"channel": channel})
    summary = dict(page.context["summary"])
    ballots = Ballot.objects.filter(campaign=results_campaign, channel=channel)
    assert summary["选票总数"] == ballots.count() < Ballot.objects.count()
    assert summary["有效票"] == ballots.filter(status="valid").count()
    assert f"以下为筛选后的统计:渠道={channel}" in page.content.decode()
    unfiltered = client.get(reverse("results", args=["golden"]))
    assert dict(unfiltered.context["summary"])["选票总数"] == Ballot.objects.count()
    assert "以下为筛选后的统计" not in unfiltered.content.decode()
