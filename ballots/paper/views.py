"""Staff pages for paper ballots: the clerks' keying screen, the supervisor's disputes,
printing numbered ballots (a background job), reconciliation, and invalidating a paper ballot.

Views check the input and the role, then call one service of ballots.paper.keying or
ballots.services; the services hold the rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ballots.models import Ballot, KeyedEntry, PrintedRange
from ballots.paper import reconciliation as rec_service
from ballots.paper.cells import (
    BLANK,
    MAX_OPTIONS,
    SPOILED,
    PaperError,
    Row,
    options_of,
    rows_of,
    words_of,
)
from ballots.paper.disputes import close_blockers, dispute_pair, dispute_resolve, entry_discard
from ballots.paper.forms import (
    KeyForm,
    RangeForm,
    ReasonForm,
    ResolveForm,
    SerialCheckForm,
    SerialSearchForm,
    code_label,
)
from ballots.paper.keying import entry_key, serial_check
from ballots.paper.ranges import Ranges, range_create
from ballots.paper.reconciliation import INVALID_REASONS
from ballots.services import WRITABLE, BallotError, ballot_invalidate, ballot_restore
from campaigns.access import campaign_for
from campaigns.models import Campaign
from core.jobs import job_start
from core.permissions import perm_required

KEY = "campaigns.key_paper_ballots"
RESOLVE = "campaigns.resolve_paper_disputes"
CONFIGURE = "campaigns.configure_campaign"
RESULTS = "campaigns.view_results"


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _screen_rows(rows: list[Row]) -> list[dict[str, Any]]:
    """Rows of the keying screen, with a category heading where the category changes."""
    out: list[dict[str, Any]] = []
    previous = None
    for row in rows:
        out.append({"row": row, "heading": row.category if row.category != previous else ""})
        previous = row.category
    return out


@perm_required(KEY)
@require_http_methods(["GET", "POST"])
def paper_entry(request: HttpRequest, slug: str) -> HttpResponse:
    """The keying screen. POST saves one ballot: JSON for the screen's script, a redirect (or
    the form with its errors) without script."""
    campaign = campaign_for(request.user, slug)
    form = KeyForm(request.POST or None)
    if request.method == "POST":
        error: PaperError | None = None
        if form.is_valid():
            d = form.cleaned_data
            try:
                result = entry_key(
                    campaign=campaign,
                    clerk=request.user,
                    serial=d["serial"],
                    keys=d["keys"],
                    comments=d["comments"],
                    allow_out_of_range=d["allow_out_of_range"],
                    confirm_copy=d["confirm_copy"],
                )
            except PaperError as exc:
                error = exc
            else:
                if _wants_json(request):
                    return JsonResponse(
                        {
                            "ok": True,
                            "serial": result.entry.serial,
                            "status": result.status,
                            "message": result.message,
                            "warnings": result.warnings,
                        }
                    )
                messages.success(request, result.message)
                for w in result.warnings:
                    messages.warning(request, w)
                return redirect("paper_entry", slug=campaign.slug)
        else:
            field, errs = next(iter(form.errors.items()))
            error = PaperError(
                f"{form.fields[field].label if field in form.fields else ''}:{errs[0]}",
                field=field,
            )
        if _wants_json(request):
            status = 409 if error.code in ("disputed", "same_clerk", "closed", "counted") else 400
            if error.code == "forbidden":
                status = 403
            return JsonResponse(
                {"ok": False, "error": str(error), "code": error.code, "field": error.field},
                status=status,
            )
        form.add_error(error.field if error.field in form.fields else None, str(error))
        ask_copy = error.code == "counted"
    else:
        ask_copy = False
    options = options_of(campaign)
    rows = rows_of(campaign)
    return render(
        request,
        "ballots/paper/entry.html",
        {
            "campaign": campaign,
            "form": form,
            "rows": _screen_rows(rows),
            "words": words_of(rows),
            "options": options,
            "writable": campaign.status in WRITABLE,
            "can_allow": request.user.has_perm(RESOLVE),
            "ask_copy": ask_copy,
            "too_many_options": len(options) > MAX_OPTIONS,
            "labels": {
                **{str(i): o.label for i, o in enumerate(options, start=1)},
                str(BLANK): _("未填"),
                str(SPOILED): _("多选(废)"),
            },
        },
    )


@perm_required(KEY)
@require_GET
def paper_serial_check(request: HttpRequest, slug: str) -> JsonResponse:
    """What keying a serial would meet (out of range, in dispute, keyed once by this clerk,
    already counted), asked by the keying screen as soon as the serial is typed."""
    campaign = campaign_for(request.user, slug)
    form = SerialCheckForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"ok": False, "serial": "", "issues": []}, status=400)
    check = serial_check(campaign=campaign, clerk=request.user, serial=form.cleaned_data["serial"])
    return JsonResponse(check.as_json())


# --- Supervisor: disputes and entries keyed once ---------------------------------------------


@perm_required(RESOLVE)
@require_GET
def paper_disputes(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    open_entries = (
        KeyedEntry.objects.filter(campaign=campaign, status__in=KeyedEntry.OPEN)
        .select_related("clerk")
        .order_by("serial", "copy_no", "pass_no")
    )
    disputes: dict[tuple[str, int], list[KeyedEntry]] = {}
    pending: list[KeyedEntry] = []
    for e in open_entries:
        if e.status == KeyedEntry.Status.DISPUTED:
            disputes.setdefault((e.serial, e.copy_no), []).append(e)
        else:
            pending.append(e)
    rows = [
        {
            "first": pair[0],
            "second": pair[1] if len(pair) > 1 else None,
            "differences": sum(
                a != b for a, b in zip(pair[0].answers, pair[-1].answers, strict=False)
            ),
        }
        for pair in disputes.values()
    ]
    return render(
        request,
        "ballots/paper/disputes.html",
        {
            "campaign": campaign,
            "disputes": rows,
            "pending": pending,
            "reason_form": ReasonForm(),
            "blockers": close_blockers(campaign),
        },
    )


@perm_required(RESOLVE)
@require_http_methods(["GET", "POST"])
def paper_dispute(request: HttpRequest, slug: str, entry_id: int) -> HttpResponse:
    """Both passes side by side; the supervisor decides each differing row."""
    campaign = campaign_for(request.user, slug)
    entry = get_object_or_404(KeyedEntry, campaign=campaign, pk=entry_id)
    try:
        first, second = dispute_pair(entry)
    except PaperError as exc:
        messages.info(request, str(exc))
        return redirect("paper_disputes", slug=campaign.slug)
    rows = rows_of(campaign)
    options = options_of(campaign)
    form = ResolveForm(request.POST or None, rows=rows, first=first, second=second, options=options)
    if request.method == "POST" and form.is_valid():
        try:
            ballot = dispute_resolve(
                entry=first,
                keys=form.cleaned_data["codes"],
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except PaperError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("编号 %(s)s 已裁决并计入选票(%(st)s)")
                % {"s": ballot.serial, "st": ballot.get_status_display()},
            )
            return redirect("paper_disputes", slug=campaign.slug)
    lines = []
    previous = None
    for i, row in enumerate(rows):
        a = first.answers[i] if i < len(first.answers) else None
        b = second.answers[i] if i < len(second.answers) else None
        lines.append(
            {
                "row": row,
                "first": code_label(a, options) if a is not None else "—",
                "second": code_label(b, options) if b is not None else "—",
                "field": form[f"cell_{i}"] if i in form.differing else None,
                "heading": row.category if row.category != previous else "",
            }
        )
        previous = row.category
    return render(
        request,
        "ballots/paper/dispute.html",
        {
            "campaign": campaign,
            "first": first,
            "second": second,
            "lines": lines,
            "differing": [lines[i] for i in form.differing],
            "words": words_of(rows),
            "form": form,
            "reason_form": ReasonForm(),
            "same_clerk": request.user.pk in (first.clerk_id, second.clerk_id),
        },
    )


@perm_required(RESOLVE)
@require_POST
def paper_entry_discard(request: HttpRequest, slug: str, entry_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    entry = get_object_or_404(KeyedEntry, campaign=campaign, pk=entry_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写作废的原因"))
    else:
        try:
            n = entry_discard(entry=entry, user=request.user, reason=form.cleaned_data["reason"])
        except PaperError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("已作废编号 %(s)s 的 %(n)d 遍录入,可重新录入") % {"s": entry.serial, "n": n},
            )
    return redirect("paper_disputes", slug=campaign.slug)


# --- Printing ------------------------------------------------------------------------------------


def _start_print(request: HttpRequest, campaign: Campaign, rng: PrintedRange) -> HttpResponse:
    job = job_start(
        kind=_("印制选票 %(r)s") % {"r": rng.label()},
        handler="ballots.paper.printing.run_print_job",
        campaign=campaign,
        user=request.user,
        permission=CONFIGURE,
        # No "redirect": the job page must stay to offer the PDF for download.
        params={"range_id": rng.pk},
    )
    return redirect("job_page", job_id=job.pk)


@perm_required(CONFIGURE)
@require_http_methods(["GET", "POST"])
def paper_print(request: HttpRequest, slug: str) -> HttpResponse:
    """Record a printed range (issued to a channel or district) and print it as one PDF."""
    campaign = campaign_for(request.user, slug)
    last = PrintedRange.objects.filter(campaign=campaign).order_by("-last").first()
    initial = {"first": last.last + 1, "width": last.width} if last else {}
    form = RangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            rng = range_create(
                campaign=campaign,
                first=d["first"],
                last=d["last"],
                width=d["width"],
                channel=d["channel"],
                district=d["district"],
                note=d["note"],
                user=request.user,
            )
        except PaperError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            if d["make_pdf"]:
                return _start_print(request, campaign, rng)
            messages.success(request, _("已登记编号段 %(r)s") % {"r": rng.label()})
            return redirect("paper_print", slug=campaign.slug)
    ranges = PrintedRange.objects.filter(campaign=campaign).select_related("created_by")
    return render(
        request,
        "ballots/paper/print.html",
        {"campaign": campaign, "form": form, "ranges": ranges},
    )


@perm_required(CONFIGURE)
@require_POST
def paper_reprint(request: HttpRequest, slug: str, range_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    rng = get_object_or_404(PrintedRange, campaign=campaign, pk=range_id)
    return _start_print(request, campaign, rng)


@perm_required(CONFIGURE)
@require_GET
def paper_range_layout(request: HttpRequest, slug: str, range_id: int) -> HttpResponse:
    """The range's box map as JSON (ballots.paper.layout), for reading its scanned ballots."""
    from ballots.paper.printing import range_layout  # WeasyPrint only when the map is asked

    campaign = campaign_for(request.user, slug)
    rng = get_object_or_404(
        PrintedRange.objects.select_related("campaign"), campaign=campaign, pk=range_id
    )
    try:
        doc = range_layout(rng)
    except ValueError as exc:  # a campaign without units has no ballot yet
        messages.error(request, str(exc))
        return redirect("paper_print", slug=campaign.slug)
    response = JsonResponse(doc, json_dumps_params={"ensure_ascii": False, "indent": 1})
    name = f"{campaign.slug}-layout-{rng.fmt(rng.first)}-{rng.fmt(rng.last)}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Reconciliation -------------------------------------------------------------------------------


