"""Campaign configuration: the registry of units, campaigns and everything an office configures.

Field semantics follow ../shared/spec/scoring.md; the comments here say why a field exists.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SubjectKind(models.TextChoices):
    """评议对象的类型. The values are the 类型 labels of the units sheet and of the tally JSON
    (scoring.md section 10; scoring.engine.SUBJECT_KINDS), whatever the page's language."""

    UNIT = "单位", _("单位")
    TEAM = "领导班子", _("领导班子")
    LEADER = "领导干部", _("领导干部")
    SECTION = "内设科室", _("内设科室")
    WINDOW = "办事窗口", _("办事窗口")
    STATION = "基层站所", _("基层站所")


class Unit(models.Model):
    """A subject in the registry (评议对象: a unit, a leadership team, a leader, a section, a
    window, a station). Its identity outlives renames and campaigns, because next year's
    连续两年末位 rule must find the same subject even under a new name. A subject is known by
    its name under its parent: every unit may have a section called 办公室."""

    Kind = SubjectKind

    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.UNIT)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )
    former_names = models.TextField(
        _("曾用名"), blank=True, help_text=_("每行一个;导入时按曾用名也能找到同一单位")
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("被评单位(登记)")
        verbose_name_plural = _("被评单位(登记)")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="unit_name_unique_top"
            ),
            models.UniqueConstraint(fields=["parent", "name"], name="unit_name_unique_under"),
            models.CheckConstraint(
                condition=Q(kind__in=SubjectKind.values),
                name="unit_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def all_names(self) -> list[str]:
        return [self.name, *[n.strip() for n in self.former_names.splitlines() if n.strip()]]


# Inside a campaign, RESTRICT rather than PROTECT: a vote may not lose its unit or option,
# but deleting a whole (test or mistaken) campaign removes its own rows together.


def default_min_cell_ballots() -> int:
    """The site-wide default of `Campaign.min_cell_ballots` (settings.PINGYI_MIN_CELL_BALLOTS,
    10 when unset): read when a campaign is created, so each campaign keeps its own."""
    return int(getattr(settings, "PINGYI_MIN_CELL_BALLOTS", 10))


class Office(models.Model):
    """An evaluation office (评议办公室) of a city, county or department. Staff belong to
    offices and see only their offices' campaigns (campaigns/access.py), unless granted
    `campaigns.access_all_offices`: one installation can serve a province's offices. (Not
    named view_*: core/roles.py gives every "view_" permission to office staff and auditors.)"""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省级")
        CITY = "city", _("市级")
        COUNTY = "county", _("县级")
        DEPARTMENT = "department", _("部门")

    name = models.CharField(_("名称"), max_length=200, unique=True)
    level = models.CharField(_("级别"), max_length=12, choices=Level.choices, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("成员"),
        blank=True,
        related_name="offices",
        help_text=_("本办公室的工作人员、录入员、领导和审计人员"),
    )

    class Meta:
        verbose_name = _("评议办公室")
        verbose_name_plural = _("评议办公室")
        ordering = ["name"]
        permissions = [("access_all_offices", _("查看所有评议办公室的活动"))]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        OPEN = "open", _("进行中")
        CLOSED = "closed", _("已结束")
        PUBLISHED = "published", _("已公示")

    class Aggregation(models.TextChoices):
        SUM = "sum", _("得分相加 (sum)")
        MEAN = "mean", _("平均分 (mean)")

    name = models.CharField(_("名称"), max_length=200)
    slug = models.SlugField(_("标识"), max_length=80, unique=True)
    year = models.PositiveIntegerField(_("年度"), validators=[MinValueValidator(2000)])
    series = models.CharField(_("系列"), max_length=100, blank=True, help_text=_("例如 千人评议机关"))
    previous = models.ForeignKey(
        "self",
        verbose_name=_("上一次评议"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="next_campaigns",
    )
    preset = models.CharField(_("预设"), max_length=20, blank=True)
    # Null only for campaigns made before offices existed: those are visible only to users
    # granted all offices (campaigns/access.py).
    office = models.ForeignKey(
        Office,
        verbose_name=_("评议办公室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    aggregation = models.CharField(
        _("计分方式"), max_length=4, choices=Aggregation.choices, default=Aggregation.SUM
    )
    threshold = models.DecimalField(
        _("满意率整改线"),
        max_digits=6,
        decimal_places=4,
        default=Decimal("0.9"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text=_("0 到 1 之间,例如 0.9 表示 90%"),
    )
    blank_means = models.ForeignKey(
        "RatingOption",
        verbose_name=_("未填写视为"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("例如千人评议:未填写按“弃权”计"),
    )
    anonymous = models.BooleanField(
        _("匿名评议"), default=True, help_text=_("匿名时,任何数据都不能把选票与代表关联")
    )
    double_entry = models.BooleanField(
        _("纸质票双人录入"), default=True, help_text=_("关闭则单人录入,报告中注明")
    )
    min_new_share = models.DecimalField(
        _("新聘代表最低比例"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text=_("例如政风行风评议:新聘代表不少于三分之一,填 0.3333"),
    )
    # Small-cell suppression (scoring/suppression.py): a slice of the ballots (a district, a
    # group, a channel, a source) with fewer valid ballots than this is merged into 其他 in
    # every breakdown and cannot be filtered on, so no figure shows a few people's votes.
    # Ballots, not votes. 1 turns it off; the default comes from the site's settings.
    min_cell_ballots = models.PositiveSmallIntegerField(
        _("分项统计最少票数"),
        default=default_min_cell_ballots,
        validators=[MinValueValidator(1)],
        help_text=_(
            "分片区、分代表类别、分渠道等统计中,有效票少于此数的范围合并为“其他”,"
            "也不能单独筛选,以免从小范围推知个人的评价"
        ),
    )
    rules_text = models.TextField(_("规则说明"), blank=True)
    # Year-on-year consequence (000: 连续两年末位 → 引咎辞职/降免职; vertical units: 建议调离),
    # shown beside the flag on the unit's page and in the rules in words.
    consecutive_last = models.TextField(_("连续两年末位的处理"), blank=True)
    consecutive_last_vertical = models.TextField(_("垂直管理单位连续两年末位的处理"),
                                                 blank=True)
    scale_explanation = models.TextField(_("评价等次说明"), blank=True)
    instructions = models.TextField(_("填表说明"), blank=True)
    results_published_at = models.DateTimeField(_("公示时间"), null=True, blank=True)
    # The 公示 as a government notice (scoring/publication.py): its period, where objections
    # go, and who signs it (落款). Publishing refuses without the period, a channel and an issuer.
    notice_from = models.DateField(_("公示开始日期"), null=True, blank=True)
    notice_to = models.DateField(_("公示截止日期"), null=True, blank=True)
    objection_phone = models.CharField(_("异议受理电话"), max_length=50, blank=True)
    objection_address = models.CharField(_("异议受理地址"), max_length=200, blank=True)
    objection_email = models.EmailField(_("异议受理邮箱"), blank=True)
    issuer = models.CharField(
        _("发布单位"), max_length=200, blank=True, help_text=_("公示和报告末尾的落款单位")
    )
    # Section 6.7: 先进科室 / 满意窗口 across the campaign's sub-units (0: none).
    honoured_quota = models.PositiveIntegerField(
        _("先进科室(满意窗口)名额"), default=0,
        help_text=_("全部内设科室、办事窗口和基层站所合在一起评出的名额;0 表示不评"),
    )
    # Section 6, per-dimension line: key_rectification:<dimension>.
    dimension_line = models.BooleanField(
        _("分项满意率整改线"), default=False,
        help_text=_("任一评议内容的满意率低于整改线,也认定该项重点整改"),
    )
    # Issue 22: the registered 评比达标表彰项目 the campaign runs under (registry/freeze.py: while
    # a cleanup is in progress, one that may go on is required, or an override with a reason).
    activity = models.ForeignKey(
        "registry.Activity", verbose_name=_("登记项目"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="campaigns",
    )
    activity_override_reason = models.TextField(_("未关联登记项目的理由"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评议活动")
        verbose_name_plural = _("评议活动")
        ordering = ["-year", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__gte=0) & Q(threshold__lte=1), name="campaign_threshold_0_1"
            ),
        ]
        permissions = [
            ("configure_campaign", _("配置评议活动")),
            ("key_paper_ballots", _("录入纸质选票")),
            ("resolve_paper_disputes", _("裁决录入分歧")),
            ("view_results", _("查看评议结果")),
            ("download_reports", _("下载报告")),
            ("view_auditlog", _("查看审计日志")),
            ("manage_codes", _("管理评议码")),
            ("publish_results", _("公示结果")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"

    def has_ballots(self) -> bool:
        # Through the reverse relation: configuration never imports the ballots app.
        return self.ballots.exists()

    def assert_configurable(self) -> None:
        """Refuse changes to what was voted on once a ballot exists."""
        if self.pk and self.has_ballots():
            raise ValidationError(
                _("评议活动“%(name)s”已有选票,不能再修改评价等次、评议内容或被评单位。")
                % {"name": self.name}
            )


# A ballot stores each answer in 4 bits beside 2 reserved codes (ballots/answers.py). Real
# scales have 3 to 5 levels.
MAX_RATING_OPTIONS = 14
# ... and its cell (unit × dimension) in the rest of a smallint: 32767 // 16 (spec section 10).
MAX_CELLS = 2047


class RatingOption(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="options"
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    label = models.CharField(_("等次"), max_length=20)
    weight = models.DecimalField(
        _("分值"), max_digits=10, decimal_places=4, validators=[MinValueValidator(Decimal(0))]
    )
    satisfied = models.BooleanField(_("计入满意"), default=False)
    counted = models.BooleanField(_("计入有效票"), default=True)

    class Meta:
        verbose_name = _("评价等次")
        verbose_name_plural = _("评价等次")
        ordering = ["campaign", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "label"], name="option_label_unique"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="option_weight_nonneg"),
            # Spec section 1, also for bulk_create and raw writes, which skip save().
            models.CheckConstraint(
                condition=Q(satisfied=False) | Q(counted=True), name="option_satisfied_is_counted"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.weight.normalize()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Refused on every save, not only through forms (a copied or scripted scale too);
        # bulk_create skips this, and its one user, the presets, is checked by tests.
        if error := self.scale_error():
            raise ValidationError(error)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if error := self.scale_error():
            raise ValidationError({"counted": error})

    def scale_error(self) -> str | None:
        """Spec section 1: a satisfied option must also be counted. A satisfied vote outside
        the denominator would let the rate pass 100%, and the tally refuses such a scale."""
        if self.satisfied and not self.counted:
            return str(_("“%(o)s”计入满意,必须同时计入有效票。") % {"o": self.label})
        return None


class Dimension(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="dimensions"
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("评议内容"), max_length=50)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("评议内容")
        verbose_name_plural = _("评议内容")
        ordering = ["campaign", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="dimension_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="categories"
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("类别"), max_length=100)
    winners = models.PositiveIntegerField(_("优胜名额"), default=0)
    last_place = models.PositiveIntegerField(_("末位名额"), default=1)

    class Meta:
        verbose_name = _("类别")
        verbose_name_plural = _("类别")
        ordering = ["campaign", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="category_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignUnit(models.Model):
    """A registry unit taking part in one campaign, in one category."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="units"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("登记单位"), on_delete=models.PROTECT, related_name="participations"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.RESTRICT, related_name="units"
    )
    # The name as printed on this campaign's ballot: the registry name may change later.
    name = models.CharField(_("名称"), max_length=200)
    order = models.PositiveIntegerField(_("顺序"), default=0)
    vertical = models.BooleanField(_("垂直管理"), default=False)
    vetoed = models.BooleanField(_("一票否决"), default=False)
    # A leader's post (职务), shown beside the name: it changes between years, the person not.
    post = models.CharField(_("职务"), max_length=100, blank=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("参评单位")
        verbose_name_plural = _("参评单位")
        ordering = ["campaign", "category__order", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "unit"], name="campaignunit_unit_unique"),
            models.UniqueConstraint(fields=["campaign", "name"], name="campaignunit_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.category_id and self.campaign_id and self.category.campaign_id != self.campaign_id:
            raise ValidationError({"category": _("类别不属于本评议活动")})


class Phase(models.Model):
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="phases"
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("阶段"), max_length=100)
    start = models.DateField(_("开始日期"), null=True, blank=True)
    end = models.DateField(_("结束日期"), null=True, blank=True)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("阶段")
        verbose_name_plural = _("阶段")
        ordering = ["campaign", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("结束日期不能早于开始日期")})


class RepresentativeGroup(models.Model):
    """代表类别: a quota group of representatives, optionally weighted in a `mean` tally."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="groups"
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("代表类别"), max_length=100)
    # 两评一树's review pools (内部评议 / 社会评议): results per pool and together, and a
    # target share is then a share within the pool.
    pool = models.CharField(_("评议范围"), max_length=50, blank=True,
                            help_text=_("例如 内部评议、社会评议;目标比例按同一范围内计算"))
    target_share = models.DecimalField(
        _("目标比例"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text=_("例如 0.6 表示 60%"),
    )
    target_is_minimum = models.BooleanField(
        _("比例为下限"), default=False, help_text=_("例如“服务对象不少于50%”")
    )
    weight = models.DecimalField(
        _("计分权重"),
        max_digits=6,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("仅用于平均分计分;留空表示不加权"),
    )

    class Meta:
        verbose_name = _("代表类别")
        verbose_name_plural = _("代表类别")
        ordering = ["campaign", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="group_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class GradeBand(models.Model):
    """等次 bands on the score, e.g. 90 优秀 / 80 良好 / 60 合格 / 0 不合格."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="grade_bands"
    )
    minimum = models.DecimalField(_("最低分"), max_digits=12, decimal_places=4)
    label = models.CharField(_("等次"), max_length=20)

    class Meta:
        verbose_name = _("等次分档")
        verbose_name_plural = _("等次分档")
        ordering = ["campaign", "-minimum"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "minimum"], name="gradeband_min_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ≥ {self.minimum.normalize()}"


class Representative(models.Model):
    """评议代表. In an anonymous campaign nothing links a ballot back to this row."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE,
        related_name="representatives",
    )
    group = models.ForeignKey(
        RepresentativeGroup,
        verbose_name=_("代表类别"),
        on_delete=models.RESTRICT,
        related_name="representatives",
    )
    name = models.CharField(_("姓名"), max_length=100)
    district = models.CharField(_("片区"), max_length=100, blank=True)
    affiliation = models.CharField(_("单位及职务"), max_length=200, blank=True)
    phone = models.CharField(_("手机"), max_length=30, blank=True)
    is_new = models.BooleanField(_("新聘"), default=False)
    batch = models.ForeignKey(
        "ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("评议代表")
        verbose_name_plural = _("评议代表")
        ordering = ["campaign", "group__order", "name"]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One imported file. A batch is undone as a whole; the same content cannot be imported
    twice into a campaign while an earlier batch of it stands."""

    class Kind(models.TextChoices):
        UNITS = "units", _("被评单位")
        BALLOTS = "ballots", _("选票")
        REPRESENTATIVES = "representatives", _("评议代表")
        SCANS = "scans", _("扫描选票")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("评议活动"), on_delete=models.CASCADE, related_name="batches"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    filename = models.CharField(_("文件名"), max_length=255)
    sha256 = models.CharField(_("内容摘要"), max_length=64)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    summary = models.JSONField(_("摘要"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("导入人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撤销人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
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
