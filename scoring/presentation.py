"""The tally as people read it: labels, formatted figures, the rules in words.

The results page, the PDF, the workbook and the public page all format through here, so a
figure reads the same everywhere. Nothing here decides anything: every flag and rank comes
from `scoring.engine`; this module only names and formats them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ballots.models import Ballot
from ballots.validity import REASON_ORDER
from campaigns import rules as campaign_rules
from campaigns.models import Campaign, SubjectKind
from campaigns.subjects import subject_label, subject_noun, units_only
from scoring import engine
from scoring.suppression import NAMES, OTHER
from scoring.tally import BallotSummary, CampaignTally, Filters

# In the order a reader looks for them (not the alphabetical order of the JSON).
FLAG_ORDER = (
    engine.FLAG_WINNER,
    engine.FLAG_HONOURED,
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
    engine.FLAG_HONOURED: gettext_lazy("先进科室"),
}
# 先进科室 names a section; a window is honoured as 满意窗口 (004), a station as 先进站所.
HONOURED_BY_KIND = {
    "办事窗口": gettext_lazy("满意窗口"),
    "基层站所": gettext_lazy("先进站所"),
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


def flag_label(flag: str, kind: str | None = None) -> str:
    """A flag in words: `honoured` by the subject's kind (先进科室, 满意窗口, 先进站所),
    `key_rectification:<dimension>` as "<dimension>重点整改"."""
    if flag == engine.FLAG_HONOURED and kind in HONOURED_BY_KIND:
        return str(HONOURED_BY_KIND[kind])
    if flag.startswith(engine.FLAG_KEY_RECTIFICATION_ON):
        return _("%(d)s重点整改") % {"d": flag[len(engine.FLAG_KEY_RECTIFICATION_ON):]}
    return str(FLAG_LABELS.get(flag, flag))


def ordered_flags(flags: tuple[str, ...], kind: str | None = None) -> list[tuple[str, str]]:
    """(flag, label) in reading order; the per-dimension lines right after 重点整改."""
    out: list[str] = []
    for f in FLAG_ORDER:
        if f in flags:
            out.append(f)
        if f == engine.FLAG_KEY_RECTIFICATION:
            out += [x for x in flags if x.startswith(engine.FLAG_KEY_RECTIFICATION_ON)]
    out += [f for f in flags if f not in out]
    return [(f, flag_label(f, kind)) for f in out]


def flag_css(flag: str) -> str:
    """The class of a flag's badge: a per-dimension line looks like 重点整改."""
    return flag.split(":", 1)[0]