@perm_required(RESULTS)
@require_GET
def reconciliation(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    rec = rec_service.reconciliation(campaign)
    if request.GET.get("format") == "json":
        return JsonResponse(rec.as_json(), json_dumps_params={"ensure_ascii": False})
    return render(
        request,
        "ballots/paper/reconciliation.html",
        {
            "campaign": campaign,
            "rec": rec,
            "reasons": [(r.value, r.label) for r in INVALID_REASONS],
            "blockers": close_blockers(campaign),
        },
    )


# --- Invalidating a paper ballot --------------------------------------------------------------


@perm_required(RESOLVE)
@require_GET
def paper_ballots(request: HttpRequest, slug: str) -> HttpResponse:
    """Find the paper ballots of a serial, to invalidate one (e.g. a photocopy) or restore it."""
    campaign = campaign_for(request.user, slug)
    form = SerialSearchForm(request.GET or None)
    found: list[Ballot] = []
    if form.is_valid():
        raw = form.cleaned_data["serial"].strip()
        serials = {raw}
        rng = Ranges(campaign).find(raw)
        if rng is not None:
            serials.add(rng.fmt(int(raw)))
        found = list(
            Ballot.objects.filter(campaign=campaign, source=Ballot.Source.PAPER, serial__in=serials)
            .select_related("batch")
            .prefetch_related("scan_pages")
            .order_by("serial", "batch_id")
        )
    return render(
        request,
        "ballots/paper/ballots.html",
        {"campaign": campaign, "form": form, "found": found, "reason_form": ReasonForm()},
    )


@perm_required(RESOLVE)
@require_POST
def paper_ballot_status(
    request: HttpRequest, slug: str, ballot_id: UUID, action: str
) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    ballot = get_object_or_404(Ballot, campaign=campaign, source=Ballot.Source.PAPER, pk=ballot_id)
    form = ReasonForm(request.POST)
    if campaign.status not in WRITABLE:
        # Results of a closed campaign are frozen: reopen it first.
        messages.error(request, _("评议活动已结束,不能再改变选票的有效性"))
    elif not form.is_valid():
        messages.error(request, _("请填写原因"))
    else:
        service = ballot_invalidate if action == "invalidate" else ballot_restore
        try:
            done = service(ballot=ballot, reason=form.cleaned_data["reason"], user=request.user)
        except BallotError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("编号 %(s)s 的选票现为:%(st)s")
                % {"s": done.serial, "st": done.get_status_display()},
            )
    query = urlencode({"serial": ballot.serial})
    return redirect(f"{reverse('paper_ballots', args=[campaign.slug])}?{query}")
