"""recount, the standalone second count: small ballot files built by hand here, figures
worked out by hand in the comments. No Django: recount must run without the project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recount import RecountError, recount
from tests.recount_builders import (
    SCALE,
    ZHENGFENG,
    category,
    config,
    options,
    publish,
    row,
    run_cli,
    unit,
    units_of,
    validity_case,
)


def test_ties_last_place_boundary_and_winners_with_veto(tmp_path: Path) -> None:
    # U1 满意+满意 = 4; U2, U3 满意+基本满意 = 3 (tied); U4, U5 基本满意+不满意 = 1 (tied).
    # Ranks 1, 2, 2, 4, 4. Reverse ranks of U4 and U5 are both 1 ≤ k=1: both last place.
    # Winner quota 1, U1 vetoed: eligible U2, U3; the 1st eligible has rank 2, so both win.
    rec = config(
        [
            unit("u1", "一局", vetoed=True),
            unit("u2", "二局"),
            unit("u3", "三局"),
            unit("u4", "四局"),
            unit("u5", "五局"),
        ],
        categories=[category("c1", "甲类", winners=1, last_place=1)],
        previous_last_place=["u4"],
    )
    rows = [
        row(["满意", "满意", "满意", "基本满意", "基本满意"]),
        row(["满意", "基本满意", "基本满意", "不满意", "不满意"]),
    ]
    publish(tmp_path, rec, rows)
    outcome = recount(tmp_path)
    assert outcome.disagreements == ()
    cat = outcome.result["categories"][0]
    assert (cat["name"], cat["winners"], cat["last_place"]) == ("甲类", 1, 1)
    got = [
        (u["unit"], u["rank"], u["score"], u["satisfaction_rate"], u["flags"]) for u in cat["units"]
    ]
    assert got == [
        ("一局", 1, 4.0, 1.0, ["vetoed"]),
        ("二局", 2, 3.0, 1.0, ["winner"]),
        ("三局", 2, 3.0, 1.0, ["winner"]),
        # rate 1/2 < 0.9, but last place units are not also key_rectification
        ("四局", 4, 1.0, 0.5, ["consecutive_last_place", "last_place"]),
        ("五局", 4, 1.0, 0.5, ["last_place"]),
    ]
    first = cat["units"][0]
    # Only plain 单位 without parents: no kind/parent keys, and the documented key order.
    assert list(first) == [
        "unit",
        "rank",
        "score",
        "satisfaction_rate",
        "counts",
        "blank",
        "spoiled",
        "flags",
        "grade",
    ]
    assert first["counts"] == {"满意": 2, "基本满意": 0, "不满意": 0}
    assert outcome.result["campaign"] == {
        "slug": "t-2026",
        "name": "测试评议",
        "aggregation": "sum",
        "threshold": 0.9,
    }


def test_exact_ties_need_exact_arithmetic(tmp_path: Path) -> None:
    # 0.1+0.1+0.1 is 0.3 on paper (not in floats): U1 and U2 tie on score 0.3, rate 3/4,
    # and best share 0, so they share rank 1 and the last-place rule takes both (k=1).
    scale = [
        ("甲", "0", True, True),
        ("乙", "0.3", True, True),
        ("丙", "0.1", True, True),
        ("丁", "0", True, True),
        ("戊", "0", False, True),
    ]
    rec = config(
        [unit("u1", "A"), unit("u2", "B")],
        options=options(scale),
        categories=[category("c1", "类", 1, 1)],
    )
    rows = [row(["丙", "乙"]), row(["丙", "丁"]), row(["丙", "丁"]), row(["戊", "戊"])]
    publish(tmp_path, rec, rows)
    got = [
        (u["unit"], u["rank"], u["score"], u["flags"])
        for u in recount(tmp_path).result["categories"][0]["units"]
    ]
    assert got == [("A", 1, 0.3, ["last_place"]), ("B", 1, 0.3, ["last_place"])]


# ---- validity -----------------------------------------------------------------------------





def test_validity_reasons_blank_and_spoiled(tmp_path: Path) -> None:
    rec, rows = validity_case()
    publish(tmp_path, rec, rows)
    outcome = recount(tmp_path)
    ballots = outcome.result["ballots"]
    assert ballots == {
        "total": 8,
        "valid": 2,
        "invalid": 6,
        "invalid_reasons": {"manual": 2, "duplicate_serial": 3, "blank_ballot": 1},
    }
    assert list(ballots["invalid_reasons"]) == ["manual", "duplicate_serial", "blank_ballot"]
    # b1, b2, b8 (stated valid, are duplicate_serial) and b3 (stated valid, is blank_ballot)
    assert len(outcome.disagreements) == 4
    units = units_of(outcome.result)
    # Only the two valid ballots count: U1 满意 + a blank, U2 a spoiled cell + 基本满意.
    assert units["一局"]["counts"] == {"满意": 1, "基本满意": 0, "不满意": 0}
    assert (units["一局"]["blank"], units["一局"]["spoiled"], units["一局"]["score"]) == (1, 0, 2.0)
    assert units["二局"]["counts"] == {"满意": 0, "基本满意": 1, "不满意": 0}
    assert (units["二局"]["blank"], units["二局"]["spoiled"], units["二局"]["score"]) == (0, 1, 1.0)


def test_reasons_omit_zero_and_blank_means_ballots(tmp_path: Path) -> None:
    scale = SCALE + [("弃权", "0.5", False, True)]
    rec = config(
        [unit("u1", "一局"), unit("u2", "二局")], options=options(scale), blank_means="弃权"
    )
    rows = [
        # recorded 弃权 everywhere and the file says it was unmarked: blank_ballot
        row(["弃权", "弃权"], status="invalid", reason="blank_ballot"),
        # marked 弃权 everywhere by hand: a valid ballot, 0.5 each
        row(["弃权", "弃权"]),
        # said blank, but has a mark: valid by the rules (reported on stderr)
        row(["满意", "弃权"], status="invalid", reason="blank_ballot"),
    ]
    publish(tmp_path, rec, rows)
    outcome = recount(tmp_path)
    assert outcome.result["ballots"] == {
        "total": 3,
        "valid": 2,
        "invalid": 1,
        "invalid_reasons": {"blank_ballot": 1},
    }
    assert len(outcome.disagreements) == 1
    units = units_of(outcome.result)
    assert units["一局"]["score"] == 2.5  # 满意 2 + 弃权 0.5
    assert units["二局"]["score"] == 1.0  # 弃权 0.5 × 2
    assert units["一局"]["satisfaction_rate"] == 0.5


# ---- aggregation ------------------------------------------------------------------------


def aggregation_case(aggregation: str) -> dict[str, Any]:
    rec = config(
        [unit("u1", "一局"), unit("u2", "二局"), unit("u3", "三局"), unit("u4", "四局")],
        options=options(ZHENGFENG),
        campaign={"slug": "z", "name": "政风", "aggregation": aggregation, "threshold": "0.9"},
    )
    return rec


def test_mean_ignores_uncounted_and_ranks_by_best_share(tmp_path: Path) -> None:
    rows = [
        row(["满意", "满意", "满意", "不了解"]),
        row(["不满意", "满意", "基本满意", "不了解"]),
        row(["不了解", "不了解", "不了解", ""]),
        row(["不了解", "不了解", "不了解", "不了解"]),
    ]
    publish(tmp_path, aggregation_case("mean"), rows)
    got = [
        (u["unit"], u["rank"], u["score"], u["satisfaction_rate"], u["flags"])
        for u in recount(tmp_path).result["categories"][0]["units"]
    ]
    assert got == [
        # 二局 and 三局 score 1, rate 1; best share 1 beats 1/2
        ("二局", 1, 1.0, 1.0, []),
        ("三局", 2, 1.0, 1.0, []),
        # 一局: 满意 1, 不满意 1 (不了解 not counted): 1/2
        ("一局", 3, 0.5, 0.5, ["key_rectification"]),
        # 四局: only 不了解 and a blank: no counted vote
        ("四局", None, None, None, ["no_votes"]),
    ]
    u4 = units_of(recount(tmp_path).result)["四局"]
    assert (u4["counts"]["不了解"], u4["blank"], u4["grade"]) == (3, 1, None)


def test_sum_counts_every_option(tmp_path: Path) -> None:
    rows = [row(["满意", "满意", "满意", "不了解"]), row(["不满意", "满意", "基本满意", "不了解"])]
    publish(tmp_path, aggregation_case("sum"), rows)
    units = units_of(recount(tmp_path).result)
    assert (units["一局"]["score"], units["一局"]["satisfaction_rate"]) == (1.0, 0.5)
    assert (units["二局"]["score"], units["二局"]["rank"]) == (2.0, 1)
    assert units["四局"]["flags"] == ["no_votes"]


def test_mean_weights_22_17_11(tmp_path: Path) -> None:
    scale = [
        ("满意", "22", True, True),
        ("基本满意", "17", True, True),
        ("不满意", "11", False, True),
    ]
    rec = config(
        [unit("u1", "一局")],
        options=options(scale),
        campaign={"slug": "w", "name": "万人", "aggregation": "mean", "threshold": "0.9"},
    )
    publish(tmp_path, rec, [row(["满意"]), row(["基本满意"]), row(["不满意"])])
    u1 = units_of(recount(tmp_path).result)["一局"]
    # (22 + 17 + 11) / 3 = 16.666…; rate 2/3 < 0.9
    assert (u1["score"], u1["satisfaction_rate"], u1["flags"]) == (
        16.666667,
        0.666667,
        ["key_rectification"],
    )


# ---- group weights ------------------------------------------------------------------------


def group_case() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    scale = [("满意", "100", True, True), ("不满意", "0", False, True)]
    rec = config(
        [unit("u1", "一局"), unit("u2", "二局")],
        options=options(scale),
        campaign={"slug": "g", "name": "组", "aggregation": "mean", "threshold": "0.9"},
        group_weights=[
            {"group": "服务对象", "weight": "0.6"},
            {"group": "党政干部", "weight": "0.4"},
        ],
    )
    rows = [
        row(["满意", "不满意"], group="服务对象"),
        row(["满意", "不满意"], group="服务对象"),
        row(["不满意", "满意"], group="服务对象"),
        row(["满意", ""], group="党政干部"),
        row(["", ""], group=""),  # invalid (blank ballot): needs no group
    ]
    return rec, rows


def test_group_weights(tmp_path: Path) -> None:
    rec, rows = group_case()
    publish(tmp_path, rec, rows)
    units = units_of(recount(tmp_path).result)
    # 一局: 服务对象 200/3 and 2/3, 党政干部 100 and 1 → 0.6·200/3 + 0.4·100 = 80, rate 0.8
    assert (units["一局"]["score"], units["一局"]["satisfaction_rate"]) == (80.0, 0.8)
    # 二局: no counted vote of 党政干部, so only 服务对象 counts: 100/3, 1/3
    assert (units["二局"]["score"], units["二局"]["satisfaction_rate"]) == (33.333333, 0.333333)


def test_group_weights_refuse_ballots_without_weight(tmp_path: Path) -> None:
    rec, rows = group_case()
    rows += [row(["满意", "满意"], group="其他"), row(["满意", "满意"], group="")]
    publish(tmp_path, rec, rows)
    with pytest.raises(RecountError) as caught:
        recount(tmp_path)
    assert caught.value.code == 2
    assert "2 张有效选票的代表类别没有计分权重" in caught.value.message
    proc = run_cli(tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "2 张有效选票的代表类别没有计分权重" in proc.stderr


# ---- dimensions, honoured, grades, no_votes, kind ------------------------------------------


def test_dimension_line(tmp_path: Path) -> None:
    units = [unit("u1", "一局"), unit("u2", "二局"), unit("u3", "三局")]
    dims = ["工作评价", "作风评价"]
    rec = config(
        units,
        options=options(ZHENGFENG),
        dimensions=dims,
        dimension_line=True,
        campaign={"slug": "l", "name": "两评", "aggregation": "mean", "threshold": "0.7"},
        cells=[{"unit": u["key"], "dimension": d} for u in units for d in dims],
    )
    rows = [  # cells: 一局 工作, 一局 作风, 二局 工作, 二局 作风, 三局 工作, 三局 作风
        row(["满意", "满意", "满意", "不满意", "不了解", "满意"]),
        row(["满意", "满意", "满意", "不了解", "不了解", "满意"]),
        row(["满意", "不满意", "满意", "不了解", "不了解", "不满意"]),
    ]
    publish(tmp_path, rec, rows)
    got = [
        (u["unit"], u["rank"], u["score"], u["flags"])
        for u in recount(tmp_path).result["categories"][0]["units"]
    ]
    assert got == [
        ("一局", 1, 0.833333, ["key_rectification:作风评价"]),  # 5/6 overall, 作风 2/3
        ("二局", 2, 0.75, ["key_rectification:作风评价"]),  # 3/4 overall, 作风 0/1
        # 三局: 工作 has no counted vote (no flag); 作风 2/3 and overall 2/3 < 0.7
        ("三局", 3, 0.666667, ["key_rectification", "key_rectification:作风评价"]),
    ]
    counts = units_of(recount(tmp_path).result)["一局"]["counts"]
    assert counts == {"满意": 5, "基本满意": 0, "不满意": 1, "不了解": 0}


def test_honoured_across_categories_with_kind_and_parent(tmp_path: Path) -> None:
    rec = config(
        [
            unit("p", "某局", "cx"),
            unit("x1", "办公室", "cx", kind="内设科室", parent="某局"),
            unit("x2", "法规科", "cx", kind="内设科室", parent="某局"),
            unit("y1", "东窗口", "cy", kind="办事窗口"),
            unit("y2", "西站", "cy", kind="基层站所", vetoed=True),
            unit("y3", "南窗口", "cy", kind="办事窗口"),
        ],
        categories=[category("cx", "局", 0, 1), category("cy", "窗口", 0, 0)],
        honoured_quota=1,
    )
    publish(tmp_path, rec, [row(["满意", "满意", "不满意", "满意", "满意", "基本满意"])])
    result = recount(tmp_path).result
    # Eligible: 办公室 (2), 东窗口 (2), 南窗口 (1); 法规科 is last place, 西站 vetoed,
    # 某局 is a 单位. M=1: the first has rank 1, and 东窗口 ties with it across categories.
    flags = {u["unit"]: u["flags"] for c in result["categories"] for u in c["units"]}
    assert flags == {
        "某局": [],
        "办公室": ["honoured"],
        "法规科": ["last_place"],
        "东窗口": ["honoured"],
        "西站": ["vetoed"],
        "南窗口": [],
    }
    first = result["categories"][0]["units"][0]
    assert list(first)[:3] == ["unit", "kind", "parent"]
    assert (first["unit"], first["kind"], first["parent"], first["rank"]) == (
        "某局",
        "单位",
        None,
        1,
    )
    office = units_of(result)["办公室"]
    assert (office["kind"], office["parent"], office["rank"]) == ("内设科室", "某局", 1)


def test_grades_and_no_votes_by_name(tmp_path: Path) -> None:
    scale = [
        ("满意", "100", True, True),
        ("基本满意", "80", True, True),
        ("不满意", "50", False, True),
        ("不了解", "0", False, False),
    ]
    rec = config(
        [
            unit("g1", "甲单位"),
            unit("a", "A局"),
            unit("g2", "乙单位"),
            unit("b", "B局"),
            unit("g3", "丙单位"),
        ],
        options=options(scale),
        campaign={"slug": "d", "name": "等次", "aggregation": "mean", "threshold": "0.9"},
        grade_bands=[
            {"minimum": "60", "label": "合格"},
            {"minimum": "90", "label": "优秀"},
            {"minimum": "80", "label": "良好"},
        ],
    )
    publish(tmp_path, rec, [row(["不了解", "满意", "", "基本满意", "不满意"])])
    got = [
        (u["unit"], u["rank"], u["score"], u["grade"], u["flags"])
        for u in recount(tmp_path).result["categories"][0]["units"]
    ]
    assert got == [
        ("A局", 1, 100.0, "优秀", []),
        ("B局", 2, 80.0, "良好", []),  # the minimum itself fits
        ("丙单位", 3, 50.0, None, ["key_rectification"]),  # below every band
        # no_votes last, by name (Python's string order: 乙 U+4E59 before 甲 U+7532)
        ("乙单位", None, None, None, ["no_votes"]),
        ("甲单位", None, None, None, ["no_votes"]),
    ]


# ---- the files: CSV, fingerprint, tampering, command line -----------------------------------