@dataclass(frozen=True)
class Row:
    """One unit in a ranking table."""

    result: engine.UnitResult
    unit_id: int
    counts: list[int]  # in scale order
    post: str = ""  # a leader's 职务
    dimension_rates: tuple[str, ...] = ()  # per dimension, in `Table.dimensions` order
    percent: str = ""  # 百分制, where the campaign shows it (`shows_percent`)

    @property
    def name(self) -> str:
        return self.result.unit.name

    @property
    def label(self) -> str:
        """The name as shown: a leader with the post beside it."""
        return subject_label(self.result.unit.name, self.post)

    @property
    def parent(self) -> str:
        return self.result.unit.parent or ""

    @property
    def kind_label(self) -> str:
        """The subject's kind in the page's language (单位, Leader …)."""
        return str(SubjectKind(self.result.unit.kind).label)

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
        return ordered_flags(self.result.flags, self.result.unit.kind)

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
    flag_notes: tuple[str, ...] = ()  # filled by `tables`: why a unit carries two verdicts
    dimensions: tuple[str, ...] = ()  # a column each, where the campaign has several
    noun: str = ""  # what the subjects are called in the name column (单位, 领导干部, …)
    percent: bool = False  # a 百分制 column beside the score (`shows_percent`)
    # (name, rates per pool + together, scores per pool + together): scoring.reports.pdf
    pools: list[tuple[str, list[str], list[str]]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.category.category.name

    @property
    def notes(self) -> tuple[str, ...]:
        return self.category.notes + self.flag_notes

    @property
    def quotas(self) -> str:
        """The category's quotas for its heading; a quota of 0 says none is named (两评一树)."""
        return quotas_words(self.category.category)


def quotas_words(c: engine.Category) -> str:
    values = {"w": c.winners, "l": c.last_place}
    if c.winners and c.last_place:
        return _("优胜 %(w)d 名,末位 %(l)d 名") % values
    if c.winners:
        return _("优胜 %(w)d 名,不评末位") % values
    if c.last_place:
        return _("不评优胜,末位 %(l)d 名") % values
    return _("不评优胜和末位")


def both_verdicts_notes(c: engine.CategoryResult, threshold: Fraction) -> tuple[str, ...]:
    """A note for each unit both 优胜 and 重点整改: readers take the two for a contradiction.
    They are two rules of their own (spec section 6): winners by rank within the category's
    quota, key rectification by the satisfaction rate under the threshold."""
    return tuple(
        _("“%(u)s”同时是优胜单位(本类前 %(n)d 名,名次第 %(r)d)和重点整改单位(满意率 %(s)s,"
          "低于 %(t)s):两条规则分别按名次和满意率认定,互不排除。")
        % {
            "u": u.unit.name,
            "n": c.category.winners,
            "r": u.rank or 0,
            "s": fmt_percent(u.satisfaction_rate),
            "t": fmt_percent(threshold),
        }
        for u in c.units
        if "winner" in u.flags and "key_rectification" in u.flags
    )


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


def dimension_names(t: CampaignTally) -> tuple[str, ...]:
    """The campaign's dimensions in their configured order, where there are several (a column
    each); () with one or none."""
    return t.dimension_names if len(t.dimension_names) > 1 else ()


def dimension_rates(u: engine.UnitResult, dimensions: tuple[str, ...]) -> tuple[str, ...]:
    """The satisfaction rate on each dimension ("—" for one the filter left out)."""
    by = {b.key: b for b in u.by_dimension}
    return tuple(
        fmt_percent(by[d].satisfaction_rate) if d in by else "—" for d in dimensions
    )


def noun_of(t: CampaignTally) -> str:
    """What the campaign's subjects are called in headings (subject_noun: 单位 when all are)."""
    return subject_noun(u.kind for u in t.input.units)


def shows_percent(t: CampaignTally) -> bool:
    """Whether the score is an average on a scale whose top is not 1 (万人评议 22/17/11): its
    百分制 reading (scoring.engine.percent_of, 004's 五个方面每项20分) then stands beside it."""
    return t.input.aggregation == "mean" and max(
        (o.weight for o in t.input.options), default=Fraction(0)) > 1


def tables(t: CampaignTally) -> list[Table]:
    labels = [o.label for o in t.input.options]
    dims = dimension_names(t)
    percent = shows_percent(t)
    return [
        Table(
            c,
            [
                Row(u, int(u.unit.key), [dict(u.counts).get(label, 0) for label in labels],
                    post=t.posts.get(u.unit.key, ""), dimension_rates=dimension_rates(u, dims),
                    percent=fmt_number(engine.percent_of(u.counts, t.input.options), 2)
                    if percent else "")
                for u in c.units
            ],
            number=cn_number(i + 4),  # after 一 选票, 二 奖惩, 三 规则
            flag_notes=both_verdicts_notes(c, t.input.threshold),
            dimensions=dims,
            noun=subject_noun(u.unit.kind for u in c.units),
            percent=percent,
        )
        for i, c in enumerate(t.result.categories)
    ]


@dataclass(frozen=True)
class FlagList:
    flag: str
    label: str
    units: list[tuple[str, engine.UnitResult]]  # (category name, unit), in table order
    heading: str = ""  # the list's title: 优胜单位, 重点整改领导干部, 先进科室, 工作评价重点整改

    def by_category(self) -> list[tuple[str, str]]:
        """(category, "单位(名次)、…") for a compact listing."""
        out: dict[str, list[str]] = {}
        for cat, u in self.units:
            out.setdefault(cat, []).append(f"{u.unit.name}({u.rank})" if u.rank else u.unit.name)
        return [(cat, "、".join(names)) for cat, names in out.items()]


def flagged(t: CampaignTally) -> list[FlagList]:
    """The lists leaders ask for first, empty lists kept (an empty list is news too); the
    honoured sub-units where the campaign has a quota, and the per-dimension lines where it
    draws them."""
    noun = noun_of(t)
    everyone = [(c.category.name, u) for c in t.result.categories for u in c.units]
    flags = [engine.FLAG_WINNER]
    if t.input.honoured_quota:
        flags.append(engine.FLAG_HONOURED)
    flags += [engine.FLAG_LAST_PLACE, engine.FLAG_CONSECUTIVE_LAST_PLACE,
              engine.FLAG_KEY_RECTIFICATION]
    if t.input.dimension_line:
        flags += [engine.FLAG_KEY_RECTIFICATION_ON + d for d in t.dimension_names]
    flags.append(engine.FLAG_VETOED)
    out = []
    for flag in flags:
        units = [(cat, u) for cat, u in everyone if flag in u.flags]
        if flag == engine.FLAG_HONOURED:
            kinds = {u.unit.kind for _c, u in everyone if u.unit.kind in engine.SUB_UNIT_KINDS}
            label = "、".join(sorted({flag_label(flag, k) for k in kinds})) or flag_label(flag)
            heading = label
        elif flag.startswith(engine.FLAG_KEY_RECTIFICATION_ON):
            label = heading = flag_label(flag)
        else:
            label = flag_label(flag)
            heading = label + noun
        out.append(FlagList(flag, label, units, heading))
    return out


def pool_rows(t: CampaignTally, u: engine.UnitResult, labels: list[str]) -> list[dict[str, Any]]:
    """A subject's figures per review pool (内部评议, 社会评议) as published (merged like the
    groups, scoring.suppression) and together (合计); [] where the ballots have no pools."""
    published = published_breakdown(t, u, "pool") if u.by_pool else []
    if not published:
        return []
    parts: list[tuple[str, Any]] = [(slice_label(b.key), b) for b in published]
    parts.append((_("合计"), u))
    return [
        {
            "key": key,
            "score": fmt_number(b.score),
            "rate": fmt_percent(b.satisfaction_rate),
            "counts": [dict(b.counts).get(label, 0) for label in labels],
            "blank": b.blank,
            "spoiled": b.spoiled,
        }
        for key, b in parts
    ]


def pool_names(t: CampaignTally) -> list[str]:
    """The pools the breakdowns show (其他 last), in the order of the first unit's."""
    for c in t.result.categories:
        for u in c.units:
            if u.by_pool:
                return [b.key for b in published_breakdown(t, u, "pool")]
    return []


def sub_units(tabs: list[Table], parent: str | None = None) -> list[tuple[str, str, Row]]:
    """(category, parent, row) of the subjects with a parent (all, or those under `parent`),
    in table order: a unit's sections, windows and stations, a team's leaders."""
    return [
        (table.name, r.parent, r)
        for table in tabs
        for r in table.rows
        if r.parent and (parent is None or r.parent == parent)
    ]


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
    """The rules the tally applied (spec 3-7), worded by `campaigns.rules` from the
    configuration as it is now (so the campaign and ballot pages say the same). Which options
    are best, satisfied, counted and scored comes only from `engine.Scale`, the definitions
    the arithmetic itself uses, so the text cannot name another option than the one that
    decided a rank. Pass the scale that was tallied (`CampaignTally.input.scale`); without
    it, the campaign's own is read."""
    return campaign_rules.rules_in_words(
        campaign, scale if scale is not None else campaign_scale(campaign)
    )


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


def with_whole_verdicts(t: CampaignTally, whole: CampaignTally) -> CampaignTally:
    """A filtered tally as the results page shows it: its own figures (ranks, scores, rates,
    counts) with each unit's flags and grade, and each category's tie notes, taken from the
    tally of the whole campaign. The engine also flags a slice's ranking, but 优胜, 末位 or
    重点整改 are decided once, on all ballots; a slice's "末位" would read as a verdict."""
    verdicts = {u.unit.key: u for c in whole.result.categories for u in c.units}
    notes = {c.category.key: c for c in whole.result.categories}
    categories = []
    for c in t.result.categories:
        units = []
        for u in c.units:
            w = verdicts.get(u.unit.key)
            units.append(replace(u, flags=w.flags if w else (), grade=w.grade if w else None))
        wc = notes.get(c.category.key)
        categories.append(
            replace(
                c,
                units=tuple(units),
                notes=wc.notes if wc else (),
                ties=wc.ties if wc else (),
            )
        )
    return replace(t, result=replace(t.result, categories=tuple(categories)))


def filtered_summary_rows(t: CampaignTally) -> list[tuple[str, int]]:
    """`summary_rows` for the ballots the filter keeps (a dimension keeps every ballot: it
    is a question, not a slice)."""
    f: Filters = t.filters
    if not f.slices_ballots():
        return summary_rows(t)
    qs = Ballot.objects.filter(campaign=t.campaign)
    for attr in ("channel", "district", "source"):
        if (value := getattr(f, attr)) is not None:
            qs = qs.filter(**{attr: value})
    if f.group is not None:
        qs = qs.filter(group__name=f.group)
    if f.pool is not None:
        qs = qs.filter(group__pool=f.pool)
    total = valid = 0
    by_source: dict[str, int] = {}
    reasons: dict[str, int] = {}
    rows = qs.values_list("source", "status", "invalid_reason").annotate(n=Count("id"))
    for source, status, reason, n in rows.order_by():
        total += n
        by_source[source] = by_source.get(source, 0) + n
        if status == Ballot.Status.VALID:
            valid += n
        else:
            reasons[reason] = reasons.get(reason, 0) + n
    ordered: dict[str, int] = {r: reasons[r] for r in REASON_ORDER if r in reasons}
    ordered |= {r: n for r, n in sorted(reasons.items()) if r not in ordered}
    return summary_rows(replace(t, ballots=BallotSummary(total, valid, total - valid, ordered,
                                                          by_source)))


def context(t: CampaignTally) -> dict[str, Any]:
    """What every rendering of the results needs."""
    from scoring.ballot_file import LazyFingerprint

    return {
        "campaign": t.campaign,
        "tally": t,
        "options": [o.label for o in t.input.options],
        "tables": tables(t),
        "flagged": flagged(t),
        "noun": noun_of(t),
        # Units only: the old wording, word for word (campaigns.subjects.units_only).
        "units_only": units_only(u.kind for u in t.input.units),
        "dimensions": dimension_names(t),
        "rules": rules_in_words(t.campaign, t.input.scale),
        "summary": summary_rows(t),
        "fingerprint": LazyFingerprint(t.campaign),
    }
