"""Admin for representatives (with the .xlsx import) and the wrong-code records.

Access codes themselves are not in the admin: they are managed on the campaign's code page
(`/c/<slug>/codes/`), which only holders of `manage_codes` can open. Registering them here
would show unused codes to every role that may view the ballots app (e.g. auditors), and an
unused code is a vote."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ballots.models import CodeAttempt
from campaigns.admin import AuditedAdmin, OfficeScopedMixin
from campaigns.models import Campaign, ImportBatch, Representative
from campaigns.representatives import (
    HEADER_HELP,
    UnknownColumns,
    composition,
    representatives_import,
    representatives_parse,
)
from core.admin import ReadOnlyAdmin
from core.models import StagedUpload
from core.spreadsheets import SpreadsheetError
from core.uploads import (
    upload_apply,
    upload_confirmation,
    upload_preview,
)

KIND = ImportBatch.Kind.REPRESENTATIVES
TEMPLATE = "ballots/codes/admin_import_representatives.html"


def _campaigns() -> Any:
    return Campaign.objects.order_by("-year", "name")


class RepresentativeImportForm(forms.Form):
    campaign = forms.ModelChoiceField(label=gettext_lazy("评议活动"), queryset=_campaigns())
    # Type, size and zip checks are upload_stage's (core/uploads.py), the same for every import.
    file = forms.FileField(
        label=gettext_lazy("代表名单 (.xlsx)"),
        help_text=format_lazy(gettext_lazy("表头:{columns}"), columns=HEADER_HELP),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


class RepresentativeConfirmForm(forms.Form):
    """The preview's buttons: which staged upload, for which campaign (upload_get checks both
    against what was staged)."""

    upload = forms.UUIDField()
    campaign = forms.ModelChoiceField(queryset=_campaigns())
    # Ticked on the preview when the file has columns the import does not know.
    ignore_unknown = forms.BooleanField(required=False)


@admin.register(Representative)
class RepresentativeAdmin(OfficeScopedMixin, AuditedAdmin):
    list_display = ("name", "group", "district", "affiliation", "phone", "is_new", "campaign")
    list_filter = ("campaign", "group", "is_new", "district")
    search_fields = ("name", "phone", "affiliation")
    list_select_related = ("group", "campaign")
    change_list_template = "ballots/codes/admin_representative_changelist.html"

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="campaigns_representative_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload → preview (nothing saved) → confirm (all or nothing), through the staged
        uploads of core/uploads.py like every import."""
        if not (
            request.user.has_perm("campaigns.configure_campaign")
            and self.has_add_permission(request)
        ):
            raise PermissionDenied
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("导入评议代表"),
            "header_help": HEADER_HELP,
        }
        if request.method == "POST" and "upload" in request.POST:
            confirm = RepresentativeConfirmForm(request.POST)
            valid = confirm.is_valid()
            chosen: Campaign | None = confirm.cleaned_data.get("campaign") if valid else None
            upload = upload_confirmation(
                request,
                upload_id=confirm.cleaned_data["upload"] if valid else None,
                kind=KIND,
                campaign=chosen,
                back=request.path,
            )
            if not isinstance(upload, StagedUpload):
                return upload
            assert chosen is not None  # upload_confirmation found the upload for it
            campaign, filename = chosen, upload.filename
            ignore = bool(confirm.cleaned_data.get("ignore_unknown"))
            try:
                batch = upload_apply(upload=upload, apply=lambda path: representatives_import(
                    campaign=campaign,
                    plan=representatives_parse(campaign, path, filename, ignore_unknown=ignore),
                    user=request.user))
            except UnknownColumns:
                # Not confirmed: the same preview again (the upload is still staged).
                plan = representatives_parse(campaign, upload.path, filename, ignore_unknown=True)
                context.update(plan=plan, upload=upload, campaign=campaign, unknown_refused=True)
                return render(request, TEMPLATE, context)
            except SpreadsheetError as exc:
                context.update(errors=exc.errors, form=RepresentativeImportForm())
                return render(request, TEMPLATE, context)
            messages.success(
                request,
                _("已导入 %(n)d 名评议代表到“%(c)s”。") % {"n": batch.rows, "c": campaign.name},
            )
            for w in composition(campaign).warnings:
                messages.warning(request, w)
            url = reverse("admin:campaigns_representative_changelist")
            return HttpResponseRedirect(f"{url}?campaign__id__exact={campaign.pk}")
        form = RepresentativeImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            campaign = form.cleaned_data["campaign"]
            try:
                upload, plan = upload_preview(
                    file=form.cleaned_data["file"], kind=KIND, campaign=campaign,
                    user=request.user,
                    parse=lambda up: representatives_parse(
                        campaign, up.path, up.filename, ignore_unknown=True))
            except SpreadsheetError as exc:
                context["errors"] = exc.errors
            else:
                context.update(plan=plan, upload=upload, campaign=campaign)
        context["form"] = form
        return render(request, TEMPLATE, context)


@admin.register(CodeAttempt)
class CodeAttemptAdmin(OfficeScopedMixin, ReadOnlyAdmin):
    """Failed code entries: read-only, for spotting an attack (see also the code page)."""

    list_display = ("at", "client", "campaign", "reason")
    list_filter = ("reason", "campaign")
    search_fields = ("client",)
    date_hierarchy = "at"
