"""Admin for paper ballots: read-only lists of ballots, printed ranges and keyed entries, and
an action that invalidates selected paper ballots after asking for the reason.

Everything that changes data goes through the services (audit-logged); the admin never edits
a ballot's fields directly. The access-code link of named campaigns is not shown here."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ballots.models import Ballot, KeyedEntry, PrintedRange
from ballots.services import BallotError, ballot_invalidate
from campaigns.admin import OfficeScopedMixin
from core.admin import ReadOnlyAdmin

RESOLVE = "campaigns.resolve_paper_disputes"


class InvalidateForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("认定无效的原因"), max_length=500)


@admin.register(Ballot)
class BallotAdmin(OfficeScopedMixin, ReadOnlyAdmin):
    list_display = (
        "serial",
        "campaign",
        "source",
        "status",
        "invalid_reason",
        "channel",
        "district",
        "batch",
        "received_on",
    )
    list_filter = ("campaign", "source", "status", "invalid_reason")
    search_fields = ("serial",)
    fields = (
        "campaign",
        "source",
        "serial",
        "channel",
        "group",
        "district",
        "status",
        "invalid_reason",
        "invalid_note",
        "is_blank",
        "batch",
        "received_on",
    )
    readonly_fields = fields
    actions = ["invalidate"]
    list_select_related = ("campaign", "batch")
    show_full_result_count = False  # counting 10,000s of ballots on every page is wasted

    def has_invalidate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESOLVE)

    @admin.action(
        description=gettext_lazy("认定所选纸质选票无效(须写原因)"), permissions=["invalidate"]
    )
    def invalidate(self, request: HttpRequest, queryset: QuerySet[Ballot]) -> HttpResponse | None:
        form = InvalidateForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = skipped = 0
            for ballot in queryset.select_related("campaign"):
                if ballot.source != Ballot.Source.PAPER:
                    skipped += 1
                    continue
                try:
                    ballot_invalidate(
                        ballot=ballot, reason=form.cleaned_data["reason"], user=request.user
                    )
                except BallotError as exc:
                    self.message_user(request, f"{ballot.serial}:{exc}", messages.WARNING)
                else:
                    done += 1
            self.message_user(request, _("已认定 %(n)d 张选票无效") % {"n": done}, messages.SUCCESS)
            if skipped:
                self.message_user(
                    request, _("%(n)d 张网上选票未处理") % {"n": skipped}, messages.WARNING
                )
            return None
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": _("认定选票无效"),
            "form": form,
            "ballots": queryset[:200],
            "count": queryset.count(),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "ballots/paper/admin_invalidate.html", context)


@admin.register(PrintedRange)
class PrintedRangeAdmin(OfficeScopedMixin, ReadOnlyAdmin):
    list_display = (
        "__str__",
        "campaign",
        "channel",
        "district",
        "count",
        "created_at",
        "created_by",
    )
    list_filter = ("campaign",)


@admin.register(KeyedEntry)
class KeyedEntryAdmin(OfficeScopedMixin, ReadOnlyAdmin):
    list_display = ("serial", "copy_no", "pass_no", "campaign", "clerk", "status", "created_at")
    list_filter = ("campaign", "status", "pass_no")
    search_fields = ("serial",)
    exclude = ("ballot",)
