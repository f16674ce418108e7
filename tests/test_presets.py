"""Every value of the preset table (spec section 8) lands in a new campaign."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from campaigns.models import Campaign
from campaigns.presets import PRESETS
from scoring.presentation import campaign_scale

# label, weight, satisfied, counted — copied from the spec's table, not from presets.py.
TABLE = {
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
        "categories": [("领导班子", 0, 1)],
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
