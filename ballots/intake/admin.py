"""Import batches in the admin: read-only (imports and undo go through the import page)."""

from __future__ import annotations

from django.contrib import admin

from ballots.models import ImportBatch
from campaigns.admin import OfficeScopedMixin
from core.admin import ReadOnlyAdmin


@admin.register(ImportBatch)
class ImportBatchAdmin(OfficeScopedMixin, ReadOnlyAdmin):
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
