"""Small-cell suppression (scoring/suppression.py, applied by scoring/tally.py): a district,
group, channel or source of fewer ballots than the campaign's minimum never shows its votes:
not on the unit page, not in the workbook, not through a filter of the results page, and for
no role."""

from __future__ import annotations

import io
from fractions import Fraction

import openpyxl
import pytest
from django.test import override_settings
from django.urls import reverse

from ballots.services import Answer, ballot_create
from campaigns.models import Campaign, RepresentativeGroup
from scoring.engine import UnitResult
from scoring.presentation import breakdown_note, published_breakdown
from scoring.suppression import OTHER, Suppression, merge_map
from scoring.tally import CampaignTally, Filters, SliceTooSmall, tally_campaign
from tests.helpers import add_units

UNITS = ("甲局", "乙局")
# Four districts; 北区 is one representative, who is not satisfied with 甲局.
DISTRICTS = {"东区": 12, "西区": 11, "南区": 10, "北区": 1}


def _ballots(camp, n: int, *, option: str = "满意", **fields) -> None:
    opts = {o.label: o.pk for o in camp.options.all()}
    units = list(camp.units.order_by("order", "id"))
    for _ in range(n):
        answers = [Answer(u.pk, None, opts[option if u.name == "甲局" else "满意"]) for u in units]
        ballot_create(campaign=camp, source="online", answers=answers, **fields)


@pytest.fixture
def camp(qianren):
    add_units(qianren, {"地方管理部门类": UNITS})
    for district, n in DISTRICTS.items():
        _ballots(qianren, n, option="不满意" if district == "北区" else "满意", district=district)
    return qianren


def _unit(camp):
    return camp.units.get(name="甲局")


def _jia(t: CampaignTally, camp) -> UnitResult:
    """甲局's result in a tally (the unit the one-person district rated)."""
    u = t.unit(_unit(camp).pk)
    assert u is not None
    return u


# --- the rule ----------------------------------------------------------------------------


def test_small_slices_merge_into_other_and_other_takes_the_smallest_remaining():
    # 北区 alone in 其他 would be one ballot: 南区, the smallest remaining, joins it.
    assert merge_map(DISTRICTS, 10) == {
        "东区": "东区",
        "西区": "西区",
        "南区": OTHER,
        "北区": OTHER,
    }
    # Enough small ones together need no more.
    assert merge_map({"A": 30, "B": 6, "C": 5}, 10) == {"A": "A", "B": OTHER, "C": OTHER}
    # Ties are broken by label, so the same counts always give the same map.
    assert merge_map({"A": 20, "B": 20, "C": 1}, 10) == {"A": OTHER, "B": "B", "C": OTHER}
    # Nothing small, nothing merged; a minimum of 1 merges nothing.
    assert merge_map({"A": 10, "B": 10}, 10) == {"A": "A", "B": "B"}
    assert merge_map({"A": 1, "B": 2}, 1) == {"A": "A", "B": "B"}


def test_everything_small_is_one_other_and_the_breakdown_is_withheld():
    merge = merge_map({"A": 3, "B": 4}, 10)
    assert merge == {"A": OTHER, "B": OTHER}
    s = Suppression(10, {"district": merge})
    assert s.withheld("district") and s.alone("district") == []


def test_ballots_without_a_value_take_part_since_the_difference_would_show_them():
    # Total minus the rows shown would be the 2 ballots without a district: into 其他 they
    # go, and 其他 then needs the smallest remaining slice as well.
    assert merge_map({"": 2, "A": 30, "B": 31}, 10) == {"": OTHER, "A": OTHER, "B": "B"}
    # Enough of them: they stay out of every row, and nothing else moves.
    assert merge_map({"": 12, "A": 30, "B": 3}, 10) == {"": OTHER, "A": "A", "B": OTHER}
    assert merge_map({"": 30, "A": 30}, 10) == {"": "", "A": "A"}


def test_a_slice_really_called_other_is_read_as_other():
    merge = merge_map({OTHER: 40, "A": 3, "B": 30}, 10)
    assert merge == {OTHER: OTHER, "A": OTHER, "B": "B"}
    # Filtering on the real 其他 would give A away as the difference with the merged row.
    assert Suppression(10, {"district": merge}).alone("district") == ["B"]


def test_a_value_the_maps_do_not_know_is_not_shown_alone():
    # E.g. a ballot counted after the maps were made: not known to be safe alone.
    s = Suppression.of({"district": {"A": 30}}, 10)
    assert s.label("district", "A") == "A"
    assert s.label("district", "新区") == OTHER and s.label("district", None) == OTHER
    assert Suppression.of({"district": {"A": 30, "": 12}}, 10).label("district", None) is None


