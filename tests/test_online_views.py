"""The representative's pages: code entry (POST and QR link), the wrong-code limit with its
CodeAttempt records, the ballot page, submitting, the receipt, and double submission."""

from __future__ import annotations

import re

import pytest
from django.http import Http404
from django.urls import reverse

from ballots.models import AccessCode, Ballot, CodeAttempt, Comment
from ballots.online.codes import receipt_of, voted_on
from campaigns.models import Campaign
from tests.test_online_submit import one_code, open_campaign


@pytest.fixture
def camp(campaign_factory):
    return open_campaign(campaign_factory)


def enter(client, camp, code):
    return client.post(reverse("vote_enter_campaign", args=[camp.slug]), {"code": code})


def ballot_data(camp, code, *, label="满意", skip=0, **extra):
    option = camp.options.get(label=label)
    units = list(camp.units.order_by("order"))
    data = {f"u{u.pk}": option.pk for u in units[skip:]}
    data.update(code=code, **extra)
    return data


def test_code_entry_moves_the_code_into_a_cookie_and_out_of_urls(client, camp):
    code = one_code(camp)
    r = enter(client, camp, code.code.lower().replace("-", " "))
    assert r.status_code == 302 and r.url == reverse("vote_ballot", args=[camp.slug])
    assert code.code not in r.url
    page = client.get(r.url).content.decode()
    assert "甲局" in page and "丙局" in page


def test_any_campaign_entry_finds_the_campaign_by_code(client, camp):
    code = one_code(camp)
    r = client.post(reverse("vote_enter"), {"code": code.code})
    assert r.status_code == 302 and r.url == reverse("vote_ballot", args=[camp.slug])


def test_qr_link_redirects_at_once_to_a_code_free_address(client, camp):
    code = one_code(camp)
    r = client.get(reverse("vote_enter_campaign", args=[camp.slug]), {"c": code.code})
    assert r.status_code == 302 and r.url == reverse("vote_ballot", args=[camp.slug])
    # A wrong code in a link is not answered with a page either: the address would keep it.
    r = client.get(reverse("vote_enter_campaign", args=[camp.slug]), {"c": "AAAA-AAAA-AAAA-AAAA"})
    assert r.status_code == 302 and "?" not in r.url
    assert "评议码不正确" in client.get(r.url).content.decode()


def test_a_qr_link_while_limited_is_still_redirected_off_the_code(client, camp, settings):
    """A limited client following a QR link gets its answer at an address without the code,
    and no page whose links (the language form's `next`) carry it: the wait for a wrong code,
    the ballot for a right one."""
    settings.PINGYI_CODE_ATTEMPTS_PER_WINDOW = 1
    client.post(reverse("vote_enter_campaign", args=[camp.slug]), {"code": "AAAA-AAAA-AAAA-AAAA"})
    link = reverse("vote_enter_campaign", args=[camp.slug])
    r = client.get(link, {"c": "AAAA-AAAA-AAAA-AAAB"})
    assert r.status_code == 302 and "?" not in r.url
    page = client.get(r.url).content.decode()
    assert "分钟后再试" in page and "AAAB" not in page
    code = one_code(camp)
    r = client.get(link, {"c": code.code})
    assert r.status_code == 302 and r.url == reverse("vote_ballot", args=[camp.slug])


def test_wrong_code_gets_one_clear_message_and_is_recorded(client, camp):
    r = enter(client, camp, "AAAA-AAAA-AAAA-AAAA")
    assert r.status_code == 200
    assert "评议码不正确,请核对后重新输入" in r.content.decode()
    r = enter(client, camp, "0000")
    assert "格式不正确" in r.content.decode()
    reasons = sorted(CodeAttempt.objects.values_list("reason", flat=True))
    assert reasons == ["malformed", "unknown"]
    assert CodeAttempt.objects.filter(client="127.0.0.1", campaign=camp).count() == 2


def test_revoked_code_is_refused(client, camp):
    code = one_code(camp)
    AccessCode.objects.filter(pk=code.pk).update(status="revoked")
    r = enter(client, camp, code.code)
    assert r.status_code == 200 and "已作废" in r.content.decode()


