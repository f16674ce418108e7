"""The cleanup's own phases, dates and review rounds, from document 003 (三、实施步骤和方法):
动员部署 (2月), 自查自纠 (登记表报联席会议办公室 by 2月28日), 审核上报 (办公室甄别审核 by 3月6日,
联席会议第二次全体会议 in March, 上级反馈 and the third plenary by the end of March), 建章立制
(4–6月: 通报 and 公示 in May, the city's own rules by the end of June). Dates are the year's.
The names are data, kept in Chinese as written in 003 (like campaigns/presets.py)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from registry.models import Round


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    description: str
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]  # day 0: the month's last day


@dataclass(frozen=True)
class RoundSpec:
    name: str
    kind: str
    date: tuple[int, int]


@dataclass(frozen=True)
class CleanupPreset:
    key: str
    title: str
    source: str
    self_check_deadline: tuple[int, int]
    screening_deadline: tuple[int, int]
    phases: tuple[PhaseSpec, ...]
    rounds: tuple[RoundSpec, ...]


def on(year: int, md: tuple[int, int]) -> dt.date:
    month, day = md
    return dt.date(year, month, day or calendar.monthrange(year, month)[1])


PRESETS: dict[str, CleanupPreset] = {
    "pingbi": CleanupPreset(
        key="pingbi",
        title="清理规范评比达标表彰活动",
        source="003 党群系统评比达标表彰活动工作方案",
        self_check_deadline=(2, 28),
        screening_deadline=(3, 6),
        phases=(
            PhaseSpec("动员部署", "召开联席会议第一次全体会议,制定并下发清理工作方案,召开部署会议,建立工作网络",
                (2, 1), (2, 15)),
            PhaseSpec("自查自纠", "各单位自查本部门举办的评比达标表彰项目,提出保留、合并或撤销意见,"
                "填写自查统计表和自查登记表,2月28日前报联席会议办公室",
                (2, 1), (2, 28)),
            PhaseSpec("审核上报", "3月6日前联席会议办公室逐项甄别审核,提出初步审核意见;3月召开联席会议第二次"
                "全体会议;3月底按上级反馈召开第三次全体会议,调整保留项目",
                (3, 1), (3, 0)),
            PhaseSpec("建章立制", "5月向各地区各部门通报审核结果,对保留项目进行公示;6月底前提出贯彻意见",
                (4, 1), (6, 0)),
        ),
        rounds=(
            RoundSpec("联席会议办公室甄别审核", Round.Kind.SCREENING, (3, 6)),
            RoundSpec("联席会议第二次全体会议", Round.Kind.PLENARY, (3, 20)),
            RoundSpec("上级联席会议办公室反馈", Round.Kind.HIGHER, (3, 27)),
            RoundSpec("联席会议第三次全体会议", Round.Kind.PLENARY, (3, 0)),
        ),
    ),
}
