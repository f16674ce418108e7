"""The registry in the admin: cleanups, activities, rounds and decisions are read-only (they
change only through the services, from the pages); the office links department accounts to
organisers here (through registry.services.account_link, audited), and may move a cleanup to
its next stage with an action that calls cleanup_set_status."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.audit import audit
from registry.models import (
    Activity,
    Cleanup,
    CleanupPhase,
    DepartmentAccount,
    Organiser,
    Round,
    RoundDecision,
)
from registry.services import TRANSITIONS, account_link, cleanup_set_status, organiser_add


class PhaseInline(admin.TabularInline):
    model = CleanupPhase
    extra = 0
    can_delete = False
    readonly_fields = ("order", "name", "description", "start", "end")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Cleanup)
class CleanupAdmin(ReadOnlyAdmin):
    list_display = ("name", "year", "level", "office", "status", "published_at")
    list_filter = ("status", "year")
    inlines = [PhaseInline]
    actions = ["advance"]

    @admin.action(description=_("进入下一阶段"), permissions=["view"])
    def advance(self, request: HttpRequest, queryset: QuerySet[Cleanup]) -> None:
        if not request.user.has_perm("registry.manage_cleanup"):
            self.message_user(request, _("没有权限"), messages.ERROR)
            return
        for cleanup in queryset:
            forward = [s for s in TRANSITIONS.get(cleanup.status, ())
                       if s != Cleanup.Status.SELF_CHECK or cleanup.status
                       == Cleanup.Status.PREPARING]
            try:
                if not forward:
                    raise ValidationError(_("“%(c)s”没有可进入的下一阶段(公示请在清理工作页面进行)")
                                          % {"c": cleanup.name})
                cleanup_set_status(cleanup=cleanup, status=forward[0], user=request.user)
            except ValidationError as exc:
                for m in exc.messages:
                    self.message_user(request, m, messages.ERROR)


@admin.register(Organiser)
class OrganiserAdmin(admin.ModelAdmin):
    list_display = ("name", "cleanup", "submitted_at")
    list_filter = ("cleanup",)
    search_fields = ("name",)
    readonly_fields = ("submitted_at",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("cleanup", "name", "submitted_at") if obj is not None else ("submitted_at",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            made = organiser_add(cleanup=obj.cleanup, name=obj.name, user=request.user)
            obj.pk = made.pk


@admin.register(DepartmentAccount)
class DepartmentAccountAdmin(admin.ModelAdmin):
    list_display = ("user", "organiser")
    list_filter = ("organiser__cleanup",)
    autocomplete_fields = ("organiser",)
    search_fields = ("user__username", "organiser__name")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        link = account_link(organiser=obj.organiser, account=obj.user, user=request.user)
        obj.pk = link.pk

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one by one, each unlinking audited
        return actions

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit(user=request.user, action="registry.account_unlink", obj=obj,
              before={"user": obj.user.get_username(), "organiser": obj.organiser.name})
        super().delete_model(request, obj)


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("name", "organiser", "system", "kind", "basis_kind", "proposal", "status")
    list_filter = ("cleanup", "system", "kind", "basis_kind", "proposal", "status")
    search_fields = ("name", "organiser__name", "basis_document")


@admin.register(Round)
class RoundAdmin(ReadOnlyAdmin):
    list_display = ("name", "cleanup", "order", "kind", "date", "closed_at")
    list_filter = ("cleanup",)


@admin.register(RoundDecision)
class RoundDecisionAdmin(ReadOnlyAdmin):
    list_display = ("round", "activity", "decision", "merged_into", "decided_at")
    list_filter = ("round__cleanup", "round", "decision")
