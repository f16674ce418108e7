"""The two assessment presets of issue 18, drawn from the documents in shared/seeds.

Pure data: each value of `PRESETS` is a configuration document in the JSON shape of
spec/assessment.md §9, plus three keys the file format does not carry:

- `series` (top level): the series in which a predecessor is looked for (spec §4);
- `description` (top level): one sentence for the office, shown where the preset is chosen;
- `source` (every section): the source office(s) (提供单位) the document names for it.

A preset only fills a new assessment; every value stays editable afterwards. `year` is
None here and set at creation (`preset_config`). Only the standard library is imported,
so the data can be read (and tested) without Django.

Item names are the document's words. The documents redact their place names as `***`
(004: "由***在全***予以通报表彰"); where a name or a source office needs the redacted
word it is dropped ("***行政服务中心" -> "行政服务中心"), or, for the leading bodies
("***办公室、人大工委办公室、***办公室、政协工委办公室"), read as 党委 and 政府, the
only bodies that list of four fits.
"""

from __future__ import annotations

import copy
from typing import Any

# ---------------------------------------------------------------------------
# 004: 作风效能建设工作考评办法(试行), 篇6 of shared/seeds/004_*.txt.
# "***作风效能建设考评工作实行100分制,以倒扣分的办法进行考核。"
# ---------------------------------------------------------------------------

# Source offices. 004 (六): "此部分扣分依据分别由***“机关作风效能建设年”活动领导小组
# 办公室、***行政服务中心提供"; 五、(三) says which of the two organises which evaluation:
# "领导小组办公室负责组织……对***各部门及内设重点科室……进行民主评议。***行政服务中心
# 组织对各办事窗口的民主评议。"
_ZF_OFFICE = "“机关作风效能建设年”活动领导小组办公室"
_ZF_CENTRE = "行政服务中心"

