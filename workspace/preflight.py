"""What a campaign still lacks, and what would block or only warn a status change.

`facts_of` reads the database once per fact; `checklist` and `warnings_for` are pure (they
take the facts), so the checklist page and the confirmation page say the same thing. What
blocks a change is `campaigns.services.status_change_problems`, the service's own check
(including the ballots' receivers, e.g. open paper entries block closing): never a second
copy of it here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ballots.models import AccessCode
from ballots.online.slips import SLIPS_HANDLER
from campaigns.models import Campaign
from campaigns.presets import PRESETS
from campaigns.representatives import composition
from campaigns.services import status_change_problems
from campaigns.subjects import count_subjects, units_only
from core.models import BackgroundJob

# action in the URL -> (the status it asks for, the button's words)
ACTIONS = {
    "open": (Campaign.Status.OPEN, gettext_lazy("开始评议")),
    "close": (Campaign.Status.CLOSED, gettext_lazy("结束评议")),
}
# Which action the checklist offers in each status.
ACTION_IN_STATUS = {Campaign.Status.DRAFT: "open", Campaign.Status.OPEN: "close"}


@dataclass(frozen=True)
class Facts:
    status: str
    n_options: int
    n_categories: int
    quotas: tuple[tuple[str, int, int], ...]
    threshold: str
    phases: int
    phases_without_dates: tuple[str, ...]
    n_units: int
    unit_kinds: tuple[str, ...]  # each subject's kind: the step says 领导干部, not 单位
    n_groups: int
    n_representatives: int
    composition_warnings: tuple[str, ...]
    n_codes: int
    n_slip_jobs: int
    n_ranges: int
    paper_expected: bool
    n_valid: int


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: bool
    summary: str
    notes: tuple[str, ...] = ()
    optional: bool = False


def facts_of(campaign: Campaign) -> Facts:
    phases = list(campaign.phases.order_by("order", "id").values_list("name", "start"))
    n_codes = AccessCode.objects.filter(campaign=campaign).count()
    n_ranges = campaign.printed_ranges.count()
    preset = PRESETS.get(campaign.preset)
    reps = composition(campaign)
    return Facts(
        status=campaign.status,
        n_options=campaign.options.count(),
        n_categories=campaign.categories.count(),
        quotas=tuple(
            campaign.categories.order_by("order", "id").values_list(
                "name", "winners", "last_place"
            )
        ),
        threshold=f"{campaign.threshold * 100:.0f}%",
        phases=len(phases),
        phases_without_dates=tuple(name for name, start in phases if start is None),
        n_units=len(kinds := tuple(campaign.units.values_list("unit__kind", flat=True))),
        unit_kinds=kinds,
        n_groups=campaign.groups.count(),
        n_representatives=reps.total,
        composition_warnings=tuple(reps.warnings) if reps.total else (),
        n_codes=n_codes,
        n_slip_jobs=BackgroundJob.objects.filter(
            campaign_id=campaign.pk,
            params__handler=SLIPS_HANDLER,
            status=BackgroundJob.Status.DONE,
        ).count(),
        n_ranges=n_ranges,
        # Paper is expected where the preset collects questionnaires through channels, where
        # ranges were already printed, or where no code was made (no online voting).
        paper_expected=bool(preset and preset.channels) or n_ranges > 0 or n_codes == 0,
        n_valid=campaign.ballots.filter(Q(status="valid")).count(),
    )


def checklist(f: Facts) -> list[Step]:
    """The steps of running a campaign, in order, each done or missing."""
    quotas = "、".join(
        _("%(c)s 优胜%(w)d/末位%(l)d") % {"c": c, "w": w, "l": last} for c, w, last in f.quotas
    )
    return [
        Step("scale", _("评价等次与分值"), f.n_options > 0,
             _("%(n)d 个等次") % {"n": f.n_options}),
        Step("categories", _("类别与名额"), f.n_categories > 0,
             quotas or _("还没有类别")),
        Step("threshold", _("满意率门槛"), True, f.threshold),
        Step("phases", _("阶段与日期"), f.phases > 0 and not f.phases_without_dates,
             _("%(n)d 个阶段") % {"n": f.phases},
             tuple(_("“%(p)s”还没有日期") % {"p": p} for p in f.phases_without_dates)),
        Step("units", _("导入被评单位"), f.n_units > 0,
             _("%(n)d 个单位") % {"n": f.n_units} if units_only(f.unit_kinds)
             else count_subjects(f.unit_kinds)),
        Step("representatives", _("评议代表与构成"),
             f.n_representatives > 0 and not f.composition_warnings,
             _("%(n)d 名代表") % {"n": f.n_representatives}, f.composition_warnings),
        Step("codes", _("生成评议码(及评议码条)"), f.n_codes > 0,
             _("%(n)d 个评议码,%(s)d 份评议码条") % {"n": f.n_codes, "s": f.n_slip_jobs},
             optional=not f.n_codes and f.n_ranges > 0),
        Step("ranges", _("印制纸质选票(编号段)"), f.n_ranges > 0,
             _("%(n)d 个编号段") % {"n": f.n_ranges}, optional=not f.paper_expected),
    ]


def warnings_for(f: Facts, action: str) -> list[str]:
    """What does not block `action` but the office should know before confirming."""
    warnings: list[str] = []
    if action == "open":
        if f.n_codes == 0:
            warnings.append(_("还没有生成评议码:评议代表还不能网上评议。"))
        if f.paper_expected and f.n_ranges == 0:
            warnings.append(_("还没有印制纸质选票(编号段):纸质票还不能录入。"))
        if f.n_representatives == 0:
            warnings.append(_("尚未录入评议代表。"))
        warnings += [_("代表构成:%(w)s") % {"w": w} for w in f.composition_warnings]
        if f.phases_without_dates:
            warnings.append(
                _("以下阶段还没有日期:%(p)s") % {"p": "、".join(f.phases_without_dates)}
            )
    elif action == "close" and f.n_valid == 0:
        warnings.append(_("还没有有效票:结束后结果为空。"))
    return warnings


def blocks_for(campaign: Campaign, action: str) -> list[str]:
    """What refuses `action` now: the status service's own check."""
    target, _label = ACTIONS[action]
    if campaign.status == target:
        return [_("评议活动已是“%(s)s”状态") % {"s": Campaign.Status(target).label}]
    return status_change_problems(campaign, target)
