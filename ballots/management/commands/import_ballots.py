from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ballots.intake.imports import ballots_import, ballots_parse, batch_undo
from ballots.models import ImportBatch
from campaigns.models import Campaign
from core.spreadsheets import SpreadsheetError


class Command(BaseCommand):
    help = (
        "Import keyed paper ballots from .xlsx (spec section 10): all or nothing. "
        "--list shows the batches, --undo ID removes one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("file", type=Path, nargs="?")
        parser.add_argument("--dry-run", action="store_true", help="check the file only")
        parser.add_argument("--list", action="store_true", help="list the import batches")
        parser.add_argument("--undo", type=int, metavar="BATCH", help="undo one batch")
        parser.add_argument("--reason", default="", help="why the batch is undone")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            campaign = Campaign.objects.get(slug=opts["slug"])
        except Campaign.DoesNotExist as exc:
            raise CommandError(f"没有标识为 {opts['slug']} 的评议活动") from exc
        if opts["list"]:
            return self._list(campaign)
        if opts["undo"] is not None:
            batch = ImportBatch.objects.filter(
                campaign=campaign, kind=ImportBatch.Kind.BALLOTS, pk=opts["undo"]
            ).first()
            if batch is None:
                raise CommandError(f"没有编号为 {opts['undo']} 的选票导入批次")
            try:
                n = batch_undo(batch=batch, user=None, reason=opts["reason"])
            except SpreadsheetError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"已撤销批次 {batch.pk}({batch.filename}):删除 {n} 张选票")
            return None
        path: Path | None = opts["file"]
        if path is None or not path.is_file():
            raise CommandError(f"找不到文件 {path}")
        started = time.perf_counter()
        try:
            if opts["dry_run"]:
                parsed = ballots_parse(campaign, path, path.name)
                self.stdout.write(f"检查通过:{len(parsed)} 张选票,{len(parsed.cells)} 列")
                return None
            result = ballots_import(campaign=campaign, file=path, filename=path.name)
        except SpreadsheetError as exc:
            raise CommandError("导入失败,未导入任何数据:\n" + str(exc)) from exc
        for warning in result.warnings:
            self.stderr.write(f"警告:{warning}")
        if result.duplicate_serials:
            shown = "、".join(result.duplicate_serials[:50])
            more = "……" if len(result.duplicate_serials) > 50 else ""
            self.stderr.write(
                f"编号重复(视为复印,均作无效):{len(result.duplicate_serials)} 个编号:{shown}{more}"
            )
        self.stdout.write(
            f"批次 {result.batch.pk}:导入 {result.ballots} 张选票,有效 {result.valid},"
            f"无效 {result.invalid}(空白票 {result.blank_ballots}),"
            f"用时 {time.perf_counter() - started:.1f} 秒"
        )
        return None

    def _list(self, campaign: Campaign) -> None:
        out = sys.stdout if self.stdout is None else self.stdout
        batches = ImportBatch.objects.filter(campaign=campaign, kind=ImportBatch.Kind.BALLOTS)
        for b in batches.order_by("created_at"):
            state = f"已撤销 {b.undone_at:%Y-%m-%d %H:%M}" if b.undone_at else "有效"
            out.write(
                f"{b.pk}\t{b.created_at:%Y-%m-%d %H:%M}\t{b.filename}\t{b.rows} 张\t{state}\n"
            )
