"""The registry of 评比达标表彰项目 and its cleanup (清理规范, issue 22, document 003).

A cleanup (清理工作) is run by a joint meeting's office (联席会议办公室, e.g. 市纪委纠风室): each
department (举办单位) registers the activities it runs with a proposal (保留 / 合并 / 撤销) by
the self-inspection deadline; the office screens them and the review rounds (甄别审核,
联席会议全体会议, 上级反馈) record a decision per activity; the last round's decision is final;
the retained list is published (公示). Nothing is deleted: an activity registered by mistake
is withdrawn with a reason; every change is audit-logged by registry/services.py."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Cleanup(models.Model):
    """清理规范评比达标表彰工作: one run of the cleanup at one level."""

    class Status(models.TextChoices):
        PREPARING = "preparing", _("准备")
        SELF_CHECK = "self_check", _("自查")
        REVIEW = "review", _("审核")
        PUBLICITY = "publicity", _("公示")
        DONE = "done", _("完成")

    class Level(models.TextChoices):
        PROVINCE = "province", _("省级")
        CITY = "city", _("市级")
        COUNTY = "county", _("县(市、区)级")

    name = models.CharField(_("名称"), max_length=200)
    slug = models.SlugField(_("标识"), max_length=80, unique=True)
    year = models.PositiveIntegerField(_("年度"), validators=[MinValueValidator(2000)])
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices,
                             default=Level.CITY)
    office = models.CharField(_("联席会议办公室"), max_length=200,
                              help_text=_("例如 市清理规范评比达标表彰工作联席会议办公室(市纪委纠风室)"))
    preset = models.CharField(_("预设"), max_length=20, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices,
                              default=Status.PREPARING)
    self_check_deadline = models.DateField(_("自查登记截止日期"), null=True, blank=True)
    screening_deadline = models.DateField(_("甄别审核截止日期"), null=True, blank=True)
    # The 公示 of the retained list, like the campaigns' results notice.
    notice_from = models.DateField(_("公示开始日期"), null=True, blank=True)
    notice_to = models.DateField(_("公示截止日期"), null=True, blank=True)
    objection_phone = models.CharField(_("异议受理电话"), max_length=50, blank=True)
    objection_address = models.CharField(_("异议受理地址"), max_length=200, blank=True)
    issuer = models.CharField(_("发布单位"), max_length=200, blank=True)
    published_at = models.DateTimeField(_("公示时间"), null=True, blank=True)
    publication = models.JSONField(_("公示内容"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("清理工作")
        verbose_name_plural = _("清理工作")
        ordering = ["-year", "-id"]
        permissions = [
            ("manage_cleanup", _("管理清理工作")),
            ("review_activities", _("甄别审核评比达标表彰项目")),
            ("register_activities", _("登记本单位评比达标表彰项目")),
        ]

    def __str__(self) -> str:
        return self.name


class CleanupPhase(models.Model):
    """A phase of the cleanup (003 三: 动员部署, 自查自纠, 审核上报, 建章立制) with its dates."""

    cleanup = models.ForeignKey(Cleanup, on_delete=models.CASCADE, related_name="phases",
                                verbose_name=_("清理工作"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("阶段"), max_length=50)
    description = models.TextField(_("工作内容"), blank=True)
    start = models.DateField(_("开始日期"), null=True, blank=True)
    end = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("阶段")
        verbose_name_plural = _("阶段")
        ordering = ["cleanup", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start__isnull=True) | Q(end__isnull=True)
                                   | Q(end__gte=F("start")), name="registry_phase_dates"),
        ]

    def __str__(self) -> str:
        return self.name


class Organiser(models.Model):
    """A department that runs activities (举办单位) within a cleanup; it submits its
    self-inspection (自查) once, and the office may return it."""

    cleanup = models.ForeignKey(Cleanup, on_delete=models.PROTECT, related_name="organisers",
                                verbose_name=_("清理工作"))
    name = models.CharField(_("举办单位"), max_length=200)
    submitted_at = models.DateTimeField(_("自查报送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("举办单位")
        verbose_name_plural = _("举办单位")
        ordering = ["cleanup", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cleanup", "name"], name="registry_organiser_once"),
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentAccount(models.Model):
    """A login of a department (role 举办单位): it registers its organiser's activities."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="registry_accounts", verbose_name=_("账号"))
    organiser = models.ForeignKey(Organiser, on_delete=models.CASCADE, related_name="accounts",
                                  verbose_name=_("举办单位"))

    class Meta:
        verbose_name = _("举办单位账号")
        verbose_name_plural = _("举办单位账号")
        constraints = [
            models.UniqueConstraint(fields=["user", "organiser"], name="registry_account_once"),
        ]

    def __str__(self) -> str:
        return f"{self.organiser}({self.user})"


