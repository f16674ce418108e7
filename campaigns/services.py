"""Configuration writes: each is atomic and writes its audit entry in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from campaigns.models import (
    MAX_CELLS,
    Campaign,
    CampaignUnit,
    Category,
    Dimension,
    GradeBand,
    ImportBatch,
    Phase,
    RatingOption,
    RepresentativeGroup,
)
from campaigns.presets import PRESETS
from campaigns.signals import status_changed, status_checks
from campaigns.subjects import (
    SUBJECT_COLUMNS,
    check_parents,
    read_kind,
    registry_create,
    registry_resolve,
)
from core.audit import audit, snapshot
from core.spreadsheets import (
    CellError,
    SpreadsheetError,
    cell_text,
    file_sha256,
    iter_rows,
    open_workbook,
    parse_yes_no,
)
from registry.freeze import freeze_check, freeze_log
from registry.models import Activity


@transaction.atomic
def campaign_create_from_preset(
    *, preset: str, slug: str, name: str, year: int, user: Any = None, office: Any = None,
    activity: Activity | None = None, activity_override_reason: str = "",
) -> Campaign:
    """A campaign of `office` (an `Office`; None only for one visible to all-office staff
    alone) configured from a preset; its previous campaign is the office's latest earlier one
    of the same series. Under the registered `activity`: registry/freeze.py checks it."""
    freeze_check(activity, activity_override_reason)
    try:
        spec = PRESETS[preset]
    except KeyError as exc:
        raise ValueError(
            _("未知的预设 %(p)s,可选:%(all)s") % {"p": preset, "all": ", ".join(PRESETS)}
        ) from exc
    if Campaign.objects.filter(slug=slug).exists():
        raise ValueError(_("标识 %(slug)s 已被使用") % {"slug": slug})
    previous = (
        Campaign.objects.filter(series=spec.series, year__lt=year, office=office)
        .order_by("-year", "-id")
        .first()
    )
    campaign = Campaign.objects.create(
        name=name,
        slug=slug,
        year=year,
        series=spec.series,
        previous=previous,
        office=office,
        preset=spec.key,
        aggregation=spec.aggregation,
        threshold=spec.threshold,
        dimension_line=spec.dimension_line,
        min_new_share=spec.min_new_share,
        rules_text=spec.rules_text,
        consecutive_last=spec.consecutive_last,
        consecutive_last_vertical=spec.consecutive_last_vertical,
        scale_explanation=spec.scale_explanation,
        activity=activity,
        activity_override_reason=activity_override_reason.strip(),
    )
    options = RatingOption.objects.bulk_create(
        RatingOption(
            campaign=campaign,
            order=i,
            label=o.label,
            weight=o.weight,
            satisfied=o.satisfied,
            counted=o.counted,
        )
        for i, o in enumerate(spec.options)
    )
    if spec.blank_means:
        campaign.blank_means = next(o for o in options if o.label == spec.blank_means)
        campaign.save(update_fields=["blank_means"])
    Dimension.objects.bulk_create(
        Dimension(campaign=campaign, order=i, name=d) for i, d in enumerate(spec.dimensions)
    )
    Category.objects.bulk_create(
        Category(
            campaign=campaign, order=i, name=c.name, winners=c.winners, last_place=c.last_place
        )
        for i, c in enumerate(spec.categories)
    )
    Phase.objects.bulk_create(
        Phase(campaign=campaign, order=i, name=p.name, description=p.description)
        for i, p in enumerate(spec.phases)
    )
    RepresentativeGroup.objects.bulk_create(
        RepresentativeGroup(
            campaign=campaign,
            order=i,
            name=g.name,
            pool=g.pool,
            target_share=g.target_share,
            target_is_minimum=g.target_is_minimum,
            weight=g.weight,
        )
        for i, g in enumerate(spec.groups)
    )
    audit(
        user=user,
        action="campaign.create",
        obj=campaign,
        after=snapshot(campaign),
        reason=_("由预设 %(p)s 创建") % {"p": preset},
    )
    freeze_log(campaign, user, activity, activity_override_reason)
    return campaign


@transaction.atomic
def campaign_clone_for_next_year(
    *,
    source: Campaign,
    slug: str,
    name: str | None = None,
    year: int | None = None,
    user: Any = None,
    activity: Activity | None = None,
    activity_override_reason: str = "",
) -> Campaign:
    """Copy the categories, units, scale, dimensions, groups, phases and grade bands, and link
    the new campaign to `source` as its previous campaign. Ballots and vetoes are not copied:
    a veto belongs to one year's assessment. Under `activity`, else the source's (frozen alike)."""
    year = year or source.year + 1
    activity = activity or source.activity
    freeze_check(activity, activity_override_reason)
    if Campaign.objects.filter(slug=slug).exists():
        raise ValueError(_("标识 %(slug)s 已被使用") % {"slug": slug})
    new = Campaign.objects.create(
        name=name or source.name.replace(str(source.year), str(year)),
        slug=slug,
        year=year,
        series=source.series,
        previous=source,
        office=source.office,
        preset=source.preset,
        aggregation=source.aggregation,
        threshold=source.threshold,
        anonymous=source.anonymous,
        double_entry=source.double_entry,
        min_new_share=source.min_new_share,
        min_cell_ballots=source.min_cell_ballots,
        honoured_quota=source.honoured_quota,
        dimension_line=source.dimension_line,
        rules_text=source.rules_text,
        consecutive_last=source.consecutive_last,
        consecutive_last_vertical=source.consecutive_last_vertical,
        scale_explanation=source.scale_explanation,
        instructions=source.instructions,
        # Where objections go and who signs stay; the 公示期 is next year's to set.
        objection_phone=source.objection_phone,
        objection_address=source.objection_address,
        objection_email=source.objection_email,
        issuer=source.issuer,
        activity=activity,
        activity_override_reason=activity_override_reason.strip(),
    )
    freeze_log(new, user, activity, activity_override_reason)
    option_map: dict[int, RatingOption] = {}
    for o in source.options.all():
        option_map[o.pk] = RatingOption.objects.create(
            campaign=new,
            order=o.order,
            label=o.label,
            weight=o.weight,
            satisfied=o.satisfied,
            counted=o.counted,
        )
    if source.blank_means_id:
        new.blank_means = option_map[source.blank_means_id]
        new.save(update_fields=["blank_means"])
    for d in source.dimensions.all():
        Dimension.objects.create(
            campaign=new, order=d.order, name=d.name, description=d.description
        )
    category_map: dict[int, Category] = {}
    for c in source.categories.all():
        category_map[c.pk] = Category.objects.create(
            campaign=new, order=c.order, name=c.name, winners=c.winners, last_place=c.last_place
        )
    CampaignUnit.objects.bulk_create(
        CampaignUnit(
            campaign=new,
            unit_id=u.unit_id,
            category=category_map[u.category_id],
            name=u.unit.name,
            order=u.order,
            vertical=u.vertical,
            post=u.post,
            note=u.note,
        )
        for u in source.units.select_related("unit")
    )
    for g in source.groups.all():
        RepresentativeGroup.objects.create(
            campaign=new,
            order=g.order,
            name=g.name,
            pool=g.pool,
            target_share=g.target_share,
            target_is_minimum=g.target_is_minimum,
            weight=g.weight,
        )
    for p in source.phases.all():
        Phase.objects.create(campaign=new, order=p.order, name=p.name, description=p.description)
    for b in source.grade_bands.all():
        GradeBand.objects.create(campaign=new, minimum=b.minimum, label=b.label)
    audit(
        user=user,
        action="campaign.clone",
        obj=new,
        after=snapshot(new),
        reason=_("由 %(src)s 复制") % {"src": source.slug},
    )
    return new


# ---- unit import (spec section 10) -------------------------------------------------------

UNIT_HEADERS = ("类别", "单位", "垂直管理", "一票否决")
CATEGORY_HEADERS = ("类别", "优胜名额", "末位名额")


@dataclass
class UnitRow:
    row: int
    category: str
    name: str
    vertical: bool
    vetoed: bool
    kind: str = "单位"
    parent: str = ""  # the 上级单位's name
    post: str = ""  # 职务


@dataclass
class UnitImportPlan:
    filename: str
    sha256: str
    rows: list[UnitRow] = field(default_factory=list)
    quotas: dict[str, tuple[int, int]] = field(default_factory=dict)
    new_categories: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    new_registry_units: list[str] = field(default_factory=list)


def _header_index(
    header: tuple[Any, ...], sheet: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, int]:
    names = [cell_text(h) for h in header]
    errors: list[CellError] = []
    index: dict[str, int] = {}
    for col, name in enumerate(names, start=1):
        if not name:
            continue
        if name not in required + optional:
            errors.append(CellError(sheet, 1, col, _("未知的列名“%(n)s”") % {"n": name}))
        elif name in index:
            errors.append(CellError(sheet, 1, col, _("列名“%(n)s”重复") % {"n": name}))
        else:
            index[name] = col
    for name in required:
        if name not in index:
            errors.append(CellError(sheet, 1, None, _("缺少列“%(n)s”") % {"n": name}))
    if errors:
        raise SpreadsheetError(errors)
    return index


def units_parse(campaign: Campaign, file: str | Path | IO[bytes], filename: str) -> UnitImportPlan:
    """Read and check the whole file; raise SpreadsheetError listing every problem."""
    sha = file_sha256(file)
    # A little over what a ballot can hold, so a file just over it gets the message naming
    # that limit (below) rather than the reader's row limit.
    wb = open_workbook(file, max_rows=MAX_CELLS + 100)
    plan = UnitImportPlan(filename=filename, sha256=sha)
    errors: list[CellError] = []
    try:
        ws = wb.worksheets[0]
        sheet = ws.title
        rows = iter_rows(ws)
        first = next(rows, None)
        if first is None:
            raise SpreadsheetError([CellError(sheet, None, None, _("工作表是空的"))])
        idx = _header_index(
            first[1], sheet, ("类别", "单位"), ("垂直管理", "一票否决", *SUBJECT_COLUMNS))

        if "类别" in wb.sheetnames and wb.sheetnames.index("类别") != 0:
            qws = wb["类别"]
            qrows = iter_rows(qws)
            qfirst = next(qrows, None)
            if qfirst is not None:
                qidx = _header_index(qfirst[1], "类别", CATEGORY_HEADERS, ())
                for rownum, values in qrows:

                    def q(col: str, v: tuple[Any, ...] = values) -> Any:
                        i = qidx[col] - 1
                        return v[i] if i < len(v) else None

                    cname = cell_text(q("类别"))
                    nums = []
                    for col in ("优胜名额", "末位名额"):
                        raw = q(col)
                        try:
                            n = int(cell_text(raw))
                            if n < 0 or str(n) != cell_text(raw):
                                raise ValueError
                            nums.append(n)
                        except ValueError:
                            errors.append(
                                CellError(
                                    "类别",
                                    rownum,
                                    qidx[col],
                                    _("“%(v)s”不是非负整数") % {"v": cell_text(raw)},
                                )
                            )
                    if not cname:
                        errors.append(CellError("类别", rownum, qidx["类别"], _("类别为空")))
                    elif cname in plan.quotas:
                        errors.append(
                            CellError(
                                "类别", rownum, qidx["类别"], _("类别“%(c)s”重复") % {"c": cname}
                            )
                        )
                    elif len(nums) == 2:
                        plan.quotas[cname] = (nums[0], nums[1])

        existing_categories = set(campaign.categories.values_list("name", flat=True))
        seen: dict[str, int] = {}
        for rownum, values in rows:

            def v(col: str, vals: tuple[Any, ...] = values) -> Any:
                if col not in idx:
                    return None
                i = idx[col] - 1
                return vals[i] if i < len(vals) else None

            category = cell_text(v("类别"))
            name = cell_text(v("单位"))
            flags: dict[str, bool] = {}
            for col in ("垂直管理", "一票否决"):
                parsed = parse_yes_no(v(col))
                if parsed is None:
                    errors.append(
                        CellError(
                            sheet,
                            rownum,
                            idx[col],
                            _("“%(v)s”应为“是”或“否”") % {"v": cell_text(v(col))},
                        )
                    )
                flags[col] = bool(parsed)
            if not category:
                errors.append(CellError(sheet, rownum, idx["类别"], _("类别为空")))
            if not name:
                errors.append(CellError(sheet, rownum, idx["单位"], _("单位名称为空")))
            elif name in seen:
                errors.append(
                    CellError(
                        sheet,
                        rownum,
                        idx["单位"],
                        _("单位“%(n)s”重复(已在第%(r)d行)") % {"n": name, "r": seen[name]},
                    )
                )
            else:
                seen[name] = rownum
            kind = read_kind(v("类型"), sheet=sheet, row=rownum, col=idx.get("类型"),
                             errors=errors)
            plan.rows.append(UnitRow(rownum, category, name, flags["垂直管理"], flags["一票否决"],
                                     kind, cell_text(v("上级单位")), cell_text(v("职务"))))
        errors += check_parents(plan.rows, sheet=sheet, col=idx.get("上级单位"))
    finally:
        wb.close()
    if errors:
        raise SpreadsheetError(errors)
    if not plan.rows:
        raise SpreadsheetError(_("没有任何单位"))
    existing_categories = set(campaign.categories.values_list("name", flat=True))
    used = {r.category for r in plan.rows}
    for cname in sorted(set(plan.quotas) - existing_categories):
        plan.new_categories.append(cname)
    preset = PRESETS.get(campaign.preset)
    preset_quotas = {c.name: (c.winners, c.last_place) for c in (preset.categories if preset else ())}
    for cname in sorted(used - existing_categories - set(plan.quotas)):
        # Spec section 10: a category named only on the units sheet keeps the preset's quotas,
        # or 0 winners and 1 last place, with a warning.
        if cname in preset_quotas:
            plan.quotas[cname] = preset_quotas[cname]
            plan.new_categories.append(cname)
        else:
            plan.quotas[cname] = (0, 1)
            plan.new_categories.append(cname)
            plan.warnings.append(
                _("类别“%(c)s”没有设置名额,按优胜0名、末位1名处理") % {"c": cname}
            )
    cells = _cells_after_import(campaign, plan)
    if cells > MAX_CELLS:
        raise SpreadsheetError(
            _(
                "导入后共有 %(n)d 个“单位×评议内容”,超过一次评议最多 %(max)d 个的上限:请减少单位或评议内容"
            )
            % {"n": cells, "max": MAX_CELLS}
        )
    known = registry_resolve(plan.rows)
    plan.new_registry_units = [r.name for r in plan.rows if known[r.name] is None]
    return plan


def _cells_after_import(campaign: Campaign, plan: UnitImportPlan) -> int:
    """Unit × dimension cells the campaign would hold once the plan is applied."""
    ids = {u.pk for u in registry_resolve(plan.rows).values() if u is not None}
    kept = campaign.units.exclude(unit_id__in=ids).count()
    new = len(plan.rows)
    return (kept + new) * max(campaign.dimensions.count(), 1)


@transaction.atomic
def units_import(*, campaign: Campaign, plan: UnitImportPlan, user: Any = None) -> dict[str, int]:
    """Apply a checked plan: all of it or (on any error) nothing."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    campaign.assert_configurable()
    earlier = ImportBatch.objects.filter(
        campaign=campaign, kind=ImportBatch.Kind.UNITS, sha256=plan.sha256, undone_at__isnull=True
    ).first()
    if earlier:
        raise SpreadsheetError(
            _("该文件已于 %(at)s 导入(批次 %(id)s,%(fn)s),不能重复导入")
            % {
                "at": f"{earlier.created_at:%Y-%m-%d %H:%M}",
                "id": earlier.pk,
                "fn": earlier.filename,
            }
        )
    categories = {c.name: c for c in campaign.categories.all()}
    next_order = (campaign.categories.aggregate(m=Max("order"))["m"] or 0) + 1
    counts = {"created": 0, "updated": 0, "categories": 0}
    for cname, (winners, last) in plan.quotas.items():
        cat = categories.get(cname)
        if cat is None:
            cat = Category.objects.create(
                campaign=campaign, name=cname, order=next_order, winners=winners, last_place=last
            )
            next_order += 1
            categories[cname] = cat
            counts["categories"] += 1
            audit(user=user, action="category.create", obj=cat, after=snapshot(cat))
        elif (cat.winners, cat.last_place) != (winners, last):
            before = snapshot(cat)
            cat.winners, cat.last_place = winners, last
            cat.save(update_fields=["winners", "last_place"])
            audit(user=user, action="category.update", obj=cat, before=before, after=snapshot(cat))
    for r in plan.rows:
        if r.category not in categories:
            cat = Category.objects.create(
                campaign=campaign, name=r.category, order=next_order, winners=0, last_place=1
            )
            next_order += 1
            categories[r.category] = cat
            counts["categories"] += 1
            audit(user=user, action="category.create", obj=cat, after=snapshot(cat))
    registry = registry_create(plan.rows, registry_resolve(plan.rows))
    batch = ImportBatch.objects.create(
        campaign=campaign,
        kind=ImportBatch.Kind.UNITS,
        filename=plan.filename,
        sha256=plan.sha256,
        rows=len(plan.rows),
        created_by=user if _is_user(user) else None,
    )
    existing = {cu.unit_id: cu for cu in campaign.units.all()}
    order_base = (campaign.units.aggregate(m=Max("order"))["m"] or 0) + 1
    for i, r in enumerate(plan.rows):
        unit = registry[r.name]
        cu = existing.get(unit.pk)
        if cu is None:
            cu = CampaignUnit.objects.create(
                campaign=campaign,
                unit=unit,
                category=categories[r.category],
                name=r.name,
                order=order_base + i,
                vertical=r.vertical,
                vetoed=r.vetoed,
                post=r.post,
            )
            counts["created"] += 1
            audit(user=user, action="unit.create", obj=cu, after=snapshot(cu))
        else:
            before = snapshot(cu)
            cu.category, cu.name, cu.vertical, cu.vetoed, cu.post = (
                categories[r.category],
                r.name,
                r.vertical,
                r.vetoed,
                r.post,
            )
            cu.save()
            if before != snapshot(cu):
                counts["updated"] += 1
                audit(user=user, action="unit.update", obj=cu, before=before, after=snapshot(cu))
    batch.summary = counts
    batch.save(update_fields=["summary"])
    audit(
        user=user,
        action="units.import",
        obj=batch,
        campaign=campaign,
        after=counts,
        object_repr=plan.filename,
    )
    return counts


