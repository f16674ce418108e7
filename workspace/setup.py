"""The office's setup pages (issue 16), instead of the admin: importing the units and the
representatives (upload → preview → confirm or discard, through core/uploads.py like the
admin's import views), the rules page (threshold, quotas, phase dates, notice) and the
configuration page (settings, rating scale, dimensions)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from campaigns.access import campaign_for
from campaigns.configuration import LOCKED_MESSAGE, campaign_configure
from campaigns.models import Campaign, ImportBatch
from campaigns.representatives import (
    HEADER_HELP,
    UnknownColumns,
    composition,
    representatives_import,
    representatives_parse,
)
from campaigns.services import units_import, units_parse
from core.models import StagedUpload
from core.permissions import perm_required
from core.spreadsheets import SpreadsheetError
from core.uploads import upload_apply, upload_confirmation, upload_preview
from workspace.forms import (
    ImportConfirmForm,
    RulesForm,
    UploadForm,
    config_forms,
    config_service_kwargs,
)
from workspace.rules import campaign_rules_save

CONFIGURE = "campaigns.configure_campaign"


def errors_of(exc: SpreadsheetError | ValidationError) -> list[Any]:
    """A refused file's problems, one per line (cells named by sheet, row and column)."""
    return list(exc.errors) if isinstance(exc, SpreadsheetError) else list(exc.messages)


def import_step(
    request: HttpRequest,
    *,
    campaign: Campaign,
    kind: str,
    preview: Callable[[StagedUpload], Any],
    apply: Callable[[StagedUpload, Path, bool], Any],
) -> tuple[dict[str, Any], Any]:
    """One request of an import page, whichever the import: (context, result).

    Without a posted upload id: the upload form, or (file posted) the staged upload and what
    `preview` read from it. With one: the confirmation, `apply(upload, path, ignore_unknown)`
    run through upload_apply; the result is then its return value, or the redirect
    upload_confirmation gives (gone, discarded). A refused file puts its errors in the
    context and imports nothing."""
    context: dict[str, Any] = {"campaign": campaign, "form": UploadForm()}
    if request.method == "POST" and "upload" in request.POST:
        confirm = ImportConfirmForm(request.POST)
        valid = confirm.is_valid()
        upload = upload_confirmation(
            request, upload_id=confirm.cleaned_data["upload"] if valid else None, kind=kind,
            campaign=campaign, back=request.path,
        )
        if not isinstance(upload, StagedUpload):
            return context, upload
        ignore = bool(confirm.cleaned_data.get("ignore_unknown"))
        staged: StagedUpload = upload  # narrowed above; the lambda needs it by name
        try:
            return context, upload_apply(
                upload=staged, apply=lambda path: apply(staged, path, ignore))
        except (SpreadsheetError, ValidationError) as exc:
            context["errors"] = errors_of(exc)
            context["upload"] = upload
            return context, None
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            upload, plan = upload_preview(
                file=form.cleaned_data["file"], kind=kind, campaign=campaign,
                user=request.user, parse=preview)
        except (SpreadsheetError, ValidationError) as exc:
            context["errors"] = errors_of(exc)
        else:
            context.update(plan=plan, upload=upload)
    context["form"] = form
    return context, None


@perm_required(CONFIGURE)
@require_http_methods(["GET", "POST"])
def setup_units(request: HttpRequest, slug: str) -> HttpResponse:
    """导入被评单位: the categories, units and (optional sheet) quotas of a spreadsheet."""
    campaign = campaign_for(request.user, slug)

    def preview(up: StagedUpload) -> Any:
        if campaign.has_ballots():
            raise ValidationError(LOCKED_MESSAGE)
        return units_parse(campaign, up.path, up.filename)

    def apply(up: StagedUpload, path: Path, ignore: bool) -> Any:
        return units_import(campaign=campaign, plan=units_parse(campaign, path, up.filename),
                            user=request.user)

    context, result = import_step(
        request, campaign=campaign, kind=ImportBatch.Kind.UNITS, preview=preview, apply=apply)
    if isinstance(result, HttpResponse):
        return result
    if result is not None:
        messages.success(
            request, _("已导入:新增 %(created)d,更新 %(updated)d,新类别 %(categories)d") % result)
        return redirect("campaign_detail", slug=campaign.slug)
    return render(request, "workspace/setup_units.html", context)


