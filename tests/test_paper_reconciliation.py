"""Reconciliation of paper ballots (issue 5): per printed range, outside every range and in
total; imported ballots take part; returned = valid + invalid always holds."""

from __future__ import annotations

import pytest

from ballots.intake.imports import ballots_import
from ballots.models import Ballot
from ballots.paper.disputes import dispute_resolve
from ballots.paper.keying import entry_key
from ballots.paper.ranges import range_create
from ballots.paper.reconciliation import reconciliation
from ballots.services import Answer, ballot_create, ballot_invalidate
from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from tests.helpers import add_units, xlsx_file

UNITS = ("甲局", "乙局", "丙行")


@pytest.fixture
def camp(qianren, office):
    add_units(qianren, {"地方管理部门类": UNITS[:2], "金融部门类": UNITS[2:]})
    campaign_set_status(campaign=qianren, status=Campaign.Status.OPEN, user=office)
    qianren.refresh_from_db()
    return qianren


def key_twice(camp, a, b, serial, keys):
    entry_key(campaign=camp, clerk=a, serial=serial, keys=keys)
    return entry_key(campaign=camp, clerk=b, serial=serial, keys=keys).ballot


@pytest.fixture
def filled(camp, office, clerk, clerk2, tmp_path):
    """Two printed ranges and a mix of everything that can happen to a paper."""
    range_create(campaign=camp, first=1, last=50, channel="社会随机评", user=office)
    range_create(
        campaign=camp, first=51, last=100, channel="下级单位评", district="开发区片", user=office
    )
    key_twice(camp, clerk, clerk2, "1", "111")  # duplicated by the import below
    key_twice(camp, clerk, clerk2, "2", "000")  # blank ballot
    entry_key(campaign=camp, clerk=clerk, serial="3", keys="111")  # keyed once
    entry_key(campaign=camp, clerk=clerk, serial="4", keys="111")
    entry_key(campaign=camp, clerk=clerk2, serial="4", keys="112")  # in dispute
    photocopy = key_twice(camp, clerk, clerk2, "5", "222")
    ballot_invalidate(ballot=photocopy, reason="复印件", user=office)
    key_twice(camp, clerk, clerk2, "6", "123")  # valid
    # A disagreement decided by the supervisor is verified too.
    entry_key(campaign=camp, clerk=clerk, serial="7", keys="111")
    r = entry_key(campaign=camp, clerk=clerk2, serial="7", keys="211")
    dispute_resolve(entry=r.entry, keys="111", user=office)
    # The office switches to single entry for the rest.
    Campaign.objects.filter(pk=camp.pk).update(double_entry=False)
    camp.refresh_from_db()
    entry_key(campaign=camp, clerk=clerk, serial="61", keys="333")
    entry_key(campaign=camp, clerk=office, serial="999", keys="333", allow_out_of_range=True)
    # Keyed elsewhere and imported: one in range B, one duplicating serial 1, one outside.
    path = xlsx_file(
        tmp_path,
        "b.xlsx",
        {
            "评议表": [
                ("编号", *UNITS),
                ("000070", "满意", "满意", "满意"),
                ("000001", "不满意", None, None),
                ("000500", "满意", None, None),
            ]
        },
    )
    ballots_import(campaign=camp, file=path, filename="b.xlsx")
    # Online ballots are not paper: they take no part.
    ballot_create(
        campaign=camp,
        source="online",
        answers=[Answer(camp.units.first().pk, None, camp.options.first().pk)],
    )
    return camp


def test_rows_per_range_outside_and_total(filled):
    rec = reconciliation(filled)
    a, b, outside = rec.rows
    assert (a.label, a.channel, a.issued) == ("000001–000050", "社会随机评", 50)
    assert (b.label, b.district, b.issued) == ("000051–000100", "开发区片", 50)
    assert outside.label == "范围外" and outside.issued == 0 and outside.not_back is None

    def figures(row):
        return (
            row.returned,
            row.keyed_once,
            row.in_dispute,
            row.verified,
            row.single,
            row.imported,
            row.valid,
            row.invalid,
        )

    # A: 1 (keyed) + 1 (imported duplicate), 2 blank, 5 photocopy, 6 and 7 valid.
    assert figures(a) == (6, 1, 1, 5, 0, 1, 2, 4)
    assert a.invalid_by_reason == {"blank_ballot": 1, "duplicate_serial": 2, "manual": 1}
    assert a.not_back == 50 - 6 - 1 - 1
    assert figures(b) == (2, 0, 0, 0, 1, 1, 2, 0)
    assert figures(outside) == (2, 0, 0, 0, 1, 1, 2, 0)
    assert figures(rec.total) == (10, 1, 1, 5, 2, 3, 6, 4)
    assert rec.total.issued == 100 and rec.total.not_back == 100 - 10 - 2
    assert rec.total.invalid_by_reason == {"blank_ballot": 1, "duplicate_serial": 2, "manual": 1}


