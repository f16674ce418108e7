"""The audit log, background jobs and staged uploads in the admin: read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.models import AuditLog, BackgroundJob, StagedUpload


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services (and logged): the admin lists and shows them, never
    adds, edits or deletes."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "username", "campaign_slug", "action", "object_repr", "reason")
    list_filter = ("action", "campaign_slug")
    search_fields = ("username", "object_repr", "reason", "action")
    date_hierarchy = "at"


@admin.register(BackgroundJob)
class BackgroundJobAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "campaign_id", "status", "done", "total", "message")
    list_filter = ("status", "kind")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Jobs are housekeeping, not records: office staff may clear old ones.
        return admin.ModelAdmin.has_delete_permission(self, request, obj)


@admin.register(StagedUpload)
class StagedUploadAdmin(ReadOnlyAdmin):
    """Read-only: uploads are staged, confirmed and discarded by the import pages."""

    list_display = ("created_at", "kind", "campaign_id", "filename", "size", "state", "user")
    list_filter = ("state", "kind")
    readonly_fields = [f.name for f in StagedUpload._meta.fields if f.name != "stored_name"]
    exclude = ("stored_name",)
