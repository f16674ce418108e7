"""The audit log and background jobs in the admin: read-only, for superusers and auditors."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditLog, BackgroundJob, StagedUpload


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ("at", "username", "campaign_slug", "action", "object_repr", "reason")
    list_filter = ("action", "campaign_slug")
    search_fields = ("username", "object_repr", "reason", "action")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BackgroundJob)
class BackgroundJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "campaign_id", "status", "done", "total", "message")
    list_filter = ("status", "kind")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False



@admin.register(StagedUpload)
class StagedUploadAdmin(admin.ModelAdmin):
    """Read-only: uploads are staged, confirmed and discarded by the import pages."""

    list_display = ("created_at", "kind", "campaign_id", "filename", "size", "state", "user")
    list_filter = ("state", "kind")
    readonly_fields = [f.name for f in StagedUpload._meta.fields if f.name != "stored_name"]
    exclude = ("stored_name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
