"""Admin for representatives (with the .xlsx import) and the wrong-code records.

Access codes themselves are not in the admin: they are managed on the campaign's code page
(`/c/<slug>/codes/`), which only holders of `manage_codes` can open. Registering them here
would show unused codes to every role that may view the ballots app (e.g. auditors), and an
unused code is a vote."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ballots.models import CodeAttempt
from campaigns.admin import AuditedAdmin
from campaigns.models import Campaign, Representative
from campaigns.representatives import composition, representatives_import, representatives_parse
from core.spreadsheets import SpreadsheetError, check_xlsx_limits

SESSION_KEY = "representative_import"


class RepresentativeImportForm(forms.Form):
    campaign = forms.ModelChoiceField(
        label=gettext_lazy("评议活动"), queryset=Campaign.objects.order_by("-year", "name")
    )
    file = forms.FileField(
        label=gettext_lazy("代表名单 (.xlsx)"),
        help_text=gettext_lazy("表头:姓名 | 代表类别 | 片区 | 单位及职务 | 手机 | 新聘(是/否)"),
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


@admin.register(Representative)
class RepresentativeAdmin(AuditedAdmin):
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
        """Upload → preview (nothing saved) → confirm (all or nothing)."""
        if not (
            request.user.has_perm("campaigns.configure_campaign")
            and self.has_add_permission(request)
        ):
            raise PermissionDenied
        folder = Path(settings.MEDIA_ROOT) / "private" / "imports"
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("导入评议代表"),
        }
        if request.method == "POST" and "token" in request.POST:
            pending = request.session.get(SESSION_KEY, {})
            info = pending.pop(request.POST["token"], None)
            request.session[SESSION_KEY] = pending
            if info is None:
                messages.error(request, _("预览已过期,请重新上传。"))
                return HttpResponseRedirect(request.path)
            stored = folder / info["file"]
            campaign = Campaign.objects.get(pk=info["campaign"])
            try:
                plan = representatives_parse(campaign, stored, info["name"])
                batch = representatives_import(campaign=campaign, plan=plan, user=request.user)
            except SpreadsheetError as exc:
                context.update(errors=exc.errors, form=RepresentativeImportForm())
                return render(request, "ballots/codes/admin_import_representatives.html", context)
            finally:
                stored.unlink(missing_ok=True)
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
            upload = form.cleaned_data["file"]
            campaign = form.cleaned_data["campaign"]
            folder.mkdir(parents=True, exist_ok=True)
            token = secrets.token_urlsafe(16)
            stored = folder / f"reps-{token}.xlsx"
            with stored.open("wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
            try:
                plan = representatives_parse(campaign, stored, Path(upload.name).name)
            except SpreadsheetError as exc:
                stored.unlink(missing_ok=True)
                context["errors"] = exc.errors
            else:
                pending = request.session.get(SESSION_KEY, {})
                pending[token] = {
                    "file": stored.name,
                    "name": plan.filename,
                    "campaign": campaign.pk,
                }
                request.session[SESSION_KEY] = pending
                context.update(plan=plan, token=token, campaign=campaign)
        context["form"] = form
        return render(request, "ballots/codes/admin_import_representatives.html", context)


@admin.register(CodeAttempt)
class CodeAttemptAdmin(admin.ModelAdmin):
    """Failed code entries: read-only, for spotting an attack (see also the code page)."""

    list_display = ("at", "client", "campaign", "reason")
    list_filter = ("reason", "campaign")
    search_fields = ("client",)
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
