"""《评比达标表彰活动自查登记表》 (.xlsx) into a cleanup, all or nothing, upload → preview →
confirm (core/uploads.py).

The layout: the sheet named 自查登记表 (or else the first sheet), headed in row 1 by these
columns, in any order (unknown columns are refused, so a typo is not silently dropped):

| column | required | values |
|---|---|---|
| 序号 | no | ignored (the office's numbering) |
| 举办单位 | yes | the department; a department's account may import only its own |
| 项目名称 | yes | unique per 举办单位 |
| 系统 | yes | 党委 人大 政协 法院 检察院 人民团体 政府部门 所属事业单位 所属社会团体 |
| 举办层级 | no | 省级及以上 / 市级 / 市以下; empty: 市级 |
| 类型 | yes | 评比 / 达标 / 表彰 |
| 面向对象 | yes | one or more of 本系统 基层 企业, separated by 、 or , |
| 举办周期 | yes | 每年 / 每两年 / 每三年及以上 / 不定期 / 一次性 |
| 依据类别 | yes | 法律 / 行政法规 / 中央文件 / 经中央、省批准 (or 省批准) / 本级文件 (or 自行设置) / 无 |
| 依据文件及文号 | no | e.g. 《…》(中办发〔2007〕x号) |
| 收取费用, 要求出钱出物出工, 滥发钱物 | no | 是 / 否; empty: 否 |
| 首次举办年份 | no | a year, e.g. 2003 |
| 处理意见 | yes | 保留 / 合并 / 撤销 |
| 合并到 | for 合并 | the surviving activity's name, in the file or already registered; where two
organisers have one of that name, write 举办单位:项目名称 |
| 理由 | for 保留 and 合并 | the specific reason (003: 对需要保留的项目,要说明具体理由) |

A row whose 举办单位 and 项目名称 are already registered corrects that registration. Every
problem is listed with its sheet, row and column, and nothing is imported while any remains.
Text is read as text: a cell like "=1+1" is a name, never a formula (values only are read)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from core.audit import audit
from core.spreadsheets import (
    CellError,
    SpreadsheetError,
    cell_text,
    header_index,
    iter_rows,
    open_workbook,
    parse_yes_no,
)
from registry.models import (
    Activity,
    BasisKind,
    Cleanup,
    Decision,
    Frequency,
    Kind,
    Level,
    Organiser,
    System,
)
from registry.screening import Flag, screening_flags
from registry.services import (
    ActivityData,
    activity_register,
    activity_update,
    editing_problems,
    organiser_add,
)

MAX_ROWS = 5_000
SHEET = "自查登记表"
# (column, required, what it holds): the docstring's table, shown on the import page too.
COLUMNS: tuple[tuple[str, bool, str], ...] = (
    ("序号", False, "可留空,不导入"),
    ("举办单位", True, "本单位名称;单位账号只能导入本单位的项目"),
    ("项目名称", True, "同一举办单位内不重复"),
    ("系统", True, "党委、人大、政协、法院、检察院、人民团体、政府部门、所属事业单位、所属社会团体"),
    ("举办层级", False, "省级及以上 / 市级 / 市以下,留空为市级"),
    ("类型", True, "评比 / 达标 / 表彰"),
    ("面向对象", True, "本系统、基层、企业中的一项或几项,用顿号分隔"),
    ("举办周期", True, "每年 / 每两年 / 每三年及以上 / 不定期 / 一次性"),
    ("依据类别", True, "法律 / 行政法规 / 中央文件 / 省批准 / 本级文件 / 无"),
    ("依据文件及文号", False, "例如《……》(中办发〔2007〕x号)"),
    ("收取费用", False, "是 / 否,留空为否"),
    ("要求出钱出物出工", False, "是 / 否,留空为否"),
    ("滥发钱物", False, "是 / 否,留空为否"),
    ("首次举办年份", False, "例如 2003"),
    ("处理意见", True, "保留 / 合并 / 撤销"),
    ("合并到", False, "拟合并时必填:保留项目的名称(重名时写“举办单位:项目名称”)"),
    ("理由", False, "拟保留或合并时必填,说明具体理由"),
)
REQUIRED = tuple(c for c, req, _w in COLUMNS if req)
OPTIONAL = tuple(c for c, req, _w in COLUMNS if not req)
TARGET_WORDS = {"本系统": "for_system", "基层": "for_grassroots", "企业": "for_enterprises"}
BASIS_ALIASES = {"省批准": BasisKind.PROVINCIAL, "经省批准": BasisKind.PROVINCIAL,
                 "本级文件": BasisKind.LOCAL, "自行设置": BasisKind.LOCAL,
                 "无": BasisKind.NONE, "没有": BasisKind.NONE}
SYSTEM_ALIASES = {"群众团体": System.PEOPLE_ORG, "事业单位": System.INSTITUTION,
                  "社会团体": System.SOCIETY, "党委部门": System.PARTY}


@dataclass
class ImportRow:
    row: int
    organiser: str
    data: ActivityData
    merge_into: str = ""  # as written
    existing: Activity | None = None
    flags: list[Flag] = field(default_factory=list)


@dataclass
class ImportPlan:
    rows: list[ImportRow]

    @property
    def created(self) -> int:
        return sum(r.existing is None for r in self.rows)

    @property
    def updated(self) -> int:
        return sum(r.existing is not None for r in self.rows)


def _choice(labels: dict[str, str], text: str) -> str | None:
    return labels.get(text)


def _labels(choices: Any, aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    out = {str(c.label): str(c.value) for c in choices}
    out.update({k: str(v) for k, v in (aliases or {}).items()})
    return out


def _header(values: tuple[Any, ...], sheet: str) -> dict[str, int]:
    return header_index(values, sheet, REQUIRED, OPTIONAL)


def registration_parse(cleanup: Cleanup, file: str | Path | IO[bytes], *,
                       organisers: list[str] | None) -> ImportPlan:
    """The file's rows checked against the cleanup, nothing saved; SpreadsheetError listing
    every problem. `organisers`: the names a department may import for (None: the office,
    any name; an unknown one becomes a new organiser)."""
    with translation.override("zh-hans"):  # the file is in Chinese whatever the page's language
        systems, kinds = _labels(System, SYSTEM_ALIASES), _labels(Kind)
        frequencies, bases = _labels(Frequency), _labels(BasisKind, BASIS_ALIASES)
        levels, decisions = _labels(Level), _labels(Decision)
    known = {o.name: o for o in cleanup.organisers.all()}
    if organisers is None and cleanup.status not in (Cleanup.Status.PREPARING,
                                                     Cleanup.Status.SELF_CHECK,
                                                     Cleanup.Status.REVIEW):
        raise SpreadsheetError(_("清理工作处于“%(s)s”阶段,不能再导入")
                               % {"s": Cleanup.Status(cleanup.status).label})
    wb = open_workbook(file, max_rows=MAX_ROWS)
    errors: list[CellError] = []
    rows: list[ImportRow] = []
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        sheet = ws.title
        it = iter_rows(ws)
        first = next(it, None)
        if first is None:
            raise SpreadsheetError([CellError(sheet, None, None, _("工作表是空的"))])
        idx = _header(first[1], sheet)
        seen: dict[tuple[str, str], int] = {}
        for rownum, values in it:
            def cell(name: str, values: tuple[Any, ...] = values) -> str:
                i = idx.get(name)
                return cell_text(values[i - 1]) if i is not None and i - 1 < len(values) else ""

            def bad(name: str, message: str, rownum: int = rownum) -> None:
                errors.append(CellError(sheet, rownum, idx.get(name), message))

            if not any(cell(c) for c in REQUIRED + OPTIONAL if c != "序号"):
                continue
            org, name = cell("举办单位"), cell("项目名称")
            if not org:
                bad("举办单位", _("举办单位为空"))
            elif organisers is not None and org not in organisers:
                bad("举办单位", _("“%(o)s”不是本账号的单位,只能登记本单位的项目") % {"o": org})
            if not name:
                bad("项目名称", _("项目名称为空"))
            elif (org, name) in seen:
                bad("项目名称", _("“%(n)s”重复(已在第%(r)d行)") % {"n": name,
                                                                 "r": seen[(org, name)]})
            else:
                seen[(org, name)] = rownum
            picked: dict[str, str] = {}
            for column, table in (("系统", systems), ("类型", kinds), ("举办周期", frequencies),
                                  ("依据类别", bases), ("处理意见", decisions),
                                  ("举办层级", levels)):
                text = cell(column)
                if not text and column == "举办层级":
                    picked[column] = Level.CITY
                    continue
                value = _choice(table, text)
                if value is None:
                    bad(column, _("“%(v)s”不是可选的值(%(all)s)")
                        % {"v": text, "all": " / ".join(t for t in table if t not in (
                            SYSTEM_ALIASES | BASIS_ALIASES))})
                else:
                    picked[column] = value
            targets: dict[str, Any] = dict.fromkeys(TARGET_WORDS.values(), False)
            for word in filter(None, re.split(r"[、,,;;/\s]+", cell("面向对象"))):
                if word not in TARGET_WORDS:
                    bad("面向对象", _("“%(v)s”不是本系统、基层或企业") % {"v": word})
                else:
                    targets[TARGET_WORDS[word]] = True
            if not any(targets.values()):
                bad("面向对象", _("请填写面向对象(本系统、基层、企业)"))
            flags: dict[str, Any] = {}
            for column, attr in (("收取费用", "charges_fees"),
                                 ("要求出钱出物出工", "asks_contributions"),
                                 ("滥发钱物", "improper_payments")):
                text = cell(column)
                yes = parse_yes_no(text) if text else False
                if yes is None:
                    bad(column, _("“%(v)s”应为“是”或“否”") % {"v": text})
                flags[attr] = bool(yes)
            year_text, year = cell("首次举办年份"), None
            if year_text:
                if year_text.isdigit() and 1949 <= int(year_text) <= 2100:
                    year = int(year_text)
                else:
                    bad("首次举办年份", _("“%(v)s”不是年份") % {"v": year_text})
            proposal = picked.get("处理意见", "")
            reason, into = cell("理由"), cell("合并到")
            if proposal in (Decision.KEEP, Decision.MERGE) and not reason:
                bad("理由", _("拟保留或合并的项目须说明具体理由"))
            if proposal == Decision.MERGE and not into:
                bad("合并到", _("拟合并的项目须写明合并到哪个项目"))
            if proposal != Decision.MERGE and into:
                bad("合并到", _("只有拟合并的项目才填写合并到"))
            if len(picked) < 6:
                continue
            rows.append(ImportRow(rownum, org, ActivityData(
                name=name, system=picked["系统"], kind=picked["类型"],
                frequency=picked["举办周期"], basis_kind=picked["依据类别"], proposal=proposal,
                level=picked["举办层级"], basis_document=cell("依据文件及文号"),
                first_year=year, proposal_reason=reason, **targets, **flags), merge_into=into))
        col_into = idx.get("合并到")
        errors += _resolve(cleanup, rows, known, sheet, col_into, organisers is None)
    finally:
        wb.close()
    if errors:
        raise SpreadsheetError(errors)
    if not rows:
        raise SpreadsheetError(_("文件中没有任何项目"))
    for r in rows:
        r.flags = screening_flags(r.data)
    return ImportPlan(rows)


def _resolve(cleanup: Cleanup, rows: list[ImportRow], known: dict[str, Organiser],
             sheet: str, col: int | None, by_office: bool) -> list[CellError]:
    """Find each row's registration (to correct) and merge target; check that it may change."""
    errors: list[CellError] = []
    registered = list(cleanup.activities.filter(status=Activity.Status.REGISTERED)
                      .select_related("organiser"))
    existing = {(a.organiser.name, a.name): a for a in registered}
    in_file = {(r.organiser, r.data.name): r for r in rows}
    names: dict[str, list[tuple[str, str]]] = {}
    for key in set(existing) | set(in_file):
        names.setdefault(key[1], []).append(key)
    checked: set[str] = set()
    for r in rows:
        r.existing = existing.get((r.organiser, r.data.name))
        org = known.get(r.organiser)
        if org is not None and r.organiser not in checked:
            checked.add(r.organiser)
            errors += [CellError(sheet, r.row, None, f"{r.organiser}:{m}")
                       for m in editing_problems(org, by_office=by_office)]
        if r.data.proposal != Decision.MERGE:
            continue
        text = r.merge_into
        org_part, sep, name_part = text.replace(":", ":").partition(":")
        written = (org_part.strip(), name_part.strip()) if sep else None
        found: list[tuple[str, str]] = (
            [written] if written is not None and written in existing.keys() | in_file.keys()
            else [] if written is not None else names.get(text, []))
        if len(found) != 1:
            errors.append(CellError(sheet, r.row, col, (_(
                "“%(t)s”有多个同名项目,请写成“举办单位:项目名称”") if len(found) > 1 else _(
                "找不到合并到的项目“%(t)s”(须在本文件中或已登记)")) % {"t": text}))
            continue
        target_key = found[0]
        if target_key == (r.organiser, r.data.name):
            errors.append(CellError(sheet, r.row, col, _("项目不能合并到自身")))
        elif target_key in in_file and in_file[target_key].data.proposal == Decision.MERGE:
            errors.append(CellError(sheet, r.row, col, _(
                "“%(t)s”本身也拟合并,请直接写最终保留的项目") % {"t": text}))
        r.merge_into = f"{target_key[0]}:{target_key[1]}"
    return errors


