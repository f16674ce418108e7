"""Wording follows the kind on the ballot side (issue 17): the phone ballot, the keying screen
and the printed ballot of a 两评一树 campaign (one 领导班子, three 领导干部 with posts) count
the subjects by kind and show each leader with the post, never "个单位"; a campaign of units
keeps its wording."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from ballots.online.forms import BallotItems
from ballots.paper.cells import PaperError, parse_keys, rows_of, words_of
from ballots.paper.printing import ballots_pdf
from ballots.paper.ranges import range_create
from campaigns.models import Campaign, CampaignUnit, SubjectKind, Unit
from campaigns.services import campaign_set_status
from tests.helpers import add_units
from tests.test_online_submit import one_code
from tests.test_paper_printing import needs_poppler

TEAM = "市民政局领导班子"
LEADERS = (("张三", "局长"), ("李四", "副局长"), ("王五", "纪检组长"))
COUNT = "共 3 名领导干部、1 个领导班子"


def liangping_subjects(campaign: Campaign) -> None:
    """One team and its three leaders, in the preset's two categories."""
    cats = {c.name: c for c in campaign.categories.all()}
    team = Unit.objects.create(name=TEAM, kind=SubjectKind.TEAM)
    CampaignUnit.objects.create(
        campaign=campaign, category=cats["领导班子"], name=TEAM, order=0, unit=team
    )
    for i, (name, post) in enumerate(LEADERS, start=1):
        person = Unit.objects.create(name=name, kind=SubjectKind.LEADER, parent=team)
        CampaignUnit.objects.create(
            campaign=campaign, category=cats["领导干部"], name=name, order=i, unit=person,
            post=post,
        )


@pytest.fixture
def people(campaign_factory, office):
    camp = campaign_factory("liangping", slug="liangping", name="民政局两评一树测试")
    liangping_subjects(camp)
    campaign_set_status(campaign=camp, status=Campaign.Status.OPEN, user=office)
    range_create(campaign=camp, first=1, last=100, channel="全体干部职工", user=office)
    camp.refresh_from_db()
    return camp


@pytest.fixture
def units(qianren, office):
    add_units(qianren, {"地方管理部门类": ("甲局", "乙局"), "金融部门类": ("丙行",)})
    campaign_set_status(campaign=qianren, status=Campaign.Status.OPEN, user=office)
    range_create(campaign=qianren, first=1, last=100, channel="社会随机评", user=office)
    qianren.refresh_from_db()
    return qianren


def ballot_page(client, camp) -> str:
    code = one_code(camp)
    r = client.post(reverse("vote_enter_campaign", args=[camp.slug]), {"code": code.code})
    assert r.status_code == 302
    return client.get(reverse("vote_ballot", args=[camp.slug])).content.decode()


def pdf_text(camp) -> str:
    pdf = ballots_pdf(camp, ["000007"])
    folder = os.environ.get("PINGYI_SHOTS")
    if folder:  # keep a picture of the first page to look at
        Path(folder).mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", "-",
                        str(Path(folder) / f"wording-print-{camp.slug}")], input=pdf, check=True)
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


# --- the phone ballot --------------------------------------------------------------------


def test_phone_ballot_counts_people_and_shows_their_posts(client, people):
    page = ballot_page(client, people)
    assert COUNT in page
    for name, post in LEADERS:
        assert f"{name}({post})" in page
    assert TEAM in page and f"{TEAM}(" not in page  # a team has no post
    assert "个单位" not in page and "标红的单位" not in page
    assert "还有 {n} 个评议对象没有评价" in page and "您还没有评价任何评议对象。" in page


def test_phone_ballot_confirmation_speaks_of_subjects(client, people):
    code = one_code(people)
    client.post(reverse("vote_enter_campaign", args=[people.slug]), {"code": code.code})
    option = people.options.get(label="满意")
    team = people.units.get(name=TEAM)
    data = {"code": code.code}
    for dim in people.dimensions.all():
        data[f"u{team.pk}_d{dim.pk}"] = option.pk
    page = client.post(reverse("vote_ballot", args=[people.slug]), data).content.decode()
    assert "还有 3 个评议对象没有评价" in page
    assert "未评价的 3 个评议对象" in page and "个单位" not in page
    page = client.post(reverse("vote_ballot", args=[people.slug]), {"code": code.code})
    assert "您还没有评价任何评议对象。" in page.content.decode()


