"""The paper-ballot pages (issue 5): keying screen (JSON and plain form posts), blind second
entry, the supervisor's side-by-side dispute page, discarding, reconciliation, invalidation,
and who may do what."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from ballots.models import Ballot, KeyedEntry
from ballots.paper.keying import entry_key
from ballots.paper.ranges import range_create
from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from core.models import AuditLog
from tests.helpers import add_units

UNITS = ("甲局", "乙局", "<b>丙行</b>")


@pytest.fixture
def camp(qianren, office):
    add_units(qianren, {"地方管理部门类": UNITS[:2], "金融部门类": UNITS[2:]})
    campaign_set_status(campaign=qianren, status=Campaign.Status.OPEN, user=office)
    range_create(campaign=qianren, first=1, last=500, channel="社会随机评", user=office)
    qianren.refresh_from_db()
    return qianren


def key(client, camp, serial, keys, **extra):
    return client.post(
        reverse("paper_entry", args=[camp.slug]),
        {"serial": serial, "keys": keys, **extra},
        HTTP_ACCEPT="application/json",
    )


def test_screen_lists_units_by_category_with_the_keys(client, clerk, camp):
    client.force_login(clerk)
    page = client.get(reverse("paper_entry", args=[camp.slug])).content.decode()
    assert page.index("地方管理部门类") < page.index("甲局") < page.index("金融部门类")
    assert "<kbd>1</kbd></dt><dd>满意</dd>" in page and "<kbd>4</kbd></dt><dd>弃权</dd>" in page
    assert "多选(废)" in page and "js/keying.js" in page
    assert "&lt;b&gt;丙行&lt;/b&gt;" in page and "<b>丙行</b>" not in page
    assert 'data-n="3"' in page and 'data-options="4"' in page
    # Only supervisors get the out-of-range override.
    assert "allow_out_of_range" not in page


def test_json_save_pass_one_then_blind_pass_two(client, clerk, clerk2, camp):
    client.force_login(clerk)
    r = key(client, camp, "12", "123", comments="窗口态度差")
    assert r.status_code == 200
    data = r.json()
    assert data["ok"] and data["serial"] == "000012" and data["status"] == "pending"
    # The second clerk's screen carries nothing of the first pass.
    other = Client()
    other.force_login(clerk2)
    page = other.get(reverse("paper_entry", args=[camp.slug])).content.decode()
    assert "000012" not in page and "窗口态度差" not in page
    data = key(other, camp, "000012", "123").json()
    assert data["ok"] and data["status"] == "agreed" and "已计入选票" in data["message"]
    assert "answers" not in data
    assert Ballot.objects.get().serial == "000012"


def test_json_errors_name_the_field_and_code(client, clerk, office, camp):
    client.force_login(clerk)
    r = key(client, camp, "9999", "123")
    assert r.status_code == 400
    assert r.json()["code"] == "out_of_range" and r.json()["field"] == "serial"
    r = key(client, camp, "1", "12")
    assert r.status_code == 400 and "应录入 3 个单位" in r.json()["error"]
    r = key(client, camp, "", "123")
    assert r.status_code == 400 and r.json()["field"] == "serial"
    key(client, camp, "1", "123")
    r = key(client, camp, "1", "123")
    assert r.status_code == 409 and r.json()["code"] == "same_clerk"
    # A clerk ticking the supervisor's box is refused.
    r = key(client, camp, "9999", "123", allow_out_of_range="on")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert KeyedEntry.objects.count() == 1
    sup = Client()
    sup.force_login(office)
    assert (
        "allow_out_of_range" in sup.get(reverse("paper_entry", args=[camp.slug])).content.decode()
    )
    r = key(sup, camp, "9999", "123", allow_out_of_range="on")
    assert r.json()["ok"] and KeyedEntry.objects.count() == 2


def test_duplicate_serial_is_a_warning_in_the_answer(client, clerk, camp):
    camp.double_entry = False
    camp.save()
    client.force_login(clerk)
    key(client, camp, "7", "111")
    data = key(client, camp, "7", "222", confirm_copy="on").json()
    assert data["ok"] and any("编号重复" in w for w in data["warnings"])
    assert set(Ballot.objects.values_list("invalid_reason", flat=True)) == {"duplicate_serial"}


def test_plain_form_post_without_script(client, clerk, camp):
    client.force_login(clerk)
    url = reverse("paper_entry", args=[camp.slug])
    r = client.post(url, {"serial": "3", "keys": "12 "})
    assert r.status_code == 302 and r.url == url
    assert KeyedEntry.objects.get().answers == [1, 2, 0]
    page = client.get(url).content.decode()
    assert "000003 第一遍已保存" in page
    r = client.post(url, {"serial": "4", "keys": "1"})
    page = r.content.decode()
    assert r.status_code == 200 and "应录入 3 个单位,实际 1 个" in page
    assert 'value="4"' in page  # what was typed is kept


def test_keying_needs_csrf(clerk, camp):
    c = Client(enforce_csrf_checks=True)
    c.force_login(clerk)
    r = key(c, camp, "1", "111")
    assert r.status_code == 403 and not KeyedEntry.objects.exists()


@pytest.mark.parametrize("who", ["leader", "auditor", "outsider"])
def test_only_clerks_and_office_key(client, camp, who, request):
    client.force_login(request.getfixturevalue(who))
    url = reverse("paper_entry", args=[camp.slug])
    assert client.get(url).status_code == 403
    assert key(client, camp, "1", "111").status_code == 403
    assert not KeyedEntry.objects.exists()


def test_anonymous_user_is_sent_to_login(client, camp):
    r = client.get(reverse("paper_entry", args=[camp.slug]))
    assert r.status_code == 302 and "/accounts/login/" in r.url


@pytest.fixture
def disputed(camp, clerk, clerk2):
    entry_key(campaign=camp, clerk=clerk, serial="5", keys="123", comments="<i>好</i>")
    return entry_key(campaign=camp, clerk=clerk2, serial="5", keys="133").entry


def test_supervisor_sees_both_passes_side_by_side_and_decides(client, office, camp, disputed):
    client.force_login(office)
    listing = client.get(reverse("paper_disputes", args=[camp.slug])).content.decode()
    assert "000005" in listing and "1 处" in listing and "等待主管裁决" in listing
    url = reverse("paper_dispute", args=[camp.slug, disputed.pk])
    page = client.get(url).content.decode()
    assert "clerk2" in page and "基本满意" in page and "不满意" in page
    assert page.count("table-warning") == 1  # one differing row, highlighted
    assert "&lt;i&gt;好&lt;/i&gt;" in page
    # Without a choice on the differing row nothing is decided.
    r = client.post(url, {"reason": ""})
    assert r.status_code == 200 and "第 2 行需要裁决" in r.content.decode()
    assert not Ballot.objects.exists()
    r = client.post(url, {"cell_1": "2", "reason": "核对原件"})
    assert r.status_code == 302
    ballot = Ballot.objects.get()
    assert set(KeyedEntry.objects.values_list("status", flat=True)) == {"resolved"}
    assert AuditLog.objects.get(action="paper_dispute_resolve").after["answers"] == [1, 2, 3]
    assert ballot.comments.get().text == "<i>好</i>"
    # Decided: the page sends the supervisor back to the list.
    assert client.get(url).status_code == 302


def test_clerks_cannot_see_or_decide_disputes(client, clerk, camp, disputed):
    client.force_login(clerk)
    assert client.get(reverse("paper_disputes", args=[camp.slug])).status_code == 403
    url = reverse("paper_dispute", args=[camp.slug, disputed.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"cell_1": "2"}).status_code == 403
    assert not Ballot.objects.exists()


def test_discard_needs_a_reason(client, office, camp, disputed):
    client.force_login(office)
    url = reverse("paper_entry_discard", args=[camp.slug, disputed.pk])
    client.post(url, {"reason": ""})
    assert KeyedEntry.objects.filter(status="disputed").count() == 2
    client.post(url, {"reason": "第二遍编号录错"})
    assert KeyedEntry.objects.filter(status="superseded").count() == 2


def test_reconciliation_page_for_leaders(client, leader, clerk, camp):
    entry_key(campaign=camp, clerk=clerk, serial="1", keys="111")
    client.force_login(leader)
    url = reverse("reconciliation", args=[camp.slug])
    page = client.get(url).content.decode()
    assert "000001–000500" in page and "社会随机评" in page and "双人录入" in page
    assert "回收 = 有效 + 无效" in page and "只录入了一遍" in page
    data = json.loads(client.get(url, {"format": "json"}).content)
    assert data["total"]["keyed_once"] == 1 and data["rows"][0]["issued"] == 500
    client.force_login(clerk)
    assert client.get(url).status_code == 403


def test_staff_invalidate_a_paper_ballot_with_a_reason(client, office, clerk, camp):
    camp.double_entry = False
    camp.save()
    ballot = entry_key(campaign=camp, clerk=clerk, serial="8", keys="111").ballot
    client.force_login(office)
    search = client.get(reverse("paper_ballots", args=[camp.slug]), {"serial": "8"})
    assert "000008" in search.content.decode() and "认定无效" in search.content.decode()
    url = reverse("paper_ballot_invalidate", args=[camp.slug, ballot.pk])
    client.post(url, {"reason": ""})
    ballot.refresh_from_db()
    assert ballot.status == "valid"
    r = client.post(url, {"reason": "复印件"})
    assert r.status_code == 302 and "serial=000008" in r.url
    ballot.refresh_from_db()
    assert (ballot.status, ballot.invalid_reason, ballot.invalid_note) == (
        "invalid",
        "manual",
        "复印件",
    )
    assert AuditLog.objects.get(action="ballot_invalidate").reason == "复印件"
    client.post(reverse("paper_ballot_restore", args=[camp.slug, ballot.pk]), {"reason": "看错"})
    ballot.refresh_from_db()
    assert ballot.status == "valid"
    client.force_login(clerk)
    assert client.post(url, {"reason": "x"}).status_code == 403


# --- Issue 16: the typed serial is checked at once; a counted serial needs a confirmation


def check(client, camp, serial):
    return client.get(reverse("paper_serial_check", args=[camp.slug]), {"serial": serial})


def test_serial_check_endpoint_answers_each_case(client, clerk, clerk2, office, camp):
    client.force_login(clerk)
    assert check(client, camp, "12").json() == {"ok": True, "serial": "000012", "issues": []}
    data = check(client, camp, "9999").json()
    assert not data["ok"] and data["issues"][0]["code"] == "out_of_range"
    assert "不在已印制的编号段内" in data["issues"][0]["message"]
    assert data["issues"][0]["choices"] == []  # a clerk is not offered the override
    sup = Client()
    sup.force_login(office)
    assert check(sup, camp, "9999").json()["issues"][0]["choices"] == ["allow_out_of_range"]
    key(client, camp, "5", "123")
    assert [i["code"] for i in check(client, camp, "5").json()["issues"]] == ["same_clerk"]
    other = Client()
    other.force_login(clerk2)
    key(other, camp, "5", "321")
    assert [i["code"] for i in check(client, camp, "5").json()["issues"]] == ["disputed"]
    key(client, camp, "6", "111")
    key(other, camp, "6", "111")
    issue = check(client, camp, "6").json()["issues"][0]
    assert issue["code"] == "counted" and issue["choices"] == ["confirm_copy"]
    assert issue["message"].startswith("编号 000006 已有一张计入的选票")
    assert check(client, camp, "").status_code == 400


def test_serial_check_needs_the_keying_permission(client, leader, camp):
    client.force_login(leader)
    assert check(client, camp, "12").status_code == 403
    anonymous = Client()
    assert check(anonymous, camp, "12").status_code == 302


def test_a_counted_serial_is_refused_until_confirmed(client, clerk, camp):
    camp.double_entry = False
    camp.save()
    client.force_login(clerk)
    key(client, camp, "7", "111")
    r = key(client, camp, "7", "222")
    assert r.status_code == 409 and r.json()["code"] == "counted"
    assert "两张都将作无效" in r.json()["error"] and r.json()["field"] == "serial"
    assert Ballot.objects.get().status == "valid"
    data = key(client, camp, "7", "222", confirm_copy="on").json()
    assert data["ok"] and any("编号重复" in w for w in data["warnings"])
    assert AuditLog.objects.get(action="paper_copy_confirmed").after["serial"] == "000007"


def test_plain_form_asks_for_the_copy_confirmation(client, clerk, camp):
    camp.double_entry = False
    camp.save()
    client.force_login(clerk)
    url = reverse("paper_entry", args=[camp.slug])
    page = client.get(url).content.decode()
    assert 'id="k-confirm" hidden' in page
    client.post(url, {"serial": "7", "keys": "111"})
    page = client.post(url, {"serial": "7", "keys": "111"}).content.decode()
    assert "已有一张计入的选票" in page
    assert 'id="k-confirm">' in page and 'name="confirm_copy"' in page
    assert Ballot.objects.count() == 1
    r = client.post(url, {"serial": "7", "keys": "111", "confirm_copy": "on"})
    assert r.status_code == 302 and Ballot.objects.count() == 2
