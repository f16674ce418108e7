"""The office's configuration page (issue 16: "edit the configuration" without the admin):
settings, rating scale and dimensions, saved by campaigns.configuration.campaign_configure,
audited, all or nothing, and frozen where ballots depend on it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.configuration import DimensionSpec, OptionSpec, campaign_configure
from campaigns.models import Campaign, Dimension, Office, RatingOption
from campaigns.rules import rules_in_words
from core.models import AuditLog
from tests.helpers import add_units


def page_url(campaign: Campaign) -> str:
    return reverse("setup_config", args=[campaign.slug])


def post_of(campaign: Campaign, *, options: list[dict[str, Any]] | None = None,
            dimensions: list[dict[str, Any]] | None = None, **settings: Any) -> dict[str, Any]:
    """The page's form as a browser would post it: the current values, then the changes."""
    if options is None:
        options = [{"id": o.pk, "label": o.label, "weight": o.weight.normalize(),
                    "satisfied": o.satisfied, "counted": o.counted,
                    "blank": o.pk == campaign.blank_means_id} for o in campaign.options.all()]
    if dimensions is None:
        dimensions = [{"id": d.pk, "name": d.name, "description": d.description}
                      for d in campaign.dimensions.all()]
    data: dict[str, Any] = {
        "name": campaign.name, "aggregation": campaign.aggregation,
        "min_cell_ballots": campaign.min_cell_ballots,
        "honoured_quota": campaign.honoured_quota,
        "min_new_share": campaign.min_new_share or "",
        "scale_explanation": campaign.scale_explanation, "instructions": campaign.instructions,
        "rules_text": campaign.rules_text,
        "consecutive_last": campaign.consecutive_last,
        "consecutive_last_vertical": campaign.consecutive_last_vertical,
    }
    for flag in ("anonymous", "double_entry", "dimension_line"):
        if getattr(campaign, flag):
            data[flag] = "on"
    data.update(settings)
    for prefix, rows in (("options", options), ("dimensions", dimensions)):
        data[f"{prefix}-TOTAL_FORMS"] = len(rows)
        data[f"{prefix}-INITIAL_FORMS"] = sum(1 for r in rows if r.get("id"))
        for i, row in enumerate(rows):
            for key, value in row.items():
                if isinstance(value, bool):
                    if value:
                        data[f"{prefix}-{i}-{key}"] = "on"
                elif value is not None:
                    data[f"{prefix}-{i}-{key}"] = value
    return {k: v for k, v in data.items() if v is not False}


def options_of(campaign: Campaign) -> list[tuple[str, Decimal, bool, bool]]:
    return [(o.label, o.weight.normalize(), o.satisfied, o.counted)
            for o in RatingOption.objects.filter(campaign=campaign)]


def test_the_page_shows_the_scale_and_the_checklist_links_to_it(client, office, qianren):
    client.force_login(office)
    page = client.get(page_url(qianren)).content.decode()
    for o in qianren.options.all():
        assert f'value="{o.label}"' in page
    for d in qianren.dimensions.all():
        assert f'value="{d.name}"' in page
    detail = client.get(reverse("campaign_detail", args=[qianren.slug])).content.decode()
    scale_step = detail.split('data-step="scale"')[1].split("</li>")[0]
    assert page_url(qianren) in scale_step and "/admin/" not in scale_step


def test_weights_new_option_blank_and_dimension_are_saved_audited_and_in_the_rules(
    client, office, qianren
):
    client.force_login(office)
    before_rules = rules_in_words(qianren)
    options = [{"id": o.pk, "label": o.label, "weight": o.weight.normalize() * 10,
                "satisfied": o.satisfied, "counted": o.counted, "blank": False}
               for o in qianren.options.all()]
    options.append({"label": "不了解", "weight": "0", "satisfied": False, "counted": False,
                    "blank": True})
    dims = [{"id": d.pk, "name": d.name + "(改)", "description": "说明"}
            for d in qianren.dimensions.all()] + [{"name": "作风评价", "description": ""}]
    response = client.post(page_url(qianren), post_of(
        qianren, options=options, dimensions=dims, double_entry=False, name="新的名称"))
    assert response.status_code == 302, response.content.decode()[:2000]
    qianren.refresh_from_db()
    assert [o[0] for o in options_of(qianren)][-1] == "不了解"
    assert qianren.blank_means is not None and qianren.blank_means.label == "不了解"
    assert not qianren.double_entry and qianren.name == "新的名称"
    names = list(qianren.dimensions.values_list("name", flat=True))
    assert names[-1] == "作风评价" and all(n.endswith("(改)") for n in names[:-1])
    actions = set(AuditLog.objects.filter(user=office).values_list("action", flat=True))
    assert {"ratingoption.update", "ratingoption.create", "dimension.create",
            "campaign.update"} <= actions
    after_rules = rules_in_words(qianren)
    assert after_rules != before_rules and any("不了解" in r for r in after_rules)


def test_swapping_two_labels_and_deleting_one(client, office, qianren):
    client.force_login(office)
    rows = [{"id": o.pk, "label": o.label, "weight": o.weight.normalize(),
             "satisfied": o.satisfied, "counted": o.counted} for o in qianren.options.all()]
    assert len(rows) >= 3
    rows[0]["label"], rows[1]["label"] = rows[1]["label"], rows[0]["label"]
    rows[-1]["DELETE"] = True
    deleted = rows[-1]["label"]
    response = client.post(page_url(qianren), post_of(qianren, options=rows))
    assert response.status_code == 302, response.content.decode()[:2000]
    labels = [o[0] for o in options_of(qianren)]
    assert labels == [rows[0]["label"], rows[1]["label"], *[r["label"] for r in rows[2:-1]]]
    assert deleted not in labels
    assert AuditLog.objects.filter(action="ratingoption.delete", object_repr=deleted).exists()


