"""The four presets of spec section 8, drawn from the campaign documents in shared/seeds.

A preset only fills a new campaign; every value stays editable afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class OptionSpec:
    label: str
    weight: Decimal
    satisfied: bool
    counted: bool


@dataclass(frozen=True)
class CategorySpec:
    name: str
    winners: int
    last_place: int


@dataclass(frozen=True)
class GroupSpec:
    name: str
    target_share: Decimal | None = None
    target_is_minimum: bool = False
    weight: Decimal | None = None
    # 评议范围 (001: 内部评议 / 社会评议): a target share is a share within the pool.
    pool: str = ""


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    description: str = ""


@dataclass(frozen=True)
class Preset:
    key: str
    series: str
    options: tuple[OptionSpec, ...]
    blank_means: str | None
    aggregation: str
    categories: tuple[CategorySpec, ...]
    threshold: Decimal
    dimensions: tuple[str, ...] = ()
    # The threshold also applies to each dimension alone (key_rectification:<dimension>).
    dimension_line: bool = False
    phases: tuple[PhaseSpec, ...] = ()
    groups: tuple[GroupSpec, ...] = ()
    channels: tuple[str, ...] = ()
    min_new_share: Decimal | None = None
    scale_explanation: str = ""
    rules_text: str = ""
    # What 连续两年末位 brings, in the document's words (and for vertical units, if different).
    consecutive_last: str = ""
    consecutive_last_vertical: str = ""
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _opt(label: str, weight: str, satisfied: bool, counted: bool) -> OptionSpec:
    return OptionSpec(label, Decimal(weight), satisfied, counted)


QIANREN = Preset(
    key="qianren",
    series="千人评议机关",
    source="000 市“千人评议机关”活动实施方案",
    options=(
        _opt("满意", "2", True, True),
        _opt("基本满意", "1", True, True),
        _opt("不满意", "0", False, True),
        _opt("弃权", "0.5", False, True),
    ),
    blank_means="弃权",
    aggregation="sum",
    categories=(
        CategorySpec("地方管理部门类", 5, 1),
        CategorySpec("垂直管理部门类", 3, 1),
        CategorySpec("金融部门类", 2, 1),
    ),
    threshold=Decimal("0.9"),
    phases=(
        PhaseSpec("宣传发动", "召开全市“千人评议机关”活动动员大会;组织新闻媒体宣传报道。"),
        PhaseSpec("服务承诺", "部门和单位主要领导通过电视媒体,向全社会公开服务承诺。"),
        PhaseSpec("自查自纠", "各被评部门结合自身作风建设实际,有针对性地抓好自查自纠。"),
        PhaseSpec("征求意见", "以发放征求意见表的形式,向评议代表、社会各界广泛征求意见和建议。"),
        PhaseSpec("集中整改", "评议办公室将意见和建议梳理汇总后反馈,各部门集中整改并书面报告。"),
        PhaseSpec("年终评议", "以片区为单位集中评议,公证处现场监督和公证,评议结果报市委、市政府。"),
    ),
    groups=(
        GroupSpec("服务对象", Decimal("0.6")),
        GroupSpec("党政干部和各界代表", Decimal("0.4")),
    ),
    scale_explanation="每个被评单位在“满意”“基本满意”“不满意”中选一项打“√”;"
    "未填写的按弃权计。",
    # A note beside the generated rules (campaigns/rules.py): no quota, weight or threshold,
    # which the configuration says and can change.
    rules_text="被实行“一票否决”的单位不得评为“优胜单位”。连续两年被评为“末位单位”的,从严处理。",
    # 000, 五(二)2 and 8.
    consecutive_last="责成其主要负责人引咎辞职或根据组织考察情况作降职、免职处理,并全额扣发当年目标管理奖",
    consecutive_last_vertical="由市委、市政府将评议结果通报其上一级主管部门,建议其主要领导调离",
)

WANREN = Preset(
    key="wanren",
    series="万人评议机关",
    source="004 万人评议机关调查问卷",
    options=(
        _opt("满意", "22", True, True),
        _opt("基本满意", "17", True, True),
        _opt("不满意", "11", False, True),
    ),
    blank_means=None,
    aggregation="mean",
    categories=(CategorySpec("市直机关", 5, 5),),
    threshold=Decimal("0.9"),
    dimensions=("教育管理", "依法行政", "机关作风", "效能建设", "系统监管"),
    phases=(
        PhaseSpec("制作问卷", "按教育管理、依法行政、机关作风、效能建设、系统监管五个方面制作调查问卷。"),
        PhaseSpec("发放收集", "单位相互评、社会随机评、下级单位评、群众监督员评、日报读者评五种方式发放和收集。"),
        PhaseSpec("统计汇总", "剔除复印的无效问卷,统计有效问卷。"),
        PhaseSpec("公示排序", "在一定范围内公示满意度测评排序,与年终目标考核和评先评优挂钩。"),
    ),
    channels=("单位相互评", "社会随机评", "下级单位评", "群众监督员评", "日报读者评"),
    scale_explanation="按五个方面分别选择“满意”“基本满意”“不满意”。复印的问卷无效。",
    rules_text="名次排后的单位取消评先资格。",
)

ZHENGFENG = Preset(
    key="zhengfeng",
    series="政风行风评议",
    source="002 民主评议政风行风实施意见",
    options=(
        _opt("满意", "1", True, True),
        _opt("基本满意", "1", True, True),
        _opt("不满意", "0", False, True),
        _opt("不了解", "0", False, False),
    ),
    blank_means=None,
    aggregation="mean",
    categories=(
        CategorySpec("政府部门及其它机构", 20, 1),
        CategorySpec("公共服务行业", 10, 1),
    ),
    threshold=Decimal("0.9"),
    phases=(
        PhaseSpec("动员准备", "确定评议对象,选聘、培训评议代表(新聘代表不低于三分之一)。"),
        PhaseSpec("组织实施", "征求意见建议,专门评议小组深入参评单位评议,日常督导。"),
        PhaseSpec("考核总结", "问卷测评群众满意度,综合考核,确定各参评单位综合成绩。"),
    ),
    groups=(GroupSpec("评议代表"), GroupSpec("群众代表")),
    min_new_share=Decimal("0.3333"),
    scale_explanation="选择“满意”“基本满意”“不满意”;不了解该单位的选“不了解”,不计入有效票。",
    rules_text="不了解参评单位情况的代表选“不了解”,不影响该单位的满意率。",
)

LIANGPING = Preset(
    key="liangping",
    series="两评一树",
    source="001 两评一树工作方案",
    options=(
        _opt("满意", "1", True, True),
        _opt("基本满意", "1", True, True),
        _opt("不满意", "0", False, True),
        _opt("不了解", "0", False, False),
    ),
    blank_means=None,
    aggregation="mean",
    # 001 names no 优胜 and no 末位: a lone 领导班子 must not be 末位 at 100%.
    categories=(CategorySpec("领导班子", 0, 0), CategorySpec("领导干部", 0, 0)),
    threshold=Decimal("0.9"),
    dimensions=("工作评价", "作风评价"),
    # 001: 对群众评议结果较差的干部,要求限期整改 — on the work and on the conduct each.
    dimension_line=True,
    phases=(
        PhaseSpec("宣传发动", "召开动员会议,作出安排部署,制定具体实施方案。"),
        PhaseSpec("组织评议", "内部评议和社会评议:让群众评价工作、评价作风。"),
        PhaseSpec("整改提高", "梳理群众意见建议,建立整改台账,整改措施和成效向群众公示。"),
    ),
    # 001: 内部评议……评议参加人员为全体干部职工;社会评议……参加人员为部分党代表、人大代表、
    # 政协委员和服务对象代表,其中服务对象代表不少于评议人员的50%.
    groups=(
        GroupSpec("全体干部职工", pool="内部评议"),
        GroupSpec("党代表", pool="社会评议"),
        GroupSpec("人大代表", pool="社会评议"),
        GroupSpec("政协委员", pool="社会评议"),
        GroupSpec("服务对象代表", Decimal("0.5"), target_is_minimum=True, pool="社会评议"),
    ),
    scale_explanation="对工作和作风分别评价;不了解的选“不了解”,不计入有效票。",
    rules_text="让群众评价工作、让群众评价作风、树立群众满意形象。"
    "对群众评议结果较差的,要求限期整改。",
)

PRESETS: dict[str, Preset] = {p.key: p for p in (QIANREN, WANREN, ZHENGFENG, LIANGPING)}