def test_closed_campaign_refuses_a_valid_code_without_counting_it(client, camp):
    code = one_code(camp)
    Campaign.objects.filter(pk=camp.pk).update(status="closed")
    r = enter(client, camp, code.code)
    assert r.status_code == 200 and "已经结束" in r.content.decode()
    assert not CodeAttempt.objects.exists()


def test_too_many_wrong_codes_get_a_wait_per_client(client, camp, settings):
    settings.PINGYI_CODE_ATTEMPTS_PER_WINDOW = 3
    settings.PINGYI_CODE_WINDOW_SECONDS = 600
    code = one_code(camp)
    for _ in range(3):
        assert enter(client, camp, "AAAA-AAAA-AAAA-AAAA").status_code == 200
    r = enter(client, camp, "AAAA-AAAA-AAAA-AAAB")
    assert r.status_code == 429
    assert re.search(r"请稍候 10 分钟再试", r.content.decode())
    assert r["Retry-After"] == "600"
    # Over the limit the count stops: guessing on adds no rows.
    assert CodeAttempt.objects.count() == 3
    # A right code is still accepted from the same address: one guesser behind a hall's
    # shared address does not lock the hall out.
    r = enter(client, camp, code.code)
    assert r.status_code == 302 and r.url == reverse("vote_ballot", args=[camp.slug])
    # Another address (another hall) is not affected at all.
    r = client.post(
        reverse("vote_enter_campaign", args=[camp.slug]),
        {"code": "AAAA-AAAA-AAAA-AAAA"},
        REMOTE_ADDR="10.0.0.9",
    )
    assert r.status_code == 200


def test_limit_uses_the_proxys_forwarded_address_only_behind_the_local_proxy(
    client, camp, settings
):
    settings.PINGYI_CODE_ATTEMPTS_PER_WINDOW = 1
    enter_url = reverse("vote_enter_campaign", args=[camp.slug])
    client.post(enter_url, {"code": "AAAA-AAAA-AAAA-AAAA"}, HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert CodeAttempt.objects.get().client == "1.2.3.4"
    # Not from the proxy: a forged header does not pick a fresh address.
    client.post(
        enter_url,
        {"code": "AAAA-AAAA-AAAA-AAAA"},
        REMOTE_ADDR="5.6.7.8",
        HTTP_X_FORWARDED_FOR="9.9.9.9",
    )
    assert CodeAttempt.objects.filter(client="5.6.7.8").count() == 1
    r = client.post(
        enter_url,
        {"code": "AAAA-AAAA-AAAA-AAAA"},
        REMOTE_ADDR="5.6.7.8",
        HTTP_X_FORWARDED_FOR="10.10.10.10",
    )
    assert r.status_code == 429


def test_ballot_page_needs_a_code(client, camp):
    r = client.get(reverse("vote_ballot", args=[camp.slug]))
    assert r.status_code == 302 and r.url == reverse("vote_enter_campaign", args=[camp.slug])


def test_ballot_page_groups_units_and_explains_the_scale(client, camp):
    code = one_code(camp)
    enter(client, camp, code.code)
    page = client.get(reverse("vote_ballot", args=[camp.slug])).content.decode()
    assert page.count('<fieldset class="category">') == 1
    assert '<legend class="category-name">地方管理部门类</legend>' in page
    for label in ("满意", "基本满意", "不满意", "弃权"):
        assert f"<span>{label}</span>" in page
    assert camp.scale_explanation and camp.scale_explanation.split(";")[0] in page
    assert "匿名评议" in page and "记名评议" not in page
    assert page.count('<details class="comment"') == 3
    assert 'name="general"' in page
    # Nothing loaded from elsewhere. (Not `"cdn" not in page`: the page carries random
    # tokens and the code itself, which can spell "cdn" by chance; that failed once.)
    assert "js/ballot.js" in page
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)


def test_named_campaign_says_so_on_the_ballot(client, campaign_factory):
    camp = open_campaign(campaign_factory, anonymous=False)
    code = one_code(camp)
    enter(client, camp, code.code)
    page = client.get(reverse("vote_ballot", args=[camp.slug])).content.decode()
    assert "记名评议" in page and "关联保存" in page