class System(models.TextChoices):
    """The systems of 003 二(一): its scope, and the government departments beside it."""

    PARTY = "party", _("党委")
    CONGRESS = "congress", _("人大")
    CPPCC = "cppcc", _("政协")
    COURT = "court", _("法院")
    PROCURATORATE = "procuratorate", _("检察院")
    PEOPLE_ORG = "people_org", _("人民团体")
    GOVERNMENT = "government", _("政府部门")
    INSTITUTION = "institution", _("所属事业单位")
    SOCIETY = "society", _("所属社会团体")


class Kind(models.TextChoices):
    APPRAISAL = "appraisal", _("评比")
    COMPLIANCE = "compliance", _("达标")
    COMMENDATION = "commendation", _("表彰")


class Frequency(models.TextChoices):
    YEARLY = "yearly", _("每年")
    BIENNIAL = "biennial", _("每两年")
    TRIENNIAL = "triennial", _("每三年及以上")
    IRREGULAR = "irregular", _("不定期")
    ONCE = "once", _("一次性")


class BasisKind(models.TextChoices):
    """003 二(二)2(2): only law, administrative regulation, a central document or the
    province's (or the centre's) approval is a basis; the rest is set up by itself."""

    LAW = "law", _("法律")
    REGULATION = "regulation", _("行政法规")
    CENTRAL = "central", _("中央文件")
    PROVINCIAL = "provincial", _("经中央、省批准")
    LOCAL = "local", _("本级文件(自行设置)")
    NONE = "none", _("无依据")


LEGAL_BASES = (BasisKind.LAW, BasisKind.REGULATION, BasisKind.CENTRAL, BasisKind.PROVINCIAL)


class Level(models.TextChoices):
    """Where the organiser sits: 003 二(二)2(3) concerns the city level and below."""

    PROVINCE = "province", _("省级及以上")
    CITY = "city", _("市级")
    BELOW = "below", _("市以下")


class Decision(models.TextChoices):
    # In context: "撤销" alone is the site's "Undo"; here it is a cancelled activity.
    KEEP = "keep", pgettext_lazy("清理", "保留")
    MERGE = "merge", pgettext_lazy("清理", "合并")
    CANCEL = "cancel", pgettext_lazy("清理", "撤销")


