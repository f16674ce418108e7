from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campaigns.models import Campaign
from campaigns.subjects import subject_noun
from scoring import engine
from scoring.tally import tally_campaign, tally_json

FLAG_NAMES = {
    engine.FLAG_WINNER: "优胜",
    engine.FLAG_LAST_PLACE: "末位",
    engine.FLAG_KEY_RECTIFICATION: "重点整改",
    engine.FLAG_VETOED: "一票否决",
    engine.FLAG_CONSECUTIVE_LAST_PLACE: "连续两年末位",
    engine.FLAG_NO_VOTES: "无有效票",
    engine.FLAG_HONOURED: "先进",
}


def flag_name(flag: str) -> str:
    """key_rectification:<dimension> reads 重点整改(<dimension>)."""
    if flag.startswith(engine.FLAG_KEY_RECTIFICATION_ON):
        return f"重点整改({flag.removeprefix(engine.FLAG_KEY_RECTIFICATION_ON)})"
    return FLAG_NAMES.get(flag, flag)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(width - _width(text), 0)
    return gap + text if right else text + gap


class Command(BaseCommand):
    help = "Print the tally of a campaign: spec section 9 JSON, or a Chinese table per category."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["json", "table"], default="table")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=opts["slug"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"没有标识为 {opts['slug']} 的评议活动") from exc
        try:
            tallied = tally_campaign(campaign)
        except ValueError as exc:  # the engine refuses inconsistent configuration
            raise CommandError(f"无法统计:{exc}") from exc
        if opts["format"] == "json":
            self.stdout.write(
                json.dumps(tally_json(campaign, tallied), ensure_ascii=False, indent=2)
            )
            return
        self._table(campaign, tallied)

    def _table(self, campaign: Campaign, tallied: Any) -> None:
        b = tallied.ballots
        reasons = {"blank_ballot": "空白票", "duplicate_serial": "编号重复", "manual": "人工认定"}
        why = ",".join(f"{reasons.get(r, r)} {n}" for r, n in b.invalid_reasons.items())
        w = self.stdout.write
        w(f"{campaign.name}({campaign.year})")
        w(f"选票 {b.total} 张:有效 {b.valid},无效 {b.invalid}" + (f"({why})" if why else ""))
        labels = [o.label for o in tallied.input.options]
        score_name = "得分" if campaign.aggregation == "sum" else "平均分"
        for cat in tallied.result.categories:
            w("")
            w(
                f"【{cat.category.name}】优胜名额 {cat.category.winners},末位名额 {cat.category.last_place}"
            )
            head = ["名次", subject_noun(u.unit.kind for u in cat.units), score_name, "满意率", *labels, "未填", "多选", "认定", "等次"]
            rows = []
            for u in cat.units:
                rows.append(
                    [
                        "—" if u.rank is None else str(u.rank),
                        u.unit.name,
                        "—" if u.score is None else f"{float(u.score):.2f}",
                        "—" if u.satisfaction_rate is None else f"{float(u.satisfaction_rate):.2%}",
                        *[str(n) for _label, n in u.counts],
                        str(u.blank),
                        str(u.spoiled),
                        "、".join(flag_name(f) for f in u.flags),
                        u.grade or "",
                    ]
                )
            widths = [max(_width(r[i]) for r in [head, *rows]) for i in range(len(head))]
            numeric = {0, *range(2, len(head) - 2)}
            for r in [head, *rows]:
                w("  ".join(_pad(c, widths[i], i in numeric) for i, c in enumerate(r)).rstrip())
            for note in cat.notes:
                w(f"注:{note}")
