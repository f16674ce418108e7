"""The 66 units of 000 (市“千人评议机关”活动实施方案), in its three categories, as named there."""

LOCAL = (
    "市委办公室 组织部 宣传部 统战部 政法委 农办 台办 信访局 总工会 团市委 妇联 科协 工商联 "
    "市政府办公室 发改局 经贸局 教育局 科技局 监察局 公安局 民政局 司法局 财政局 人事局 "
    "劳动社保局 建设局 交通局 水利农机局 农林局 外经局 文化局 卫生局 人口和计生局 审计局 环保局 "
    "旅游局 统计局 粮食局 物价局 广电局 人防办 法制办 行政服务中心 城管执法局 安监局"
).split()
VERTICAL = (
    "国土资源局 工商局 国税局 地税局 质监局 食品药品监管局 烟草局 供电局(公司) 电信局(公司) "
    "邮政局 国检局 海关宜办"
).split()
FINANCE = "人行 中行 工行 农行 建行 交行 农发行 信用联社 商业银行".split()

UNITS_000: dict[str, list[str]] = {
    "地方管理部门类": LOCAL,
    "垂直管理部门类": VERTICAL,
    "金融部门类": FINANCE,
}

CHANNELS = ("社会随机评", "下级单位评", "群众监督员评", "日报读者评", "单位相互评")
DISTRICTS = ("城区片", "环科园片", "开发区片", "东部片", "西部片", "南部片")
COMMENTS = (
    "办事效率有提高,希望继续保持。",
    "窗口服务态度还需改进,个别工作人员态度生硬。",
    "审批环节仍然偏多,建议进一步简化办事程序。",
    "对企业的困难能主动上门服务,值得肯定。",
    "政策宣传不够到位,群众知晓率不高。",
    "执法还存在随意性,希望做到公正文明执法。",
    "网上办事系统经常出故障,请尽快完善。",
    "=HYPERLINK(\"http://example.invalid\",\"点击\")",  # a formula-looking comment, on purpose
)
assert len(LOCAL) == 45 and len(VERTICAL) == 12 and len(FINANCE) == 9

# The 两评一树 demo of document 001: one leadership team and its leaders, with their posts (职务).
TEAM_001 = "市交通运输局领导班子"
LEADERS_001 = (
    ("张建华", "党组书记、局长"),
    ("李卫东", "党组成员、副局长"),
    ("王丽萍", "党组成员、副局长"),
    ("陈志刚", "驻局纪检监察组组长"),
    ("刘海燕", "总工程师"),
)
# Representatives per group (001): 内部评议 by all staff; 社会评议 by 党代表、人大代表、政协委员
# and 服务对象代表, the latter at least half of the 社会评议 raters (6 of 12).
RATERS_001 = {"全体干部职工": 14, "党代表": 2, "人大代表": 2, "政协委员": 2, "服务对象代表": 6}
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超")

# The 作风效能考评 demo of document 004: how each source office numbers its reports (依据), per
# section of the zuofeng preset; {n} is the report's number in the year.
BASIS_004 = {
    "督办落实": "督查通报〔2026〕{n}号",
    "审批事项进驻行政服务中心": "行政服务中心通报〔2026〕{n}号",
    "转办件、投诉件和信访件办理": "信访督办通报〔2026〕{n}号",
    "机关作风纪律执行": "作风效能暗访通报〔2026〕{n}号",
    "行政不作为、乱作为": "纪检监察通报〔2026〕{n}号",
}
REJECT_REASON_004 = "经核实,该事项已在规定时限内办结并有书面反馈,扣分依据不成立。"