class Activity(models.Model):
    """评比达标表彰项目 as its organiser registered it (自查登记表), with its proposal."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("已登记")
        WITHDRAWN = "withdrawn", _("已撤回登记")

    cleanup = models.ForeignKey(Cleanup, on_delete=models.PROTECT, related_name="activities",
                                verbose_name=_("清理工作"))
    organiser = models.ForeignKey(Organiser, on_delete=models.PROTECT,
                                  related_name="activities", verbose_name=_("举办单位"))
    name = models.CharField(_("项目名称"), max_length=200)
    system = models.CharField(_("系统"), max_length=16, choices=System.choices)
    level = models.CharField(_("举办层级"), max_length=10, choices=Level.choices,
                             default=Level.CITY)
    kind = models.CharField(_("类型"), max_length=14, choices=Kind.choices)
    for_system = models.BooleanField(_("面向本系统"), default=False)
    for_grassroots = models.BooleanField(_("面向基层"), default=False)
    for_enterprises = models.BooleanField(_("面向企业"), default=False)
    frequency = models.CharField(_("举办周期"), max_length=10, choices=Frequency.choices)
    basis_kind = models.CharField(_("依据类别"), max_length=12, choices=BasisKind.choices)
    basis_document = models.CharField(_("依据文件及文号"), max_length=300, blank=True)
    charges_fees = models.BooleanField(_("收取费用"), default=False)
    asks_contributions = models.BooleanField(_("要求出钱出物出工"), default=False)
    improper_payments = models.BooleanField(_("滥发钱物"), default=False)
    first_year = models.PositiveIntegerField(
        _("首次举办年份"), null=True, blank=True,
        validators=[MinValueValidator(1949), MaxValueValidator(2100)])
    proposal = models.CharField(_("处理意见"), max_length=8, choices=Decision.choices)
    proposal_merge_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("拟合并到"))
    proposal_reason = models.TextField(_("理由"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.REGISTERED)
    withdrawn_reason = models.TextField(_("撤回理由"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("评比达标表彰项目")
        verbose_name_plural = _("评比达标表彰项目")
        ordering = ["organiser__name", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organiser", "name"],
                                    name="registry_activity_once_per_organiser"),
            models.CheckConstraint(condition=~Q(proposal_merge_into=F("id")),
                                   name="registry_proposal_not_into_itself"),
            models.CheckConstraint(
                condition=Q(proposal="merge", proposal_merge_into__isnull=False)
                | (~Q(proposal="merge") & Q(proposal_merge_into__isnull=True)),
                name="registry_proposal_merge_has_target"),
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.organiser.name})" if self.organiser_id else self.name

    def targets_label(self) -> str:
        words = [str(label) for flag, label in ((self.for_system, _("本系统")),
                                                (self.for_grassroots, _("基层")),
                                                (self.for_enterprises, _("企业"))) if flag]
        return "、".join(words) or "—"

    def has_legal_basis(self) -> bool:
        return self.basis_kind in LEGAL_BASES


class Round(models.Model):
    """A review round: the office's screening (甄别审核), a plenary meeting of the joint
    meeting, the higher level's feedback. Closed, its decisions no longer change."""

    class Kind(models.TextChoices):
        SCREENING = "screening", _("办公室甄别审核")
        PLENARY = "plenary", _("联席会议全体会议")
        HIGHER = "higher", _("上级反馈")

    cleanup = models.ForeignKey(Cleanup, on_delete=models.PROTECT, related_name="rounds",
                                verbose_name=_("清理工作"))
    order = models.PositiveSmallIntegerField(_("顺序"))
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    date = models.DateField(_("日期"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("审核轮次")
        verbose_name_plural = _("审核轮次")
        ordering = ["cleanup", "order"]
        constraints = [
            models.UniqueConstraint(fields=["cleanup", "order"], name="registry_round_order"),
            models.UniqueConstraint(fields=["cleanup", "name"], name="registry_round_name"),
        ]

    def __str__(self) -> str:
        return self.name


class RoundDecision(models.Model):
    """One round's decision on one activity, with its reason; a merge names the surviving
    activity (of the same cleanup: checked by the service, never itself: by the database)."""

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="decisions",
                              verbose_name=_("审核轮次"))
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="decisions",
                                 verbose_name=_("项目"))
    decision = models.CharField(_("审核意见"), max_length=8, choices=Decision.choices)
    merged_into = models.ForeignKey(Activity, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="merged_by", verbose_name=_("合并到"))
    reason = models.TextField(_("理由"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("记录时间"), auto_now=True)

    class Meta:
        verbose_name = _("审核意见")
        verbose_name_plural = _("审核意见")
        ordering = ["round__order", "activity_id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "activity"],
                                    name="registry_decision_once_per_round"),
            models.CheckConstraint(condition=~Q(merged_into=F("activity")),
                                   name="registry_merge_not_into_itself"),
            models.CheckConstraint(
                condition=Q(decision="merge", merged_into__isnull=False)
                | (~Q(decision="merge") & Q(merged_into__isnull=True)),
                name="registry_merge_has_target"),
            models.CheckConstraint(condition=~Q(reason=""), name="registry_decision_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.activity_id} · {self.get_decision_display()}"
