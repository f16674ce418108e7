"""An assessment's rules and flags in words (assessment.md: "where the documents are silent,
the rule below is our decision, and the UI and reports must show it in words").

Built from the configuration every time it is shown, like campaigns/rules.py for surveys:
change a cap, a band or a quota and every page says the new number at its next rendering.
Nothing here computes a result; the numbers are the configuration's, printed as people
write them (10, 12.5).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.utils.translation import gettext as _

from assessments.config import plain
from assessments.models import Assessment, Band, Section, YearRule

CN_COUNT = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九",
            10: "十"}


def years_words(n: int) -> str:
    """2 -> 两 (连续两年), as the documents write it."""
    return CN_COUNT.get(n, str(n))


def rule_flag_words(flag: str) -> str:
    """What a year-on-year flag does, in the documents' words."""
    if flag == "title":
        return _("授予先进单位称号")
    if flag == "accountability":
        return _("提出处理建议")
    return flag


def flag_words(flag: str, *, rules: Iterable[YearRule] = (), missing: Iterable[str] = ()) -> str:
    """One flag of the engine as a page shows it: honoured 先进单位, title 授予先进单位称号
    (连续两年优秀), accountability 提出处理建议 (连续两年不合格), incomplete 数据不全 (缺:…)."""
    if flag == "honoured":
        return _("先进单位")
    if flag == "incomplete":
        names = "、".join(missing)
        return _("数据不全(缺:%(s)s)") % {"s": names} if names else _("数据不全")
    rule = next((r for r in rules if r.flag == flag), None)
    words = rule_flag_words(flag)
    if rule is None:
        return words
    return _("%(w)s(连续%(n)s年%(g)s)") % {"w": words, "n": years_words(rule.years),
                                         "g": rule.grade}


def band_meaning(band: Band | None) -> str:
    """What a grade means: its consequence text, and 须限期整改 when it asks for
    rectification (unless the text says so already)."""
    if band is None:
        return ""
    parts = [band.consequence] if band.consequence else []
    if band.rectify and "整改" not in band.consequence:
        parts.append(_("须限期整改"))
    return ";".join(parts)


def _n(x: Decimal | None) -> str:
    return "" if x is None else plain(x)


def _measure_words(s: Section) -> tuple[str, str]:
    """(what is measured, its unit of difference): 满意率 / 百分点, or 百分制得分 / 分."""
    if s.measure == Section.Measure.PERCENT:
        return _("百分制得分"), _("分")
    return _("满意率"), _("个百分点")


def section_words(s: Section, mode: str) -> str:
    """One section's rule: "督办落实:不按时落实每件次扣4分;…;最多扣20分。"."""
    weighted = mode == Assessment.Mode.WEIGHTED
    head = (_("%(s)s(满分%(p)s分)") % {"s": s.name, "p": _n(s.max_points)}
            if weighted else s.name)
    parts: list[str] = []
    if s.kind == Section.Kind.ITEMS:
        for it in s.items.order_by("order", "id"):
            if it.points is not None:
                parts.append(_("%(i)s每件次扣%(p)s分") % {"i": it.name, "p": _n(it.points)})
            else:
                parts.append(_("%(i)s视情节轻重每件次扣%(a)s—%(b)s分")
                             % {"i": it.name, "a": _n(it.min_points), "b": _n(it.max_points)})
        if not parts:
            parts.append(_("尚未设扣分事项"))
        if weighted:
            parts.append(_("从满分中扣除,扣完为止"))
    elif s.kind == Section.Kind.SCORE:
        parts.append(_("由提供单位报送得分,须在0到%(p)s分之间;未报送得分的单位缺此项")
                     % {"p": _n(s.max_points)})
    else:
        what, step = _measure_words(s)
        source = (_("取评议活动“%(c)s”的结果") % {"c": s.campaign.name} if s.campaign
                  else _("尚未关联评议活动"))
        parts.append(source)
        if s.kind == Section.Kind.SURVEY:
            if weighted:
                parts.append(_("得分=满分×本单位%(m)s÷100") % {"m": what})
            else:
                parts.append(_("%(m)s达%(t)s%%以上不扣分,每降低一%(u)s扣%(p)s分(按比例计算)")
                             % {"m": what, "t": _n(s.threshold), "u": step,
                                "p": _n(s.per_point)})
            parts.append(_("单位不在该评议活动中或没有有效票的,缺此项"))
        else:
            if weighted:
                parts.append(_("得分=满分×本单位各下级评议对象%(m)s的平均值÷100") % {"m": what})
                parts.append(_("没有有效票的下级评议对象的单位缺此项"))
            else:
                parts.append(
                    _("本单位每个下级评议对象(内设科室、窗口、站所)%(m)s达%(t)s%%以上不扣分,"
                      "每降低一%(u)s扣%(p)s分,逐个计入本单位扣分")
                    % {"m": what, "t": _n(s.threshold), "u": step, "p": _n(s.per_point)})
                parts.append(_("没有下级评议对象或下级评议对象均无有效票的,此项不扣分"))
    if not weighted and s.cap is not None:
        parts.append(_("本项最多扣%(c)s分") % {"c": _n(s.cap)})
    if s.source:
        parts.append(_("提供单位:%(o)s") % {"o": s.source})
    return _("%(h)s:%(r)s。") % {"h": head, "r": ";".join(parts)}


