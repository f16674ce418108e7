"""The tally as people read it: labels, formatted figures, the rules in words.

The results page, the PDF, the workbook and the public page all format through here, so a
figure reads the same everywhere. Nothing here decides anything: every flag and rank comes
from `scoring.engine`; this module only names and formats them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Campaign, RepresentativeGroup
from scoring import engine
from scoring.suppression import NAMES, OTHER
from scoring.tally import CampaignTally

# In the order a reader looks for them (not the alphabetical order of the JSON).
FLAG_ORDER = (
    engine.FLAG_WINNER,
    engine.FLAG_LAST_PLACE,
    engine.FLAG_CONSECUTIVE_LAST_PLACE,
    engine.FLAG_KEY_RECTIFICATION,
    engine.FLAG_VETOED,
    engine.FLAG_NO_VOTES,
)
FLAG_LABELS = {
    engine.FLAG_WINNER: gettext_lazy("优胜"),
    engine.FLAG_LAST_PLACE: gettext_lazy("末位"),
    engine.FLAG_CONSECUTIVE_LAST_PLACE: gettext_lazy("连续两年末位"),
    engine.FLAG_KEY_RECTIFICATION: gettext_lazy("重点整改"),
    engine.FLAG_VETOED: gettext_lazy("一票否决"),
    engine.FLAG_NO_VOTES: gettext_lazy("无有效票"),
}
INVALID_LABELS = {
    "blank_ballot": gettext_lazy("空白票"),
    "duplicate_serial": gettext_lazy("编号重复(复印)"),
    "manual": gettext_lazy("人工认定无效"),
}
SOURCE_LABELS = {"online": gettext_lazy("网上"), "paper": gettext_lazy("纸质")}


def fmt_number(x: Fraction | Decimal | None, places: int = 4) -> str:
    """At most `places` decimals, trailing zeros dropped: 106, 104.5, 20.4375."""
    if x is None:
        return "—"
    if isinstance(x, Fraction):
        x = Decimal(x.numerator) / Decimal(x.denominator)
    q = x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{q:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_percent(x: Fraction | None, places: int = 2) -> str:
    """Fixed decimals (80.00%, 95.11%): rates are read down a column."""
    if x is None:
        return "—"
    d = Decimal(x.numerator * 100) / Decimal(x.denominator)
    return f"{d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}%"


def ordered_flags(flags: tuple[str, ...]) -> list[tuple[str, str]]:
    """(flag, label) in reading order."""
    return [(f, str(FLAG_LABELS.get(f, f))) for f in FLAG_ORDER if f in flags] + [
        (f, f) for f in flags if f not in FLAG_LABELS
    ]


@dataclass(frozen=True)
class Row:
    """One unit in a ranking table."""

    result: engine.UnitResult
    unit_id: int
    counts: list[int]  # in scale order

    @property
    def name(self) -> str:
        return self.result.unit.name

    @property
    def rank(self) -> int | None:
        return self.result.rank

    @property
    def score(self) -> str:
        return fmt_number(self.result.score)

    @property
    def rate(self) -> str:
        return fmt_percent(self.result.satisfaction_rate)

    @property
    def flags(self) -> list[tuple[str, str]]:
        return ordered_flags(self.result.flags)

    @property
    def flag_text(self) -> str:
        return "、".join(label for _f, label in self.flags)


@dataclass
class Table:
    category: engine.CategoryResult
    rows: list[Row]
    number: str = ""  # section number in the PDF (四、五、…)
    score_svg: str = ""  # filled by scoring.charts.attach_charts
    rate_svg: str = ""
    pdf_columns: list[str] = field(default_factory=list)  # filled by scoring.reports.pdf

    @property
    def name(self) -> str:
        return self.category.category.name

    @property
    def notes(self) -> tuple[str, ...]:
        return self.category.notes


# The unit page's breakdowns by a ballot attribute, in its order: (attribute, heading).
# Each is merged by scoring.suppression.
BREAKDOWNS = (
    ("group", gettext_lazy("分代表类别")),
    ("channel", gettext_lazy("分渠道")),
    ("district", gettext_lazy("分片区")),
)


def slice_label(key: str) -> str:
    """A breakdown row's name as read: the merged slices' 其他 in the reader's language."""
    return _("其他") if key == OTHER else key


def published_breakdown(
    t: CampaignTally, u: engine.UnitResult, attr: str
) -> list[engine.Breakdown]:
    """A unit's breakdown by `attr` as published: the slices the tally merged (scoring.tally
    applies the suppression; nothing here can undo it), 其他 last; nothing when the breakdown
    would be 其他 alone (`breakdown_note` says why)."""
    if t.suppression is not None and t.suppression.withheld(attr):
        return []
    return sorted(getattr(u, f"by_{attr}"), key=lambda b: b.key == OTHER)  # stable: 其他 last


def breakdown_note(t: CampaignTally, attr: str) -> str:
    """What the reader is told about merged slices; "" when nothing was merged. No names and
    no counts of the small slices: that a merge happened is all it says."""
    s = t.suppression
    if s is None or not s.merges_any(attr):
        return ""
    if s.withheld(attr):
        return _(
            "各%(what)s的有效票都不足 %(n)d 张,为保护评议代表的投票秘密,不分%(what)s统计。"
        ) % {"what": NAMES[attr], "n": s.minimum}
    return _(
        "有效票不足 %(n)d 张的%(what)s(必要时连同票数最少的一个)合并为“其他”统计,"
        "以免从小范围推知个人的评价。"
    ) % {"what": NAMES[attr], "n": s.minimum}