@pytest.mark.parametrize(("change", "words"), [
    ("satisfied_not_counted", "计入满意,必须同时计入有效票"),
    ("duplicate", "评价等次名称不能重复"),
    ("one_option", "评价等次至少需要两项"),
    ("no_satisfied", "至少一个评价等次须计入满意"),
    ("two_blanks", "只能选一项"),
    ("duplicate_dimension", "评议内容名称不能重复"),
])
def test_a_refused_scale_saves_nothing_and_says_why(client, office, qianren, change, words):
    client.force_login(office)
    rows = [{"id": o.pk, "label": o.label, "weight": o.weight.normalize(),
             "satisfied": o.satisfied, "counted": o.counted} for o in qianren.options.all()]
    dims = None
    if change == "satisfied_not_counted":
        rows[0]["counted"] = False
    elif change == "duplicate":
        rows[1]["label"] = rows[0]["label"]
    elif change == "one_option":
        for r in rows[1:]:
            r["DELETE"] = True
    elif change == "no_satisfied":
        for r in rows:
            r["satisfied"] = False
    elif change == "two_blanks":
        rows[0]["blank"] = rows[1]["blank"] = True
    else:
        dims = [{"name": "同名"}, {"name": "同名"}]
    before = options_of(qianren)
    response = client.post(page_url(qianren), post_of(
        qianren, options=rows, dimensions=dims, name="不应保存"))
    assert response.status_code == 200
    assert words in response.content.decode()
    assert options_of(qianren) == before
    assert Campaign.objects.get(pk=qianren.pk).name != "不应保存"
    assert not AuditLog.objects.filter(action__startswith="ratingoption.").exists()


def test_once_ballots_exist_the_scale_is_shown_locked_and_settings_still_save(
    client, office, qianren
):
    from ballots.services import ballot_create

    add_units(qianren, {"地方管理部门类": ["甲局"]})
    ballot_create(campaign=qianren, source="online", answers=[])
    client.force_login(office)
    page = client.get(page_url(qianren)).content.decode()
    assert 'id="locked-note"' in page and "disabled" in page
    n_options = qianren.options.count()
    assert f'name="options-{n_options}-label"' not in page  # no spare row when locked
    before = options_of(qianren)
    # A crafted post that changes the scale is ignored (the locked formset is not read) ...
    rows = [{"id": o.pk, "label": o.label + "X", "weight": "9", "satisfied": True,
             "counted": True} for o in qianren.options.all()]
    response = client.post(page_url(qianren), post_of(qianren, options=rows,
                                                       double_entry=False))
    assert response.status_code == 302
    assert options_of(qianren) == before
    qianren.refresh_from_db()
    assert not qianren.double_entry
    # ... and what may not change once voted is refused, naming the field.
    refused = client.post(page_url(qianren), post_of(qianren, anonymous=False))
    assert "匿名评议不能改为记名" in refused.content.decode()
    lower = client.post(page_url(qianren), post_of(
        qianren, min_cell_ballots=qianren.min_cell_ballots - 1))
    assert "只能提高" in lower.content.decode()
    assert Campaign.objects.get(pk=qianren.pk).anonymous


def test_the_service_refuses_another_campaigns_rows_and_a_scale_change_after_ballots(
    office, campaign_factory
):
    from ballots.services import ballot_create

    mine, other = campaign_factory("qianren"), campaign_factory("qianren")
    theirs = other.options.first()
    assert theirs is not None
    specs = [OptionSpec(o.pk, o.label, o.weight, o.satisfied, o.counted)
             for o in mine.options.all()]
    dims = [DimensionSpec(d.pk, d.name) for d in mine.dimensions.all()]
    stolen = [*specs[:-1], OptionSpec(theirs.pk, "偷来", Decimal(1), False, True)]
    with pytest.raises(ValidationError, match="不属于本评议活动"):
        campaign_configure(campaign=mine, user=office, settings={}, options=stolen,
                           dimensions=dims, blank_means=None)
    assert RatingOption.objects.get(pk=theirs.pk).campaign_id == other.pk
    add_units(mine, {"地方管理部门类": ["甲局"]})
    ballot_create(campaign=mine, source="online", answers=[])
    heavier = [OptionSpec(s.pk, s.label, s.weight + 1, s.satisfied, s.counted) for s in specs]
    with pytest.raises(ValidationError, match="已锁定"):
        campaign_configure(campaign=mine, user=office, settings={}, options=heavier,
                           dimensions=dims, blank_means=None)
    assert Dimension.objects.filter(campaign=mine).count() == len(dims)


def test_other_office_404_and_clerk_403(client, office, clerk, campaign_factory):
    other = campaign_factory("qianren", office=Office.objects.create(name="别的办公室"))
    client.force_login(office)
    assert client.post(page_url(other), post_of(other, name="改")).status_code == 404
    client.force_login(clerk)
    mine = campaign_factory("qianren")
    assert client.post(page_url(mine), post_of(mine, name="改")).status_code == 403
    assert Campaign.objects.get(pk=other.pk).name != "改"
    assert Campaign.objects.get(pk=mine.pk).name != "改"
