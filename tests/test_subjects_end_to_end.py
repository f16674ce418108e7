"""Issue 17, done when: `create_campaign --preset liangping`, then `import_units` with 类型,
上级单位 and 职务, then ballots, then `tally --format json` give the result computed by hand
below (scoring.md sections 3-6 and 10): no 优胜 or 末位 in 两评一树, 不了解 counted nowhere,
the per-dimension line, and each entry's kind and parent."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from campaigns.models import Campaign
from tests.conftest import TEST_OFFICE
from tests.helpers import xlsx_file

TEAM = "市交通局领导班子"
DIMS = ("工作评价", "作风评价")
# Ballot rows: (team, 张三, 李四), each (工作评价, 作风评价).
BALLOTS = [
    (("满意", "满意"), ("满意", "满意"), ("满意", "不满意")),
    (("满意", "基本满意"), ("不了解", "不了解"), ("基本满意", "不满意")),
    (("不满意", "满意"), ("满意", "满意"), ("满意", "满意")),
    (("满意", "满意"), ("满意", "基本满意"), ("不了解", "满意")),
]


@pytest.mark.django_db
def test_liangping_from_the_command_line_gives_the_hand_computed_result(tmp_path, capsys):
    call_command("create_campaign", "--preset", "liangping", "--slug", "lp", "--name",
                 "两评一树", "--year", "2026", "--office", TEST_OFFICE)
    units = xlsx_file(tmp_path, "u.xlsx", {"对象": [
        ("类别", "单位", "类型", "上级单位", "职务"),
        ("领导班子", TEAM, "领导班子", "", ""),
        ("领导干部", "张三", "领导干部", TEAM, "局长"),
        ("领导干部", "李四", "领导干部", TEAM, "副局长"),
    ]})
    call_command("import_units", "lp", str(units))
    names = (TEAM, "张三", "李四")
    header = ("编号", *[f"{n}|{d}" for n in names for d in DIMS])
    rows = [(f"{i + 1:04d}", *[a for subject in b for a in subject])
            for i, b in enumerate(BALLOTS)]
    call_command("import_ballots", "lp", str(xlsx_file(tmp_path, "b.xlsx", {"票": [header, *rows]})))
    capsys.readouterr()
    call_command("tally", "lp", "--format", "json")
    result = json.loads(capsys.readouterr().out)
    assert result["ballots"]["valid"] == 4
    categories = {c["name"]: c for c in result["categories"]}
    assert [(c["winners"], c["last_place"]) for c in result["categories"]] == [(0, 0), (0, 0)]
    team = categories["领导班子"]["units"][0]
    assert team["unit"] == TEAM and team["kind"] == "领导班子" and team["parent"] is None
    # 满意 6, 基本满意 1, 不满意 1 over both dimensions: 7/8; 工作评价 alone 3/4.
    assert team["counts"] == {"满意": 6, "基本满意": 1, "不满意": 1, "不了解": 0}
    assert team["satisfaction_rate"] == 0.875 and team["score"] == 0.875
    assert team["flags"] == ["key_rectification", "key_rectification:工作评价"]
    leaders = categories["领导干部"]["units"]
    assert [u["unit"] for u in leaders] == ["张三", "李四"]
    assert all(u["kind"] == "领导干部" and u["parent"] == TEAM for u in leaders)
    zhang, li = leaders
    # 不了解 twice: counted nowhere, 6 of 6 satisfied.
    assert zhang["counts"]["不了解"] == 2 and zhang["satisfaction_rate"] == 1.0
    assert zhang["rank"] == 1 and zhang["flags"] == []
    # 5 of 7 counted; 作风评价 alone 2/4.
    assert li["satisfaction_rate"] == 0.714286 and li["rank"] == 2
    assert li["flags"] == ["key_rectification", "key_rectification:作风评价"]
    assert Campaign.objects.get(slug="lp").units.get(name="李四").post == "副局长"
    capsys.readouterr()
    call_command("tally", "lp", "--format", "table")
    table = capsys.readouterr().out
    assert "重点整改(作风评价)" in table and "领导干部" in table
    assert "名次  单位" not in table
