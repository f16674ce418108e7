"""Every value of the preset table (spec section 8) lands in a new campaign."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from campaigns.models import Campaign
from campaigns.presets import PRESETS
from scoring.presentation import campaign_scale

# label, weight, satisfied, counted — copied from the spec's table, not from presets.py.
TABLE: dict[str, dict[str, Any]] = {
    "qianren": {
        "options": [("满意", "2", True, True), ("基本满意", "1", True, True),
                    ("不满意", "0", False, True), ("弃权", "0.5", False, True)],
        "blank_means": "弃权", "aggregation": "sum", "dimensions": [],
        "categories": [("地方管理部门类", 5, 1), ("垂直管理部门类", 3, 1), ("金融部门类", 2, 1)],
        "phases": ["宣传发动", "服务承诺", "自查自纠", "征求意见", "集中整改", "年终评议"],
    },
    "wanren": {
        "options": [("满意", "22", True, True), ("基本满意", "17", True, True),
                    ("不满意", "11", False, True)],
        "blank_means": None, "aggregation": "mean",
        "dimensions": ["教育管理", "依法行政", "机关作风", "效能建设", "系统监管"],
        "categories": [("市直机关", 5, 5)],
        "phases": None,
    },
    "zhengfeng": {
        "options": [("满意", "1", True, True), ("基本满意", "1", True, True),
                    ("不满意", "0", False, True), ("不了解", "0", False, False)],
        "blank_means": None, "aggregation": "mean", "dimensions": [],
        "categories": [("政府部门及其它机构", 20, 1), ("公共服务行业", 10, 1)],
        "phases": None,
    },
    "liangping": {
        "options": [("满意", "1", True, True), ("基本满意", "1", True, True),
                    ("不满意", "0", False, True), ("不了解", "0", False, False)],
        "blank_means": None, "aggregation": "mean", "dimensions": ["工作评价", "作风评价"],
        "categories": [("领导班子", 0, 0), ("领导干部", 0, 0)],
        "phases": None,
    },
}


@pytest.mark.parametrize("preset", sorted(TABLE))
def test_preset_values(db, preset):
    call_command("create_campaign", preset=preset, slug=f"p-{preset}", name="示例", year=2026)
    c = Campaign.objects.get(slug=f"p-{preset}")
    want = TABLE[preset]
    got = [(o.label, o.weight, o.satisfied, o.counted) for o in c.options.all()]
    assert got == [(label, Decimal(w), s, n) for label, w, s, n in want["options"]]
    assert (c.blank_means.label if c.blank_means else None) == want["blank_means"]
    assert c.aggregation == want["aggregation"]
    assert c.threshold == Decimal("0.9")
    assert [d.name for d in c.dimensions.all()] == want["dimensions"]
    assert [(k.name, k.winners, k.last_place) for k in c.categories.all()] == want["categories"]
    phases = [p.name for p in c.phases.all()]
    assert phases, "every preset comes with the phases of its document"
    if want["phases"]:
        assert phases == want["phases"]
    assert c.series and c.status == Campaign.Status.DRAFT


def test_liangping_pools_and_dimension_line(db):
    """001: 内部评议 by all staff, 社会评议 by 党代表、人大代表、政协委员 and 服务对象代表 (at least
    half of the 社会评议 raters); 限期整改 on the work and on the conduct each (spec section 8)."""
    call_command("create_campaign", preset="liangping", slug="p-lp", name="示例", year=2026)
    c = Campaign.objects.get(slug="p-lp")
    got = [(g.name, g.pool, g.target_share, g.target_is_minimum) for g in c.groups.all()]
    assert got == [
        ("全体干部职工", "内部评议", None, False),
        ("党代表", "社会评议", None, False),
        ("人大代表", "社会评议", None, False),
        ("政协委员", "社会评议", None, False),
        ("服务对象代表", "社会评议", Decimal("0.5"), True),
    ]
    assert c.dimension_line is True
    assert c.honoured_quota == 0
    # The other presets ask for no per-dimension line and have no pools.
    call_command("create_campaign", preset="wanren", slug="p-wr", name="示例", year=2026)
    w = Campaign.objects.get(slug="p-wr")
    assert w.dimension_line is False and not w.groups.exclude(pool="").exists()


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_scales_are_ones_the_tally_accepts(db, preset):
    # Presets are written with bulk_create, which skips RatingOption.save's check (spec 1:
    # a satisfied option must be counted), so every preset is checked here instead.
    call_command("create_campaign", preset=preset, slug=f"s-{preset}", name="示例", year=2026)
    c = Campaign.objects.get(slug=f"s-{preset}")
    assert [o.label for o in c.options.all() if o.scale_error()] == []
    scale = campaign_scale(c)
    scale.check()
    assert set(scale.satisfied) <= set(scale.counted)


def test_presets_stay_editable(db):
    call_command("create_campaign", preset="qianren", slug="e", name="示例", year=2026)
    c = Campaign.objects.get(slug="e")
    option = c.options.get(label="弃权")
    option.weight = Decimal("0.25")
    option.full_clean()
    option.save()
    cat = c.categories.get(name="金融部门类")
    cat.winners = 4
    cat.save()
    c.threshold = Decimal("0.85")
    c.full_clean()
    c.save()
    c.refresh_from_db()
    assert c.options.get(label="弃权").weight == Decimal("0.25")
    assert c.categories.get(name="金融部门类").winners == 4


def test_unknown_preset_is_refused(db):
    from django.core.management.base import CommandError

    with pytest.raises((CommandError, SystemExit)):
        call_command("create_campaign", preset="nope", slug="x", name="x", year=2026)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_preset_notes_restate_no_configuration(preset):
    """Issue 16: a preset's rules_text is copied into the campaign as the office's note; a
    quota, weight or threshold in it would go stale when the configuration changes (the
    rules themselves are generated by campaigns.rules)."""
    from campaigns.rules import stale_numbers

    assert stale_numbers(PRESETS[preset].rules_text) == []