@perm_required(CONFIGURE)
@require_http_methods(["GET", "POST"])
def setup_representatives(request: HttpRequest, slug: str) -> HttpResponse:
    """导入评议代表: who is new, who changes; unknown columns only when ignored on purpose."""
    campaign = campaign_for(request.user, slug)
    refused: list[bool] = []

    def preview(up: StagedUpload) -> Any:
        return representatives_parse(campaign, up.path, up.filename, ignore_unknown=True)

    def apply(up: StagedUpload, path: Path, ignore: bool) -> Any:
        try:
            return representatives_import(
                campaign=campaign,
                plan=representatives_parse(campaign, path, up.filename, ignore_unknown=ignore),
                user=request.user)
        except UnknownColumns:
            refused.append(True)  # import_step shows it as errors; the page asks instead
            raise

    context, result = import_step(
        request, campaign=campaign, kind=ImportBatch.Kind.REPRESENTATIVES,
        preview=preview, apply=apply)
    if refused:
        # Not confirmed: the same preview again (the upload is still staged).
        del context["errors"]
        context.update(plan=preview(context["upload"]), unknown_refused=True)
    if isinstance(result, HttpResponse):
        return result
    if result is not None:
        messages.success(
            request,
            _("已导入 %(n)d 名评议代表到“%(c)s”。") % {"n": result.rows, "c": campaign.name})
        for w in composition(campaign).warnings:
            messages.warning(request, w)
        return redirect("campaign_detail", slug=campaign.slug)
    context["header_help"] = HEADER_HELP
    return render(request, "workspace/setup_representatives.html", context)


@perm_required(CONFIGURE)
@require_http_methods(["GET", "POST"])
def setup_rules(request: HttpRequest, slug: str) -> HttpResponse:
    """类别名额、整改线与阶段日期: one form, saved (and audited) by one service."""
    campaign = campaign_for(request.user, slug)
    form = RulesForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            changed = campaign_rules_save(
                campaign=campaign, user=request.user, **form.service_kwargs())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已保存(%(n)d 项有变化)。") % {"n": changed})
            return redirect("campaign_detail", slug=campaign.slug)
    return render(request, "workspace/setup_rules.html", {"campaign": campaign, "form": form})


@perm_required(CONFIGURE)
@require_http_methods(["GET", "POST"])
def setup_config(request: HttpRequest, slug: str) -> HttpResponse:
    """配置: the settings, the rating scale (options, weights, satisfied, counted, what a
    blank means) and the dimensions; saved (and audited) by one service, all or nothing."""
    campaign = campaign_for(request.user, slug)
    locked = campaign.has_ballots()
    settings, options, dims = config_forms(campaign, request.POST or None, locked=locked)
    errors: list[str] = []
    if request.method == "POST" and all(
        [settings.is_valid(), *(f.is_valid() for f in (options, dims) if f.is_bound)]
    ):
        try:
            changed = campaign_configure(
                campaign=campaign, user=request.user,
                **config_service_kwargs(settings, options, dims))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, problems in exc.message_dict.items():
                    if field in settings.fields:
                        settings.add_error(field, problems)
                    else:
                        errors += problems
            else:
                errors = exc.messages
        else:
            messages.success(request, _("已保存(%(n)d 项有变化)。") % {"n": changed})
            return redirect("campaign_detail", slug=campaign.slug)
    return render(request, "workspace/setup_config.html", {
        "campaign": campaign, "form": settings, "options": options, "dimensions": dims,
        "problems": errors, "locked": locked,
        "n_ranges": campaign.printed_ranges.count(),
    })
