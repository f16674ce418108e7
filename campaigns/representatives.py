"""Representatives (评议代表): the .xlsx import and the composition check.

The import is all or nothing, like every import here: the whole file is read and checked
first, and errors name the sheet, row and column. `composition(campaign)` compares the
representatives with the campaign's rules (group shares, new representatives, nobody twice);
the staff page and the reports call it, so both show the same warnings.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from campaigns.models import Campaign, ImportBatch, Representative
from core.audit import audit
from core.spreadsheets import (
    CellError,
    SpreadsheetError,
    cell_text,
    file_sha256,
    iter_rows,
    open_workbook,
    parse_yes_no,
)

NAME, GROUP, DISTRICT, AFFILIATION, PHONE, NEW = "姓名", "代表类别", "片区", "单位及职务", "手机", "新聘"


@dataclass(frozen=True)
class Column:
    """One column of the file: `label` is what the import page tells users to write; the
    header may also be the bare `key` or one of `aliases` (brackets full-width or ASCII)."""

    key: str
    label: str
    required: bool = False
    aliases: tuple[str, ...] = ()


# The one definition of the columns: the parser and the import page's help both read it.
COLUMN_DEFS = (
    Column(NAME, NAME, required=True),
    Column(GROUP, GROUP, required=True),
    Column(DISTRICT, DISTRICT),
    Column(AFFILIATION, AFFILIATION),
    Column(PHONE, PHONE),
    Column(NEW, "新聘(是/否)"),
)
COLUMNS = tuple(c.key for c in COLUMN_DEFS)
REQUIRED = tuple(c.key for c in COLUMN_DEFS if c.required)
HEADER_HELP = " | ".join(c.label for c in COLUMN_DEFS)
_FULL_WIDTH = str.maketrans({"\uff08": "(", "\uff09": ")", "\uff0f": "/"})


def _normal(header: str) -> str:
    """Full-width brackets and slash as ASCII, no spaces: 新聘（是／否） is 新聘(是/否)."""
    return re.sub(r"\s+", "", header.translate(_FULL_WIDTH))


_HEADER_KEYS = {
    _normal(name): c.key for c in COLUMN_DEFS for name in (c.key, c.label, *c.aliases)
}
MAX_LENGTH = {NAME: 100, DISTRICT: 100, AFFILIATION: 200, PHONE: 30}
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{4,28}$")
MAX_ERRORS = 200

# 万人评议 recruits ten thousand and more; a sheet claiming more rows than this is refused
# before they are read (core/xlsx_stream.py bounds the work).
MAX_REPRESENTATIVE_ROWS = 50_000


@dataclass(frozen=True)
class RepRow:
    row: int
    name: str
    group_id: int
    group: str
    district: str
    affiliation: str
    phone: str
    is_new: bool


@dataclass(frozen=True)
class RepChange:
    """A row matching a representative already there, with what importing it would change:
    (column, now, in the file) per field that differs."""

    row: int
    name: str
    fields: tuple[tuple[str, str, str], ...]


@dataclass
class RepresentativePlan:
    filename: str
    sha256: str
    rows: list[RepRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown: list[CellError] = field(default_factory=list)  # columns ignored, if confirmed
    matches: dict[int, int] = field(default_factory=dict)  # file row -> Representative pk
    changes: list[RepChange] = field(default_factory=list)

    @property
    def created_count(self) -> int:
        return len(self.rows) - len(self.matches)

    @property
    def matched_count(self) -> int:
        return len(self.matches)

    def by_group(self) -> dict[str, int]:
        return dict(Counter(r.group for r in self.rows))

    @property
    def new_count(self) -> int:
        return sum(r.is_new for r in self.rows)


class UnknownColumns(SpreadsheetError):
    """The file has columns the import does not know; the user may confirm ignoring them."""


def _header(header: tuple[Any, ...], sheet: str) -> tuple[dict[str, int], list[CellError]]:
    columns: dict[str, int] = {}
    errors: list[CellError] = []
    unknown: list[CellError] = []
    for col, raw in enumerate(header, start=1):
        name = cell_text(raw)
        if not name:
            continue
        key = _HEADER_KEYS.get(_normal(name))
        if key is None:
            unknown.append(CellError(
                sheet, 1, col,
                _("不认识的列“%(n)s”(可用的列:%(all)s)") % {"n": name, "all": HEADER_HELP},
            ))
            continue
        if key in columns:
            errors.append(CellError(sheet, 1, col, _("列名“%(n)s”重复") % {"n": key}))
        columns[key] = col
    for key in REQUIRED:
        if key not in columns:
            errors.append(CellError(sheet, 1, None, _("缺少列“%(n)s”") % {"n": key}))
    if errors:
        raise SpreadsheetError(errors)
    return columns, unknown


def representatives_parse(
    campaign: Campaign,
    file: str | Path | IO[bytes],
    filename: str,
    *,
    ignore_unknown: bool = False,
) -> RepresentativePlan:
    """Read and check a file of representatives; raise SpreadsheetError naming every bad cell.

    Columns: COLUMN_DEFS; 姓名 and 代表类别 are required. A column not known is an error
    (UnknownColumns) unless `ignore_unknown`; the plan lists them in `unknown` either way.
    Each row is matched with the campaign's representatives (`match_existing`)."""
    sha = file_sha256(file)
    wb = open_workbook(file, max_rows=MAX_REPRESENTATIVE_ROWS + 1)  # + the header
    try:
        ws = wb.worksheets[0]
        sheet = ws.title
        rows = iter_rows(ws)
        first = next(rows, None)
        if first is None:
            raise SpreadsheetError([CellError(sheet, None, None, _("工作表是空的"))])
        columns, unknown = _header(first[1], sheet)
        if unknown and not ignore_unknown:
            raise UnknownColumns(unknown)
        groups = {g.name: g for g in campaign.groups.all()}
        plan = RepresentativePlan(filename=filename, sha256=sha, unknown=unknown)
        errors: list[CellError] = []
        for number, values in rows:
            def get(name: str, values: tuple[Any, ...] = values) -> str:
                col = columns.get(name)
                return cell_text(values[col - 1]) if col and col <= len(values) else ""

            def err(name: str, message: str, number: int = number) -> None:
                errors.append(CellError(sheet, number, columns.get(name), message))

            name, group_name = get(NAME), get(GROUP)
            if not name:
                err(NAME, _("姓名不能为空"))
            group = groups.get(group_name)
            if group is None:
                err(
                    GROUP,
                    _("“%(g)s”不是本次评议的代表类别(可选:%(all)s)")
                    % {"g": group_name, "all": "、".join(groups) or _("无,请先在活动中设置")},
                )
            phone = get(PHONE)
            if phone and not PHONE_RE.match(phone):
                err(PHONE, _("手机号码“%(p)s”格式不正确") % {"p": phone})
            raw_new = values[columns[NEW] - 1] if NEW in columns and columns[NEW] <= len(values) else None
            is_new = parse_yes_no(raw_new)
            if is_new is None:
                err(NEW, _("“新聘”应填“是”或“否”,不是“%(v)s”") % {"v": cell_text(raw_new)})
            for col_name, limit in MAX_LENGTH.items():
                if len(get(col_name)) > limit:
                    err(col_name, _("内容过长(最多 %(n)d 字)") % {"n": limit})
            if len(errors) >= MAX_ERRORS:
                break
            if group is not None and name:
                plan.rows.append(
                    RepRow(
                        row=number,
                        name=name,
                        group_id=group.pk,
                        group=group.name,
                        district=get(DISTRICT),
                        affiliation=get(AFFILIATION),
                        phone=phone,
                        is_new=bool(is_new),
                    )
                )
        if errors:
            raise SpreadsheetError(errors)
        if not plan.rows:
            raise SpreadsheetError([CellError(sheet, None, None, _("文件中没有评议代表"))])
        match_existing(campaign, plan)
        return plan
    finally:
        wb.close()