def registration_import(*, cleanup: Cleanup, file: str | Path | IO[bytes], user: Any = None,
                        organisers: list[str] | None = None) -> dict[str, int]:
    """Parse again and apply, in one transaction: every row or none. Rows proposing a merge
    come after the rest, so that a target in the same file exists first."""
    plan = registration_parse(cleanup, file, organisers=organisers)
    by_office = organisers is None
    with transaction.atomic():
        orgs = {o.name: o for o in cleanup.organisers.all()}
        made: dict[str, Activity] = {}
        for r in sorted(plan.rows, key=lambda r: r.data.proposal == Decision.MERGE):
            org = orgs.get(r.organiser) or organiser_add(cleanup=cleanup, name=r.organiser,
                                                         user=user)
            orgs[org.name] = org
            if r.merge_into:
                target_org, _sep, target_name = r.merge_into.partition(":")
                r.data.proposal_merge_into = made.get(r.merge_into) or Activity.objects.get(
                    cleanup=cleanup, organiser__name=target_org, name=target_name,
                    status=Activity.Status.REGISTERED)
            if r.existing is not None:
                activity = activity_update(activity=r.existing, data=r.data, user=user,
                                           by_office=by_office)
            else:
                activity = activity_register(organiser=org, data=r.data, user=user,
                                             by_office=by_office)
            made[f"{org.name}:{activity.name}"] = activity
        counts = {"created": plan.created, "updated": plan.updated}
        audit(user=user, action="registry.import", obj=cleanup, after=counts)
    return counts


def blank_form() -> bytes:
    """An empty 自查登记表 with its header and one example row, for departments to fill."""
    import io

    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([c for c, _req, _w in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.append(["1", "市某局", "全市系统先进集体评选", "政府部门", "市级", "表彰", "本系统",
               "每两年", "本级文件", "某发〔2005〕12号", "否", "否", "否", "2005", "撤销", "",
               ""])
    for i, (c, _req, _w) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width = max(10, len(c) * 2 + 2)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
