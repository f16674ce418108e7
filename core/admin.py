"""The audit log, background jobs, staged uploads and django-tasks' queue in the admin:
read-only, and labelled in Chinese."""

from __future__ import annotations

import json
from typing import Any

# django-tasks' database backend registers its admin here; ours replaces it (below), so it
# must have been registered first, whatever the order of INSTALLED_APPS.
import django_tasks_db.admin  # noqa: F401
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import display_for_value
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult, get_date_max

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


# What a staged upload holds: the values of campaigns.ImportBatch.Kind, named as there (core may
# not import campaigns; tests/test_admin_chinese.py keeps the two in step). A kind missing here
# shows as stored.
UPLOAD_KINDS = {
    "units": _("被评单位"),
    "ballots": _("选票"),
    "representatives": _("评议代表"),
    "scans": _("扫描选票"),
}


class UploadKindFilter(admin.SimpleListFilter):
    title = _("类型")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        kinds = StagedUpload.objects.order_by("kind").values_list("kind", flat=True).distinct()
        return [(k, UPLOAD_KINDS.get(k, k)) for k in kinds]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(StagedUpload)
class StagedUploadAdmin(ReadOnlyAdmin):
    """Read-only: uploads are staged, confirmed and discarded by the import pages."""

    list_display = ("created_at", "kind_label", "campaign_id", "filename", "size", "state", "user")
    list_filter = ("state", UploadKindFilter)
    readonly_fields = tuple(
        {"id": "upload_id", "kind": "kind_label"}.get(f.name, f.name)
        for f in StagedUpload._meta.fields
        if f.name != "stored_name"
    )
    fields = readonly_fields

    @admin.display(description=_("上传编号"))
    def upload_id(self, obj: StagedUpload) -> str:
        return str(obj.pk)

    @admin.display(description=_("类型"), ordering="kind")
    def kind_label(self, obj: StagedUpload) -> str:
        return str(UPLOAD_KINDS.get(obj.kind, obj.kind))


# django-tasks' database backend ------------------------------------------------------------
# Its admin (django_tasks_db/admin.py) names everything in English and the package ships no
# Chinese translation: ours replaces it, the same read-only view with every label given
# through gettext with a Chinese source.
admin.site.unregister(DBTaskResult)

# The app's and the model's names, which the admin shows in its index, sidebar, breadcrumbs and
# titles, cannot be given through a ModelAdmin. Only the _meta attributes are set, never
# `original_attrs`, which is what migrations read (ModelState.from_model): `makemigrations
# --check` stays clean and the package's migrations are untouched.
apps.get_app_config(DBTaskResult._meta.app_label).verbose_name = _("任务队列")
DBTaskResult._meta.verbose_name = _("任务运行记录")
DBTaskResult._meta.verbose_name_plural = _("任务运行记录")

# The package's statuses (django_tasks.base.TaskResultStatus), worded as BackgroundJob's are.
TASK_STATUS = {
    "READY": _("排队中"),
    "RUNNING": _("进行中"),
    "SUCCESSFUL": _("已完成"),
    "FAILED": _("失败"),
}


def _task_function(obj: DBTaskResult) -> str:
    """The task's function name, read from its path: importing it (the package's `task_name`)
    would fail for a task whose code has since moved."""
    return str(obj.task_path).rsplit(".", 1)[-1]


def _task_result_str(obj: DBTaskResult) -> str:
    return f"{_task_function(obj)} {obj.pk}"


if DBTaskResult.__str__ is models.Model.__str__:
    # Otherwise the change page's title and breadcrumbs read "DBTaskResult object (…)".
    DBTaskResult.__str__ = _task_result_str  # type: ignore[assignment, method-assign]


class TaskStatusFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(TASK_STATUS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(status=self.value()) if self.value() else queryset


class _ValuesFilter(admin.SimpleListFilter):
    """One choice per value present in the column (as Django's AllValuesFieldListFilter),
    under a Chinese title."""

    field = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        values = model_admin.get_queryset(request).order_by(self.field)
        return [(str(v), str(v)) for v in values.values_list(self.field, flat=True).distinct()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class TaskPriorityFilter(_ValuesFilter):
    title = _("优先级")
    parameter_name = field = "priority"


class TaskQueueFilter(_ValuesFilter):
    title = _("队列")
    parameter_name = field = "queue_name"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@admin.register(DBTaskResult)
class TaskResultAdmin(ReadOnlyAdmin):
    """Queued and finished runs of `manage.py db_worker`: read-only, as in the package."""

    list_display = ("task_id", "task", "status_label", "enqueued", "started", "finished",
                    "task_priority", "queue")
    list_filter = (TaskStatusFilter, TaskPriorityFilter, TaskQueueFilter)
    ordering = ["-enqueued_at"]
    fields = readonly_fields = (
        "task_id", "task_path_shown", "status_label", "enqueued", "started", "finished",
        "run_after_shown", "task_priority", "queue", "backend", "args", "kwargs", "workers",
        "return_value_shown", "exception", "traceback_shown",
    )

    def _shown(self, value: Any) -> str:
        """As the admin shows a field's value: dates in local time and the reader's format,
        nothing as "-" (a read-only method's value is otherwise printed as it is)."""
        return str(display_for_value(value, self.get_empty_value_display()))

    @admin.display(description=_("任务编号"), ordering="id")
    def task_id(self, obj: DBTaskResult) -> str:
        return str(obj.pk)

    @admin.display(description=_("任务"), ordering="task_path")
    def task(self, obj: DBTaskResult) -> str:
        return _task_function(obj)

    @admin.display(description=_("任务函数"))
    def task_path_shown(self, obj: DBTaskResult) -> str:
        return str(obj.task_path)

    @admin.display(description=_("状态"), ordering="status")
    def status_label(self, obj: DBTaskResult) -> str:
        return str(TASK_STATUS.get(str(obj.status), obj.status))

    @admin.display(description=_("入队时间"), ordering="enqueued_at")
    def enqueued(self, obj: DBTaskResult) -> str:
        return self._shown(obj.enqueued_at)

    @admin.display(description=_("开始时间"), ordering="started_at")
    def started(self, obj: DBTaskResult) -> str:
        return self._shown(obj.started_at)

    @admin.display(description=_("完成时间"), ordering="finished_at")
    def finished(self, obj: DBTaskResult) -> str:
        return self._shown(obj.finished_at)

    @admin.display(description=_("最早运行时间"))
    def run_after_shown(self, obj: DBTaskResult) -> str:
        # The package stores "no earliest time" as 9999-01-01.
        return self._shown(None if obj.run_after == get_date_max() else obj.run_after)

    @admin.display(description=_("优先级"), ordering="priority")
    def task_priority(self, obj: DBTaskResult) -> int:
        return int(obj.priority)

    @admin.display(description=_("队列"), ordering="queue_name")
    def queue(self, obj: DBTaskResult) -> str:
        return str(obj.queue_name)

    @admin.display(description=_("任务后端"))
    def backend(self, obj: DBTaskResult) -> str:
        return str(obj.backend_name)

    @admin.display(description=_("位置参数"))
    def args(self, obj: DBTaskResult) -> str:
        return _json((obj.args_kwargs or {}).get("args", []))

    @admin.display(description=_("关键字参数"))
    def kwargs(self, obj: DBTaskResult) -> str:
        return _json((obj.args_kwargs or {}).get("kwargs", {}))

    @admin.display(description=_("工作进程"))
    def workers(self, obj: DBTaskResult) -> str:
        return self._shown("、".join(str(w) for w in obj.worker_ids or []) or None)

    @admin.display(description=_("返回值"))
    def return_value_shown(self, obj: DBTaskResult) -> str:
        return self._shown(None if obj.return_value is None else _json(obj.return_value))

    @admin.display(description=_("异常类型"))
    def exception(self, obj: DBTaskResult) -> str:
        return self._shown(str(obj.exception_class_path) or None)

    @admin.display(description=_("错误堆栈"))
    def traceback_shown(self, obj: DBTaskResult) -> str:
        if not obj.traceback:
            return self._shown(None)
        return format_html("<pre>{}</pre>", obj.traceback)
