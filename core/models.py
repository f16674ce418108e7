"""Plumbing shared by every domain app: the append-only audit log and background jobs.

Nothing here knows a domain model: a row names the campaign it concerns by id (and the audit
log by slug too), so this app sits below campaigns, ballots and scoring and imports none of
them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.files import job_file_name, private_files


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[AuditLog]:
        # Each entry is chained to the one before it (core/chain.py): one at a time, by audit().
        raise PermissionError("Audit entries are written one at a time by core.audit.audit()")


class AuditLog(models.Model):
    """Append-only: who, when, what, before and after. Rows are never updated or deleted.

    Tamper-evident too: each entry carries the hash of its content and of the entry before it,
    in the whole log and in its campaign (core/chain.py defines them and checks them)."""

    # Set by audit() itself, not by auto_now_add: the time is part of the entry's hash, which is
    # computed before the row is written.
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text so the entry still says who it was after the account is removed.
    username = models.CharField(_("用户"), max_length=150, blank=True)
    # The campaign's id as a plain number, not a foreign key: plumbing knows no domain model,
    # and an entry must outlive a deleted campaign (campaign_slug still names it).
    campaign_id = models.BigIntegerField(_("活动编号"), null=True, blank=True, db_index=True)
    campaign_slug = models.CharField(_("活动"), max_length=80, blank=True)
    action = models.CharField(_("操作"), max_length=50, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象"), max_length=100, blank=True)
    object_repr = models.CharField(_("对象名称"), max_length=300, blank=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    reason = models.TextField(_("原因"), blank=True)
    # The hash chains (core/chain.py): the previous entry's hash in the whole log and in this
    # entry's campaign ("" for the first, and for an entry without campaign), and its own.
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, blank=True, default="")
    campaign_prev_hash = models.CharField(
        _("前一条哈希(活动链)"), max_length=64, blank=True, default=""
    )
    hash = models.CharField(_("哈希"), max_length=64, blank=True, default="")

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        # A campaign's chain is walked in id order (core/chain.py).
        indexes = [models.Index(fields=["campaign_id", "id"], name="core_audit_campaign_id_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("The audit log is append-only")
        if not self.hash:
            # Only audit() (core/chain.py's append) links an entry into the chains.
            raise PermissionError("Audit entries are written only by core.audit.audit()")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only")


class AuditChainHead(models.Model):
    """The end of one hash chain of the audit log (core/chain.py): key "global" for the whole
    log, "campaign:<id>" for one campaign's entries. The global row is also the lock every
    audit() takes first, so entries are chained one after another across app servers."""

    GLOBAL = "global"

    key = models.CharField(_("链"), max_length=40, primary_key=True)
    hash = models.CharField(_("链尾哈希"), max_length=64, blank=True, default="")
    count = models.PositiveBigIntegerField(_("记录数"), default=0)
    last_id = models.BigIntegerField(_("最后一条记录编号"), null=True, blank=True)

    class Meta:
        verbose_name = _("审计日志链尾")
        verbose_name_plural = _("审计日志链尾")

    def __str__(self) -> str:
        return f"{self.key} {self.count} {self.hash[:12]}"


class BackgroundJob(models.Model):
    """Progress of long work (big imports, long PDFs) run by the task worker, polled by pages.

    Its file, if it makes one, is private (core/files.py): a random name in
    PINGYI_PRIVATE_FILES_ROOT, handed out only by the job download view, and deleted when it
    expires or, for code slips, when voting ends (`file_removed` then says which)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    class FileRemoved(models.TextChoices):
        # The labels are what the job page says in place of the download button.
        EXPIRED = "expired", _("文件已过保存期限,已删除;如仍需要,请重新生成。")
        CLOSED = "closed", _("评议已结束,文件已删除(评议码不再留存)。")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("类型"), max_length=50)
    # A plain id like AuditLog's; the campaigns app deletes a campaign's jobs with it.
    campaign_id = models.BigIntegerField(_("活动编号"), null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    done = models.PositiveIntegerField(_("已完成"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    message = models.TextField(_("消息"), blank=True)
    result_file = models.FileField(
        _("结果文件"), storage=private_files, upload_to=job_file_name, blank=True
    )
    # The human name (e.g. "<slug>-评议码条.pdf"), given to the browser at download.
    result_name = models.CharField(_("文件名"), max_length=200, blank=True)
    # None: kept until its campaign closes (code slips) or the file is gone.
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True, db_index=True)
    file_removed = models.CharField(
        _("文件删除原因"), max_length=10, choices=FileRemoved.choices, blank=True
    )
    params = models.JSONField(_("参数"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.get_status_display()}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0


class StagedUpload(models.Model):
    """A spreadsheet kept between its preview and its confirmation (core/uploads.py).

    The bytes live in `settings.PINGYI_UPLOAD_ROOT` under a random name, never under
    MEDIA_ROOT: an uploaded ballot sheet or list of representatives is not for publishing."""

    class State(models.TextChoices):
        STAGED = "staged", _("待确认")
        APPLIED = "applied", _("已导入")
        DISCARDED = "discarded", _("已放弃")

    # Random, so that knowing one upload's address tells nothing about another's.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("类型"), max_length=50)
    # A plain id like AuditLog's: plumbing knows no domain model.
    campaign_id = models.BigIntegerField(_("活动编号"), null=True, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    filename = models.CharField(_("文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("内容摘要"), max_length=64)
    # Only the file's name inside PINGYI_UPLOAD_ROOT: moving the folder (an environment
    # setting) must not strand the uploads staged before.
    stored_name = models.CharField(_("存储文件名"), max_length=100, unique=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=State.choices, default=State.STAGED
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("待确认的上传")
        verbose_name_plural = _("待确认的上传")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "kind", "campaign_id", "sha256"])]

    def __str__(self) -> str:
        return f"{self.filename} {self.get_state_display()}"

    @property
    def path(self) -> Path:
        return Path(settings.PINGYI_UPLOAD_ROOT) / self.stored_name


class LoginFailure(models.Model):
    """A wrong staff password (core/login.py counts these to slow guessing down).

    In the database, not a per-process cache, so every application server sees the same
    count. Only the username tried and the client are kept, never the password; rows older
    than a day are pruned when a new one is written (the audit log keeps the history)."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    username = models.CharField(_("用户名"), max_length=150)
    client = models.CharField(_("客户端地址"), max_length=64)
    # The id of the browser's login-device cookie, if it sent one (core/login.py).
    device = models.CharField(_("登录设备"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["username", "at"]),
            models.Index(fields=["client", "at"]),
            models.Index(fields=["device", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.client}"
