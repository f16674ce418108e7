"""Changing a campaign's configuration from the office's own page (issue 16): its settings,
its rating scale (options, weights, which count as satisfied, which are counted, what a blank
means) and its dimensions, in one small atomic service that audits every change.

What a ballot voted on (the scale, the dimensions, what a blank means, whether ballots carry
a code) is frozen once a ballot exists; a threshold for small slices may then only rise
(lowering it after seeing results would show slices that were hidden). The admin's campaign
form asks `settings_problems` too, so both pages refuse the same changes with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import (
    MAX_CELLS,
    MAX_RATING_OPTIONS,
    Campaign,
    Dimension,
    RatingOption,
)
from core.audit import audit, changed_fields, snapshot

# The campaign's own fields this page edits (the rest have their pages: threshold, quotas,
# dates and the notice on the rules page; the status through its service).
SETTINGS_FIELDS = (
    "name", "aggregation", "anonymous", "double_entry", "min_new_share", "min_cell_ballots",
    "honoured_quota", "dimension_line", "scale_explanation", "instructions", "rules_text",
    "consecutive_last", "consecutive_last_vertical",
)


LOCKED_MESSAGE = gettext_lazy("本活动已有选票,评价等次、评议内容和被评单位已锁定,不能再修改。")


@dataclass(frozen=True)
class OptionSpec:
    """One rating option as the page sends it; `pk` None for a new one."""

    pk: int | None
    label: str
    weight: Decimal
    satisfied: bool
    counted: bool


@dataclass(frozen=True)
class DimensionSpec:
    pk: int | None
    name: str
    description: str = ""


def settings_problems(campaign: Campaign, values: dict[str, Any], *,
                      blank_means_changed: bool = False) -> dict[str, str]:
    """Field name -> why the change to `values` is refused for this campaign (empty: none)."""
    problems: dict[str, str] = {}
    if not campaign.pk or not campaign.has_ballots():
        return problems
    if blank_means_changed:
        problems["blank_means"] = str(LOCKED_MESSAGE)
    if "anonymous" in values and bool(values["anonymous"]) != campaign.anonymous:
        # Either way round: named ballots already carry their code, anonymous ones do not.
        problems["anonymous"] = (
            _("已有选票,匿名评议不能改为记名。") if campaign.anonymous
            else _("已有选票,记名评议不能改为匿名(已收选票仍带有评议码)。")
        )
    lowered = values.get("min_cell_ballots") is not None and (
        values["min_cell_ballots"] < campaign.min_cell_ballots
    )
    if lowered:
        problems["min_cell_ballots"] = _("已有选票,分项统计最少票数只能提高,不能降低。")
    return problems


def scale_problems(options: list[OptionSpec], dimensions: list[DimensionSpec], *,
                   n_units: int) -> list[str]:
    """What makes a scale or a set of dimensions unusable (spec section 1; the storage limits
    of ballots/answers.py), each in words."""
    problems: list[str] = []
    labels = [o.label for o in options]
    if len(options) < 2:
        problems.append(_("评价等次至少需要两项。"))
    if len(options) > MAX_RATING_OPTIONS:
        problems.append(_("评价等次最多 %(n)d 项。") % {"n": MAX_RATING_OPTIONS})
    if len(set(labels)) != len(labels):
        problems.append(_("评价等次名称不能重复。"))
    for o in options:
        if o.satisfied and not o.counted:
            problems.append(_("“%(o)s”计入满意,必须同时计入有效票。") % {"o": o.label})
    if options and not any(o.satisfied for o in options):
        # Every unit would be under the threshold: no campaign means that.
        problems.append(_("至少一个评价等次须计入满意。"))
    names = [d.name for d in dimensions]
    if len(set(names)) != len(names):
        problems.append(_("评议内容名称不能重复。"))
    # No dimension: one overall answer per unit (a cell each), as the presets without any.
    if n_units * max(1, len(dimensions)) > MAX_CELLS:
        problems.append(
            _("被评单位数 × 评议内容数不能超过 %(max)d(现为 %(n)d × %(d)d)。")
            % {"max": MAX_CELLS, "n": n_units, "d": len(dimensions)}
        )
    return problems


def save_audited(obj: models.Model, values: dict[str, Any], *, user: Any) -> bool:
    """Set `values` on `obj`; save and audit it (`<model>.update`, before/after) only if
    something changed. The office's pages save every audited field through this."""
    before = snapshot(obj)
    for name, value in values.items():
        setattr(obj, name, value)
    after = snapshot(obj)
    if not changed_fields(before, after):
        return False
    obj.full_clean(validate_unique=False)  # the database's constraints decide uniqueness
    obj.save(update_fields=list(values))
    audit(user=user, action=f"{obj._meta.model_name}.update", obj=obj, before=before,
          after=after)
    return True


