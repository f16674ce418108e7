"""Importing keyed paper ballots from .xlsx (spec section 10), and undoing an import.

The file is read once, streaming (openpyxl read-only), into a compact form: one byte per cell.
Only when every row is good is anything written, in one transaction, with COPY on PostgreSQL
and executemany on SQLite: one row per ballot, its answers in one array (ballots/answers.py). The reading of each ballot follows `ballots.services.read_answers`
(spec section 2); `tests/test_import_ballots.py` checks the two agree.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ballots import sql
from ballots.answers import Storage
from ballots.models import Ballot, Comment, ImportBatch
from ballots.reading import UNMARKED, Scheme, mark_of, read_ballot
from ballots.services import WRITABLE
from ballots.validity import invalid_reasons, refresh_serial_validity
from campaigns.models import Campaign, RepresentativeGroup
from core.audit import audit
from core.spreadsheets import (
    CellError,
    SpreadsheetError,
    cell_text,
    file_sha256,
    read_first_sheet,
)

Progress = Callable[[int, int, str], None]

SERIAL, CHANNEL, GROUP = "编号", "渠道", "代表类别"
# Several labels in one cell (a spoiled answer) are separated by commas or spaces.
SEPARATORS = re.compile(r"[,\uff0c\u3001;\uff1b\s]+")  # , ， 、 ; ； and any space
MAX_ERRORS = 200
# One file's ballots: the largest campaigns key 10,000-20,000; a sheet claiming more rows is
# refused before they are read (core/xlsx_stream.py bounds the work).
MAX_BALLOT_ROWS = 100_000


@dataclass
class ParsedFile:
    """A checked file, ready to write: one `bytes` of cell codes per ballot."""

    filename: str
    sha256: str  # of the cell values (the content), which identifies an imported file
    file_sha256: str  # of the bytes, to refuse the very same file before reading it
    sheet: str
    cells: list[tuple[int, int | None]]  # (unit id, dimension id) per ballot column
    option_ids: list[int]  # code k (1-based) -> option id
    serials: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    codes: list[bytes] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.serials)


def _columns(
    campaign: Campaign, header: tuple[Any, ...], sheet: str
) -> tuple[dict[str, int], list[tuple[int, tuple[int, int | None]]]]:
    """Map the header row: fixed columns by name, ballot columns to (unit, dimension)."""
    units = {u.name: u.id for u in campaign.units.all()}
    dims = {d.name: d.id for d in campaign.dimensions.all()}
    fixed: dict[str, int] = {}
    ballot_cols: list[tuple[int, tuple[int, int | None]]] = []
    seen: dict[tuple[int, int | None], int] = {}
    errors: list[CellError] = []
    for col, raw in enumerate(header, start=1):
        name = cell_text(raw)
        if not name:
            continue
        if name in (SERIAL, CHANNEL, GROUP):
            if name in fixed:
                errors.append(CellError(sheet, 1, col, _("列名“%(n)s”重复") % {"n": name}))
            fixed[name] = col
            continue
        unit_name, bar, dim_name = name.partition("|")
        unit_name, dim_name = unit_name.strip(), dim_name.strip()
        if unit_name not in units:
            errors.append(
                CellError(sheet, 1, col, _("“%(n)s”不是本次评议的被评单位") % {"n": unit_name})
            )
            continue
        if dims and not bar:
            errors.append(
                CellError(sheet, 1, col, _("本次评议分评议内容,列名应写成“单位|评议内容”"))
            )
            continue
        if not dims and bar:
            errors.append(CellError(sheet, 1, col, _("本次评议不分评议内容,列名只写单位")))
            continue
        if bar and dim_name not in dims:
            errors.append(
                CellError(sheet, 1, col, _("“%(n)s”不是本次评议的评议内容") % {"n": dim_name})
            )
            continue
        cell = (units[unit_name], dims[dim_name] if bar else None)
        if cell in seen:
            errors.append(CellError(sheet, 1, col, _("列“%(n)s”重复") % {"n": name}))
            continue
        seen[cell] = col
        ballot_cols.append((col, cell))
    if SERIAL not in fixed:
        errors.append(CellError(sheet, 1, None, _("缺少列“编号”")))
    expected = {(u, d) for u in units.values() for d in (dims.values() or [None])}
    missing = expected - set(seen)
    if missing and not errors:
        names = {v: k for k, v in units.items()}
        dnames = {v: k for k, v in dims.items()}
        listed = sorted(
            f"{names[u]}|{dnames[d]}" if d is not None else names[u] for u, d in missing
        )
        errors.append(
            CellError(
                sheet,
                1,
                None,
                _("缺少以下单位的列:%(n)s") % {"n": "、".join(listed[:20])}
                + ("……" if len(listed) > 20 else ""),
            )
        )
    if errors:
        raise SpreadsheetError(errors)
    return fixed, ballot_cols


def _decode(raw: Any, code_of: dict[str, int]) -> int | str:
    """One answer cell: its mark (ballots.reading), or the first unknown label (an error)."""
    text = cell_text(raw)
    if not text:
        return UNMARKED
    labels = [t for t in SEPARATORS.split(text) if t]
    unknown = [t for t in labels if t not in code_of]
    if unknown:
        return unknown[0]
    return mark_of(code_of[label] for label in labels)


def ballots_parse(
    campaign: Campaign,
    file: str | Path | IO[bytes],
    filename: str,
    progress: Progress | None = None,
) -> ParsedFile:
    """Read and check the whole file; raise SpreadsheetError listing every problem found."""
    file_sha = file_sha256(file)
    book = read_first_sheet(file, max_rows=MAX_BALLOT_ROWS + 1)  # + the header
    sheet = book.title
    total = max(book.height - 1, 0)
    rows = book.rows
    header = next(rows, None)
    if header is None:
        raise SpreadsheetError([CellError(sheet, None, None, _("工作表是空的"))])
    fixed, ballot_cols = _columns(campaign, tuple(header), sheet)
    options = list(campaign.options.order_by("order", "id").values_list("id", "label"))
    code_of = {label: k for k, (_id, label) in enumerate(options, start=1)}
    # Spec section 10: the content (the cell values of the ballot sheet), not the bytes, says
    # whether a file was imported before: a re-saved copy has new bytes and the same cells.
    content = hashlib.sha256(repr(_trimmed(header)).encode())
    parsed = ParsedFile(
        filename=filename,
        sha256="",
        file_sha256=file_sha,
        sheet=sheet,
        cells=[cell for _col, cell in ballot_cols],
        option_ids=[oid for oid, _label in options],
    )
    errors: list[CellError] = []
    serial_col = fixed[SERIAL] - 1
    channel_col = fixed[CHANNEL] - 1 if CHANNEL in fixed else None
    group_col = fixed[GROUP] - 1 if GROUP in fixed else None
    positions = [col - 1 for col, _cell in ballot_cols]
    # A keyed sheet holds a handful of distinct texts: decode each once (texts only, since
    # True == 1 == 1.0 as dict keys but read differently).
    decoded: dict[str, int | str] = {}
    width = len(header)
    for rownum, values in enumerate(rows, start=2):
        if progress and rownum % 1000 == 0:
            progress(rownum - 1, total, _("正在检查第 %(n)d 行") % {"n": rownum})
        if values is None or all(
            v is None or (isinstance(v, str) and not v.strip()) for v in values
        ):
            continue  # an empty row (keyed sheets often end with some)
        content.update(b"\x1e" + repr(_trimmed(values)).encode())
        if len(values) < width:
            values = tuple(values) + (None,) * (width - len(values))
        serial = cell_text(values[serial_col])
        if not serial:
            errors.append(CellError(sheet, rownum, serial_col + 1, _("缺少编号")))
        elif len(serial) > 40:
            errors.append(CellError(sheet, rownum, serial_col + 1, _("编号过长")))
        codes = bytearray(len(positions))
        for i, pos in enumerate(positions):
            raw = values[pos]
            if raw is None:
                continue
            if type(raw) is str:
                code = decoded.get(raw)
                if code is None:
                    code = decoded[raw] = _decode(raw, code_of)
            else:
                code = _decode(raw, code_of)
            if isinstance(code, str):
                errors.append(
                    CellError(
                        sheet,
                        rownum,
                        pos + 1,
                        _("“%(v)s”不是本次评议的评价等次(可填:%(opts)s)")
                        % {"v": code, "opts": "、".join(code_of)},
                    )
                )
                continue
            codes[i] = code
        if len(errors) >= MAX_ERRORS:
            break
        parsed.serials.append(serial)
        parsed.channels.append(
            cell_text(values[channel_col])[:100] if channel_col is not None else ""
        )
        parsed.groups.append(cell_text(values[group_col])[:100] if group_col is not None else "")
        parsed.codes.append(bytes(codes))
    parsed.sha256 = content.hexdigest()
    if errors:
        if len(errors) >= MAX_ERRORS:
            errors.append(CellError(sheet, None, None, _("错误过多,只列出前 %d 个") % MAX_ERRORS))
        raise SpreadsheetError(errors)
    if not parsed.serials:
        raise SpreadsheetError([CellError(sheet, None, None, _("表中没有选票"))])
    return parsed


@dataclass(frozen=True)
class ImportResult:
    batch: ImportBatch
    ballots: int
    valid: int
    invalid: int
    duplicate_serials: list[str]
    blank_ballots: int
    new_groups: list[str]
    warnings: list[str]


def _trimmed(values: Sequence[Any]) -> tuple[Any, ...]:
    """A row without its trailing empty cells (a re-saved file may drop or add them)."""
    end = len(values)
    while end and (values[end - 1] is None or values[end - 1] == ""):
        end -= 1
    return tuple(values[:end])


def already_in_campaign(
    campaign: Campaign, serials: list[str], exclude_batch: ImportBatch | None = None
) -> list[str]:
    """Those of `serials` that a paper ballot of the campaign already has (photocopies to be)."""
    found: set[str] = set()
    ordered = sorted(set(serials))
    paper = Ballot.objects.filter(campaign=campaign, source=Ballot.Source.PAPER)
    if exclude_batch is not None:
        paper = paper.exclude(batch=exclude_batch)
    for start in range(0, len(ordered), 500):  # within SQLite's parameter limit
        chunk = ordered[start : start + 500]
        found |= set(paper.filter(serial__in=chunk).values_list("serial", flat=True))
    return sorted(found)


def _check_not_imported(campaign: Campaign, sha: str) -> None:
    """Refuse a file whose content (or, before reading it, whose bytes) a standing batch has."""
    earlier = (
        ImportBatch.objects.filter(
            campaign=campaign, kind=ImportBatch.Kind.BALLOTS, undone_at__isnull=True
        )
        .filter(Q(sha256=sha) | Q(summary__file_sha256=sha))
        .first()
    )
    if earlier is not None:
        raise SpreadsheetError(
            _("该文件已于 %(at)s 导入(批次“%(name)s”,%(n)d 张选票),不能重复导入")
            % {
                "at": timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M"),
                "name": earlier.filename,
                "n": earlier.rows,
            }
        )


def _uuids(n: int) -> Iterator[uuid.UUID]:
    """n random (version 4) UUIDs from one call to the OS's random source."""
    raw = os.urandom(16 * n)
    for i in range(n):
        b = bytearray(raw[16 * i : 16 * i + 16])
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        yield uuid.UUID(bytes=bytes(b))


