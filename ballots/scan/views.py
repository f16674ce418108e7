"""Staff pages for scanned ballots (issue 21): the scan desk (upload, counts, queues), the
confirmation screen, typing a serial the QR code did not give, setting a page aside, the
supervisor's sample of pages read without a person, and the page images (staff only).

Views check the role and the form, then call one service of ballots.scan.services."""

from __future__ import annotations

import random
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ballots.models import Ballot, PrintedRange, ScanPage
from ballots.paper.cells import SPOILED, Row, options_of, rows_of
from ballots.reading import SEVERAL, UNMARKED
from ballots.scan import store
from ballots.scan.jobs import stage_files
from ballots.scan.services import (
    ScanError,
    key_of_mark,
    page_confirm,
    page_sample_record,
    page_set_aside,
    page_set_serial,
    sample_due,
)
from ballots.services import WRITABLE
from campaigns.access import campaign_for
from campaigns.models import Campaign, ImportBatch
from core.jobs import job_start
from core.permissions import perm_required

KEY = "campaigns.key_paper_ballots"
RESOLVE = "campaigns.resolve_paper_disputes"
CONFIGURE = "campaigns.configure_campaign"


def _pages(campaign: Campaign) -> QuerySet[ScanPage]:
    return ScanPage.objects.filter(campaign=campaign)


def _next(campaign: Campaign, status: str) -> ScanPage | None:
    """One of the oldest pages in `status`: chosen among the first few at random, so clerks
    working side by side seldom open the same page."""
    first = list(_pages(campaign).filter(status=status).order_by("batch_id", "seq")[:8])
    return random.choice(first) if first else None


def _mark_label(mark: int, options: list[Any]) -> str:
    if mark == UNMARKED:
        return _("未填")
    if mark == SEVERAL:
        return _("多选(废)")
    return str(options[mark - 1].label) if 0 < mark <= len(options) else "?"