def test_a_filter_needs_a_slice_that_stands_alone_and_one_attribute_at_a_time():
    s = Suppression.of({"district": DISTRICTS, "channel": {"网上": 30, "现场": 4}}, 10)
    assert s.refusal({"district": "东区"}) is None
    assert s.refusal({"district": "东区", "dimension": None}) is None
    for small in ("北区", "南区", "没有的片区"):
        assert "少于 10 张" in (s.refusal({"district": small}) or "")
    # 现场 is in 其他 and so is 网上 (4 alone would be too few): neither can be chosen.
    assert s.refusal({"channel": "网上"})
    assert "一次只能按其中一项筛选" in (s.refusal({"district": "东区", "group": "服务对象"}) or "")


# --- the tally ----------------------------------------------------------------------------


def test_the_tally_merges_the_one_person_district_and_refuses_its_filter(camp):
    t = tally_campaign(camp, breakdowns=True)
    rows = {b.key: dict(b.counts) for b in _jia(t, camp).by_district}
    assert set(rows) == {"东区", "西区", OTHER}
    assert rows[OTHER]["不满意"] == 1 and rows[OTHER]["满意"] == DISTRICTS["南区"]
    # The unit's own figures are untouched.
    assert dict(_jia(t, camp).counts)["不满意"] == 1
    with pytest.raises(SliceTooSmall, match="北区"):
        tally_campaign(camp, Filters(district="北区"))
    with pytest.raises(ValueError):  # a slice's own breakdowns would cross two attributes
        tally_campaign(camp, Filters(district="东区"), breakdowns=True)


def test_the_minimum_is_the_campaigns_own(camp):
    Campaign.objects.filter(pk=camp.pk).update(min_cell_ballots=1)
    camp.refresh_from_db()
    t = tally_campaign(camp, breakdowns=True)
    assert {b.key for b in _jia(t, camp).by_district} == set(DISTRICTS)
    Campaign.objects.filter(pk=camp.pk).update(min_cell_ballots=20)
    camp.refresh_from_db()
    t = tally_campaign(camp, breakdowns=True)
    assert {b.key for b in _jia(t, camp).by_district} == {OTHER}
    # A breakdown that would be 其他 alone is left out, with the reason.
    assert published_breakdown(t, _jia(t, camp), "district") == []
    assert "不分片区统计" in breakdown_note(t, "district")


def test_the_default_minimum_comes_from_the_settings(campaign_factory):
    assert campaign_factory().min_cell_ballots == 10
    with override_settings(PINGYI_MIN_CELL_BALLOTS=25):
        assert campaign_factory().min_cell_ballots == 25


def test_weighted_groups_keep_their_score_and_merge_their_breakdown(qianren):
    add_units(qianren, {"地方管理部门类": UNITS})
    Campaign.objects.filter(pk=qianren.pk).update(aggregation="mean")
    qianren.refresh_from_db()
    groups = {g.name: g for g in RepresentativeGroup.objects.filter(campaign=qianren)}
    big, small = groups["服务对象"], groups["党政干部和各界代表"]
    RepresentativeGroup.objects.filter(pk=big.pk).update(weight="0.6")
    RepresentativeGroup.objects.filter(pk=small.pk).update(weight="0.4")
    _ballots(qianren, 20, group=big)
    _ballots(qianren, 1, option="不满意", group=small)  # a group of one, weighted 40%
    u = _jia(tally_campaign(qianren, breakdowns=True), qianren)
    # The score still weighs the one ballot as its group: (0.6 × 2 + 0.4 × 0) / 1.
    assert u.score == _jia(tally_campaign(qianren), qianren).score == Fraction(6, 5)
    # Both groups are in 其他 (the small one alone would be one ballot): no group row shows it.
    assert [b.key for b in u.by_group] == [OTHER]
    assert dict(u.by_group[0].counts)["不满意"] == 1


# --- the pages, for every role that reads results ----------------------------------------