def _person_key(name: str, phone: str) -> tuple[str, str]:
    """Who a row is: the name and the phone's digits, as in the composition's "nobody twice"."""
    return name.strip(), re.sub(r"\D", "", phone)


def match_existing(campaign: Campaign, plan: RepresentativePlan) -> None:
    """Match each row with a representative of the campaign of the same name and phone
    (digits only): that one is updated on import, the others are added. Fills `matches` and
    `changes` (the matched rows whose group, district, … differ)."""
    existing: dict[tuple[str, str], list[Representative]] = {}
    for rep in campaign.representatives.select_related("group").order_by("pk"):
        existing.setdefault(_person_key(rep.name, rep.phone), []).append(rep)
    yes_no = {True: "是", False: "否"}  # as written in the file, whatever the language
    for r in plan.rows:
        candidates = existing.get(_person_key(r.name, r.phone))
        if not candidates:
            continue
        rep = candidates.pop(0)  # a person twice in the file matches two, not one twice
        plan.matches[r.row] = rep.pk
        pairs = (
            (GROUP, rep.group.name, r.group),
            (DISTRICT, rep.district, r.district),
            (AFFILIATION, rep.affiliation, r.affiliation),
            (PHONE, rep.phone, r.phone),
            (NEW, yes_no[rep.is_new], yes_no[r.is_new]),
        )
        changed = tuple((col, old, new) for col, old, new in pairs if old != new)
        if changed:
            plan.changes.append(RepChange(r.row, r.name, changed))