@perm_required(KEY)
@require_GET
def scan_desk(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    counts = {
        s: n for s, n in _pages(campaign).values_list("status").annotate(n=Count("id"))
    }
    waiting = list(
        _pages(campaign).filter(status=ScanPage.Status.WAITING)
        .values("serial").annotate(n=Count("id")).order_by("serial")[:50]
    )
    # A lone page of a serial that already has a ballot: a photocopied page, most likely.
    counted = set(
        Ballot.objects.filter(
            campaign=campaign, source=Ballot.Source.PAPER, serial__in=[w["serial"] for w in waiting]
        ).values_list("serial", flat=True)
    )
    for w in waiting:
        w["counted"] = w["serial"] in counted
    unread = _pages(campaign).filter(status=ScanPage.Status.UNREAD).order_by("batch_id", "seq")[:50]
    confident = _pages(campaign).filter(status=ScanPage.Status.COUNTED, confirmed_rows=0)
    sampled = confident.filter(sampled=True)
    return render(request, "ballots/scan/desk.html", {
        "campaign": campaign,
        "writable": campaign.status in WRITABLE,
        "counts": [(s, label, counts.get(s, 0)) for s, label in ScanPage.Status.choices],
        "open": sum(counts.get(s, 0) for s in ScanPage.OPEN),
        "waiting": waiting,
        "unread": unread,
        "batches": ImportBatch.objects.filter(campaign=campaign, kind=ImportBatch.Kind.SCANS)
        .select_related("created_by")[:20],
        "confident": confident.count(),
        "sampled": sampled.count(),
        "sample_disagree": sampled.filter(sample_ok=False).count(),
        "can_configure": request.user.has_perm(CONFIGURE),
        "can_resolve": request.user.has_perm(RESOLVE),
    })


@perm_required(CONFIGURE)
@require_POST
def scan_upload(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    here = reverse("scan_desk", args=[campaign.slug])
    files = request.FILES.getlist("files")
    if campaign.status not in WRITABLE:
        messages.error(request, _("评议活动已结束,不能再导入扫描选票"))
        return redirect(here)
    if not files:
        messages.error(request, _("请选择扫描文件"))
        return redirect(here)
    try:
        folder, staged = stage_files(files)
    except ScanError as exc:
        messages.error(request, str(exc))
        return redirect(here)
    job = job_start(
        kind=_("导入扫描选票"),
        handler="ballots.scan.jobs.run_scan_job",
        campaign=campaign,
        user=request.user,
        permission=CONFIGURE,
        params={"folder": folder, "files": staged, "redirect": here},
    )
    return redirect("job_page", job_id=job.pk)


CROP_LEFT, CROP_RIGHT = 40.0, 8.0  # points: where reader._crop starts and ends a row
PAD = 4  # pixels store.crop_png adds round a crop


def _box_positions(page: ScanPage) -> dict[int, tuple[list[float], float]]:
    """Per row of the page: each box's centre across the row's crop (0 to 1, options in
    order), and where the boxes start; from the box map the page was printed with. Used to
    put the keys under the boxes and, on a phone, to show the boxes part only."""
    layout = (
        PrintedRange.objects.filter(campaign_id=page.campaign_id, layout_version=page.layout_version)
        .values_list("layout", flat=True).first()
    )
    if not layout:
        return {}
    boxes: dict[int, list[dict[str, Any]]] = {}
    for p in layout["pages"]:
        if p["page"] == page.page_no:
            for b in p["boxes"]:
                boxes.setdefault(b["row"], []).append(b)
    out = {}
    for row, bs in boxes.items():
        bs.sort(key=lambda b: b["key"])
        right = max(b["x"] + b["width"] for b in bs) + CROP_RIGHT
        span = right - CROP_LEFT
        out[row] = (
            [(b["x"] + b["width"] / 2 - CROP_LEFT) / span for b in bs],
            max(0.0, (bs[0]["x"] - 12 - CROP_LEFT) / span),
        )
    return out


def _row_context(page: ScanPage, rows: list[Row], options: list[Any]) -> list[dict[str, Any]]:
    by_index = {r.index: r for r in rows}
    where = _box_positions(page)
    out = []
    for r in page.row_reads():
        if r["certain"]:
            continue
        row = by_index.get(int(r["row"]))
        centres, start = where.get(int(r["row"]), ([], 0.0))
        out.append({
            # The keys under their boxes, as a share of the full crop and of the boxes part.
            "keys": [
                (n, round(100 * c, 2), round(100 * (c - start) / (1 - start), 2))
                for n, c in enumerate(centres, start=1)
            ],
            "row": r["row"],
            "unit": row.unit if row else "?",
            "dimension": row.dimension if row else "",
            "category": row.category if row else "",
            "key": key_of_mark(int(r["mark"])),
            "reading": _mark_label(int(r["mark"]), options),
        })
    return out


# Uncertain rows on one screen: whole pages only, as many as fit under this many rows. A
# screen of several pages saves a page load per page (most pages have one uncertain row).
ROWS_PER_SCREEN = 10


def _screen(campaign: Campaign, asked: ScanPage | None) -> list[ScanPage]:
    """The pages of the next screen: `asked` alone, or consecutive pages from a random start
    among the oldest, so clerks working side by side seldom get the same pages."""
    if asked is not None:
        return [asked]
    waiting = _pages(campaign).filter(status=ScanPage.Status.CONFIRM).order_by("batch_id", "seq")
    count = waiting.count()
    # A random start only where there is room for clerks not to meet; a short queue is shown
    # from its beginning.
    start = random.randrange(min(count, 40) - ROWS_PER_SCREEN) if count > 2 * ROWS_PER_SCREEN else 0
    pages: list[ScanPage] = []
    rows = 0
    for page in waiting[start : start + ROWS_PER_SCREEN]:
        n = sum(1 for r in page.rows if not r[2])
        if pages and rows + n > ROWS_PER_SCREEN:
            break
        pages.append(page)
        rows += n
    return pages


def _confirm_posted(request: HttpRequest, campaign: Campaign) -> tuple[int, int, list[str]]:
    """Confirm every page of the posted screen, each on its own (a page another clerk
    confirmed meanwhile is reported, the others still go through): pages confirmed, ballots
    counted, errors."""
    done = made = 0
    errors: list[str] = []
    ids = [u for u in (_uuid(v) for v in request.POST.getlist("page")) if u is not None]
    for page in _pages(campaign).filter(pk__in=ids):
        keys: dict[int, int] = {}
        bad = []
        for r in page.row_reads():
            if r["certain"]:
                continue
            raw = (request.POST.get(f"row-{page.pk}-{r['row']}") or "").strip() or "0"
            if not raw.isdigit() or len(raw) != 1:
                bad.append(raw)
            else:
                keys[int(r["row"])] = int(raw)
        where = _("编号 %(s)s 第 %(p)s 页") % {"s": page.serial, "p": page.page_no}
        try:
            if bad:
                raise ScanError(_("无效的键:%(k)s") % {"k": "、".join(bad)})
            made += len(page_confirm(page=page, keys=keys, user=request.user))
            done += 1
        except ScanError as exc:
            errors.append(f"{where}:{exc}")
    return done, made, errors


@perm_required(KEY)
@require_http_methods(["GET", "POST"])
def scan_confirm(request: HttpRequest, slug: str) -> HttpResponse:
    """The confirmation screen: the uncertain rows of a few pages, the machine's reading
    preselected; one key per row (the keying keys) and Enter."""
    campaign = campaign_for(request.user, slug)
    options = options_of(campaign)
    if request.method == "POST":
        done, made, errors = _confirm_posted(request, campaign)
        for e in errors:
            messages.error(request, e)
        if done:
            messages.success(
                request,
                _("已确认 %(n)d 页,计入 %(b)d 张选票") % {"n": done, "b": made},
            )
        return redirect("scan_confirm", slug=campaign.slug)
    asked = request.GET.get("page")
    shown = _screen(
        campaign,
        _pages(campaign).filter(pk=_uuid(asked) or UUID(int=0), status="confirm").first()
        if asked else None,
    )
    names = rows_of(campaign) if shown else []
    return render(request, "ballots/scan/confirm.html", {
        "campaign": campaign,
        "pages": [(page, _row_context(page, names, options)) for page in shown],
        "options": options,
        "spoiled": SPOILED,
        "left": _pages(campaign).filter(status=ScanPage.Status.CONFIRM).count(),
        "writable": campaign.status in WRITABLE,
    })


@perm_required(KEY)
@require_http_methods(["GET", "POST"])
def scan_serial(request: HttpRequest, slug: str) -> HttpResponse:
    """Pages whose QR code could not be read: a person types the serial from the image."""
    campaign = campaign_for(request.user, slug)
    if request.method == "POST":
        posted = _posted_page(request, campaign)
        try:
            page_set_serial(page=posted, serial=request.POST.get("serial", ""), user=request.user)
        except ScanError as exc:
            messages.error(request, str(exc))
            return redirect(f"{reverse('scan_serial', args=[campaign.slug])}?page={posted.pk}")
        messages.success(request, _("已记录编号"))
        return redirect("scan_serial", slug=campaign.slug)
    asked = request.GET.get("page")
    page: ScanPage | None = (
        _pages(campaign).filter(pk=_uuid(asked) or UUID(int=0), status="serial").first()
        if asked else _next(campaign, ScanPage.Status.SERIAL)
    )
    return render(request, "ballots/scan/serial.html", {
        "campaign": campaign,
        "page": page,
        "left": _pages(campaign).filter(status=ScanPage.Status.SERIAL).count(),
    })


@perm_required(RESOLVE)
@require_POST
def scan_set_aside(request: HttpRequest, slug: str, page_id: UUID) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    page = get_object_or_404(_pages(campaign), pk=page_id)
    try:
        page_set_aside(page=page, reason=request.POST.get("reason", ""), user=request.user)
    except ScanError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已搁置 %(p)s") % {"p": page})
    return redirect("scan_desk", slug=campaign.slug)


@perm_required(RESOLVE)
@require_http_methods(["GET", "POST"])
def scan_sample(request: HttpRequest, slug: str) -> HttpResponse:
    """The supervisor's audit of the reader: a page read without a person, its image beside
    the machine's reading of every row."""
    campaign = campaign_for(request.user, slug)
    if request.method == "POST":
        posted = _posted_page(request, campaign)
        try:
            page_sample_record(
                page=posted, agrees=request.POST.get("agrees") == "1",
                note=request.POST.get("note", ""), user=request.user,
            )
        except ScanError as exc:
            messages.error(request, str(exc))
        return redirect("scan_sample", slug=campaign.slug)
    due = sample_due(campaign)
    shown = due[0] if due else None
    options = options_of(campaign)
    readings = []
    if shown is not None:
        names = {r.index: r for r in rows_of(campaign)}
        for r in shown.row_reads():
            row = names.get(int(r["row"]))
            readings.append({
                "unit": row.unit if row else "?",
                "dimension": row.dimension if row else "",
                "reading": _mark_label(int((shown.marks or {}).get(str(r["row"]), r["mark"])),
                                       options),
            })
    return render(request, "ballots/scan/sample.html", {
        "campaign": campaign, "page": shown, "readings": readings, "due": len(due),
    })


def _image_response(data: bytes, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    # Ballot images: never kept by a browser or a proxy.
    response["Cache-Control"] = "private, no-store"
    return response


@perm_required(KEY)
@require_GET
def scan_page_image(request: HttpRequest, slug: str, page_id: UUID) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    page = get_object_or_404(_pages(campaign), pk=page_id)
    return _image_response(store.image_bytes(page.image), "image/jpeg")


@perm_required(KEY)
@require_GET
def scan_row_image(request: HttpRequest, slug: str, page_id: UUID, row: int) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    page = get_object_or_404(_pages(campaign), pk=page_id)
    found = next((r for r in page.row_reads() if r["row"] == row), None)
    if found is None:
        return HttpResponse(status=404)
    x, y, w, h = (int(found[k]) for k in ("x", "y", "width", "height"))
    if request.GET.get("part") == "boxes":
        # A phone shows the boxes only: the unit's name is the label beside it.
        start = _box_positions(page).get(row, ([], 0.0))[1]
        x, w = x + int(start * w), w - int(start * w)
    box = (x, y, w, h)
    return _image_response(store.crop_png(page.image, box), "image/png")


def _posted_page(request: HttpRequest, campaign: Campaign) -> ScanPage:
    return get_object_or_404(_pages(campaign), pk=_uuid(request.POST.get("page")) or UUID(int=0))


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None
