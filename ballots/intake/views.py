"""Staff pages for spreadsheet imports of ballots: upload and preview, confirm (the import
runs in the background with a progress bar), the list of batches, and undoing a batch."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from ballots.intake.imports import (
    ParsedFile,
    _check_not_imported,
    already_in_campaign,
    ballots_parse,
    batch_undo,
)
from ballots.models import ImportBatch
from ballots.services import WRITABLE
from campaigns.access import campaign_for
from campaigns.models import Campaign
from core.jobs import job_start
from core.models import BackgroundJob, StagedUpload
from core.permissions import perm_required
from core.spreadsheets import SpreadsheetError
from core.uploads import upload_confirmation, upload_preview

KIND = ImportBatch.Kind.BALLOTS


class UploadForm(forms.Form):
    # Type, size and zip checks are upload_stage's (core/uploads.py), the same for every import.
    file = forms.FileField(
        label=gettext_lazy("选票文件(.xlsx)"),
        help_text=gettext_lazy("第一张工作表:编号 | 渠道 | 代表类别 | 各单位……,每行一张选票"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


class UndoForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("撤销原因"), max_length=500)


@dataclass(frozen=True)
class Preview:
    """What the parse found, for the page before the confirmation."""

    filename: str
    sheet: str
    ballots: int
    columns: int
    blank_ballots: int
    repeated_serials: list[str]
    groups: list[tuple[str, int, bool]]  # name, ballots, not yet a group of the campaign
    channels: list[tuple[str, int]]


def _preview(campaign: Campaign, parsed: ParsedFile) -> Preview:
    known = set(campaign.groups.values_list("name", flat=True))
    in_file = Counter(parsed.serials)
    repeated = {s for s, n in in_file.items() if n > 1} | set(
        already_in_campaign(campaign, [s for s, n in in_file.items() if n == 1])
    )
    return Preview(
        filename=parsed.filename,
        sheet=parsed.sheet,
        ballots=len(parsed),
        columns=len(parsed.cells),
        # Counted as the import and the tally will count them (spec section 2): a blank
        # ballot whose serial repeats is a photocopy, not a blank ballot.
        blank_ballots=sum(
            1
            for serial, marks in zip(parsed.serials, parsed.codes, strict=True)
            if not any(marks) and serial not in repeated
        ),
        repeated_serials=sorted(repeated),
        groups=[(g, n, bool(g) and g not in known)
                for g, n in sorted(Counter(parsed.groups).items())],
        channels=sorted(Counter(parsed.channels).items()),
    )


def _parse(campaign: Campaign, upload: StagedUpload) -> ParsedFile:
    # The very same bytes are refused before the file is read, its content after.
    _check_not_imported(campaign, upload.sha256)
    parsed = ballots_parse(campaign, upload.path, upload.filename)
    _check_not_imported(campaign, parsed.sha256)
    return parsed


def _batches(campaign: Campaign) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.filter(
        campaign=campaign, kind=ImportBatch.Kind.BALLOTS
    ).select_related("created_by", "undone_by")


@perm_required("campaigns.configure_campaign")
@require_http_methods(["GET", "POST"])
def ballot_import(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload → preview (nothing saved) → confirm, through the staged uploads of
    core/uploads.py like every import; the confirmed import runs as a background job."""
    campaign = campaign_for(request.user, slug)
    here = reverse("ballot_import", args=[campaign.slug])
    if request.method == "POST" and "upload" in request.POST:
        upload = upload_confirmation(
            request, upload_id=request.POST["upload"], kind=KIND, campaign=campaign, back=here
        )
        if not isinstance(upload, StagedUpload):
            return upload
        if campaign.status not in WRITABLE:
            messages.error(request, _("评议活动已结束,不能再导入选票"))
            return redirect(here)
        # A second click on the button finds the job the first one started (and, were two
        # started at once, upload_apply still lets only one of them import).
        job = (
            BackgroundJob.objects.filter(campaign_id=campaign.pk, params__upload=str(upload.pk))
            .exclude(status=BackgroundJob.Status.FAILED)
            .first()
        )
        if job is None:
            job = job_start(
                kind=_("导入选票"),
                handler="ballots.intake.imports.run_import_job",
                campaign=campaign,
                user=request.user,
                permission="campaigns.configure_campaign",
                params={"upload": str(upload.pk), "filename": upload.filename, "redirect": here},
            )
        return redirect("job_page", job_id=job.pk)
    form = UploadForm(request.POST or None, request.FILES or None)
    preview: Preview | None = None
    staged: StagedUpload | None = None
    if request.method == "POST" and form.is_valid():
        try:
            if campaign.status not in WRITABLE:
                raise SpreadsheetError(_("评议活动已结束,不能再导入选票"))
            staged, parsed = upload_preview(
                file=form.cleaned_data["file"], kind=KIND, campaign=campaign, user=request.user,
                parse=lambda up: _parse(campaign, up))
        except SpreadsheetError as exc:
            form.add_error("file", str(exc))
        else:
            preview = _preview(campaign, parsed)
    return render(
        request,
        "ballots/imports/import.html",
        {
            "campaign": campaign,
            "form": form,
            "preview": preview,
            "upload": staged,
            "undo_form": UndoForm(),
            "batches": _batches(campaign),
            "writable": campaign.status in WRITABLE,
        },
    )


@perm_required("campaigns.configure_campaign")
@require_POST
def ballot_import_undo(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, slug)
    batch = get_object_or_404(_batches(campaign), pk=batch_id)
    form = UndoForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写撤销原因"))
    else:
        try:
            n = batch_undo(batch=batch, user=request.user, reason=form.cleaned_data["reason"])
        except SpreadsheetError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("已撤销“%(f)s”,删除 %(n)d 张选票") % {"f": batch.filename, "n": n}
            )
    return redirect("ballot_import", slug=campaign.slug)
