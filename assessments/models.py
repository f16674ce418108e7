"""Assessments (考核, shared/spec/assessment.md): the 100-point deduction scheme of 004 and
the weighted composite of 002. A domain of its own above the survey's scoring: it reads a
campaign's result through scoring.tally, never its ballots."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, Office, Unit
from core.files import job_file_name, private_files


def evidence_name(instance: object, filename: str) -> str:
    """A random name in its own folder of the private files: the generated files' sweep
    (core.files) reads only the folder's top, so evidence is never taken for a stray file."""
    return "evidence/" + job_file_name(instance, filename)


class Assessment(models.Model):
    class Mode(models.TextChoices):
        DEDUCTION = "deduction", _("倒扣分制")
        WEIGHTED = "weighted", _("加权综合")

    slug = models.SlugField(_("标识"), max_length=80, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    year = models.PositiveIntegerField(_("年度"), validators=[MinValueValidator(2000)])
    series = models.CharField(_("系列"), max_length=100, blank=True)
    preset = models.CharField(_("预设"), max_length=30, blank=True)
    mode = models.CharField(_("考核方式"), max_length=10, choices=Mode.choices)
    base = models.DecimalField(_("基础分"), max_digits=8, decimal_places=4, default=Decimal(100))
    description = models.TextField(_("说明"), blank=True)
    previous = models.ForeignKey(
        "self", verbose_name=_("上一年度考核"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="next_assessments",
    )
    office = models.ForeignKey(
        Office, verbose_name=_("评议办公室"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="assessments",
    )
    # Section 5: once finalised, entries are read-only and the result carries a fingerprint.
    finalised_at = models.DateTimeField(_("定稿时间"), null=True, blank=True)
    fingerprint = models.CharField(_("结果指纹"), max_length=64, blank=True)
    # 公示: a fixed copy of the finalised result (ranks, totals, grades, honours), shown on the
    # public page until withdrawn; never the entries, their sources or the units' objections.
    published_at = models.DateTimeField(_("公示时间"), null=True, blank=True)
    publication = models.JSONField(_("公示内容"), default=dict, blank=True)
    # The 公示 as a notice, as a campaign's (scoring/publication.py): its period, where
    # objections go, who signs it. Publishing refuses without them.
    notice_from = models.DateField(_("公示开始日期"), null=True, blank=True)
    notice_to = models.DateField(_("公示截止日期"), null=True, blank=True)
    objection_phone = models.CharField(_("异议受理电话"), max_length=50, blank=True)
    objection_address = models.CharField(_("异议受理地址"), max_length=200, blank=True)
    objection_email = models.EmailField(_("异议受理邮箱"), blank=True)
    issuer = models.CharField(_("发布单位"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("考核")
        verbose_name_plural = _("考核")
        ordering = ["-year", "name"]
        permissions = [
            ("manage_assessment", _("管理考核")),
            ("enter_assessment_entries", _("报送考核扣分和得分")),
            ("review_assessment_entries", _("审核考核扣分和得分")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"


class AssessmentCategory(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE,
                                   related_name="categories", verbose_name=_("考核"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("类别"), max_length=100)
    honoured = models.PositiveIntegerField(_("先进单位名额"), default=0)
    honoured_grade = models.CharField(_("先进单位须达等次"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("考核类别")
        verbose_name_plural = _("考核类别")
        ordering = ["assessment", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["assessment", "name"],
                                               name="assessment_category_unique")]

    def __str__(self) -> str:
        return self.name


class AssessmentUnit(models.Model):
    """A registry unit taking part in one assessment, in one category."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="units",
                                   verbose_name=_("考核"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assessments",
                             verbose_name=_("登记单位"))
    category = models.ForeignKey(AssessmentCategory, on_delete=models.RESTRICT,
                                 related_name="units", verbose_name=_("类别"))
    name = models.CharField(_("名称"), max_length=200)
    order = models.PositiveIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("参加考核的单位")
        verbose_name_plural = _("参加考核的单位")
        ordering = ["assessment", "category__order", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "unit"], name="assessment_unit_unique"),
            models.UniqueConstraint(fields=["assessment", "name"],
                                    name="assessment_unit_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Section(models.Model):
    class Kind(models.TextChoices):
        ITEMS = "items", _("扣分事项")
        SCORE = "score", _("得分")
        SURVEY = "survey", _("评议结果")
        ROLLUP = "rollup", _("下级评议结果")

    class Measure(models.TextChoices):
        SATISFACTION = "satisfaction", _("满意率")
        PERCENT = "percent", _("百分制")

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE,
                                   related_name="sections", verbose_name=_("考核"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("考核项目"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    cap = models.DecimalField(_("最多扣分"), max_digits=8, decimal_places=4, null=True,
                              blank=True)
    max_points = models.DecimalField(_("满分"), max_digits=8, decimal_places=4, null=True,
                                     blank=True)
    measure = models.CharField(_("计量"), max_length=12, choices=Measure.choices,
                               default=Measure.SATISFACTION)
    threshold = models.DecimalField(_("扣分线"), max_digits=8, decimal_places=4,
                                    default=Decimal(90))
    per_point = models.DecimalField(_("每低一个百分点扣分"), max_digits=8, decimal_places=4,
                                    default=Decimal(1))
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="assessment_sections", verbose_name=_("评议活动"))
    source = models.CharField(_("提供单位"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("考核项目")
        verbose_name_plural = _("考核项目")
        ordering = ["assessment", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["assessment", "name"],
                                               name="assessment_section_unique")]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """扣分事项: `points` per 件次/人次, or a range (视情节轻重 min–max) stated per entry."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="items",
                                verbose_name=_("考核项目"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("扣分事项"), max_length=300)
    points = models.DecimalField(_("每次扣分"), max_digits=8, decimal_places=4, null=True,
                                 blank=True)
    min_points = models.DecimalField(_("最少扣分"), max_digits=8, decimal_places=4, null=True,
                                     blank=True)
    max_points = models.DecimalField(_("最多扣分"), max_digits=8, decimal_places=4, null=True,
                                     blank=True)

    class Meta:
        verbose_name = _("扣分事项")
        verbose_name_plural = _("扣分事项")
        ordering = ["section", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["section", "name"], name="assessment_item_unique"),
            # Spec section 9: points, or a range, never both.
            models.CheckConstraint(
                condition=(Q(points__isnull=False, min_points__isnull=True,
                             max_points__isnull=True)
                           | Q(points__isnull=True, min_points__isnull=False,
                               max_points__isnull=False, min_points__lte=models.F("max_points"))),
                name="assessment_item_points_or_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ranged(self) -> bool:
        return self.points is None


class Band(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="bands",
                                   verbose_name=_("考核"))
    label = models.CharField(_("等次"), max_length=20)
    minimum = models.DecimalField(_("最低分"), max_digits=8, decimal_places=4)
    consequence = models.CharField(_("结果运用"), max_length=300, blank=True)
    rectify = models.BooleanField(_("须整改"), default=False)

    class Meta:
        verbose_name = _("考核等次")
        verbose_name_plural = _("考核等次")
        ordering = ["assessment", "-minimum"]
        constraints = [models.UniqueConstraint(fields=["assessment", "label"],
                                               name="assessment_band_unique")]

    def __str__(self) -> str:
        return self.label


class YearRule(models.Model):
    """(grade, years, flag): e.g. 连续两年优秀 → title (section 4)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="rules",
                                   verbose_name=_("考核"))
    grade = models.CharField(_("等次"), max_length=20)
    years = models.PositiveSmallIntegerField(_("连续年数"), validators=[MinValueValidator(2)])
    flag = models.CharField(_("标记"), max_length=30)

    class Meta:
        verbose_name = _("连续年度规则")
        verbose_name_plural = _("连续年度规则")

    def __str__(self) -> str:
        return f"{self.grade} × {self.years} → {self.flag}"


class EntryImport(models.Model):
    """One spreadsheet of entries (spec section 7): the same content twice is refused."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE,
                                   related_name="imports", verbose_name=_("考核"))
    filename = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("内容摘要"), max_length=64)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("扣分和得分导入")
        verbose_name_plural = _("扣分和得分导入")
        constraints = [models.UniqueConstraint(fields=["assessment", "sha256"],
                                               name="assessment_import_once")]

    def __str__(self) -> str:
        return self.filename


class Entry(models.Model):
    """A deduction (items sections: item, count, points for a range item) or a score (score
    sections) for one unit, from a source office (提供单位) with its basis. Only approved
    entries that nothing supersedes count; nothing is deleted (section 5)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("未通过")

    class Objection(models.TextChoices):
        NONE = "", _("无")
        LODGED = "lodged", _("申诉中")
        UPHELD = "upheld", _("维持")
        ACCEPTED = "accepted", _("申诉成立")

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE,
                                   related_name="entries", verbose_name=_("考核"))
    unit = models.ForeignKey(AssessmentUnit, on_delete=models.RESTRICT, related_name="entries",
                             verbose_name=_("单位"))
    section = models.ForeignKey(Section, on_delete=models.RESTRICT, related_name="entries",
                                verbose_name=_("考核项目"))
    item = models.ForeignKey(Item, on_delete=models.RESTRICT, null=True, blank=True,
                             related_name="entries", verbose_name=_("扣分事项"))
    count = models.PositiveIntegerField(_("次数"), null=True, blank=True,
                                        validators=[MinValueValidator(1)])
    points = models.DecimalField(_("每次扣分"), max_digits=8, decimal_places=4, null=True,
                                 blank=True)
    score = models.DecimalField(_("得分"), max_digits=8, decimal_places=4, null=True,
                                blank=True)
    source = models.CharField(_("提供单位"), max_length=200)
    basis = models.CharField(_("依据"), max_length=300)
    date = models.DateField(_("日期"), null=True, blank=True)
    # Optional evidence (a scan of the 通报): private, served only by the entry's evidence view
    # to staff, the office that entered it and the unit concerned (assessments/entry_views.py).
    evidence = models.FileField(_("证明材料"), storage=private_files, upload_to=evidence_name,
                                blank=True, max_length=200)
    evidence_name = models.CharField(_("证明材料文件名"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    review_reason = models.CharField(_("审核意见"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    objection = models.CharField(_("申诉"), max_length=10, choices=Objection.choices,
                                 blank=True, default="")
    objection_text = models.TextField(_("申诉理由"), blank=True)
    objection_reason = models.CharField(_("申诉处理意见"), max_length=300, blank=True)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="superseded_by",
                                      verbose_name=_("更正的条目"))
    batch = models.ForeignKey(EntryImport, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="entries", verbose_name=_("导入批次"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("报送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("考核扣分和得分")
        verbose_name_plural = _("考核扣分和得分")
        ordering = ["assessment", "unit", "section", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(item__isnull=False, count__gte=1, score__isnull=True)
                           | Q(item__isnull=True, count__isnull=True, score__isnull=False)),
                name="assessment_entry_deduction_or_score",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.section} · {self.basis}"


class SourceAccount(models.Model):
    """A login of a source office (提供单位: 督查室, 纪委, 行政服务中心 …): it enters deductions
    and scores for the sections whose 提供单位 names its office, and sees only its own."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="assessment_source", verbose_name=_("账号"))
    source = models.CharField(_("提供单位"), max_length=200)

    class Meta:
        verbose_name = _("提供单位账号")
        verbose_name_plural = _("提供单位账号")

    def __str__(self) -> str:
        return f"{self.source}({self.user})"


class UnitAccount(models.Model):
    """A login of an assessed unit: it sees its own approved entries and may object."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="assessment_unit", verbose_name=_("账号"))
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="accounts",
                             verbose_name=_("登记单位"))

    class Meta:
        verbose_name = _("被考核单位账号")
        verbose_name_plural = _("被考核单位账号")

    def __str__(self) -> str:
        return f"{self.unit}({self.user})"
