"""Ballots: access codes, online and paper ballots with their answers and comments, printed
ranges and keyed entries.

Secrecy by construction: ballots and comments have random UUID keys and carry no time
finer than the day, so neither ordering nor timestamps can join a ballot to the code or the
person that cast it. Only a named (non-anonymous) campaign stores `Ballot.access_code`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from ballots.answers import Decoded

from ballots.fields import SmallIntArrayField
from campaigns.models import (
    Campaign,
    CampaignUnit,
    ImportBatch,
    Representative,
    RepresentativeGroup,
)


class AccessCode(models.Model):
    """A one-time code (评议码). `used_on` is a date, never a time: see the module docstring."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("未使用")
        USED = "used", _("已使用")
        REVOKED = "revoked", _("已作废")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="codes"
    )
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
        RepresentativeGroup,
        verbose_name=_("代表类别"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    issued_on = models.DateField(_("发放日期"), auto_now_add=True)
    used_on = models.DateField(_("使用日期"), null=True, blank=True)
    # Shown again when the same code is submitted twice; random, so it reveals nothing.
    receipt = models.CharField(_("回执号"), max_length=20, blank=True)
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("替换的评议码"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaced_by",
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
        # Only the first group: this is what the admin, the audit log (object_repr) and any
        # message show, and a whole code would be a vote (ballots.online.codes.mask).
        return f"{self.code[:4]}-…"


class CodeAttempt(models.Model):
    """A failed code entry, kept so staff can see an attack (rate limiting itself is cached)."""

    class Reason(models.TextChoices):
        # The wrong guesses recorded (ballots/online/views.py FAILURES).
        MALFORMED = "malformed", _("格式不对")
        UNKNOWN = "unknown", _("评议码不存在")
        REVOKED = "revoked", _("已作废的评议码")
        # A receipt checked on the 公示 page that no spent code carries (scoring.verify_views).
        RECEIPT = "receipt", _("回执号查无记录")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    client = models.CharField(_("客户端地址"), max_length=64)
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("评议活动"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)

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
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="ballots"
    )
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
        ImportBatch,
        verbose_name=_("导入批次"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="ballots",
    )
    # Set only in named campaigns; the service refuses it for anonymous ones.
    # An anonymous online ballot: an HMAC of its code under the application's key
    # (ballots.online.codes.ballot_token). Unique, so a code makes one ballot; without the key
    # the database cannot tell which code made which ballot, and the code's row is not
    # written when it votes (README, threat model).
    token = models.CharField(
        _("匿名标识"), max_length=64, null=True, blank=True, unique=True, editable=False
    )
    access_code = models.OneToOneField(
        AccessCode,
        verbose_name=_("评议码"),
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="ballot",
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
    ballot = models.ForeignKey(
        Ballot, verbose_name=_("选票"), on_delete=models.CASCADE, related_name="comments"
    )
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        CampaignUnit,
        verbose_name=_("参评单位"),
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="comments",
    )
    text = models.TextField(_("意见和建议"), max_length=2000)

    class Meta:
        verbose_name = _("意见建议")
        verbose_name_plural = _("意见建议")

    def __str__(self) -> str:
        return self.text[:50]


# --- Paper workflow ----------------------------------------------------------------------
# Paper workflow: printed serial ranges and keyed entries (double entry).
#
# A printed range records which serials were issued, to which channel (渠道) or district (片区),
# so that reconciliation can say how many came back. A keyed entry is one clerk's reading of one
# paper ballot; with double entry two readings by different clerks must agree (or a supervisor
# decides) before the ballot exists. Entries carry no link to any representative: paper ballots
# are anonymous by nature.


class PrintedRange(models.Model):
    """Serials first..last (inclusive), printed zero-padded to `width` digits."""

    campaign = models.ForeignKey(
        "campaigns.Campaign",
        verbose_name=_("评议活动"),
        on_delete=models.CASCADE,
        related_name="printed_ranges",
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
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    # The box map of the ballot as last printed for this range (ballots.paper.layout): where
    # each page's corner marks, QR code and boxes lie, for reading the scanned ballots. Empty
    # for a range recorded but never printed here.
    layout = models.JSONField(_("版面"), null=True, blank=True, editable=False)
    layout_version = models.CharField(_("版面版本"), max_length=12, blank=True, editable=False)

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
        "campaigns.Campaign",
        verbose_name=_("评议活动"),
        on_delete=models.CASCADE,
        related_name="keyed_entries",
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
        verbose_name=_("选票"),
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


# --- Scanned pages (issue 21) -------------------------------------------------------------
# One row per page of a scanner's stack, read by ballots.scan.reader and kept as an image in
# the private folder (ballots/scan/store.py) until it is part of a ballot. Its life:
#
#     serial   the QR code could not be read: a person types the serial from the image
#     confirm  some rows are uncertain: a person confirms them (the confirmation screen)
#     waiting  every row is settled; the ballot's other page(s) have not come yet
#     counted  part of a ballot (`ballot`), recorded through ballots.services.ballot_create
#     unread   the page could not be registered at all (no corner marks, boxes not where the
#              box map says): rescan it, or key the paper and set the page aside
#     aside    set aside by a supervisor with a reason (a rescan came, the paper was keyed)
#
# Only ballots.scan.services changes a page's status; a campaign cannot close while any page is
# in serial, confirm, waiting or unread (ballots/receivers.py).


class ScanPage(models.Model):
    class Status(models.TextChoices):
        SERIAL = "serial", _("待输入编号")
        CONFIRM = "confirm", _("待确认")
        WAITING = "waiting", _("待配页")
        COUNTED = "counted", _("已计入")
        UNREAD = "unread", _("无法识别")
        ASIDE = "aside", _("已搁置")

    # The statuses in which a page still needs someone: they block closing the campaign.
    OPEN = (Status.SERIAL, Status.CONFIRM, Status.WAITING, Status.UNREAD)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="scan_pages"
    )
    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("扫描批次"), on_delete=models.CASCADE, related_name="scan_pages"
    )
    # Position in the batch's stack (files in the order given, pages in file order): pages of
    # one serial are put together in this order, so two copies of a ballot make two ballots.
    seq = models.PositiveIntegerField(_("顺序"))
    source_name = models.CharField(_("来源文件"), max_length=255)
    image = models.CharField(_("页面图像"), max_length=200, editable=False)
    image_sha256 = models.CharField(_("图像摘要"), max_length=64, blank=True, editable=False)
    image_width = models.PositiveIntegerField(default=0, editable=False)
    image_height = models.PositiveIntegerField(default=0, editable=False)
    serial = models.CharField(_("编号"), max_length=40, blank=True, db_index=True)
    page_no = models.PositiveSmallIntegerField(_("页码"), null=True, blank=True)
    pages = models.PositiveSmallIntegerField(_("总页数"), null=True, blank=True)
    layout_version = models.CharField(_("版面版本"), max_length=12, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    problem = models.CharField(_("问题"), max_length=300, blank=True)
    # Per row of the page, as read: [row, mark, certain (0/1), x, y, width, height] with the
    # crop in the stored image's pixels; `marks` the settled mark per row ({row: mark}) once
    # nothing is uncertain (the machine's where it was sure, a person's elsewhere).
    rows = models.JSONField(_("识别结果"), default=list, blank=True, editable=False)
    marks = models.JSONField(_("最终标记"), null=True, blank=True, editable=False)
    confirmed_rows = models.PositiveSmallIntegerField(_("人工确认行数"), default=0)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("确认人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    ballot = models.ForeignKey(
        "ballots.Ballot", verbose_name=_("选票"), null=True, blank=True,
        on_delete=models.RESTRICT, related_name="scan_pages",
    )
    aside_reason = models.CharField(_("搁置原因"), max_length=300, blank=True)
    # The supervisor's audit of the reader on a sample of pages read without a person.
    sampled = models.BooleanField(_("已抽查"), default=False)
    sample_ok = models.BooleanField(_("抽查一致"), null=True, blank=True)
    sample_note = models.CharField(_("抽查说明"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("扫描页")
        verbose_name_plural = _("扫描页")
        ordering = ["batch", "seq"]
        indexes = [models.Index(fields=["campaign", "status"], name="scanpage_campaign_status")]
        constraints = [
            models.UniqueConstraint(fields=["batch", "seq"], name="scanpage_seq_once"),
            # A page is part of a ballot exactly when it is counted.
            models.CheckConstraint(
                condition=Q(status="counted", ballot__isnull=False)
                | (~Q(status="counted") & Q(ballot__isnull=True)),
                name="scanpage_ballot_iff_counted",
            ),
            # Only a page still waiting for its serial may lack one.
            models.CheckConstraint(
                condition=Q(status__in=["serial", "unread", "aside"]) | ~Q(serial=""),
                name="scanpage_serial_known",
            ),
            # Settled marks exist from "waiting" on, never before.
            models.CheckConstraint(
                condition=~Q(status__in=["waiting", "counted"]) | Q(marks__isnull=False),
                name="scanpage_settled_has_marks",
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.serial} p{self.page_no}" if self.serial else f"#{self.seq}"
        return f"{self.source_name} {where}"

    def row_reads(self) -> list[dict[str, int | bool]]:
        return [
            {"row": r[0], "mark": r[1], "certain": bool(r[2]), "x": r[3], "y": r[4],
             "width": r[5], "height": r[6]}
            for r in self.rows
        ]
