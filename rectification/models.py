"""Rectification (整改, issue 19): what builds on the results. A case (整改事项) is opened for
a unit from a campaign's result (末位, 重点整改, a dimension's 重点整改, a comment) or an
assessment's grade that requires it; the unit's contact submits a plan (整改方案) with
measures, progress reports and a completion report; staff (and the case's acceptors) return
or accept. Every step is dated and audit-logged; nothing is deleted."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from assessments.models import Assessment
from campaigns.models import Campaign, Unit
from core.files import job_file_name, private_files


def attachment_name(instance: object, filename: str) -> str:
    """A random name in its own folder of the private files (never taken for a stray
    generated file: core.files sweeps only the folder's top)."""
    return "rectification/" + job_file_name(instance, filename)


class CampaignRectification(models.Model):
    """A campaign's rectification settings and its 整改公示."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE,
                                    related_name="rectification", verbose_name=_("评议活动"))
    # 000: 末位和重点整改单位限期半年整改.
    deadline_months = models.PositiveSmallIntegerField(_("整改期限(月)"), default=6,
                                                       validators=[MinValueValidator(1)])
    published_at = models.DateTimeField(_("整改公示时间"), null=True, blank=True)
    publication = models.JSONField(_("整改公示内容"), default=list, blank=True)
    # 回头看: the small campaign over the units with cases, whose satisfaction is each case's
    # "after" beside the "before" of this campaign.
    followup = models.OneToOneField(Campaign, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="followup_of",
                                    verbose_name=_("整改落实情况测评"))

    class Meta:
        verbose_name = _("整改设置")
        verbose_name_plural = _("整改设置")

    def __str__(self) -> str:
        return str(self.campaign)


class Case(models.Model):
    class Status(models.TextChoices):
        AWAITING_PLAN = "awaiting_plan", _("未提交方案")
        PLAN_SUBMITTED = "plan_submitted", _("方案待审")
        IN_PROGRESS = "in_progress", _("整改中")
        AWAITING_ACCEPTANCE = "awaiting_acceptance", _("待验收")
        ACCEPTED = "accepted", _("已验收")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="cases", verbose_name=_("评议活动"))
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="cases", verbose_name=_("考核"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="cases",
                             verbose_name=_("单位"))
    unit_name = models.CharField(_("单位名称"), max_length=200)
    # What opened it: last_place, key_rectification, key_rectification:<dimension>,
    # grade:<label> (an assessment's grade), comment.
    source_flag = models.CharField(_("来源"), max_length=120)
    problem = models.TextField(_("问题"))
    deadline = models.DateField(_("整改时限"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices,
                              default=Status.AWAITING_PLAN)
    acceptors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                       related_name="cases_to_accept",
                                       verbose_name=_("验收人"))
    acceptance_note = models.TextField(_("验收意见"), blank=True)
    accepted_at = models.DateTimeField(_("验收时间"), null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(_("立项时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("整改事项")
        verbose_name_plural = _("整改事项")
        ordering = ["deadline", "unit_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(campaign__isnull=False) | Q(assessment__isnull=False),
                name="case_from_campaign_or_assessment",
            ),
            # One case per unit and flag and result: opening twice is refused.
            models.UniqueConstraint(fields=["campaign", "unit", "source_flag"],
                                    condition=Q(campaign__isnull=False)
                                    & ~Q(source_flag="comment"),
                                    name="case_once_per_campaign_flag"),
            models.UniqueConstraint(fields=["assessment", "unit", "source_flag"],
                                    condition=Q(assessment__isnull=False),
                                    name="case_once_per_assessment_grade"),
        ]
        permissions = [
            ("manage_cases", _("管理整改事项")),
            ("report_rectification", _("报送整改情况")),
            ("accept_rectification", _("验收整改")),
        ]

    def __str__(self) -> str:
        return f"{self.unit_name} · {self.problem[:30]}"


class Plan(models.Model):
    """整改方案: the problems found (查摆问题) and the measures; returned or approved."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审")
        RETURNED = "returned", _("退回修改")
        APPROVED = "approved", _("已同意")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="plans",
                             verbose_name=_("整改事项"))
    problems = models.TextField(_("查摆问题"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.SUBMITTED)
    review_reason = models.TextField(_("审核意见"), blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("整改方案")
        verbose_name_plural = _("整改方案")
        ordering = ["case", "submitted_at", "id"]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_status_display()}"


class Measure(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="measures",
                             verbose_name=_("整改方案"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    text = models.TextField(_("措施"))
    owner = models.CharField(_("责任人"), max_length=100)
    deadline = models.DateField(_("时限"))

    class Meta:
        verbose_name = _("整改措施")
        verbose_name_plural = _("整改措施")
        ordering = ["plan", "order", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class Report(models.Model):
    """A progress report, or the completion report (整改完成报告) that asks for acceptance."""

    class Kind(models.TextChoices):
        PROGRESS = "progress", _("进展")
        COMPLETION = "completion", _("完成报告")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reports",
                             verbose_name=_("整改事项"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    text = models.TextField(_("内容"))
    attachment = models.FileField(_("附件"), storage=private_files, upload_to=attachment_name,
                                  blank=True, max_length=200)
    attachment_name = models.CharField(_("附件文件名"), max_length=200, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("整改进展")
        verbose_name_plural = _("整改进展")
        ordering = ["case", "submitted_at", "id"]

    def __str__(self) -> str:
        return f"{self.case} · {self.get_kind_display()}"