def _update_matched(plan: RepresentativePlan) -> None:
    changed = {c.row for c in plan.changes}
    by_pk = {r.pk: r for r in Representative.objects.filter(
        pk__in=[pk for row, pk in plan.matches.items() if row in changed])}
    updated = []
    for r in plan.rows:
        rep = by_pk.get(plan.matches.get(r.row, 0))
        if rep is None:
            continue
        rep.group_id, rep.district, rep.affiliation = r.group_id, r.district, r.affiliation
        rep.phone, rep.is_new = r.phone, r.is_new
        updated.append(rep)
    Representative.objects.bulk_update(
        updated, ["group", "district", "affiliation", "phone", "is_new"]
    )


def representatives_import(
    *, campaign: Campaign, plan: RepresentativePlan, user: Any
) -> ImportBatch:
    """Write a checked plan in one transaction: rows matching a representative already there
    (`match_existing`) update it, the others are added. The same file cannot be imported
    twice."""
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                campaign=campaign,
                kind=ImportBatch.Kind.REPRESENTATIVES,
                filename=plan.filename[:255],
                sha256=plan.sha256,
                rows=len(plan.rows),
                summary={
                    "by_group": plan.by_group(),
                    "new": plan.new_count,
                    "created": plan.created_count,
                    "updated": len(plan.changes),
                },
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
            Representative.objects.bulk_create(
                Representative(
                    campaign=campaign,
                    group_id=r.group_id,
                    name=r.name,
                    district=r.district,
                    affiliation=r.affiliation,
                    phone=r.phone,
                    is_new=r.is_new,
                    batch=batch,
                )
                for r in plan.rows
                if r.row not in plan.matches
            )
            _update_matched(plan)
            audit(
                user=user,
                action="representatives.import",
                obj=batch,
                campaign=campaign,
                after={
                    "rows": len(plan.rows),
                    "by_group": plan.by_group(),
                    "created": plan.created_count,
                    "updated": [c.name for c in plan.changes],
                },
            )
    except IntegrityError as exc:
        earlier = ImportBatch.objects.filter(
            campaign=campaign,
            kind=ImportBatch.Kind.REPRESENTATIVES,
            sha256=plan.sha256,
            undone_at__isnull=True,
        ).first()
        if earlier is None:
            raise
        raise SpreadsheetError(
            _("这个文件已经导入过(%(b)s),不能重复导入") % {"b": earlier}
        ) from exc
    return batch


# --- composition check -------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRow:
    name: str
    count: int
    share: Fraction | None
    target: Decimal | None
    target_is_minimum: bool
    ok: bool | None  # None: no target to check
    pool: str = ""  # 评议范围: then `share` is the share within the pool
    base: int = 0  # the representatives the share is of: all, or the pool's

    @property
    def percent(self) -> float | None:
        return float(self.share * 100) if self.share is not None else None


@dataclass
class Composition:
    total: int
    rows: list[GroupRow]
    new_count: int
    new_share: Fraction | None
    min_new_share: Decimal | None
    duplicates: list[tuple[str, str, int]]
    warnings: list[str]

    @property
    def pooled(self) -> bool:
        """Whether some group is in a review pool: the page then shows each one's pool."""
        return any(r.pool for r in self.rows)


def _pct(x: Fraction | Decimal) -> str:
    return f"{float(x) * 100:.1f}%"


def _as_fraction(value: Decimal) -> Fraction:
    """0.3333 is how people write one third: read a share within 1/10000 of a simple fraction
    (denominator up to 12) as that fraction, so exactly one third of representatives passes."""
    exact = Fraction(value)
    simple = exact.limit_denominator(12)
    return simple if abs(simple - exact) < Fraction(1, 10000) else exact