def bands_words(bands: list[Band]) -> str:
    """"总分90分以上为优秀(通报表彰),80分以上不到90分为良好,…"."""
    parts = []
    upper: Decimal | None = None
    for b in bands:
        meaning = band_meaning(b)
        if upper is None:
            text = _("%(m)s分以上为%(g)s") % {"m": plain(b.minimum), "g": b.label}
        elif b.minimum <= 0:
            text = _("不到%(u)s分为%(g)s") % {"u": plain(upper), "g": b.label}
        else:
            text = _("%(m)s分以上不到%(u)s分为%(g)s") % {"m": plain(b.minimum),
                                                      "u": plain(upper), "g": b.label}
        parts.append(text + (_("(%(c)s)") % {"c": meaning} if meaning else ""))
        upper = b.minimum
    return _("等次:总分%(b)s。") % {"b": ",".join(parts)}


def rules_in_words(assessment: Assessment) -> list[str]:
    """The assessment's rules, one sentence each, from its configuration as it is now."""
    a = assessment
    out: list[str] = []
    if a.mode == Assessment.Mode.DEDUCTION:
        out.append(_("本考核实行倒扣分制:各单位以基础分%(b)s分为起点,减去各考核项目的扣分,"
                     "总分最低为0分。") % {"b": plain(a.base)})
    else:
        out.append(_("本考核实行加权综合:总分为各考核项目得分之和,各项目满分合计100分。"))
    sections = list(a.sections.order_by("order", "id").select_related("campaign"))
    out.extend(section_words(s, a.mode) for s in sections)
    out.append(_("只计已审核通过、未被更正的扣分和得分;未通过、申诉成立或已被更正的不计。"))
    bands = list(a.bands.order_by("-minimum"))
    if bands:
        out.append(bands_words(bands))
    out.append(_("排名、评定等次均按精确值比较;页面和报告中的分数按四舍五入保留两位小数显示。"))
    for c in a.categories.order_by("order", "id"):
        if not c.honoured:
            continue
        if c.honoured_grade:
            out.append(_("%(c)s:评为%(g)s等次的单位中,按名次取前%(n)s名为先进单位;与第%(n)s名"
                         "同分的单位一并评为先进单位。")
                       % {"c": c.name, "g": c.honoured_grade, "n": c.honoured})
        else:
            out.append(_("%(c)s:按名次取前%(n)s名为先进单位;与第%(n)s名同分的单位一并评为"
                         "先进单位。") % {"c": c.name, "n": c.honoured})
    for r in a.rules.order_by("id"):
        out.append(_("连续%(n)s年评为%(g)s的单位(按往年同一系列考核、逐年不间断),%(w)s。")
                   % {"n": years_words(r.years), "g": r.grade, "w": rule_flag_words(r.flag)})
    out.append(_("总分相同的单位名次相同(如1、2、2、4),不再比较其他项目。"))
    out.append(_("缺少任一考核项目数据的单位不排名、不评等次,列在本类别最后并注明所缺项目。"))
    return out