def test_ballot_items_carry_kind_and_post(people):
    items = BallotItems.of(people)
    assert [(u.label, u.kind) for u in items.units] == [
        (TEAM, "领导班子"),
        *((f"{n}({p})", "领导干部") for n, p in LEADERS),
    ]
    assert items.words.count == COUNT and not items.words.plain
    assert items.words.head == "评议对象"


def test_one_round_trip_read_gives_kind_and_post(people, is_postgres):
    """PostgreSQL's one-query ballot read (sql.ballot_page_row) carries kind and post as the
    separate reads do."""
    if not is_postgres:
        pytest.skip("the one-round-trip read is PostgreSQL's")
    from ballots.online import views as views_online

    _campaign, items, _recent = views_online._ballot_reads(people.slug, "10.0.0.9")
    assert items == BallotItems.of(people)
    assert items.units[1].label == "张三(局长)"


def test_unit_campaign_keeps_its_wording(client, units):
    page = ballot_page(client, units)
    assert "共 3 个单位" in page and "还有 {n} 个单位没有评价" in page
    assert "评议对象" not in page


# --- the keying screen -------------------------------------------------------------------


def test_keying_screen_counts_people_and_heads_the_column_by_kind(client, clerk, people):
    client.force_login(clerk)
    page = client.get(reverse("paper_entry", args=[people.slug])).content.decode()
    assert COUNT in page
    assert '<th scope="col">评议对象</th>' in page
    for name, post in LEADERS:
        assert f'data-unit="{name}({post}) · 工作评价"' in page
    assert "被评单位" not in page and "个单位" not in page and "每个单位" not in page
    # Eight rows: four subjects under two dimensions.
    assert 'data-n="8"' in page and "依次输入 8 个按键" in page


def test_keying_screen_of_leaders_only_says_leaders(client, clerk, people):
    people.units.filter(name=TEAM).delete()
    client.force_login(clerk)
    page = client.get(reverse("paper_entry", args=[people.slug])).content.decode()
    assert "共 3 名领导干部" in page and '<th scope="col">领导干部</th>' in page


def test_keying_messages_follow_the_kind(people, units):
    rows = rows_of(people)
    assert words_of(rows).count == COUNT  # each subject once, whatever its dimensions
    with pytest.raises(PaperError, match="应录入 8 项,实际 1 项"):
        parse_keys(people, "1", rows, 4)
    with pytest.raises(PaperError, match=re.escape("张三(局长) · 工作评价")):
        parse_keys(people, "11" + "7" * 6, rows, 4)
    with pytest.raises(PaperError, match="应录入 3 个单位,实际 1 个"):
        parse_keys(units, "1", rows_of(units), 4)


def test_unit_keying_screen_keeps_its_wording(client, clerk, units):
    client.force_login(clerk)
    page = client.get(reverse("paper_entry", args=[units.slug])).content.decode()
    assert '<th scope="col">被评单位</th>' in page and "还有 %d 个单位未录入" in page
    assert "依次输入 3 个单位的按键" in page and "评议对象" not in page


# --- the printed ballot ------------------------------------------------------------------


@needs_poppler
def test_printed_ballot_counts_people_and_shows_their_posts(people):
    text = pdf_text(people)
    flat = "".join(text.split())
    assert "".join(COUNT.split()) in flat
    for name, post in LEADERS:
        assert f"{name}({post})" in flat
    assert "评议对象" in flat and "每个评议对象只选一项" in flat
    assert "被评单位" not in flat and "单位" not in flat


@needs_poppler
def test_printed_unit_ballot_keeps_its_wording(units):
    flat = "".join(pdf_text(units).split())
    assert "被评单位" in flat and "每个单位只选一项" in flat and "评议对象" not in flat
