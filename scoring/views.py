"""Results for office staff, leaders and auditors; report downloads; publication (公示) and
the public page. Every figure comes from scoring.tally (the one adapter)."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ballots.models import Ballot, Comment
from campaigns.access import campaign_for
from campaigns.models import Campaign
from campaigns.subjects import subject_noun
from core.jobs import job_start
from core.permissions import perm_required
from scoring import charts
from scoring.extensions import history_for, public_sections_for
from scoring.models import Publication
from scoring.presentation import (
    BREAKDOWNS,
    FLAG_LABELS,
    breakdown_note,
    context,
    dimension_names,
    dimension_rates,
    filtered_summary_rows,
    fmt_number,
    fmt_percent,
    noun_of,
    ordered_flags,
    pool_rows,
    published_breakdown,
    slice_label,
    sub_units,
    tables,
    with_whole_verdicts,
)
from scoring.publication import check_publish, live_publication, results_publish, results_unpublish
from scoring.reports import FORMATS
from scoring.suppression import Suppression
from scoring.tally import Filters, SliceTooSmall, suppression_of, tally_campaign

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # a type only; installed with django-stubs

ALL = ""


class SliceField(forms.ChoiceField):
    """A filter on one slice of the ballots. Only the slices published on their own are
    offered (scoring.suppression); another value, typed into the address or left over from
    before more ballots were counted, is refused with the reason rather than "not a choice"."""

    def __init__(self, attr: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.attr = attr
        self.suppression: Suppression | None = None

    def validate(self, value: Any) -> None:
        if value and self.suppression is not None and not self.valid_value(value):
            raise ValidationError(
                self.suppression.refusal({self.attr: str(value)}) or _("无效的筛选条件"),
                code="small_slice",
            )
        super().validate(value)


class FilterForm(forms.Form):
    """The tabs of the results page: one slice of the ballots at a time (or all).

    A filter publishes its slice's figures, so it obeys the same minimum as the breakdowns:
    only a slice that stands alone there can be chosen, and only one attribute at a time
    (the dimension is a question, not a slice of ballots, and combines with any)."""

    dimension = forms.ChoiceField(label=gettext_lazy("评议内容"), required=False)
    channel = SliceField("channel", label=gettext_lazy("渠道"), required=False)
    group = SliceField("group", label=gettext_lazy("代表类别"), required=False)
    pool = SliceField("pool", label=gettext_lazy("评议范围"), required=False)
    district = SliceField("district", label=gettext_lazy("片区"), required=False)
    source = SliceField("source", label=gettext_lazy("来源"), required=False)

    def __init__(
        self, campaign: Campaign, data: Mapping[str, Any] | None, suppression: Suppression
    ) -> None:
        super().__init__(data)
        self.suppression = suppression
        everything: list[tuple[str, StrOrPromise]] = [(ALL, _("全部"))]
        sources = dict(Ballot.Source.choices)
        groups = campaign.groups.order_by("order", "id").values_list("name", flat=True)
        alone_groups = set(suppression.alone("group"))
        pools = dict.fromkeys(
            campaign.groups.exclude(pool="").order_by("order", "id").values_list("pool", flat=True)
        )
        alone_pools = set(suppression.alone("pool"))
        choices: dict[str, list[tuple[str, StrOrPromise]]] = {
            "dimension": everything
            + [
                (d, d)
                for d in campaign.dimensions.order_by("order", "id").values_list("name", flat=True)
            ],
            "channel": everything + [(v, v) for v in suppression.alone("channel")],
            "group": everything + [(g, g) for g in groups if g in alone_groups],
            "pool": everything + [(p, p) for p in pools if p in alone_pools],
            "district": everything + [(v, v) for v in suppression.alone("district")],
            "source": everything + [(v, sources.get(v, v)) for v in suppression.alone("source")],
        }
        self.choice_labels = {n: {v: str(lbl) for v, lbl in o} for n, o in choices.items()}
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)  # as declared above
            field.choices = options
            # Hide the filters a campaign has nothing to choose in: a dimension when there is
            # one; a slice when none stands alone, or when one slice holds every ballot. A
            # hidden field still refuses, with the reason, a value given in the address.
            if isinstance(field, SliceField):
                field.suppression = suppression
                slices = suppression.merges.get(name, {})
                hidden = len(options) < 2 or (len(slices) < 2 and name != "source")
            else:
                hidden = len(options) <= 2
            if hidden:
                field.widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = {k: (v if v != ALL else None) for k, v in data.items()}
        if refusal := self.suppression.refusal(chosen):
            raise ValidationError(refusal, code="small_slice")
        return data

    def filters(self) -> Filters:
        if not self.is_valid():
            return Filters()
        return Filters(**{k: v for k, v in self.cleaned_data.items() if v != ALL})

    def in_words(self) -> str:
        """The filter applied, as read: 渠道=社会随机评;来源=网上."""
        if not self.is_valid():
            return ""
        parts = []
        for name, value in self.cleaned_data.items():
            if value == ALL:
                continue
            shown = self.choice_labels.get(name, {}).get(value, value)
            parts.append(f"{self.fields[name].label}={shown}")
        return ";".join(parts)

    def refusals(self) -> list[str]:
        """Why the filter asked for was not applied, for the page to say so."""
        if not self.is_bound or self.is_valid():
            return []
        return [str(m) for errors in self.errors.values() for m in errors]


class UnpublishForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("撤回原因"), max_length=500)


def _campaign(slug: str) -> Campaign:
    """Public pages only: staff pages go through `campaign_for` (their office's campaigns)."""
    return get_object_or_404(Campaign, slug=slug)


@perm_required("campaigns.view_results")
@require_GET
def results(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    suppression = suppression_of(campaign)
    form = FilterForm(campaign, request.GET or None, suppression)
    filters = form.filters()
    refusals = form.refusals()
    try:
        t = tally_campaign(campaign, filters, suppression=suppression)
    except SliceTooSmall as exc:  # the form checks the same maps: only a belt with the braces
        refusals.append(str(exc))
        filters = Filters()
        t = tally_campaign(campaign, suppression=suppression)
    if filters.any():
        # Figures from the slice, flags from the whole campaign (never a slice's own).
        t = with_whole_verdicts(t, tally_campaign(campaign, suppression=suppression))
    ctx = context(t)
    charts.attach_charts(ctx["tables"], Fraction(campaign.threshold))
    published = live_publication(campaign)
    ctx |= {
        "form": form,
        "filtered": filters.any(),
        "filter_words": form.in_words() if filters.any() else "",
        "summary": filtered_summary_rows(t),
        "refusals": refusals,
        "publication": published,
        # What would refuse 公示, said before the button is pressed, not after.
        "publish_problems": (
            check_publish(campaign) if campaign.status == Campaign.Status.CLOSED else []
        ),
        "publications": Publication.objects.filter(campaign=campaign)[:5],
        "unpublish_form": UnpublishForm(),
        "formats": FORMATS,
        "flag_labels": FLAG_LABELS,
        "verification": staff_verification(campaign, request.user, published),
    }
    # While ballots still come in a fingerprint would be out of date at once: it is shown
    # from the close, and once published it is the one announced (the fixed copy's).
    if published is not None:
        ctx["fingerprint"] = published.fingerprint
    elif campaign.status not in (Campaign.Status.CLOSED, Campaign.Status.PUBLISHED):
        ctx["fingerprint"] = ""
    return render(request, "scoring/results.html", ctx)


def staff_verification(campaign: Campaign, user: Any, pub: Publication | None
                       ) -> dict[str, Any]:
    """The results page's 选票明细与公证 section: whether the ballot file is public, what
    would refuse publishing it, and (for the auditor) the audit log's chain head."""
    from core.chain import chain_head
    from scoring.verification import ballot_file_problems_to_publish

    public = pub is not None and pub.ballots_published_at is not None
    return {
        "publication": pub,
        "public": public,
        "problems": ballot_file_problems_to_publish(campaign) if pub and not public else [],
        "head": chain_head(campaign.pk) if user.has_perm("campaigns.view_auditlog") else "",
    }


def _history(campaign: Campaign, registry_id: int | None) -> list[dict[str, object]]:
    """The same unit (by registry identity, not by name) in earlier campaigns of the series."""
    rows: list[dict[str, object]] = []
    seen = {campaign.pk}
    previous = campaign.previous
    while previous is not None and previous.pk not in seen and registry_id is not None:
        seen.add(previous.pk)
        cu = previous.units.filter(unit_id=registry_id).select_related("category").first()
        if cu is not None:
            u = tally_campaign(previous).unit(cu.pk)
            if u is not None:
                rows.append(
                    {
                        "campaign": previous,
                        "name": cu.name,
                        "category": cu.category.name,
                        "rank": u.rank,
                        "score": fmt_number(u.score),
                        "rate": fmt_percent(u.satisfaction_rate),
                        "flags": ordered_flags(u.flags, u.unit.kind),
                    }
                )
        previous = previous.previous
    return rows


@perm_required("campaigns.view_results")
@require_GET
def unit_results(request: HttpRequest, slug: str, unit_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    cu = get_object_or_404(campaign.units.select_related("category"), pk=unit_id)
    t = tally_campaign(campaign, breakdowns=True)
    u = t.unit(cu.pk)
    if u is None:
        raise Http404
    labels = [o.label for o in t.input.options]

    def rows(attr: str) -> list[dict[str, object]]:
        parts = published_breakdown(t, u, attr) if attr != "dimension" else u.by_dimension
        return [
            {
                "key": slice_label(b.key) if attr != "dimension" else b.key,
                "score": fmt_number(b.score),
                "rate": fmt_percent(b.satisfaction_rate),
                "counts": [dict(b.counts).get(label, 0) for label in labels],
                "blank": b.blank,
                "spoiled": b.spoiled,
            }
            for b in parts
        ]

    category = next(c for c in t.result.categories if any(x is u for x in c.units))
    dims = dimension_names(t)
    # Texts only, ordered by text: never the ballot, its time, its group or anything else that
    # could point to who wrote it.
    comments = list(
        Comment.objects.filter(campaign=campaign, unit=cu, ballot__status=Ballot.Status.VALID)
        .order_by("text")
        .values_list("text", flat=True)
    )
    return render(
        request,
        "scoring/unit.html",
        {
            "campaign": campaign,
            "cu": cu,
            "u": u,
            "ranked": sum(1 for x in category.units if x.rank),
            "score": fmt_number(u.score),
            "rate": fmt_percent(u.satisfaction_rate),
            "flags": ordered_flags(u.flags, u.unit.kind),
            "noun": noun_of(t),
            "dimensions": list(zip(dims, dimension_rates(u, dims), strict=True)),
            "options": labels,
            "counts": [dict(u.counts).get(label, 0) for label in labels],
            # (heading, rows, note): the slices merged by the tally (scoring.suppression),
            # the same for every role; a withheld breakdown keeps its heading and its note.
            "breakdowns": [
                (_("分评议内容"), rows("dimension"), ""),
                # The review pools (两评一树) each and together; merged like the groups.
                (_("分评议范围"), pool_rows(t, u, labels),
                 breakdown_note(t, "pool") if u.by_pool else ""),
                *[(str(title), rows(attr), breakdown_note(t, attr)) for attr, title in BREAKDOWNS],
            ],
            "sub_units": [row for _c, _p, row in sub_units(tables(t), cu.name)],
            "history": _history(campaign, cu.unit_id),
            "case_history": history_for(cu.unit_id),
            # 连续两年末位: what the campaign's document says follows (000).
            "consecutive": (campaign.consecutive_last_vertical if cu.vertical
                            and campaign.consecutive_last_vertical else campaign.consecutive_last)
            if "consecutive_last_place" in u.flags else "",
            "comments": comments,
        },
    )


@perm_required("campaigns.download_reports")
@require_POST
def report_start(request: HttpRequest, slug: str) -> HttpResponse:
    """Reports are built in the background (a big campaign's PDF takes a while) and then
    downloaded from the job page by the user who asked for them."""
    campaign = campaign_for(request.user, slug)
    fmt = request.POST.get("format", "")
    if fmt not in FORMATS:
        messages.error(request, _("未知的报告格式"))
        return redirect("results", slug=campaign.slug)
    job = job_start(
        kind={"pdf": _("PDF 报告"), "xlsx": _("Excel 报告"), "feedback": _("反馈单")}[fmt],
        handler="scoring.reports.run_report_job",
        campaign=campaign,
        user=request.user,
        permission="campaigns.download_reports",  # checked again on the job page and download
        params={"format": fmt, "comments": request.POST.get("comments") == "on"},
    )
    return redirect("job_page", job_id=job.pk)


@perm_required("campaigns.publish_results")
@require_POST
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    try:
        results_publish(campaign=campaign, user=request.user)
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("结果已公示"))
    return redirect("results", slug=campaign.slug)


@perm_required("campaigns.publish_results")
@require_POST
def unpublish(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    form = UnpublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写撤回原因"))
        return redirect("results", slug=campaign.slug)
    try:
        results_unpublish(campaign=campaign, user=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        for m in exc.messages:
            messages.error(request, m)
    else:
        messages.success(request, _("已撤回公示"))
    return redirect("results", slug=campaign.slug)


@require_GET
def public_results(request: HttpRequest, slug: str) -> HttpResponse:
    """The public page: what was published, from its fixed copy, and nothing else. It reads
    as a government notice: the 公示期, where to raise an objection, and the 落款."""
    from scoring.publication import public_notice  # same app; keeps this edit to one function
    from scoring.verification import public_verification

    campaign = _campaign(slug)
    pub = live_publication(campaign)
    if pub is None:
        raise Http404
    categories = [
        {
            "name": c["name"],
            # The published copy names each subject's kind where they are not all units.
            "noun": subject_noun(u.get("kind", "单位") for u in c["units"]),
            "units": [
                {
                    "rank": u["rank"],
                    "unit": u["unit"],
                    "score": fmt_number(None if u["score"] is None else Fraction(str(u["score"]))),
                    "rate": fmt_percent(
                        None
                        if u["satisfaction_rate"] is None
                        else Fraction(str(u["satisfaction_rate"]))
                    ),
                    "flags": ordered_flags(tuple(u["flags"]), u.get("kind")),
                }
                for u in c["units"]
            ],
        }
        for c in pub.data["categories"]
    ]
    return render(
        request,
        "scoring/public.html",
        {
            "pub": pub,
            "title": pub.data["campaign"],
            "categories": categories,
            "notice": public_notice(pub),
            # What apps built on the results have published beside it (整改情况公示).
            "extra_sections": public_sections_for(campaign),
            "url": reverse("public_results", args=[campaign.slug]),
            # 核对与复核: the fingerprint, the receipt check, the ballot file once published.
            "verify": public_verification(campaign, pub),
        },
    )