@pytest.mark.parametrize("role", ["leader", "auditor", "office"])
def test_no_role_sees_the_one_person_district(client, camp, role, request):
    client.force_login(request.getfixturevalue(role))
    r = client.get(reverse("unit_results", args=[camp.slug, _unit(camp).pk]))
    assert r.status_code == 200
    page = r.content.decode()
    assert "北区" not in page and "南区" not in page
    by_district = next(rows for title, rows, _n in r.context["breakdowns"] if title == "分片区")
    assert [b["key"] for b in by_district] == ["东区", "西区", "其他"]  # 其他 last
    assert by_district[-1]["counts"][2] == 1  # 不满意, among 11 ballots
    assert "合并为“其他”" in page

    results = reverse("results", args=[camp.slug])
    page = client.get(results).content.decode()
    assert "北区" not in page  # not even offered as a filter
    for refused in ({"district": "北区"}, {"district": "南区"}):
        r = client.get(results, refused)
        assert r.context["tally"].filters.district is None
        assert r.context["refusals"] and "不单独显示" in r.content.decode()
        # The page falls back to all ballots.
        jia = next(row for row in r.context["tables"][0].rows if row.name == "甲局")
        assert dict(jia.result.counts)["不满意"] == 1
    r = client.get(results, {"district": "东区"})
    assert r.context["tally"].filters.district == "东区" and not r.context["refusals"]


def test_two_slices_crossed_are_refused(client, leader, camp):
    _ballots(camp, 12, district="东区", channel="网上")
    _ballots(camp, 12, district="西区", channel="现场")
    client.force_login(leader)
    results = reverse("results", args=[camp.slug])
    assert client.get(results, {"channel": "网上"}).context["tally"].filters.channel == "网上"
    r = client.get(results, {"channel": "网上", "district": "东区"})
    assert not r.context["tally"].filters.any()
    assert "一次只能按其中一项筛选" in r.content.decode()


def test_a_source_is_protected_like_a_district(client, leader, camp):
    satisfied = camp.options.get(label="满意").pk
    ballot_create(
        campaign=camp,
        source="paper",
        serial="000001",
        answers=[Answer(u.pk, None, satisfied) for u in camp.units.all()],
    )
    client.force_login(leader)
    results = reverse("results", args=[camp.slug])
    # Online alone would show the one paper ballot as the difference with the total.
    for source in ("paper", "online"):
        r = client.get(results, {"source": source})
        assert r.context["tally"].filters.source is None and r.context["refusals"]


def test_the_workbook_merges_the_same_way(camp):
    from scoring.reports import build_report

    report = build_report(camp, "xlsx", comments=False)
    wb = openpyxl.load_workbook(io.BytesIO(report.data))
    ws = wb["分片区"]
    assert "合并为“其他”" in ws["B1"].value
    header = [c.value for c in ws[2]]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=3, values_only=True)]
    jia = [r for r in rows if r["单位"] == "甲局"]
    assert [r["片区"] for r in jia] == ["东区", "西区", "其他"]
    assert jia[-1]["不满意"] == 1 and jia[-1]["满意"] == DISTRICTS["南区"]
    assert not any(c == "北区" for r in ws.iter_rows(values_only=True) for c in r)


def test_a_pool_minus_its_groups_never_shows_a_small_group():
    """Groups A (15) and B (4) in pool X, C (20) and D (6) in pool Y, minimum 10: the plain
    merge hides B and D (together 10) and shows A and C, but pool X minus A would then be B's
    4 ballots. Within each pool the hidden groups must hold 0 or at least 10 ballots."""
    from scoring.suppression import OTHER, nest_groups

    ballots = {"A": 15, "B": 4, "C": 20, "D": 6}
    pools = {"A": "X", "B": "X", "C": "Y", "D": "Y"}
    plain = Suppression.of({"group": ballots}, 10)
    assert plain.alone("group") == ["A", "C"]
    nested = Suppression.of({"group": ballots}, 10, pools)
    assert nested.alone("group") == []
    assert nested.label("group", "A") == OTHER
    # A pool whose hidden groups already reach the minimum keeps its big group alone.
    roomy = {"A": 15, "B": 12, "C": 20, "D": 6, "E": 5}
    merge = nest_groups(
        Suppression.of({"group": roomy}, 10).merges["group"], roomy,
        {"A": "X", "B": "X", "C": "Y", "D": "Y", "E": "Y"}, 10)
    assert [g for g, p in merge.items() if p != OTHER] == ["A", "B", "C"]


@pytest.mark.django_db
def test_the_tally_nests_a_campaigns_groups_in_their_pools(campaign_factory):
    from scoring.tally import pools_of, suppression_of

    c = campaign_factory("liangping")
    pools = pools_of(c)
    assert pools["服务对象代表"] == "社会评议" and pools["全体干部职工"] == "内部评议"
    assert suppression_of(c).merges["group"] == {}  # no ballots yet: nothing to show
