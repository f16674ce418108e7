"""Paper workflow: printed serial ranges and keyed entries (double entry).

A printed range records which serials were issued, to which channel (渠道) or district (片区),
so that reconciliation can say how many came back. A keyed entry is one clerk's reading of one
paper ballot; with double entry two readings by different clerks must agree (or a supervisor
decides) before the ballot exists. Entries carry no link to any representative: paper ballots
are anonymous by nature.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

__all__ = ["PrintedRange", "KeyedEntry"]


class PrintedRange(models.Model):
    """Serials first..last (inclusive), printed zero-padded to `width` digits."""

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="printed_ranges"
    )
    first = models.PositiveIntegerField(_("起始编号"))
    last = models.PositiveIntegerField(_("结束编号"))
    width = models.PositiveSmallIntegerField(_("编号位数"), default=6)
    channel = models.CharField(_("渠道"), max_length=100, blank=True)
    district = models.CharField(_("片区"), max_length=100, blank=True)
    # Stored (not derived) so the issued count reads straight from the row in reports; the
    # constraint keeps it honest.
    count = models.PositiveIntegerField(_("份数"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("印制编号段")
        verbose_name_plural = _("印制编号段")
        ordering = ["campaign", "first"]
        constraints = [
            models.CheckConstraint(condition=Q(last__gte=F("first")), name="range_last_ge_first"),
            models.CheckConstraint(
                condition=Q(count=F("last") - F("first") + 1), name="range_count_matches"
            ),
            models.CheckConstraint(
                condition=Q(width__gte=1) & Q(width__lte=12), name="range_width_1_12"
            ),
            # Overlaps between ranges are refused by the service (under a campaign row lock);
            # a range starting twice at the same serial is refused here as the last guard.
            models.UniqueConstraint(fields=["campaign", "first"], name="range_first_once"),
        ]

    def __str__(self) -> str:
        return f"{self.label()} ({self.count})"

    def fmt(self, n: int) -> str:
        return str(n).zfill(self.width)

    def label(self) -> str:
        return f"{self.fmt(self.first)}–{self.fmt(self.last)}"

    def holds(self, n: int) -> bool:
        return self.first <= n <= self.last


class KeyedEntry(models.Model):
    """One clerk's keying of one paper ballot (one pass).

    `answers` holds one small integer per cell of the campaign's layout (units × dimensions, in
    `services.Layout` order): 1..n the option in scale order, 0 blank, 9 several marks.
    `copy_no` tells apart two papers bearing the same serial (a photocopy): each copy is keyed
    and verified on its own, and both ballots then become duplicate_serial.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待第二遍录入")
        AGREED = "agreed", _("一致")
        DISPUTED = "disputed", _("有分歧")
        RESOLVED = "resolved", _("已裁决")
        SUPERSEDED = "superseded", _("已作废")

    OPEN = (Status.PENDING, Status.DISPUTED)
    DONE = (Status.AGREED, Status.RESOLVED)

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="keyed_entries"
    )
    serial = models.CharField(_("编号"), max_length=40)
    copy_no = models.PositiveSmallIntegerField(_("同编号第几张"), default=1)
    pass_no = models.PositiveSmallIntegerField(_("录入遍次"))
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入员"),
        on_delete=models.PROTECT,
        related_name="keyed_entries",
    )
    answers = models.JSONField(_("录入内容"))
    comments = models.TextField(_("意见和建议"), blank=True, max_length=2000)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    ballot = models.ForeignKey(
        "ballots.Ballot",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="keyed_entries",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("纸质票录入")
        verbose_name_plural = _("纸质票录入")
        ordering = ["campaign", "serial", "copy_no", "pass_no"]
        indexes = [models.Index(fields=["campaign", "status"], name="entry_campaign_status")]
        constraints = [
            # One first and one second pass per paper: two clerks racing on the same serial
            # cannot both become its first (or second) pass.
            models.UniqueConstraint(
                fields=["campaign", "serial", "copy_no", "pass_no"],
                condition=~Q(status="superseded"),
                name="entry_pass_once",
            ),
            models.CheckConstraint(condition=Q(pass_no__in=[1, 2]), name="entry_pass_1_or_2"),
            # Only agreeing or resolved entries become ballots, and they always do.
            models.CheckConstraint(
                condition=(Q(status__in=["agreed", "resolved"]) & Q(ballot__isnull=False))
                | (~Q(status__in=["agreed", "resolved"]) & Q(ballot__isnull=True)),
                name="entry_ballot_iff_done",
            ),
        ]

    def __str__(self) -> str:
        copy = f"#{self.copy_no}" if self.copy_no > 1 else ""
        return f"{self.serial}{copy} ({self.pass_no})"
