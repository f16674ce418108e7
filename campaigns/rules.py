"""The rules of a campaign in words, built from its configuration every time they are shown.

Why here: the campaign page (this layer) and the ballot page (`ballots/`) must say the rules
too, and neither may import `scoring/`. So the wording lives at the lowest layer that owns
everything it names: categories and their quotas, rating options, threshold, groups, grade
bands, the previous campaign. Nothing is stored: change a quota and every page, the ballot's
explanation and the reports (`scoring.presentation.rules_in_words` calls `rules_in_words`
here) say the new number at their next rendering.

Which option is "best", "satisfied", "counted" or "scored" is not decided here: the words
read it from a `ScaleTerms`. The tally passes `scoring.engine.Scale`, the definitions the
arithmetic itself uses; pages without a tally use `configured_scale`, which reads the same
flags off the campaign's options (tests/test_rules_follow_config.py checks that the two agree
on every preset).

`Campaign.rules_text` is no longer generated text: it was the preset's paragraph copied at
creation, and its numbers (前5名…) went stale as soon as the office changed a quota. It is now
a free-text note of the office (background, consequences such as 从严处理), shown under the
generated rules; it must not restate quotas, weights or thresholds, which `stale_numbers`
finds so a form can warn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol

from django.db.models import Max
from django.utils.translation import gettext as _

from campaigns.subjects import subject_noun, units_only

if TYPE_CHECKING:
    from collections.abc import Sequence

    from campaigns.models import Campaign, RepresentativeGroup


class OptionTerms(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def weight(self) -> Fraction | Decimal: ...


class ScaleTerms(Protocol):
    """What the words read of a scale (`scoring.engine.Scale` has all of it)."""

    @property
    def options(self) -> Sequence[OptionTerms]: ...
    @property
    def best(self) -> str: ...
    @property
    def satisfied(self) -> tuple[str, ...]: ...
    @property
    def counted(self) -> tuple[str, ...]: ...
    @property
    def not_counted(self) -> tuple[str, ...]: ...
    def scored(self, aggregation: str) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class _Option:
    label: str
    weight: Decimal
    satisfied: bool
    counted: bool


@dataclass(frozen=True)
class ConfiguredScale:
    """The campaign's options as configured, best first (spec section 1)."""

    options: tuple[_Option, ...]

    @property
    def best(self) -> str:
        return self.options[0].label if self.options else ""

    @property
    def satisfied(self) -> tuple[str, ...]:
        return tuple(o.label for o in self.options if o.satisfied)

    @property
    def counted(self) -> tuple[str, ...]:
        return tuple(o.label for o in self.options if o.counted)

    @property
    def not_counted(self) -> tuple[str, ...]:
        return tuple(o.label for o in self.options if not o.counted)

    def scored(self, aggregation: str) -> tuple[str, ...]:
        return tuple(o.label for o in self.options) if aggregation == "sum" else self.counted


def configured_scale(campaign: Campaign) -> ConfiguredScale:
    return ConfiguredScale(
        tuple(
            _Option(o.label, o.weight, o.satisfied, o.counted)
            for o in campaign.options.order_by("order", "id")
        )
    )


def _number(x: Fraction | Decimal) -> str:
    if isinstance(x, Fraction):
        x = Decimal(x.numerator) / Decimal(x.denominator)
    text = f"{x.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent(x: Decimal) -> str:
    return f"{(x * 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}%"


def scale_in_words(campaign: Campaign, scale: ScaleTerms | None = None) -> list[str]:
    """The options, their points and what a blank or a double mark counts as."""
    scale = scale if scale is not None else configured_scale(campaign)
    weights = "、".join(f"{o.label} {_number(o.weight)} 分" for o in scale.options)
    rules = [_("评价等次及分值:%(w)s。") % {"w": weights}]
    if not _units_only(campaign):
        # Leaders, teams, sections: the same rule without calling them 单位.
        if (blank_means := campaign.blank_means) is not None:
            rules.append(_("未填写的评议对象按“%(o)s”计;同一评议对象多选的,计为废票,不计入任何等次。")
                         % {"o": blank_means.label})
        else:
            rules.append(_("未填写的评议对象不计票;同一评议对象多选的,计为废票,不计入任何等次。"))
        return rules
    if (blank_means := campaign.blank_means) is not None:
        rules.append(
            _("未填写的单位按“%(o)s”计;同一单位多选的,该单位计为废票,不计入任何等次。")
            % {"o": blank_means.label}
        )
    else:
        rules.append(_("未填写的单位不计票;同一单位多选的,该单位计为废票,不计入任何等次。"))
    return rules


def _units_only(campaign: Campaign) -> bool:
    return units_only(campaign.units.values_list("unit__kind", flat=True).distinct())


def quotas_in_words(campaign: Campaign) -> list[str]:
    """One sentence per category: its winners and last places, from the category itself
    (a quota of 0 says that none is named: 两评一树 names no 优胜 and no 末位)."""
    words = []
    for c in campaign.categories.order_by("order", "id"):
        values = {"c": c.name, "w": c.winners, "l": c.last_place}
        if c.winners and c.last_place:
            words.append(_("%(c)s:前 %(w)d 名为优胜单位,后 %(l)d 名为末位单位。") % values)
        elif c.winners:
            words.append(_("%(c)s:前 %(w)d 名为优胜单位,不评末位。") % values)
        elif c.last_place:
            words.append(_("%(c)s:不评优胜,后 %(l)d 名为末位单位。") % values)
        else:
            words.append(_("%(c)s:不评优胜,也不评末位。") % values)
    return words


