"""Staff pages for spreadsheet imports of ballots: upload (run in the background with a
progress bar), the list of batches, and undoing a batch."""

from __future__ import annotations

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from ballots.intake.imports import _check_not_imported, batch_undo
from ballots.models import ImportBatch
from ballots.services import WRITABLE
from campaigns.models import Campaign
from core.jobs import job_start
from core.permissions import perm_required
from core.spreadsheets import SpreadsheetError, check_xlsx_limits, file_sha256


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("选票文件(.xlsx)"),
        help_text=gettext_lazy("第一张工作表:编号 | 渠道 | 代表类别 | 各单位……,每行一张选票"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_file(self):  # type: ignore[no-untyped-def]
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("请上传 .xlsx 文件"))
        try:
            check_xlsx_limits(f)
        except SpreadsheetError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return f


class UndoForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("撤销原因"), max_length=500)


def _batches(campaign: Campaign) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.filter(
        campaign=campaign, kind=ImportBatch.Kind.BALLOTS
    ).select_related("created_by", "undone_by")


@perm_required("campaigns.configure_campaign")
@require_http_methods(["GET", "POST"])
def ballot_import(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if campaign.status not in WRITABLE:
                raise SpreadsheetError(_("评议活动已结束,不能再导入选票"))
            _check_not_imported(campaign, file_sha256(upload))
        except SpreadsheetError as exc:
            form.add_error("file", str(exc))
        else:
            # The upload is kept in a private folder (not under MEDIA_URL's public files) only
            # until the background job has read it.
            folder = Path(settings.MEDIA_ROOT) / "private" / "imports"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{uuid.uuid4().hex}.xlsx"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            job = job_start(
                kind=_("导入选票"),
                handler="ballots.intake.imports.run_import_job",
                campaign=campaign,
                user=request.user,
                params={
                    "path": str(path),
                    "filename": Path(upload.name).name[:255],
                    "user_id": request.user.pk,
                    "redirect": reverse("ballot_import", args=[campaign.slug]),
                },
            )
            return redirect("job_page", job_id=job.pk)
    return render(
        request,
        "ballots/imports/import.html",
        {
            "campaign": campaign,
            "form": form,
            "undo_form": UndoForm(),
            "batches": _batches(campaign),
            "writable": campaign.status in WRITABLE,
        },
    )


@perm_required("campaigns.configure_campaign")
@require_POST
def ballot_import_undo(request: HttpRequest, slug: str, batch_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=slug)
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
