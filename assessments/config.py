"""An assessment's configuration as one JSON document (spec section 9): checked with every
problem listed, made into an assessment in one transaction, and written back out.

The presets (assessments/presets.py) are documents of the same shape, so a preset, a shared
scheme and a test case all go through `assessment_create`."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from assessments import engine
from assessments.models import (
    Assessment,
    AssessmentCategory,
    Band,
    Item,
    Section,
    YearRule,
)
from campaigns.models import Campaign, Office
from core.audit import audit, snapshot

KEYS = {"name", "year", "mode", "base", "categories", "bands", "rules", "sections"}


def _number(value: Any, where: str, problems: list[str], *, required: bool = True
            ) -> Decimal | None:
    if value is None:
        if required:
            problems.append(_("%(w)s:缺少数值") % {"w": where})
        return None
    if isinstance(value, bool):
        problems.append(_("%(w)s:“%(v)s”不是数") % {"w": where, "v": value})
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        problems.append(_("%(w)s:“%(v)s”不是数") % {"w": where, "v": value})
        return None


def config_problems(config: dict[str, Any]) -> list[str]:
    """Every way `config` breaks the spec (section 9), each in words; [] when none."""
    problems: list[str] = []
    if not isinstance(config, dict):
        return [_("配置应为一个 JSON 对象")]
    for key in sorted(set(config) - KEYS - {"series", "description", "preset"}):
        problems.append(_("未知的键“%(k)s”") % {"k": key})
    mode = config.get("mode")
    if mode not in engine.MODES:
        problems.append(_("考核方式“%(m)s”未知(应为 deduction 或 weighted)") % {"m": mode})
    if not config.get("name"):
        problems.append(_("缺少名称(name)"))
    _number(config.get("base", 100), "base", problems)
    categories = config.get("categories") or []
    if not categories:
        problems.append(_("至少需要一个类别(categories)"))
    names = [c.get("name") for c in categories]
    if len(set(names)) != len(names) or not all(names):
        problems.append(_("类别名称须填写且不重复"))
    bands = config.get("bands") or []
    minima = [_number(b.get("min"), _("等次“%(l)s”") % {"l": b.get("label")}, problems)
              for b in bands]
    if any(a is not None and b is not None and a <= b for a, b in zip(minima, minima[1:],
                                                                      strict=False)):
        problems.append(_("等次的最低分须从高到低严格递减"))
    labels = {b.get("label") for b in bands}
    for c in categories:
        if c.get("honoured_grade") and c["honoured_grade"] not in labels:
            problems.append(_("类别“%(c)s”的先进单位等次“%(g)s”不是等次之一")
                            % {"c": c.get("name"), "g": c["honoured_grade"]})
    for r in config.get("rules") or []:
        if r.get("grade") not in labels:
            problems.append(_("规则的等次“%(g)s”不是等次之一") % {"g": r.get("grade")})
        if not isinstance(r.get("years"), int) or r["years"] < 2:
            problems.append(_("规则“%(f)s”的连续年数须为不小于 2 的整数") % {"f": r.get("flag")})
        if not r.get("flag"):
            problems.append(_("规则缺少标记(flag)"))
    sections = config.get("sections") or []
    if not sections:
        problems.append(_("至少需要一个考核项目(sections)"))
    seen: set[str] = set()
    total = Decimal(0)
    for s in sections:
        name = s.get("name") or ""
        where = _("考核项目“%(s)s”") % {"s": name}
        if not name or name in seen:
            problems.append(_("考核项目名称须填写且不重复:“%(s)s”") % {"s": name})
        seen.add(name)
        kind = s.get("kind")
        if kind not in engine.KINDS:
            problems.append(_("%(w)s:类型“%(k)s”未知") % {"w": where, "k": kind})
        if kind in ("survey", "rollup") and s.get("measure", "satisfaction") not in engine.MEASURES:
            problems.append(_("%(w)s:计量“%(m)s”未知") % {"w": where, "m": s.get("measure")})
        if kind == "score" and mode == "deduction":
            problems.append(_("%(w)s:得分项目只用于加权综合方式") % {"w": where})
        if mode == "weighted":
            top = _number(s.get("max_points"), where + " max_points", problems)
            total += top or 0
        if s.get("campaign") and not Campaign.objects.filter(slug=s["campaign"]).exists():
            problems.append(_("%(w)s:评议活动“%(c)s”不存在") % {"w": where, "c": s["campaign"]})
        for it in s.get("items") or []:
            item = _("%(w)s的扣分事项“%(i)s”") % {"w": where, "i": it.get("name")}
            ranged = "min" in it or "max" in it
            if "points" in it and ranged:
                problems.append(_("%(i)s:不能既有分值又有范围") % {"i": item})
            elif not ranged:
                _number(it.get("points"), item, problems)
            else:
                lo = _number(it.get("min"), item + " min", problems)
                hi = _number(it.get("max"), item + " max", problems)
                if lo is not None and hi is not None and lo > hi:
                    problems.append(_("%(i)s:范围下限大于上限") % {"i": item})
        if s.get("items") and kind != "items":
            problems.append(_("%(w)s:只有扣分事项类型才有事项清单") % {"w": where})
    if mode == "weighted" and total != 100:
        problems.append(_("各考核项目满分之和应为 100,现为 %(t)s") % {"t": plain(total)})
    return problems


def plain(value: Decimal) -> str:
    """A number as people write it: 10, 12.5 (never 1E+1)."""
    return f"{value.normalize():f}"


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _dd(value: Any) -> Decimal:
    """A number the checks made sure is there."""
    return Decimal(str(value))


@transaction.atomic
def assessment_create(
    *, config: dict[str, Any], slug: str, year: int | None = None,
    previous: Assessment | None = None, office: Office | None = None, user: Any = None,
) -> Assessment:
    """Make an assessment from a configuration document; ValidationError listing every
    problem, nothing saved. Without `previous`, the latest earlier assessment of the same
    series is its predecessor, as campaigns find theirs."""
    problems = config_problems(config)
    year = year or config.get("year")
    if not year:
        problems.append(_("缺少年度(year)"))
    if Assessment.objects.filter(slug=slug).exists():
        problems.append(_("标识“%(s)s”已被使用") % {"s": slug})
    if problems or not year:
        raise ValidationError(problems)
    series = config.get("series", "")
    if previous is None and series:
        previous = (Assessment.objects.filter(series=series, year__lt=year)
                    .order_by("-year", "-id").first())
    a = Assessment.objects.create(
        slug=slug, name=config["name"], year=year, series=series, preset=config.get("preset", ""),
        mode=config["mode"], base=_dd(config.get("base", 100)), previous=previous,
        office=office, description=config.get("description", ""),
    )
    for i, c in enumerate(config["categories"]):
        AssessmentCategory.objects.create(assessment=a, order=i, name=c["name"],
                                          honoured=c.get("honoured") or 0,
                                          honoured_grade=c.get("honoured_grade") or "")
    for b in config.get("bands") or []:
        Band.objects.create(assessment=a, label=b["label"], minimum=_dd(b["min"]),
                            consequence=b.get("consequence", ""),
                            rectify=bool(b.get("rectify")))
    for r in config.get("rules") or []:
        YearRule.objects.create(assessment=a, grade=r["grade"], years=r["years"], flag=r["flag"])
    for i, s in enumerate(config["sections"]):
        section = Section.objects.create(
            assessment=a, order=i, name=s["name"], kind=s["kind"], cap=_d(s.get("cap")),
            max_points=_d(s.get("max_points")) if a.mode == "weighted" else None,
            measure=s.get("measure", "satisfaction"),
            threshold=_dd(s.get("threshold", 90)), per_point=_dd(s.get("per_point", 1)),
            campaign=Campaign.objects.get(slug=s["campaign"]) if s.get("campaign") else None,
            source=s.get("source", ""),
        )
        for j, it in enumerate(s.get("items") or []):
            Item.objects.create(section=section, order=j, name=it["name"],
                                points=_d(it.get("points")), min_points=_d(it.get("min")),
                                max_points=_d(it.get("max")))
    audit(user=user, action="assessment.create", object_repr=str(a), after=snapshot(a))
    return a


def _json(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def assessment_config(a: Assessment) -> dict[str, Any]:
    """The configuration document of `a` (section 9): what `assessment_create` reads."""
    weighted = a.mode == Assessment.Mode.WEIGHTED

    def section(s: Section) -> dict[str, Any]:
        d: dict[str, Any] = {"name": s.name, "kind": s.kind}
        if weighted:
            d["max_points"] = _json(s.max_points)
        else:
            d["cap"] = _json(s.cap)
        if s.kind in (Section.Kind.SURVEY, Section.Kind.ROLLUP):
            d.update(measure=s.measure, threshold=_json(s.threshold),
                     per_point=_json(s.per_point),
                     campaign=s.campaign.slug if s.campaign else None)
        if s.kind == Section.Kind.ITEMS:
            d["items"] = [
                {"name": it.name, "points": _json(it.points)} if it.points is not None
                else {"name": it.name, "min": _json(it.min_points), "max": _json(it.max_points)}
                for it in s.items.order_by("order", "id")
            ]
        if s.source:
            d["source"] = s.source
        return d

    return {
        "name": a.name, "year": a.year, "mode": a.mode, "base": _json(a.base),
        **({"series": a.series} if a.series else {}),
        "categories": [{"name": c.name, "honoured": c.honoured,
                        "honoured_grade": c.honoured_grade or None}
                       for c in a.categories.order_by("order", "id")],
        "bands": [{"label": b.label, "min": _json(b.minimum), "consequence": b.consequence,
                   "rectify": b.rectify} for b in a.bands.order_by("-minimum")],
        "rules": [{"grade": r.grade, "years": r.years, "flag": r.flag}
                  for r in a.rules.order_by("id")],
        "sections": [section(s) for s in a.sections.order_by("order", "id")],
    }


@transaction.atomic
def section_link(*, assessment: Assessment, section: str, campaign: Campaign,
                 user: Any = None) -> Section:
    """Bind a survey or rollup section to the campaign whose result it reads."""
    s = Section.objects.select_for_update().filter(assessment=assessment, name=section).first()
    if s is None:
        raise ValidationError(_("考核项目“%(s)s”不存在") % {"s": section})
    if assessment.finalised_at is not None:
        raise ValidationError(_("考核已定稿,不能再改动。"))
    if s.kind not in (Section.Kind.SURVEY, Section.Kind.ROLLUP):
        raise ValidationError(_("考核项目“%(s)s”不是评议结果类型,不能关联评议活动")
                              % {"s": section})
    before = snapshot(s)
    s.campaign = campaign
    s.save(update_fields=["campaign"])
    audit(user=user, action="section.link", object_repr=f"{assessment.slug} · {s.name}",
          before=before, after=snapshot(s))
    return s