def _sync(
    model: type[models.Model],
    existing: dict[int, Any],
    wanted: list[tuple[int | None, dict[str, Any]]],
    *,
    campaign: Campaign,
    unique: str,
    user: Any,
) -> int:
    """Make `model`'s rows of `campaign` be `wanted` (pk or None, values), in order: delete
    the rows left out, update the kept ones, create the new ones; each audited. Renames pass
    through a temporary value first, so swapping two labels does not trip the unique
    constraint on (campaign, `unique`)."""
    changed = 0
    kept = {pk for pk, _values in wanted if pk is not None}
    for pk, obj in existing.items():
        if pk not in kept:
            before = snapshot(obj)
            obj.delete()
            audit(user=user, action=f"{model._meta.model_name}.delete", campaign=campaign,
                  before=before, object_repr=str(before.get(unique, "")))
            changed += 1
    renamed = [pk for pk, values in wanted
               if pk is not None and getattr(existing[pk], unique) != values[unique]]
    for pk in renamed:
        # A value no label takes (PostgreSQL's text refuses NUL); gone before the commit.
        model._default_manager.filter(pk=pk).update(**{unique: f"~renaming~{pk}"})
        setattr(existing[pk], unique, f"~renaming~{pk}")
    for order, (wanted_pk, values) in enumerate(wanted, start=1):
        values = {**values, "order": order}
        if wanted_pk is None:
            obj = model(campaign=campaign, **values)
            obj.full_clean(validate_unique=False)
            obj.save()
            audit(user=user, action=f"{model._meta.model_name}.create", obj=obj,
                  after=snapshot(obj))
            changed += 1
        else:
            changed += save_audited(existing[wanted_pk], values, user=user)
    return changed


def campaign_configure(
    *,
    campaign: Campaign,
    user: Any,
    settings: dict[str, Any],
    options: list[OptionSpec],
    dimensions: list[DimensionSpec],
    blank_means: str | None,
) -> int:
    """Save the settings (SETTINGS_FIELDS only), the scale (`options`, best first), what a
    blank means (an option's label, or None) and the dimensions, all or nothing. Returns how
    many objects changed. Refuses (ValidationError, naming the field or the rule) what
    `settings_problems` and `scale_problems` refuse, ids not of this campaign, and any change
    to the scale or the dimensions once a ballot exists."""
    if not set(settings) <= set(SETTINGS_FIELDS):
        raise ValueError(f"not settings: {sorted(set(settings) - set(SETTINGS_FIELDS))}")
    if blank_means is not None and blank_means not in {o.label for o in options}:
        raise ValidationError({"blank_means": _("“未填写视为”须是评价等次之一。")})
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        current_options = {o.pk: o for o in RatingOption.objects.filter(campaign=locked)}
        current_dims = {d.pk: d for d in Dimension.objects.filter(campaign=locked)}
        if not ({o.pk for o in options if o.pk} <= set(current_options)
                and {d.pk for d in dimensions if d.pk} <= set(current_dims)):
            raise ValidationError(_("评价等次或评议内容不属于本评议活动。"))
        current_blank = (current_options[locked.blank_means_id].label
                         if locked.blank_means_id in current_options else None)
        scale_now = [OptionSpec(o.pk, o.label, o.weight, o.satisfied, o.counted)
                     for o in sorted(current_options.values(), key=lambda o: (o.order, o.pk))]
        dims_now = [DimensionSpec(d.pk, d.name, d.description)
                    for d in sorted(current_dims.values(), key=lambda d: (d.order, d.pk))]
        scale_changed = _normal(scale_now) != _normal(options) or (
            _normal(dims_now) != _normal(dimensions))
        problems = settings_problems(locked, settings,
                                     blank_means_changed=blank_means != current_blank)
        if problems:
            raise ValidationError(problems)
        if scale_changed and locked.has_ballots():
            raise ValidationError(LOCKED_MESSAGE)
        if errors := scale_problems(options, dimensions, n_units=locked.units.count()):
            raise ValidationError(errors)
        changed = _sync(
            RatingOption, current_options,
            [(o.pk, {"label": o.label, "weight": o.weight, "satisfied": o.satisfied,
                     "counted": o.counted}) for o in options],
            campaign=locked, unique="label", user=user)
        changed += _sync(
            Dimension, current_dims,
            [(d.pk, {"name": d.name, "description": d.description}) for d in dimensions],
            campaign=locked, unique="name", user=user)
        blank = (RatingOption.objects.get(campaign=locked, label=blank_means)
                 if blank_means is not None else None)
        changed += save_audited(locked, {**settings, "blank_means": blank}, user=user)
    campaign.refresh_from_db()
    return changed


def _normal(items: list[Any]) -> list[tuple[Any, ...]]:
    """What a ballot depends on, comparable (a Decimal's 2 and 2.0000 are the same weight)."""
    return [tuple(v.normalize() if isinstance(v, Decimal) else v
                  for v in vars(i).values()) for i in items]