def _phone_key(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def composition(campaign: Campaign) -> Composition:
    """The representatives against the campaign's rules, with a warning per rule missed.

    - a group with a target share (e.g. 000: 服务对象 60%) must have that share to within one
      person: its count is the exact target count rounded up or down;
    - a group whose target is a minimum (001: 服务对象不少于50%) must reach it;
    - a group in a pool (评议范围, 001: 社会评议) has its share counted within the pool: 服务对象代表
      are at least half of the 社会评议 raters, not of all; a pool nobody is in is warned;
    - new representatives must make at least `min_new_share` of all (002: one third);
    - nobody may appear twice: same name and same phone number (digits only)."""
    reps = list(campaign.representatives.values_list("name", "phone", "is_new", "group_id"))
    total = len(reps)
    counts = Counter(g for *_rest, g in reps)
    groups = list(campaign.groups.order_by("order", "pk"))
    in_pool: Counter[str] = Counter()
    for g in groups:
        if g.pool:
            in_pool[g.pool] += counts.get(g.pk, 0)
    rows: list[GroupRow] = []
    warnings: list[str] = []
    if not total:
        warnings.append(_("尚未录入评议代表。"))
    else:
        for pool in dict.fromkeys(g.pool for g in groups if g.pool):
            if not in_pool[pool]:
                warnings.append(_("“%(p)s”尚未录入评议代表。") % {"p": pool})
    for g in groups:
        n = counts.get(g.pk, 0)
        base = in_pool[g.pool] if g.pool else total
        share = Fraction(n, base) if base else None
        ok: bool | None = None
        if g.target_share is not None and share is not None:  # share is None iff no reps
            target = _as_fraction(g.target_share)
            if g.target_is_minimum:
                ok = share >= target
                if not ok and g.pool:
                    warnings.append(
                        _("“%(g)s”%(n)d 人,占%(p)s %(b)d 人的 %(s)s,应不少于 %(t)s"
                          "(至少 %(need)d 人)。")
                        % {"g": g.name, "n": n, "p": g.pool, "b": base, "s": _pct(share),
                           "t": _pct(target),
                           "need": -(-target.numerator * base // target.denominator)}
                    )
                elif not ok:
                    warnings.append(
                        _("“%(g)s”%(n)d 人,占 %(s)s,应不少于 %(t)s(至少 %(need)d 人)。")
                        % {"g": g.name, "n": n, "s": _pct(share), "t": _pct(target),
                           "need": -(-target.numerator * total // target.denominator)}
                    )
            else:
                exact = target * base
                ok = abs(n - exact) < 1
                if not ok and g.pool:
                    warnings.append(
                        _("“%(g)s”%(n)d 人,占%(p)s %(b)d 人的 %(s)s,应为 %(t)s(约 %(e)s 人)。")
                        % {"g": g.name, "n": n, "p": g.pool, "b": base, "s": _pct(share),
                           "t": _pct(target), "e": f"{float(exact):.0f}"}
                    )
                elif not ok:
                    warnings.append(
                        _("“%(g)s”%(n)d 人,占 %(s)s,应为 %(t)s(约 %(e)s 人)。")
                        % {"g": g.name, "n": n, "s": _pct(share), "t": _pct(target),
                           "e": f"{float(exact):.0f}"}
                    )
        rows.append(GroupRow(g.name, n, share, g.target_share, g.target_is_minimum, ok,
                             pool=g.pool, base=base))
    new_count = sum(1 for _n, _p, is_new, _g in reps if is_new)
    new_share = Fraction(new_count, total) if total else None
    if campaign.min_new_share is not None and total and new_share is not None:
        if new_share < _as_fraction(campaign.min_new_share):
            warnings.append(
                _("新聘代表 %(n)d 人,占 %(s)s,应不少于 %(t)s。")
                % {"n": new_count, "s": _pct(new_share), "t": _pct(campaign.min_new_share)}
            )
    seen = Counter((name.strip(), _phone_key(phone)) for name, phone, _new, _g in reps)
    duplicates = sorted(
        (name, phone, n) for (name, phone), n in seen.items() if n > 1
    )
    for name, phone, n in duplicates:
        warnings.append(
            _("“%(name)s”(手机 %(p)s)重复出现 %(n)d 次。")
            % {"name": name, "p": phone or _("未填"), "n": n}
        )
    return Composition(
        total=total,
        rows=rows,
        new_count=new_count,
        new_share=new_share,
        min_new_share=campaign.min_new_share,
        duplicates=duplicates,
        warnings=warnings,
    )