def tables(t: CampaignTally) -> list[Table]:
    labels = [o.label for o in t.input.options]
    return [
        Table(
            c,
            [
                Row(u, int(u.unit.key), [dict(u.counts).get(label, 0) for label in labels])
                for u in c.units
            ],
            number=cn_number(i + 4),  # after 一 选票, 二 奖惩, 三 规则
        )
        for i, c in enumerate(t.result.categories)
    ]


@dataclass(frozen=True)
class FlagList:
    flag: str
    label: str
    units: list[tuple[str, engine.UnitResult]]  # (category name, unit), in table order

    def by_category(self) -> list[tuple[str, str]]:
        """(category, "单位(名次)、…") for a compact listing."""
        out: dict[str, list[str]] = {}
        for cat, u in self.units:
            out.setdefault(cat, []).append(f"{u.unit.name}({u.rank})" if u.rank else u.unit.name)
        return [(cat, "、".join(names)) for cat, names in out.items()]


def flagged(t: CampaignTally) -> list[FlagList]:
    """The lists leaders ask for first, empty lists kept (an empty list is news too)."""
    out = []
    for flag in (
        engine.FLAG_WINNER,
        engine.FLAG_LAST_PLACE,
        engine.FLAG_CONSECUTIVE_LAST_PLACE,
        engine.FLAG_KEY_RECTIFICATION,
        engine.FLAG_VETOED,
    ):
        units = [
            (c.category.name, u) for c in t.result.categories for u in c.units if flag in u.flags
        ]
        out.append(FlagList(flag, str(FLAG_LABELS[flag]), units))
    return out


CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1-99 in Chinese numerals, for section headings (四、五、…、十二)."""
    tens, ones = divmod(n, 10)
    if n < 10:
        return CN_DIGITS[n]
    return (CN_DIGITS[tens] if tens > 1 else "") + "十" + (CN_DIGITS[ones] if ones else "")


def campaign_scale(campaign: Campaign) -> engine.Scale:
    """The campaign's scale as the engine reads it (the same construction as
    `scoring.tally.build_input`), for rules written without a tally at hand."""
    return engine.Scale(
        tuple(
            engine.Option(o.label, Fraction(o.weight), o.satisfied, o.counted)
            for o in campaign.options.order_by("order", "id")
        )
    )


def rules_in_words(campaign: Campaign, scale: engine.Scale | None = None) -> list[str]:
    """The rules the tally applied (spec 3-7). Which options are best, satisfied, counted and
    scored comes only from `engine.Scale`, the definitions the arithmetic itself uses, so the
    text cannot name another option than the one that decided a rank. Pass the scale that was
    tallied (`CampaignTally.input.scale`); without it, the campaign's own is read."""
    scale = scale if scale is not None else campaign_scale(campaign)
    weights = "、".join(f"{o.label} {fmt_number(Fraction(o.weight))} 分" for o in scale.options)
    counted = "、".join(scale.counted)
    rules = [_("评价等次及分值:%(w)s。") % {"w": weights}]
    if (blank_means := campaign.blank_means) is not None:
        rules.append(
            _("未填写的单位按“%(o)s”计;同一单位多选的,该单位计为废票,不计入任何等次。")
            % {"o": blank_means.label}
        )
    else:
        rules.append(_("未填写的单位不计票;同一单位多选的,该单位计为废票,不计入任何等次。"))
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
                % {"g": "、".join(f"{g.name} {fmt_number(g.weight)}" for g in weighted)}
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
    for c in campaign.categories.order_by("order", "id"):
        rules.append(
            _("%(c)s:前 %(w)d 名为优胜单位,后 %(l)d 名为末位单位。")
            % {"c": c.name, "w": c.winners, "l": c.last_place}
        )
    rules.append(
        _(
            "末位单位先认定:按相反顺序排名,名次在末位名额以内的(并列的一并)为末位单位;"
            "一票否决的单位可以是末位。"
        )
    )
    rules.append(
        _(
            "优胜单位在其余单位中认定:一票否决的单位和末位单位不能评为优胜;"
            "名额边界上并列的一并评为优胜。"
        )
    )
    rules.append(
        _("满意率低于 %(t)s 的单位(末位单位除外)列为重点整改单位。")
        % {"t": fmt_percent(Fraction(campaign.threshold))}
    )
    if (previous := campaign.previous) is not None:
        rules.append(
            _("本次为末位、上次(%(p)s)也为末位的单位,标为连续两年末位。") % {"p": previous.name}
        )
    bands = list(campaign.grade_bands.order_by("-minimum"))
    if bands:
        rules.append(
            _("等次:%(b)s。")
            % {"b": ";".join(f"{fmt_number(b.minimum)} 分及以上为{b.label}" for b in bands)}
        )
    rules.append(_("没有有效票的单位不排名,列在本类别最后。"))
    return rules


def summary_rows(t: CampaignTally) -> list[tuple[str, int]]:
    b = t.ballots
    rows = [(_("选票总数"), b.total)]
    rows += [
        (_("其中%(s)s") % {"s": SOURCE_LABELS.get(s, s)}, n) for s, n in sorted(b.by_source.items())
    ]
    rows += [(_("有效票"), b.valid), (_("无效票"), b.invalid)]
    rows += [
        (_("无效:%(r)s") % {"r": INVALID_LABELS.get(r, r)}, n) for r, n in b.invalid_reasons.items()
    ]
    return rows


def context(t: CampaignTally) -> dict[str, Any]:
    """What every rendering of the results needs."""
    from scoring.tally import tally_fingerprint, tally_json

    return {
        "campaign": t.campaign,
        "tally": t,
        "options": [o.label for o in t.input.options],
        "tables": tables(t),
        "flagged": flagged(t),
        "rules": rules_in_words(t.campaign, t.input.scale),
        "summary": summary_rows(t),
        "fingerprint": tally_fingerprint(tally_json(t.campaign, t)),
    }