def ballots_import(
    *,
    campaign: Campaign,
    file: str | Path | IO[bytes] | None = None,
    filename: str = "",
    user: Any = None,
    parsed: ParsedFile | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Check and import a ballots file as one batch: everything or nothing."""
    if campaign.status not in WRITABLE:
        raise SpreadsheetError(_("评议活动已结束,不能再导入选票"))
    if parsed is None:
        if file is None:
            raise ValueError("file or parsed is required")
        # Refuse a repeated file before spending time on reading it.
        _check_not_imported(campaign, file_sha256(file))
        parsed = ballots_parse(campaign, file, filename or getattr(file, "name", ""), progress)
    try:
        with transaction.atomic():
            # Lock the campaign row: two imports of one campaign run one after the other, so
            # their duplicate-serial checks see each other's ballots.
            campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
            if campaign.status not in WRITABLE:
                raise SpreadsheetError(_("评议活动已结束,不能再导入选票"))
            _check_not_imported(campaign, parsed.sha256)
            return _write(campaign, parsed, user, progress)
    except IntegrityError as exc:
        # The conditional unique constraint on (campaign, kind, sha256): a concurrent import
        # of the same file won the race.
        if "batch_same_content_once" in str(exc) or "sha256" in str(exc):
            _check_not_imported(campaign, parsed.sha256)
        raise


def _write(
    campaign: Campaign, parsed: ParsedFile, user: Any, progress: Progress | None
) -> ImportResult:
    n = len(parsed)
    groups = {g.name: g.id for g in campaign.groups.all()}
    new_groups = sorted({g for g in parsed.groups if g and g not in groups})
    for name in new_groups:
        # A 代表类别 the configuration does not know yet: recorded as a new group so the
        # breakdown by group shows it; the summary says so.
        last = campaign.groups.order_by("-order").values_list("order", flat=True).first() or 0
        groups[name] = RepresentativeGroup.objects.create(
            campaign=campaign, name=name, order=last + 1
        ).id
    warnings = [_("新增代表类别:%(n)s") % {"n": "、".join(new_groups)}] if new_groups else []

    batch = ImportBatch.objects.create(
        campaign=campaign,
        kind=ImportBatch.Kind.BALLOTS,
        filename=parsed.filename[:255],
        sha256=parsed.sha256,
        rows=n,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    scheme = Scheme.build(
        Storage.build(parsed.cells, parsed.option_ids),
        parsed.cells,
        parsed.option_ids,
        campaign.blank_means_id,
    )
    readings = [read_ballot(scheme, marks) for marks in parsed.codes]
    today = timezone.localdate()
    ballot_ids = list(_uuids(n))
    if progress:
        progress(0, n, _("正在写入 %(n)d 张选票") % {"n": n})
    ballot_rows = [
        (
            ballot_ids[i],
            parsed.serials[i],
            parsed.channels[i],
            groups.get(parsed.groups[i]) if parsed.groups[i] else None,
            readings[i].status,
            readings[i].invalid_reason,
            readings[i].is_blank,
            readings[i].answers,
        )
        for i in range(n)
    ]
    # Progress is reported before the writing, never during it: on PostgreSQL the connection
    # is busy streaming COPY, and a progress UPDATE on it would wait for ever.
    sql.write_ballot_rows(campaign.id, batch.id, today, ballot_rows)

    # Repeated serials: within the file, or against ballots already in the campaign.
    in_file = Counter(parsed.serials)
    candidates = [s for s, c in in_file.items() if c > 1]
    existing = already_in_campaign(campaign, [s for s, c in in_file.items() if c == 1],
                                   exclude_batch=batch)
    duplicated = sorted(refresh_serial_validity(campaign, candidates + existing))

    # Read back from the stored ballots, after the repeated serials were judged: a blank
    # photocopy counts as a photocopy (spec section 2's order), as the tally counts it.
    reasons = invalid_reasons(Ballot.objects.filter(batch=batch))
    invalid = sum(reasons.values())
    blank = reasons.get(Ballot.Reason.BLANK_BALLOT, 0)
    summary = {
        "ballots": n,
        "valid": n - invalid,
        "invalid": invalid,
        "invalid_reasons": reasons,
        "blank_ballots": blank,
        "duplicate_serials": duplicated,
        "new_groups": new_groups,
        "sheet": parsed.sheet,
        "file_sha256": parsed.file_sha256,
    }
    batch.summary = summary
    batch.save(update_fields=["summary"])
    audit(
        user=user,
        action="ballots_import",
        obj=batch,
        campaign=campaign,
        after={k: v for k, v in summary.items() if k != "duplicate_serials"}
        | {"duplicate_serials": duplicated[:100], "sha256": parsed.sha256},
    )
    if progress:
        progress(n, n, _("导入完成"))
    return ImportResult(
        batch=batch,
        ballots=n,
        valid=n - invalid,
        invalid=invalid,
        duplicate_serials=duplicated,
        blank_ballots=blank,
        new_groups=new_groups,
        warnings=warnings,
    )


def batch_undo(*, batch: ImportBatch, user: Any, reason: str = "") -> int:
    """Remove every ballot of a batch; serials it shared may become unique again."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=batch.campaign_id)
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.undone_at is not None:
            raise SpreadsheetError(_("该批次已撤销"))
        if campaign.status not in WRITABLE:
            raise SpreadsheetError(_("评议活动已结束,不能撤销导入"))
        ballots = Ballot.objects.filter(batch=batch)
        serials = list(ballots.values_list("serial", flat=True).distinct())
        count = ballots.count()
        # Raw delete: Django's collector would load every comment; nothing points at them.
        Comment.objects.filter(ballot__batch=batch)._raw_delete(Comment.objects.db)
        ballots.delete()
        batch.undone_at = timezone.now()
        batch.undone_by = user if getattr(user, "is_authenticated", False) else None
        batch.save(update_fields=["undone_at", "undone_by"])
        refresh_serial_validity(campaign, serials)
        audit(
            user=user,
            action="ballots_import_undo",
            obj=batch,
            campaign=campaign,
            before={"ballots": count, "filename": batch.filename},
            reason=reason,
        )
    return count


def run_import_job(job: Any, progress: Progress) -> None:
    """Background handler (core/jobs.py): apply the staged upload `params["upload"]`
    (core/uploads.py) for the user who confirmed it; its file is deleted once applied."""
    from core.uploads import upload_apply, upload_get

    params, user = job.params, job.created_by
    campaign = Campaign.objects.get(pk=job.campaign_id)
    try:
        upload = upload_get(
            upload_id=params["upload"], user=user, kind=ImportBatch.Kind.BALLOTS, campaign=campaign
        )
        # Read before upload_apply's transaction opens: reading a big sheet takes seconds, and
        # on SQLite an open write transaction holds every other writer (online ballots) back.
        parsed = ballots_parse(campaign, upload.path, upload.filename, progress)
        result = upload_apply(upload=upload, apply=lambda _path: ballots_import(
            campaign=campaign, parsed=parsed, user=user, progress=progress
        ))
    except SpreadsheetError as exc:
        # A refused file is an outcome, not a crash: the job page lists the errors.
        job.params = {**params, "errors": [str(e) for e in exc.errors]}
        job.save(update_fields=["params"])
        raise
    job.params = {
        **params,
        "batch_id": result.batch.pk,
        "summary": result.batch.summary,
        "warnings": result.warnings,
    }
    job.message = _("已导入 %(n)d 张选票(有效 %(v)d,无效 %(i)d)") % {
        "n": result.ballots,
        "v": result.valid,
        "i": result.invalid,
    }
    job.save(update_fields=["params", "message"])