def threshold_in_words(campaign: Campaign) -> str:
    t = {"t": _percent(Decimal(campaign.threshold))}
    if _units_only(campaign):
        return _("满意率低于 %(t)s 的单位(末位单位除外)列为重点整改单位。") % t
    noun = subject_noun(campaign.units.values_list("unit__kind", flat=True).distinct())
    return _("满意率低于 %(t)s 的%(u)s(末位除外)列为重点整改,限期整改。") % {**t, "u": noun}


def subjects_in_words(campaign: Campaign) -> list[str]:
    """The per-dimension line and the honours quota of sub-units (spec 6.7), when set."""
    words = []
    if campaign.dimension_line:
        words.append(
            _("任一评议内容的满意率低于 %(t)s 的(末位除外),该项列为重点整改。")
            % {"t": _percent(Decimal(campaign.threshold))}
        )
    if campaign.honoured_quota:
        words.append(
            _("全部科室、窗口和站所合并排名(一票否决和末位的除外),前 %(n)d 名评为先进科室"
              "(满意窗口);名额边界上并列的一并评为先进。") % {"n": campaign.honoured_quota}
        )
    return words


def rules_in_words(campaign: Campaign, scale: ScaleTerms | None = None) -> list[str]:
    """The rules the tally applies (spec 3-7), from the configuration as it is now."""
    scale = scale if scale is not None else configured_scale(campaign)
    counted = "、".join(scale.counted)
    rules = scale_in_words(campaign, scale)
    weighted: list[RepresentativeGroup] = []
    if campaign.aggregation == "sum":
        rules.append(_("得分 = Σ(各等次分值 × 该等次票数),按全部有效票累计。"))
    else:
        rules.append(
            _("得分 = Σ(各等次分值 × 该等次票数)÷ 有效票数(%(c)s)。")
            % {"c": "、".join(scale.scored(campaign.aggregation))}
        )
        weighted = [g for g in campaign.groups.order_by("order", "id") if g.weight is not None]
        if weighted:
            rules.append(
                _("按代表类别加权:%(g)s;得分与满意率均为各类别结果的加权平均。")
                % {
                    "g": "、".join(
                        f"{g.name} {_number(w)}" for g in weighted if (w := g.weight) is not None
                    )
                }
            )
    rules.append(
        _("满意率 =(%(s)s)票数 ÷ 有效票数(%(c)s)。")
        % {"s": "+".join(scale.satisfied), "c": counted}
    )
    if scale.not_counted:
        rules.append(_("“%(o)s”不计入有效票。") % {"o": "、".join(scale.not_counted)})
    best = scale.best if scale.options else ""
    rules.append(
        _(
            "各类别内按得分从高到低排名;得分相同的比满意率,再相同的比“%(best)s”票所占比例;"
            "三项都相同的并列,其后名次顺延(如 1、2、2、4)。"
        )
        % {"best": best}
    )
    if weighted:
        # The engine takes this share over all valid ballots even where groups are weighted
        # (spec 5.3); a reader checking a tie by hand must not weight it.
        rules.append(
            _("“%(best)s”票所占比例不加权:为全部有效票中“%(best)s”票数 ÷ 有效票数(%(c)s)。")
            % {"best": best, "c": counted}
        )
    rules += quotas_in_words(campaign)
    # How 末位 and 优胜 are drawn, only where some category names any (两评一树 names none).
    quotas = campaign.categories.aggregate(w=Max("winners"), l=Max("last_place"))
    if quotas["l"]:
        rules.append(
            _(
                "末位单位先认定:按相反顺序排名,名次在末位名额以内的(并列的一并)为末位单位;"
                "一票否决的单位可以是末位。"
            )
        )
    if quotas["w"]:
        rules.append(
            _(
                "优胜单位在其余单位中认定:一票否决的单位和末位单位不能评为优胜;"
                "名额边界上并列的一并评为优胜。"
            )
        )
    rules.append(threshold_in_words(campaign))
    rules += subjects_in_words(campaign)
    if (previous := campaign.previous) is not None:
        rules.append(
            _("本次为末位、上次(%(p)s)也为末位的单位,标为连续两年末位。") % {"p": previous.name}
        )
        if campaign.consecutive_last:
            rules.append(_("连续两年末位的:%(c)s。") % {"c": campaign.consecutive_last})
        if campaign.consecutive_last_vertical:
            rules.append(_("垂直管理单位连续两年末位的:%(c)s。")
                         % {"c": campaign.consecutive_last_vertical})
    bands = list(campaign.grade_bands.order_by("-minimum"))
    if bands:
        rules.append(
            _("等次:%(b)s。")
            % {"b": ";".join(f"{_number(Decimal(b.minimum))} 分及以上为{b.label}" for b in bands)}
        )
    rules.append(_("没有有效票的单位不排名,列在本类别最后。") if _units_only(campaign)
                 else _("没有有效票的评议对象不排名,列在本类别最后。"))
    return rules


# Arabic or Chinese numerals, or a percentage: what a quota, a weight or a threshold is
# written with. A note holding one restates configuration that can change without it.
_NUMBER = re.compile(r"[0-9０-９]|前[一二三四五六七八九十两]+名|[一二三四五六七八九十]+成|%|％")


def stale_numbers(note: str) -> list[str]:
    """The figures in an office's note that would go stale with the configuration."""
    return [m.group(0) for m in _NUMBER.finditer(note)]