def test_dimensions_are_columns(client, campaign_factory):
    camp = open_campaign(campaign_factory, preset="wanren")
    code = one_code(camp)
    enter(client, camp, code.code)
    page = client.get(reverse("vote_ballot", args=[camp.slug])).content.decode()
    assert page.count('class="choice dim"') == 3 * 5
    assert '<legend class="dim-name">教育管理' in page


def sessions_holding(text: str) -> int:
    from django.contrib.sessions.models import Session

    return sum(text in str(s.get_decoded()) for s in Session.objects.all())


def test_submit_shows_the_receipt_after_commit(client, camp):
    code = one_code(camp)
    enter(client, camp, code.code)
    # The entered code waits in a signed cookie in the browser, never in a session row.
    assert sessions_holding(code.code) == 0
    assert "pingyi_code" in client.cookies
    unit = camp.units.first()
    data = ballot_data(camp, code.code, **{f"c{unit.pk}": "<script>x</script>", "general": "好"})
    r = client.post(reverse("vote_ballot", args=[camp.slug]), data)
    assert r.status_code == 303 and r.url == reverse("vote_receipt", args=[camp.slug])
    code.refresh_from_db()
    assert voted_on(code) is not None
    assert client.cookies["pingyi_code"].value == ""  # forgotten once the ballot is in
    page = client.get(r.url).content.decode()
    assert receipt_of(code) in page and "提交成功" in page
    assert code.code not in page
    assert Comment.objects.filter(text="<script>x</script>").exists()
    # No session row keeps the code (or the receipt) on the server once the ballot is in.
    assert sessions_holding(code.code) == 0 and sessions_holding(receipt_of(code)) == 0


def test_double_submit_and_back_button_give_the_same_receipt(client, camp):
    code = one_code(camp)
    enter(client, camp, code.code)
    url = reverse("vote_ballot", args=[camp.slug])
    r1 = client.post(url, ballot_data(camp, code.code))
    first = client.get(r1.url).content.decode()
    # Back button: the page is re-posted from the browser's copy (the code rides in the body).
    r2 = client.post(url, ballot_data(camp, code.code, label="不满意"))
    assert r2.status_code == 303
    second = client.get(r2.url).content.decode()
    code.refresh_from_db()
    assert receipt_of(code) in first and receipt_of(code) in second
    assert "已经提交过" in second
    assert Ballot.objects.filter(campaign=camp).count() == 1
    # Entering the used code again shows the receipt too, without a new ballot.
    other = client.__class__()
    r3 = enter(other, camp, code.code)
    assert r3.url == reverse("vote_receipt", args=[camp.slug])
    assert receipt_of(code) in other.get(r3.url).content.decode()


def test_blanks_need_confirmation_and_then_count_as_abstention(client, camp):
    code = one_code(camp)
    enter(client, camp, code.code)
    url = reverse("vote_ballot", args=[camp.slug])
    r = client.post(url, ballot_data(camp, code.code, skip=1))
    page = r.content.decode()
    assert r.status_code == 200 and "还有 1 个单位没有评价,提交后将按“弃权”计" in page
    assert 'name="blanks_ok"' in page and 'type="checkbox"' in page
    assert not Ballot.objects.exists()
    # The answers given are kept on the re-rendered page.
    assert page.count("checked") == 2
    r = client.post(url, ballot_data(camp, code.code, skip=1, blanks_ok="on"))
    assert r.status_code == 303
    ballot = Ballot.objects.get()
    abstain = camp.options.get(label="弃权")
    assert sum(1 for v in ballot.votes() if v.option_id == abstain.pk) == 1


def test_an_empty_ballot_is_not_submitted(client, camp):
    code = one_code(camp)
    enter(client, camp, code.code)
    r = client.post(
        reverse("vote_ballot", args=[camp.slug]), {"code": code.code, "blanks_ok": "on"}
    )
    assert r.status_code == 200 and "您还没有评价任何单位" in r.content.decode()
    assert not Ballot.objects.exists()


