"""Ballots: access codes, online and paper ballots with their answers and comments, import batches.

Secrecy by construction: ballots and comments have random UUID keys and carry no time
finer than the day, so neither ordering nor timestamps can join a ballot to the code or the
person that cast it. Only a named (non-anonymous) campaign stores `Ballot.access_code`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from ballots.answers import Decoded

from ballots.fields import SmallIntArrayField
from campaigns.models import (
    Campaign,
    CampaignUnit,
    Representative,
    RepresentativeGroup,
)


class ImportBatch(models.Model):
    """One imported file. A batch is undone as a whole; the same content cannot be imported
    twice into a campaign while an earlier batch of it stands."""

    class Kind(models.TextChoices):
        UNITS = "units", _("被评单位")
        BALLOTS = "ballots", _("选票")
        REPRESENTATIVES = "representatives", _("评议代表")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="batches")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    filename = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("内容摘要"), max_length=64)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    summary = models.JSONField(_("摘要"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "kind", "sha256"],
                condition=Q(undone_at__isnull=True),
                name="batch_same_content_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.created_at:%Y-%m-%d %H:%M})"


class AccessCode(models.Model):
    """A one-time code (评议码). `used_on` is a date, never a time: see the module docstring."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("未使用")
        USED = "used", _("已使用")
        REVOKED = "revoked", _("已作废")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(_("评议码"), max_length=40, unique=True)
    representative = models.ForeignKey(
        Representative,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="codes",
        verbose_name=_("评议代表"),
    )
    group = models.ForeignKey(
        RepresentativeGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    issued_on = models.DateField(_("发放日期"), auto_now_add=True)
    used_on = models.DateField(_("使用日期"), null=True, blank=True)
    # Shown again when the same code is submitted twice; random, so it reveals nothing.
    receipt = models.CharField(_("回执号"), max_length=20, blank=True)
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaced_by"
    )

    class Meta:
        verbose_name = _("评议码")
        verbose_name_plural = _("评议码")
        ordering = ["campaign", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="used", used_on__isnull=False) | ~Q(status="used"),
                name="code_used_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class CodeAttempt(models.Model):
    """A failed code entry, kept so staff can see an attack (rate limiting itself is cached)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    client = models.CharField(max_length=64)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(max_length=20)

    class Meta:
        verbose_name = _("评议码错误记录")
        verbose_name_plural = _("评议码错误记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.client} {self.reason}"


class Ballot(models.Model):
    class Source(models.TextChoices):
        ONLINE = "online", _("网上")
        PAPER = "paper", _("纸质")

    class Status(models.TextChoices):
        VALID = "valid", _("有效")
        INVALID = "invalid", _("无效")

    class Reason(models.TextChoices):
        NONE = "", _("—")
        BLANK_BALLOT = "blank_ballot", _("空白票")
        DUPLICATE_SERIAL = "duplicate_serial", _("编号重复(复印)")
        MANUAL = "manual", _("人工认定无效")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="ballots")
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    serial = models.CharField(_("编号"), max_length=40, blank=True, db_index=True)
    channel = models.CharField(_("渠道"), max_length=100, blank=True)
    group = models.ForeignKey(
        RepresentativeGroup,
        verbose_name=_("代表类别"),
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="ballots",
    )
    district = models.CharField(_("片区"), max_length=100, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.VALID
    )
    invalid_reason = models.CharField(
        _("无效原因"), max_length=20, choices=Reason.choices, blank=True, default=""
    )
    invalid_note = models.TextField(_("无效说明"), blank=True)
    # Nothing marked anywhere on the ballot, as read (before blank_means turns blanks into
    # votes). Kept so validity can be re-derived when a duplicate serial becomes unique again.
    is_blank = models.BooleanField(_("空白票"), default=False)
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="ballots"
    )
    # Set only in named campaigns; the service refuses it for anonymous ones.
    access_code = models.OneToOneField(
        AccessCode, null=True, blank=True, on_delete=models.RESTRICT, related_name="ballot"
    )
    received_on = models.DateField(_("日期"), auto_now_add=True)
    # Every cell's answer, encoded by `ballots.answers.Storage` (one element per unit ×
    # dimension). One row per ballot instead of one per cell: see ballots/answers.py.
    answers = SmallIntArrayField(_("评价"))

    class Meta:
        verbose_name = _("选票")
        verbose_name_plural = _("选票")
        ordering = ["campaign", "serial"]
        indexes = [models.Index(fields=["campaign", "status"], name="ballot_campaign_status")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="valid") & Q(invalid_reason=""))
                | (Q(status="invalid") & ~Q(invalid_reason="")),
                name="ballot_status_reason_consistent",
            ),
            models.CheckConstraint(
                condition=~Q(source="paper") | ~Q(serial=""), name="ballot_paper_has_serial"
            ),
        ]

    def __str__(self) -> str:
        return self.serial or str(self.id)[:8]

    def votes(self) -> list[Decoded]:
        """The answers decoded: (unit, dimension, option, kind) per cell, in id order."""
        from ballots.answers import Storage

        return Storage.of(self.campaign).decode_all(self.answers)


class Comment(models.Model):
    """意见和建议 on one unit, or a general comment when `unit` is empty."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="comments")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(
        CampaignUnit, null=True, blank=True, on_delete=models.RESTRICT, related_name="comments"
    )
    text = models.TextField(_("意见和建议"), max_length=2000)

    class Meta:
        verbose_name = _("意见建议")
        verbose_name_plural = _("意见建议")

    def __str__(self) -> str:
        return self.text[:50]


# Paper workflow models (printed ranges, keyed entries) live in their own module; imported
# here so Django registers them with the ballots app.
from ballots.models_paper import *  # noqa: E402,F401,F403