def _is_user(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


# ---- status -----------------------------------------------------------------------------

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Campaign.Status.DRAFT: {Campaign.Status.OPEN},
    Campaign.Status.OPEN: {Campaign.Status.CLOSED, Campaign.Status.DRAFT},
    Campaign.Status.CLOSED: {Campaign.Status.OPEN, Campaign.Status.PUBLISHED},
    Campaign.Status.PUBLISHED: {Campaign.Status.CLOSED},
}


def status_change_problems(campaign: Campaign, new_status: str) -> list[str]:
    """Why `campaign` may not move to `new_status` (empty: it may)."""
    old = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True).first()
    if old is None or old == new_status:
        return []
    problems: list[str] = []
    if new_status not in ALLOWED_TRANSITIONS.get(old, set()):
        problems.append(
            _("不能从“%(a)s”直接改为“%(b)s”")
            % {"a": Campaign.Status(old).label, "b": Campaign.Status(new_status).label}
        )
    if new_status == Campaign.Status.OPEN and not campaign.units.exists():
        problems.append(_("还没有被评单位,不能开始评议"))
    if new_status == Campaign.Status.DRAFT and campaign.has_ballots():
        problems.append(_("已有选票,不能退回草稿"))
    for _receiver, found in status_checks.send(
        sender=Campaign, campaign=campaign, old=old, new=new_status
    ):
        # django-stubs types a response as str | None; these receivers return a list of
        # problems (campaigns/signals.py).
        problems += cast(list[str], found)
    return problems


@transaction.atomic
def campaign_set_status(*, campaign: Campaign, status: str, user: Any = None) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    problems = status_change_problems(campaign, status)
    if problems:
        from django.core.exceptions import ValidationError

        raise ValidationError(problems)
    before = snapshot(campaign)
    campaign.status = status
    campaign.save(update_fields=["status"])
    audit(
        user=user, action="campaign.status", obj=campaign, before=before, after=snapshot(campaign)
    )
    status_changed.send(sender=Campaign, campaign=campaign, old=before["status"], new=status,
                        user=user)
    return campaign