def test_returned_is_valid_plus_invalid_everywhere(filled):
    rec = reconciliation(filled)
    assert rec.balanced
    for row in [*rec.rows, rec.total]:
        assert row.returned == row.valid + row.invalid
        assert row.invalid == sum(row.invalid_by_reason.values())
    # And the total agrees with the ballots themselves.
    paper = Ballot.objects.filter(campaign=filled, source="paper")
    assert rec.total.returned == paper.count()
    assert rec.total.valid == paper.filter(status="valid").count()


def test_entry_mode_is_stated(filled, camp):
    assert reconciliation(filled).entry_mode == "双人录入 5 张,单人录入 2 张"
    data = reconciliation(filled).as_json()
    assert data["total"]["returned"] == 10 and data["rows"][2]["label"] == "范围外"


def test_empty_campaign_reconciles_to_zero(camp):
    rec = reconciliation(camp)
    assert [r.label for r in rec.rows] == ["范围外"]
    assert rec.total.returned == 0 and rec.balanced
    assert rec.entry_mode.startswith("双人录入")


def test_table_for_the_reports(filled):
    from ballots.paper.reconciliation import reconciliation_table

    table = reconciliation_table(filled)
    assert table["header"][:4] == ["编号段", "发放", "回收", "仅录一遍"]
    # The spec's order of reasons (section 2), as the tally and the import summary list them.
    assert table["header"][-3:] == ["人工认定无效", "编号重复(复印)", "空白票"]
    labels = [row[0] for row in table["rows"]]
    assert labels == [
        "000001–000050 社会随机评",
        "000051–000100 下级单位评 开发区片",
        "范围外",
        "合计",
    ]
    total = dict(zip(table["header"], table["rows"][-1], strict=True))
    assert (total["发放"], total["回收"], total["有效"], total["无效"]) == (100, 10, 6, 4)
    assert table["rows"][2][1] == "—"  # nothing is issued outside the ranges
    assert table["entry_mode"] == "双人录入 5 张,单人录入 2 张"


def test_no_table_without_paper(camp):
    from ballots.paper.reconciliation import reconciliation_table

    assert reconciliation_table(camp) is None


def test_sql_counts_place_every_serial_as_ranges_find_does(camp, office):
    """The reconciliation counts in SQL (_paper_counts); each awkward serial must land in the
    range that Ranges.find gives it in Python: leading zeros, the edges of ranges, gaps,
    letters, full-width digits, zero, and more digits than any range holds."""
    from ballots.paper.ranges import Ranges
    from ballots.sql import paper_counts as _paper_counts

    range_create(campaign=camp, first=1, last=50, user=office)
    range_create(campaign=camp, first=100, last=199, width=3, user=office)
    range_create(campaign=camp, first=1000, last=1000, user=office)
    serials = [
        "1", "000050", "51", "99", "0100", "199", "200", "999", "1000", "001000", "1001",
        "0", "000", "A12", "12A", "１２", "0000000000000000000000000012",
        "99999999999999999999", "4294967296", " 7", "7.0", "-3",
    ]  # fmt: skip
    unit = camp.units.first().pk
    option = camp.options.first().pk
    for serial in serials:
        ballot_create(
            campaign=camp, source="paper", serial=serial, answers=[Answer(unit, None, option)]
        )
    ranges = Ranges(camp)
    expected: dict[int | None, int] = {}
    for serial in serials:
        found = ranges.find(serial)
        key = found.pk if found is not None else None
        expected[key] = expected.get(key, 0) + 1
    counted: dict[int | None, int] = {}
    for range_id, *_rest, n in _paper_counts(camp):
        counted[range_id] = counted.get(range_id, 0) + n
    assert counted == expected
    assert sum(counted.values()) == len(serials)
    # and the edges did land inside: 1, 50 and 12 behind 26 zeros; 100 and 199; 1000 twice
    assert [counted[r.pk] for r in ranges.ranges] == [3, 2, 2]