def test_an_option_of_another_campaign_is_refused_naming_the_unit(client, camp, campaign_factory):
    other = open_campaign(campaign_factory, units=["丁局"])
    code = one_code(camp)
    enter(client, camp, code.code)
    data = ballot_data(camp, code.code)
    first = camp.units.order_by("order").first()
    data[f"u{first.pk}"] = other.options.first().pk
    r = client.post(reverse("vote_ballot", args=[camp.slug]), data)
    assert r.status_code == 200 and "“甲局”的选项无效" in r.content.decode()
    assert not Ballot.objects.exists()


def test_guessing_through_the_ballot_post_is_limited_and_recorded(client, camp, settings):
    settings.PINGYI_CODE_ATTEMPTS_PER_WINDOW = 2
    url = reverse("vote_ballot", args=[camp.slug])
    for _ in range(2):
        r = client.post(url, ballot_data(camp, "AAAA-AAAA-AAAA-AAAB"))
        assert r.status_code == 302
    assert CodeAttempt.objects.filter(reason="unknown").count() == 2
    r = client.post(url, ballot_data(camp, "AAAA-AAAA-AAAA-AAAC"))
    assert r.status_code == 429 and not Ballot.objects.exists()
    # A right code posted straight to the ballot from the limited address still votes.
    code = one_code(camp)
    r = client.post(url, ballot_data(camp, code.code))
    assert r.status_code == 303 and Ballot.objects.count() == 1


def test_ballot_post_needs_csrf(camp):
    from django.test import Client

    code = one_code(camp)
    c = Client(enforce_csrf_checks=True)
    r = c.post(reverse("vote_ballot", args=[camp.slug]), ballot_data(camp, code.code))
    assert r.status_code == 403 and not Ballot.objects.exists()


def test_closing_while_the_page_is_open_refuses_the_ballot(client, camp):
    code = one_code(camp)
    enter(client, camp, code.code)
    Campaign.objects.filter(pk=camp.pk).update(status="closed")
    r = client.post(reverse("vote_ballot", args=[camp.slug]), ballot_data(camp, code.code))
    assert r.status_code == 302
    assert "未开放" in client.get(r.url).content.decode()
    assert not Ballot.objects.exists() and not CodeAttempt.objects.exists()


def test_one_round_trip_reads_what_the_separate_reads_read(campaign_factory):
    """The submission reads the campaign, its ballot's lists and the client's recent wrong
    codes in one query on PostgreSQL (views_online._ballot_reads); it must give what the
    separate reads give (the ORM's campaign, BallotItems.of, attempt_wait_minutes' count),
    with orders that are not id orders, dimensions, a second campaign, and other clients."""
    from django.db.models import F

    from ballots.online import views as views_online
    from ballots.online.forms import BallotItems
    from campaigns.models import CampaignUnit, Dimension, Unit

    camp = open_campaign(campaign_factory, units=["乙二", "乙一"])
    last = camp.categories.order_by("order").last()
    CampaignUnit.objects.create(
        campaign=camp, category=last, name="甲一", order=0, unit=Unit.objects.create(name="甲一")
    )
    other = open_campaign(campaign_factory, units=["丁一"])
    # categories, units, options: orders that run against their ids
    for related in (camp.categories, camp.units, camp.options):
        related.update(order=100 - F("order"))
    Dimension.objects.create(campaign=camp, name="工作效率", order=2)
    Dimension.objects.create(campaign=camp, name="服务态度", order=1)
    for client, n in (("10.0.0.7", 3), ("10.0.0.8", 1)):
        for _ in range(n):
            CodeAttempt.objects.create(client=client, campaign=camp, reason="unknown")

    campaign, items, recent = views_online._ballot_reads(camp.slug, "10.0.0.7")
    fresh = Campaign.objects.get(pk=camp.pk)
    fields = [f.attname for f in Campaign._meta.concrete_fields]
    assert [getattr(campaign, f) for f in fields] == [getattr(fresh, f) for f in fields]
    assert items == BallotItems.of(fresh)
    assert [d.name for d in items.dimensions] == ["服务态度", "工作效率"]
    assert len(items.units) == 3 and len(items.options) == fresh.options.count()
    assert recent == 3
    assert views_online._ballot_reads(other.slug, "10.0.0.9")[2] == 0
    with pytest.raises(Http404):
        views_online._ballot_reads("no-such-campaign", "10.0.0.7")