ZUOFENG: dict[str, Any] = {
    "name": "作风效能建设工作考评",
    "year": None,
    "mode": "deduction",
    "base": 100,
    "series": "作风效能考评",
    "description": (
        "按《作风效能建设工作考评办法》实行100分制、以倒扣分的办法考核,六个方面的扣分"
        "事项由提供单位报送,民主评议满意率低于90%的每一个百分点扣1分,按得分评定优秀、"
        "良好、合格、不合格四个档次。"
    ),
    # 004 三、考评对象: "各***,***直及驻***各单位". The evaluated units of Pingyi are the
    # departments, so one category, named with 市 for the redacted *** (as spec §6's
    # example); the 乡镇 ("各***") can be added as a category of their own. The document
    # names no quota of 先进单位 (its honour is the year-on-year 'title' rule), so 0.
    "categories": [{"name": "市直及驻市各单位", "honoured": 0, "honoured_grade": None}],
    # 004 六: "90—100分为优秀,80—89分为良好,60—79为合格,59分以下为不合格。" The integer
    # ranges leave 89.5 and 59.5 open; spec §3 reads them as minima, so 89.5 is 良好 and
    # 59.5 is 不合格. The document attaches no consequence to 良好 and 合格: empty text.
    "bands": [
        {
            "label": "优秀",
            "min": 90,
            # "被评为优秀的单位,由***在全***予以通报表彰。"
            "consequence": "予以通报表彰",
            "rectify": False,
        },
        {"label": "良好", "min": 80, "consequence": "", "rectify": False},
        {"label": "合格", "min": 60, "consequence": "", "rectify": False},
        {
            "label": "不合格",
            "min": 0,
            # "被评为不合格的单位,由***在全***予以通报批评,***分管领导对单位党政“一把手”
            # 进行诫勉谈话,并取消党政“一把手”评先评优资格,同时该单位向***“机关作风效能
            # 建设年”活动领导小组报送整改方案,限期整改。"
            "consequence": (
                "予以通报批评,分管领导对单位党政“一把手”进行诫勉谈话,并取消党政“一把手”"
                "评先评优资格,单位报送整改方案,限期整改"
            ),
            "rectify": True,
        },
    ],
    "rules": [
        # "连续两年被评为优秀的单位,由***授予“***作风效能建设工作先进单位”荣誉称号。"
        {"grade": "优秀", "years": 2, "flag": "title"},
        # "连续两年被评为不合格的单位,经……领导小组研究,对该单位党政“一把手”提出处理建议"
        {"grade": "不合格", "years": 2, "flag": "accountability"},
    ],
    # 004 四、考评内容及分值设定, (一)–(六). No section states a maximum deduction, so every
    # cap is None (the base of 100 and max(0, ·) of spec §1 are the only floor).
    "sections": [
        {
            # (一)对***领导重要批示件及督办内容贯彻落实情况的考核
            "name": "督办落实",
            "kind": "items",
            "cap": None,
            "source": "党委办公室、人大工委办公室、政府办公室、政协工委办公室",
            "items": [
                {"name": "明确要求落实或重点督查的工作任务,不按时落实", "points": 4},
                {"name": "因工作不落实而对全局工作造成不利影响", "points": 5},
                {
                    "name": "领导批示交办的重要事项敷衍塞责、不认真办理或无正当理由不按时上报办理结果",
                    "points": 3,
                },
                {"name": "人大代表、政协委员提案不按时办结反馈", "points": 3},
            ],
        },
        {
            # (二)对行政审批事项进驻行政服务中心情况的考核
            "name": "审批事项进驻行政服务中心",
            "kind": "items",
            "cap": None,
            "source": _ZF_CENTRE,
            "items": [
                # "行政审批事项(含各类年检和服务事项)未进入行政服务中心办理的扣30 分,每少一项
                # 扣除相应分值": 30 is the whole deduction when no item is in the centre, and
                # each missing item deducts its share, which depends on how many items the
                # unit has. So a range item 0–30: the centre states the share on each entry
                # (count 1), as for the 视情节轻重 items.
                {
                    "name": "行政审批事项(含各类年检和服务事项)未进入行政服务中心办理",
                    "min": 0,
                    "max": 30,
                },
                # "对只受理不授权或两头受理的单位,每项扣5分;超承诺时限办结的每项扣2分": one
                # 次数 per 项.
                {"name": "只受理不授权或两头受理", "points": 5},
                {"name": "超承诺时限办结", "points": 2},
            ],
        },
        {
            # (三)对***领导信箱、微博转办件、作风效能投诉件、“行风热线”转办件、信访件办理
            # 情况的考核
            "name": "转办件、投诉件和信访件办理",
            "kind": "items",
            "cap": None,
            "source": "党委办公室、政府办公室、监察局、纠风办、信访局",
            "items": [
                {
                    "name": (
                        "领导信箱、微博转办件、行政效能监察办公室交办的投诉件、“行风热线”"
                        "群众投诉问题转办件无正当理由逾期未办结"
                    ),
                    "points": 1,
                },
                {"name": "因办理不认真被退回重办", "points": 2},
                {"name": "经核实,办理结果与事实不符,造成不良影响", "points": 5},
                {"name": "信访局交办、转办的信访件和越级上访案件,未按时限和要求办理", "points": 1},
                {"name": "敷衍塞责,处理不认真不到位", "points": 2},
                # "未完成信访积案化解目标任务的,每少5个百分点扣2分": 次数 counts the steps of
                # 5 percentage points.
                {"name": "未完成信访积案化解目标任务的,每少5个百分点", "points": 2},
            ],
        },
        {
            # (四)对机关作风纪律执行情况的考核
            "name": "机关作风纪律执行",
            "kind": "items",
            "cap": None,
            "source": "党委办公室、人大工委办公室、政府办公室、政协工委办公室、监察局",
            "items": [
                # "未经同意无故缺席***、人大、***、政协重要会议及重要活动的,每次扣2分"
                {"name": "未经同意无故缺席党委、人大、政府、政协重要会议及重要活动", "points": 2},
                {"name": "参会迟到、早退", "points": 1},
                {"name": "不能按时按要求上报参会有关情况", "points": 2},
                {
                    "name": "因机关作风效能问题,被“机关作风效能建设年”活动领导小组或地区相关检查暗访通报",
                    "points": 10,
                },
                {
                    "name": (
                        "各级机关工作人员工作日午餐饮酒(公共接待除外)、上班时间在茶社、棋牌室、"
                        "洗浴场所、歌舞厅等场所休闲娱乐"
                    ),
                    "points": 5,
                },
                # "下属单位人员,每人次扣主管单位3分": the same conduct by staff of a
                # subordinate unit, deducted from the supervising unit (the one entered).
                {"name": "下属单位人员工作日午餐饮酒、上班时间休闲娱乐(扣主管单位)", "points": 3},
                {
                    "name": (
                        "各级机关工作人员上班时间网上聊天、玩电脑游戏、看影视节目(专业审读部门或"
                        "有专门规定的除外)、炒股或从事其他与工作无关的事"
                    ),
                    "points": 2,
                },
                {"name": "机关工作人员不遵守仪表着装规定", "points": 1},
                {"name": "不遵守上下班制度,迟到、早退或外出逛街、非因公购物", "points": 1},
            ],
        },
        {
            # (五)对行政不作为、乱作为情况的考核
            "name": "行政不作为、乱作为",
            "kind": "items",
            "cap": None,
            # "由纪委监察局、政法委、公安局及***联合调查组牵头……提供"
            "source": "纪委监察局、政法委、公安局及联合调查组",
            "items": [
                {
                    "name": (
                        "违反党纪、国家法律法规及有关规定,出现行政不作为、乱作为及损害群众利益"
                        "问题,被执法执纪部门处理"
                    ),
                    "min": 10,
                    "max": 20,
                },
                {
                    "name": "因不履行职责或不正确履行职责,造成公共事件、出现公共危机或发生群体性事件",
                    "min": 10,
                    "max": 20,
                },
                {"name": "办事效率低、服务态度差的部门,经调查属实", "points": 5},
                {"name": "因参与黄赌毒或酒后驾车等造成不良影响", "points": 10},
            ],
        },
        # (六)对民主评议情况的考核: three sections, one per evaluation the document names,
        # since each is run by a different office and is its own campaign.
        {
            # (六)1 "对***各部门……的工作作风、服务质量和办事效率等情况进行定期或不定期民主
            # 评议,根据测评结果,满意率达90%以上不扣分,满意率每降低一个百分点扣1分。"
            # The 满意率 is the satisfaction measure. "定期或不定期" allows several rounds a
            # year; a section reads one campaign, so an office holding several rounds binds
            # the one that decides (or adds a section per round).
            "name": "民主评议",
            "kind": "survey",
            "measure": "satisfaction",
            "threshold": 90,
            "per_point": 1,
            "cap": None,
            "campaign": None,
            "source": _ZF_OFFICE,
        },
        {
            # (六)1, the same sentence for the departments' "内设重点科室": each key section
            # below 90% deducts from its department (spec §2 rollup).
            "name": "重点科室评议",
            "kind": "rollup",
            "measure": "satisfaction",
            "threshold": 90,
            "per_point": 1,
            "cap": None,
            "campaign": None,
            "source": _ZF_OFFICE,
        },
        {
            # (六)2 "对***行政服务中心各办事窗口的工作作风、服务质量和办事效率等情况进行民主
            # 评议,根据测评结果,满意率达90%以上不扣分,满意率每降低一个百分点扣1分。"
            # A window deducts from the department it belongs to (its 上级单位).
            "name": "办事窗口评议",
            "kind": "rollup",
            "measure": "satisfaction",
            "threshold": 90,
            "per_point": 1,
            "cap": None,
            "campaign": None,
            "source": _ZF_CENTRE,
        },
    ],
}

