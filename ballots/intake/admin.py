"""Import batches in the admin: read-only (imports and undo go through the import page)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from ballots.models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "campaign",
        "kind",
        "filename",
        "rows",
        "created_at",
        "created_by",
        "undone_at",
    )
    list_filter = ("kind", "campaign")
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
