"""Spreadsheets into an assessment, all or nothing: its units (the units sheet of the
campaigns, scoring.md section 10) and its entries (assessment.md section 7: sheets 扣分 and
得分, refused with every bad row listed; the same file twice is refused; imported entries are
approved by the importing staff member)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.config import plain
from assessments.models import Assessment, AssessmentUnit, Entry, EntryImport, Section
from campaigns.subjects import (
    SUBJECT_COLUMNS,
    check_parents,
    read_kind,
    registry_create,
    registry_resolve,
)
from core.audit import audit
from core.spreadsheets import (
    CellError,
    SpreadsheetError,
    cell_text,
    file_sha256,
    header_index,
    iter_rows,
    open_workbook,
)

MAX_ROWS = 20_000




def _cell(values: tuple[Any, ...], index: dict[str, int], name: str) -> Any:
    i = index.get(name)
    return values[i - 1] if i is not None and i - 1 < len(values) else None


# --- units ------------------------------------------------------------------------------


@dataclass
class UnitRow:
    row: int
    category: str
    name: str
    kind: str
    parent: str
    post: str = ""


def units_import(*, assessment: Assessment, file: str | Path | IO[bytes],
                 user: Any = None) -> dict[str, int]:
    """The units of the first sheet (类别 | 单位, the campaigns' optional columns accepted),
    each found in the registry by name under its parent or registered; a category must be
    one of the assessment's. Returns {"created": n, "updated": n}."""
    if assessment.finalised_at is not None:
        raise SpreadsheetError(_("考核已定稿,不能再导入"))
    wb = open_workbook(file, max_rows=MAX_ROWS)
    errors: list[CellError] = []
    rows: list[UnitRow] = []
    categories = {c.name: c for c in assessment.categories.all()}
    try:
        ws = wb.worksheets[0]
        sheet = ws.title
        it = iter_rows(ws)
        first = next(it, None)
        if first is None:
            raise SpreadsheetError([CellError(sheet, None, None, _("工作表是空的"))])
        idx = header_index(first[1], sheet, ("类别", "单位"), ("垂直管理", "一票否决", *SUBJECT_COLUMNS))
        seen: dict[str, int] = {}
        for rownum, values in it:
            category = cell_text(_cell(values, idx, "类别"))
            name = cell_text(_cell(values, idx, "单位"))
            if not category and not name:
                continue
            if category not in categories:
                errors.append(CellError(sheet, rownum, idx["类别"],
                                        _("类别“%(c)s”不在本考核的类别中") % {"c": category}))
            if not name:
                errors.append(CellError(sheet, rownum, idx["单位"], _("单位名称为空")))
            elif name in seen:
                errors.append(CellError(sheet, rownum, idx["单位"],
                                        _("单位“%(n)s”重复(已在第%(r)d行)")
                                        % {"n": name, "r": seen[name]}))
            else:
                seen[name] = rownum
            kind = read_kind(_cell(values, idx, "类型"), sheet=sheet, row=rownum,
                             col=idx.get("类型"), errors=errors)
            rows.append(UnitRow(rownum, category, name, kind,
                                cell_text(_cell(values, idx, "上级单位")),
                                cell_text(_cell(values, idx, "职务"))))
        errors += check_parents(rows, sheet=sheet, col=idx.get("上级单位"))
    finally:
        wb.close()
    if errors:
        raise SpreadsheetError(errors)
    if not rows:
        raise SpreadsheetError(_("没有任何单位"))
    with transaction.atomic():
        registry = registry_create(rows, registry_resolve(rows))
        existing = {u.unit_id: u for u in assessment.units.all()}
        order = (assessment.units.aggregate(m=Max("order"))["m"] or 0) + 1
        counts = {"created": 0, "updated": 0}
        for i, r in enumerate(rows):
            unit = registry[r.name]
            au = existing.get(unit.pk)
            if au is None:
                AssessmentUnit.objects.create(assessment=assessment, unit=unit, name=r.name,
                                              category=categories[r.category], order=order + i)
                counts["created"] += 1
            elif (au.name, au.category_id) != (r.name, categories[r.category].pk):
                au.name, au.category = r.name, categories[r.category]
                au.save(update_fields=["name", "category"])
                counts["updated"] += 1
        audit(user=user, action="assessment.units_import", obj=assessment, after=counts)
    return counts


# --- entries ----------------------------------------------------------------------------

DEDUCTIONS = ("单位", "考核项目", "扣分事项", "次数", "分值", "提供单位", "依据", "日期")
SCORES = ("单位", "考核项目", "得分", "提供单位", "依据")


def _decimal(raw: Any) -> Decimal | None:
    text = cell_text(raw)
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


def _date(raw: Any) -> dt.date | None | str:
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(cell_text(raw))
    except ValueError:
        return "bad"


def entries_parse(assessment: Assessment, file: str | Path | IO[bytes]) -> list[Entry]:
    """The file's entries, unsaved; SpreadsheetError listing every bad row."""
    units = {u.name: u for u in assessment.units.all()}
    sections = {s.name: s for s in assessment.sections.prefetch_related("items")}
    wb = open_workbook(file, max_rows=MAX_ROWS)
    errors: list[CellError] = []
    out: list[Entry] = []
    try:
        names = wb.sheetnames
        if "扣分" not in names and "得分" not in names:
            raise SpreadsheetError(_("文件中没有名为“扣分”或“得分”的工作表"))
        for sheet, required, optional in (("扣分", ("单位", "考核项目", "扣分事项", "次数",
                                                   "提供单位", "依据"), ("分值", "日期")),
                                          ("得分", SCORES, ())):
            if sheet not in names:
                continue
            it = iter_rows(wb[sheet])
            first = next(it, None)
            if first is None:
                continue
            idx = header_index(first[1], sheet, required, optional)
            for rownum, values in it:
                if not any(cell_text(v) for v in values):
                    continue

                def bad(col: str, message: str, rownum: int = rownum, sheet: str = sheet,
                        idx: dict[str, int] = idx) -> None:
                    errors.append(CellError(sheet, rownum, idx.get(col), message))

                unit = units.get(cell_text(_cell(values, idx, "单位")))
                if unit is None:
                    bad("单位", _("单位“%(u)s”不在本考核中")
                        % {"u": cell_text(_cell(values, idx, "单位"))})
                section = sections.get(cell_text(_cell(values, idx, "考核项目")))
                want = Section.Kind.ITEMS if sheet == "扣分" else Section.Kind.SCORE
                if section is None or section.kind != want:
                    bad("考核项目", _("考核项目“%(s)s”不存在或不是%(k)s项目")
                        % {"s": cell_text(_cell(values, idx, "考核项目")),
                           "k": Section.Kind(want).label})
                    section = None
                source = cell_text(_cell(values, idx, "提供单位"))
                basis = cell_text(_cell(values, idx, "依据"))
                if not source:
                    bad("提供单位", _("提供单位为空"))
                if not basis:
                    bad("依据", _("依据为空"))
                entry = Entry(assessment=assessment, unit=unit, section=section, source=source,
                              basis=basis) if unit and section else None
                if sheet == "扣分":
                    item = None
                    if section is not None:
                        item_name = cell_text(_cell(values, idx, "扣分事项"))
                        item = next((i for i in section.items.all() if i.name == item_name), None)
                        if item is None:
                            bad("扣分事项", _("“%(s)s”没有扣分事项“%(i)s”")
                                % {"s": section.name, "i": item_name})
                    count_text = cell_text(_cell(values, idx, "次数"))
                    count = int(count_text) if count_text.isdigit() else 0
                    if count < 1:
                        bad("次数", _("次数“%(v)s”应为不小于 1 的整数") % {"v": count_text})
                    points = _decimal(_cell(values, idx, "分值"))
                    if item is not None and item.points is None:
                        assert item.min_points is not None and item.max_points is not None
                        if points is None or not item.min_points <= points <= item.max_points:
                            bad("分值", _("分值应在 %(lo)s 到 %(hi)s 之间")
                                % {"lo": plain(item.min_points),
                                   "hi": plain(item.max_points)})
                    elif item is not None and item.points is not None and cell_text(
                            _cell(values, idx, "分值")):
                        bad("分值", _("“%(i)s”按每次 %(p)s 分扣,不填分值")
                            % {"i": item.name, "p": plain(item.points)})
                        points = None
                    when = _date(_cell(values, idx, "日期"))
                    if when == "bad":
                        bad("日期", _("日期“%(v)s”无法识别") % {"v": cell_text(_cell(values, idx, "日期"))})
                    if entry is not None and item is not None:
                        entry.item, entry.count = item, count
                        entry.points = points if item.points is None else None
                        entry.date = when if isinstance(when, dt.date) else None
                else:
                    score = _decimal(_cell(values, idx, "得分"))
                    top = section.max_points if section is not None else None
                    if score is None or score < 0 or (top is not None and score > top):
                        bad("得分", _("得分“%(v)s”应在 0 到 %(m)s 之间")
                            % {"v": cell_text(_cell(values, idx, "得分")),
                               "m": plain(top) if top is not None else "—"})
                    if entry is not None:
                        entry.score = score
                if entry is not None:
                    out.append(entry)
    finally:
        wb.close()
    if errors:
        raise SpreadsheetError(errors)
    if not out:
        raise SpreadsheetError(_("文件中没有任何扣分或得分"))
    return out


def entries_import(*, assessment: Assessment, file: str | Path, filename: str,
                   user: Any = None) -> EntryImport:
    """Import a checked file of entries, approved by `user` (recorded as such)."""
    if assessment.finalised_at is not None:
        raise SpreadsheetError(_("考核已定稿,不能再导入"))
    sha = file_sha256(file)
    earlier = EntryImport.objects.filter(assessment=assessment, sha256=sha).first()
    if earlier is not None:
        raise SpreadsheetError(_("该文件已于 %(at)s 导入(%(fn)s),不能重复导入")
                               % {"at": f"{timezone.localtime(earlier.created_at):%Y-%m-%d %H:%M}",
                                  "fn": earlier.filename})
    entries = entries_parse(assessment, file)
    now = timezone.now()
    who = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        batch = EntryImport.objects.create(assessment=assessment, filename=filename, sha256=sha,
                                           rows=len(entries), created_by=who)
        for e in entries:
            e.batch, e.created_by = batch, who
            e.status, e.reviewed_by, e.reviewed_at = Entry.Status.APPROVED, who, now
            e.review_reason = _("由工作人员导入并审核")
        Entry.objects.bulk_create(entries)
        audit(user=user, action="assessment.entries_import", obj=assessment,
              after={"file": filename, "entries": len(entries)})
    return batch
