"""Keyed entry of paper ballots (issue 5): single and double entry, disagreement and its
resolution, duplicate and out-of-range serials, and the refusal to close."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from ballots.models import Ballot, KeyedEntry
from ballots.paper.cells import PaperError
from ballots.paper.disputes import close_blockers, dispute_resolve, entry_discard
from ballots.paper.keying import entry_key, serial_check
from ballots.paper.ranges import range_create
from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from core.models import AuditLog
from tests.helpers import add_units, votes_of

UNITS = ("甲局", "乙局", "丙行")


@pytest.fixture
def camp(qianren, office):
    """千人评议: 满意/基本满意/不满意/弃权 (keys 1–4), blank means 弃权; three units."""
    add_units(qianren, {"地方管理部门类": UNITS[:2], "金融部门类": UNITS[2:]})
    campaign_set_status(campaign=qianren, status=Campaign.Status.OPEN, user=office)
    range_create(
        campaign=qianren, first=1, last=100, channel="社会随机评", district="城区片", user=office
    )
    qianren.refresh_from_db()
    return qianren


def votes(ballot):
    """unit name -> option label, "spoiled" or "blank"."""
    return {unit: label or kind for unit, label, kind in votes_of(ballot)}


def test_single_entry_makes_the_ballot_at_once(camp, clerk):
    camp.double_entry = False
    camp.save()
    r = entry_key(campaign=camp, clerk=clerk, serial="7", keys="19 ", comments="好")
    assert r.ballot is not None and r.entry.status == "agreed" and r.entry.ballot == r.ballot
    b = r.ballot
    assert (b.source, b.serial, b.status) == ("paper", "000007", "valid")
    # The range's channel and district go onto the ballot.
    assert (b.channel, b.district) == ("社会随机评", "城区片")
    # 1 = first option, 9 = several marks, space = blank (弃权 in 千人评议).
    assert votes(b) == {"甲局": "满意", "乙局": "spoiled", "丙行": "弃权"}
    assert b.comments.get().text == "好"


def test_double_entry_needs_a_second_clerk_and_then_agrees(camp, clerk, clerk2):
    r1 = entry_key(campaign=camp, clerk=clerk, serial="000012", keys=[1, 2, 3])
    assert r1.ballot is None and r1.entry.status == "pending"
    assert not Ballot.objects.exists()
    assert "等待另一位录入员" in r1.message
    with pytest.raises(PaperError) as exc:
        entry_key(campaign=camp, clerk=clerk, serial="12", keys="123")
    assert exc.value.code == "same_clerk"
    assert KeyedEntry.objects.count() == 1
    r2 = entry_key(campaign=camp, clerk=clerk2, serial="12", keys="123")
    assert r2.ballot is not None and r2.entry.pass_no == 2
    assert set(KeyedEntry.objects.values_list("status", flat=True)) == {"agreed"}
    assert set(KeyedEntry.objects.values_list("ballot", flat=True)) == {r2.ballot.pk}
    assert votes(r2.ballot) == {"甲局": "满意", "乙局": "基本满意", "丙行": "不满意"}
    assert Ballot.objects.count() == 1


def test_disagreement_goes_to_a_supervisor_who_decides(camp, clerk, clerk2, office):
    entry_key(campaign=camp, clerk=clerk, serial="5", keys="123")
    r2 = entry_key(campaign=camp, clerk=clerk2, serial="5", keys="133")
    assert r2.ballot is None and r2.entry.status == "disputed"
    # The second clerk is told they differ, not what the first pass said.
    assert "不一致" in r2.message and "2" not in r2.message.replace("000005", "")
    assert not Ballot.objects.exists()
    # Nobody keys this serial again until it is decided.
    with pytest.raises(PaperError) as exc:
        entry_key(campaign=camp, clerk=office, serial="5", keys="123")
    assert exc.value.code == "disputed"
    with pytest.raises(PaperError):
        dispute_resolve(entry=r2.entry, keys="123", user=clerk)  # clerks cannot decide
    ballot = dispute_resolve(entry=r2.entry, keys="103", user=office, reason="看原件")
    assert votes(ballot) == {"甲局": "满意", "乙局": "弃权", "丙行": "不满意"}
    assert set(KeyedEntry.objects.values_list("status", flat=True)) == {"resolved"}
    log = AuditLog.objects.get(action="paper_dispute_resolve")
    assert log.reason == "看原件" and log.username == "office"
    assert log.before["pass1"] == {"clerk": "clerk", "answers": [1, 2, 3]}
    assert log.before["pass2"]["answers"] == [1, 3, 3] and log.after["answers"] == [1, 0, 3]
    with pytest.raises(PaperError):  # decided once only
        dispute_resolve(entry=r2.entry, keys="123", user=office)
    assert Ballot.objects.count() == 1


def test_a_supervisor_who_keyed_the_paper_cannot_decide_it(camp, clerk, office):
    entry_key(campaign=camp, clerk=office, serial="5", keys="123")
    r2 = entry_key(campaign=camp, clerk=clerk, serial="5", keys="321")
    with pytest.raises(PaperError, match="裁决人不能是录入"):
        dispute_resolve(entry=r2.entry, keys="123", user=office)
    assert not Ballot.objects.exists()


def test_a_serial_keyed_again_is_a_photocopy_and_both_become_duplicates(camp, clerk, clerk2):
    entry_key(campaign=camp, clerk=clerk, serial="9", keys="111")
    first = entry_key(campaign=camp, clerk=clerk2, serial="9", keys="111").ballot
    assert first.status == "valid"
    again = entry_key(campaign=camp, clerk=clerk2, serial="9", keys="222", confirm_copy=True)
    assert again.entry.copy_no == 2 and again.entry.pass_no == 1
    assert any("已有选票" in w for w in again.warnings)
    second = entry_key(campaign=camp, clerk=clerk, serial="9", keys="222", confirm_copy=True)
    assert second.ballot is not None and any("编号重复" in w for w in second.warnings)
    assert sorted(Ballot.objects.values_list("invalid_reason", flat=True)) == [
        "duplicate_serial",
        "duplicate_serial",
    ]


def test_single_entry_duplicate_warns_at_once(camp, clerk):
    camp.double_entry = False
    camp.save()
    entry_key(campaign=camp, clerk=clerk, serial="3", keys="111")
    r = entry_key(campaign=camp, clerk=clerk, serial="3", keys="111", confirm_copy=True)
    assert r.ballot.invalid_reason == "duplicate_serial"
    assert len(r.warnings) == 1 and "编号重复" in r.warnings[0]


def test_out_of_range_serial_is_refused_unless_a_supervisor_allows_it(camp, clerk, office):
    for serial in ("101", "AB12"):
        with pytest.raises(PaperError) as exc:
            entry_key(campaign=camp, clerk=clerk, serial=serial, keys="111")
        assert exc.value.code == "out_of_range" and "000001–000100" in str(exc.value)
    with pytest.raises(PaperError) as exc:
        entry_key(campaign=camp, clerk=clerk, serial="101", keys="111", allow_out_of_range=True)
    assert exc.value.code == "forbidden"
    assert not KeyedEntry.objects.exists()
    r = entry_key(campaign=camp, clerk=office, serial="101", keys="111", allow_out_of_range=True)
    assert r.entry.serial == "000101"
    assert AuditLog.objects.get(action="paper_out_of_range_allowed").username == "office"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("12", "应录入 3 个单位,实际 2 个"),
        ("1234", "应录入 3 个单位,实际 4 个"),
        ("157", "第 2 行(乙局):“5”不是有效按键"),
        ("1x1", "第 2 行(乙局):“x”不是有效按键"),
    ],
)
def test_bad_keys_name_the_row_and_save_nothing(camp, clerk, keys, message):
    with pytest.raises(PaperError, match=re.escape(message)):
        entry_key(campaign=camp, clerk=clerk, serial="1", keys=keys)
    assert not KeyedEntry.objects.exists()


def test_an_all_blank_paper_is_a_blank_ballot(camp, clerk, clerk2):
    entry_key(campaign=camp, clerk=clerk, serial="4", keys="000")
    r = entry_key(campaign=camp, clerk=clerk2, serial="4", keys="   ")
    assert r.ballot.invalid_reason == "blank_ballot"
    assert any("空白票" in w for w in r.warnings)


def test_campaign_cannot_close_while_entries_are_unverified_or_disputed(
    camp, clerk, clerk2, office
):
    entry_key(campaign=camp, clerk=clerk, serial="1", keys="111")
    entry_key(campaign=camp, clerk=clerk, serial="2", keys="111")
    entry_key(campaign=camp, clerk=clerk2, serial="2", keys="112")
    assert close_blockers(camp) == [
        "有 1 张纸质选票只录入了一遍,尚未核对(编号 000001)",
        "有 1 张纸质选票两遍录入不一致,等待主管裁决(编号 000002)",
    ]
    with pytest.raises(ValidationError) as exc:
        campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED, user=office)
    assert "只录入了一遍" in str(exc.value) and "等待主管裁决" in str(exc.value)
    camp.refresh_from_db()
    assert camp.status == "open"
    entry_key(campaign=camp, clerk=clerk2, serial="1", keys="111")
    disputed = KeyedEntry.objects.filter(serial="000002").first()
    dispute_resolve(entry=disputed, keys="111", user=office)
    assert close_blockers(camp) == []
    campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED, user=office)
    with pytest.raises(PaperError, match="已结束"):
        entry_key(campaign=camp, clerk=clerk, serial="3", keys="111")


def test_a_supervisor_voids_an_open_entry_with_a_reason(camp, clerk, office):
    r = entry_key(campaign=camp, clerk=clerk, serial="8", keys="111")
    with pytest.raises(PaperError, match="原因"):
        entry_discard(entry=r.entry, user=office, reason=" ")
    with pytest.raises(PaperError):
        entry_discard(entry=r.entry, user=clerk, reason="编号看错")
    assert entry_discard(entry=r.entry, user=office, reason="编号看错") == 1
    assert close_blockers(camp) == []
    assert AuditLog.objects.get(action="paper_entry_discard").reason == "编号看错"
    # The serial can be keyed afresh, by the same clerk, as the first pass.
    again = entry_key(campaign=camp, clerk=clerk, serial="8", keys="222")
    assert (again.entry.copy_no, again.entry.pass_no) == (1, 1)


def test_one_pass_per_paper_is_guarded_by_the_database(camp, clerk, clerk2):
    from django.db import IntegrityError, transaction

    e = entry_key(campaign=camp, clerk=clerk, serial="6", keys="111").entry
    with pytest.raises(IntegrityError), transaction.atomic():
        KeyedEntry.objects.create(
            campaign=camp, serial=e.serial, copy_no=1, pass_no=1, clerk=clerk2, answers=[1, 1, 1]
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        # An agreed entry without its ballot cannot exist.
        KeyedEntry.objects.filter(pk=e.pk).update(status="agreed")


def test_ranges_cannot_overlap(camp, office):
    with pytest.raises(PaperError, match="000001–000100"):
        range_create(campaign=camp, first=100, last=200, user=office)
    with pytest.raises(PaperError, match="超过 6 位数"):
        range_create(campaign=camp, first=101, last=1_000_000, user=office)
    r = range_create(campaign=camp, first=101, last=200, district="开发区片", user=office)
    assert r.count == 100 and r.label() == "000101–000200"
    assert AuditLog.objects.filter(action="paper_range_create").count() == 2


# --- Issue 16: a counted serial is keyed again only when confirmed; the typed serial is checked


def _count(camp, a, b, serial, keys):
    entry_key(campaign=camp, clerk=a, serial=serial, keys=keys)
    return entry_key(campaign=camp, clerk=b, serial=serial, keys=keys).ballot


def test_a_counted_serial_is_refused_without_the_copy_confirmation(camp, clerk, clerk2):
    genuine = _count(camp, clerk, clerk2, "9", "111")
    with pytest.raises(PaperError) as exc:
        entry_key(campaign=camp, clerk=clerk, serial="9", keys="222")
    assert exc.value.code == "counted" and exc.value.field == "serial"
    assert "编号 000009 已有一张计入的选票" in str(exc.value)
    assert "两张都将作无效" in str(exc.value)
    # Nothing saved: the genuine ballot stays valid.
    assert KeyedEntry.objects.count() == 2 and Ballot.objects.count() == 1
    genuine.refresh_from_db()
    assert genuine.status == "valid"
    assert not AuditLog.objects.filter(action="paper_copy_confirmed").exists()


def test_both_passes_of_a_copy_must_confirm_and_are_audited(camp, clerk, clerk2):
    _count(camp, clerk, clerk2, "9", "111")
    first = entry_key(campaign=camp, clerk=clerk, serial="9", keys="222", confirm_copy=True)
    assert (first.entry.copy_no, first.entry.pass_no) == (2, 1)
    # The second clerk may hold the genuine paper by mistake: they confirm too.
    with pytest.raises(PaperError) as exc:
        entry_key(campaign=camp, clerk=clerk2, serial="9", keys="222")
    assert exc.value.code == "counted"
    second = entry_key(campaign=camp, clerk=clerk2, serial="9", keys="222", confirm_copy=True)
    assert second.ballot is not None
    assert set(Ballot.objects.values_list("invalid_reason", flat=True)) == {"duplicate_serial"}
    logs = AuditLog.objects.filter(action="paper_copy_confirmed").order_by("id")
    assert [(log.username, log.after["pass_no"], log.after["copy_no"]) for log in logs] == [
        ("clerk", 1, 2),
        ("clerk2", 2, 2),
    ]
    assert logs[0].after["serial"] == "000009"


def test_single_entry_copy_needs_the_confirmation_too(camp, clerk):
    camp.double_entry = False
    camp.save()
    entry_key(campaign=camp, clerk=clerk, serial="3", keys="111")
    with pytest.raises(PaperError, match="已有一张计入的选票"):
        entry_key(campaign=camp, clerk=clerk, serial="3", keys="111")
    assert Ballot.objects.get().status == "valid"
    r = entry_key(campaign=camp, clerk=clerk, serial="3", keys="111", confirm_copy=True)
    assert r.ballot.invalid_reason == "duplicate_serial"


def _issues(camp, user, serial):
    check = serial_check(campaign=camp, clerk=user, serial=serial)
    return check.serial, [(i.code, i.choices) for i in check.issues], check


def test_serial_check_says_what_keying_would_meet(camp, clerk, clerk2, office):
    assert _issues(camp, clerk, "12")[:2] == ("000012", [])
    # Out of every printed range: only a supervisor is offered to allow it.
    serial, issues, check = _issues(camp, clerk, "101")
    assert (serial, issues) == ("000101", [("out_of_range", [])])
    assert "不在已印制的编号段内" in check.issues[0].message
    assert _issues(camp, office, "101")[1] == [("out_of_range", ["allow_out_of_range"])]
    # Keyed once by this clerk; another clerk learns nothing of it (blind entry).
    entry_key(campaign=camp, clerk=clerk, serial="5", keys="123")
    assert _issues(camp, clerk, "5")[1] == [("same_clerk", [])]
    assert _issues(camp, clerk2, "5")[1] == []
    # In dispute.
    entry_key(campaign=camp, clerk=clerk2, serial="5", keys="321")
    serial, issues, check = _issues(camp, office, "000005")
    assert issues == [("disputed", [])] and "等待主管裁决" in check.issues[0].message
    # Already counted: the choice is to confirm a copy.
    _count(camp, clerk, clerk2, "6", "111")
    serial, issues, check = _issues(camp, clerk, "6")
    assert issues == [("counted", ["confirm_copy"])]
    assert check.issues[0].message == (
        "编号 000006 已有一张计入的选票。如确为另一张同编号的问卷(复印件),继续录入后两张都将作无效。"
    )
    # An empty serial is one issue of its own; nothing is saved by a check.
    assert _issues(camp, clerk, " ")[1] == [("serial", [])]
    assert KeyedEntry.objects.count() == 4