# ---------------------------------------------------------------------------
# 002: 民主评议政风行风 实施意见 (shared/seeds/002_*.txt, printed in traditional
# characters; names here in simplified ones).
# 四、(三)2: "各級政府糾風辦以問卷測評群眾滿意度、評議代表測評、政風行風熱線綜合考核、
# 重點科(室、隊)和重點崗位評議、基層站所和窗口單位評議、主題實踐活動成效以及組織領導、
# 材料報送等方面的情況進行綜合考核,確定各參評單位綜合成績。"
# The document gives no weights: the max_points below are placeholders adding to 100
# that the office must confirm (the description says so).
# Every component is assessed by the 政府纠风办 ("各級政府糾風辦……進行綜合考核"); where
# the document says more about who supplies a component, the source says it.
# ---------------------------------------------------------------------------

_JFB = "市政府纠风办"

ZHENGFENG_ZONGHE: dict[str, Any] = {
    "name": "政风行风评议综合考核",
    "year": None,
    "mode": "weighted",
    # Weighted mode adds up the sections' points (spec §1); base is not used. 100 is also
    # the most a unit can get, the sections' max_points adding up to exactly 100.
    "base": 100,
    "series": "政风行风综合考核",
    "description": (
        "按民主评议政风行风实施意见,以问卷测评群众满意度、评议代表测评、政风行风热线综合"
        "考核、重点科(室、队)和重点岗位评议、基层站所和窗口单位评议、主题实践活动成效、"
        "组织领导和材料报送七个方面综合考核,各项满分为待评议办公室确认的暂定分值(合计100分),"
        "按综合成绩评定优、良、中、差四个等级。"
    ),
    # 五: "政府部門及其它機構綜合考核成績前20名,公共服務行業前10名" among the units
    # "綜合考核評為優秀等級的" (spec §3: honoured_grade 优). The categories are those of
    # 二、(一): "1.政府部門及其它機構(53個)" and "2.公共服務行業(27個)".
    "categories": [
        {"name": "政府部门及其它机构", "honoured": 20, "honoured_grade": "优"},
        {"name": "公共服务行业", "honoured": 10, "honoured_grade": "优"},
    ],
    # 五: "評議結果分優、良、中、差四個等級" with no score lines: 90/80/60/0 as spec §3.
    "bands": [
        {
            "label": "优",
            "min": 90,
            # "對于群眾滿意度高、綜合考核評為優秀等級的部門和行業(按照參評單位數量比例……)
            # 作為年度“政風行風建設先進單位”予以表彰"
            "consequence": (
                "按类别名额(政府部门及其它机构前20名,公共服务行业前10名)作为年度"
                "“政风行风建设先进单位”予以表彰"
            ),
            "rectify": False,
        },
        {"label": "良", "min": 80, "consequence": "", "rectify": False},
        {"label": "中", "min": 60, "consequence": "", "rectify": False},
        {
            "label": "差",
            "min": 0,
            # "對于群眾滿意度低、綜合考核評為“差”等級的部門和行業給予通報批評,對其領導班子
            # 誡勉談話". 五 names no 整改 for 差; 二、(二)1 makes "上年度政風行風綜合考核一般
            # 檔次的單位" next year's key units and "督促單位整改落實". Our choice: 差
            # requires rectification; 中 (possibly the 一般檔次) does not, the office may
            # tick it.
            "consequence": "给予通报批评,对其领导班子诫勉谈话,督促整改落实",
            "rectify": True,
        },
    ],
    "rules": [
        # "連續兩次被評為“差”等級者建議組織部門對其領導班子進行調整". 两次 are two
        # consecutive assessments of the series (四: "試行兩年為一個評議周期"), which is
        # what `years` counts (spec §4: the previous assessment, found per unit).
        {"grade": "差", "years": 2, "flag": "accountability"},
    ],
    "sections": [
        {
            # 四、(二)4: "全市統一組織實施1萬份問卷測評活動……測評問卷設“滿意”、“基本滿意”、
            # “不滿意”、“不了解”4個評價等次……由市政府糾風辦上報省政府糾風辦集中統計匯總"
            # Points = max_points × satisfaction rate (spec §2). threshold, per_point and
            # cap are the shape of §9 and unused in weighted mode.
            "name": "问卷测评群众满意度",
            "kind": "survey",
            "measure": "satisfaction",
            "threshold": 90,
            "per_point": 1,
            "cap": None,
            "campaign": None,
            "max_points": 40,
            "source": _JFB,
        },
        {
            # 四、(二)2(2): "各級政府糾風辦組織評議代表、群眾代表、人大代表、政協委員組成
            # 專門評議小組,深入參評單位開展評議。"
            "name": "评议代表测评",
            "kind": "score",
            "max_points": 20,
            "source": _JFB,
        },
        {
            # The document names the hotline ("參加政風行風熱線情況") but not who scores it.
            "name": "政风行风热线综合考核",
            "kind": "score",
            "max_points": 10,
            "source": _JFB,
        },
        {
            # 二、(二)2: "重點科(室、隊)和重點崗位的評議情況,計入所在單位的綜合考核成績。"
            # ("參評名單及評議辦法另行公布")
            "name": "重点科(室、队)和重点岗位评议",
            "kind": "rollup",
            "measure": "satisfaction",
            "threshold": 90,
            "per_point": 1,
            "cap": None,
            "campaign": None,
            "max_points": 10,
            "source": _JFB,
        },
        {
            # 二、(二)3: "……評議情況,計入綜合考核成績。" (the seed's copy is garbled just
            # before: "貼近群眾;鶎诱舅脑u議情況", evidently "基層站所的評議情況")
            "name": "基层站所和窗口单位评议",
            "kind": "rollup",
            "measure": "satisfaction",
            "threshold": 90,
            "per_point": 1,
            "cap": None,
            "campaign": None,
            "max_points": 10,
            "source": _JFB,
        },
        {
            # 四、(二)3(3): "各級政府糾風辦要強化日常督導……了解各參評單位的整改效果和主題
            # 實踐活動成效,形成督導報告。"
            "name": "主题实践活动成效",
            "kind": "score",
            "max_points": 5,
            "source": _JFB,
        },
        {
            # "組織領導、材料報送": 四、(三)1 "向市政府糾風辦報送……評議工作材料合訂本"
            "name": "组织领导和材料报送",
            "kind": "score",
            "max_points": 5,
            "source": _JFB,
        },
    ],
}

PRESETS: dict[str, dict[str, Any]] = {
    "zuofeng": ZUOFENG,
    "zhengfeng_zonghe": ZHENGFENG_ZONGHE,
}


def preset_config(key: str, year: int | None = None) -> dict[str, Any]:
    """A deep copy of preset `key` with its year set; the presets themselves stay intact."""
    try:
        preset = PRESETS[key]
    except KeyError:
        raise KeyError(f"unknown assessment preset {key!r}; known: {', '.join(PRESETS)}") from None
    config = copy.deepcopy(preset)
    config["year"] = year
    return config
