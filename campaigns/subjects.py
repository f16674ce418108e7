"""Subjects of other kinds than units (issue 17; scoring.md section 10): the optional 类型,
上级单位 and 职务 columns of the units sheet, checked row by row, and the registry identity of
a subject, which is its name under its parent (every unit may have a section called 办公室).

campaigns/services.py reads the sheet; this module says what the three columns mean."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from campaigns.models import SubjectKind, Unit
from core.spreadsheets import CellError, cell_text

SUBJECT_COLUMNS = ("类型", "上级单位", "职务")
# A person has no sub-units.
CHILDLESS = {SubjectKind.LEADER}


class SubjectRow(Protocol):
    row: int
    name: str
    kind: str
    parent: str
    post: str


def read_kind(raw: Any, *, sheet: str, row: int, col: int | None,
              errors: list[CellError]) -> str:
    """The 类型 cell: one of the kinds, empty meaning 单位."""
    text = cell_text(raw)
    if not text:
        return SubjectKind.UNIT.value
    if text not in SubjectKind.values:
        errors.append(CellError(sheet, row, col, _("类型“%(v)s”不是以下之一:%(k)s") % {
            "v": text, "k": "、".join(SubjectKind.values)}))
        return SubjectKind.UNIT.value
    return text


def check_parents(rows: Sequence[SubjectRow], *, sheet: str, col: int | None) -> list[CellError]:
    """Every 上级单位 names a subject of the same file or of the registry, not itself, not a
    person, and no chain of parents in the file loops."""
    errors: list[CellError] = []
    in_file = {r.name: r for r in rows}
    outside = sorted({r.parent for r in rows if r.parent and r.parent not in in_file})
    registry = _top_level(outside)
    for r in rows:
        if not r.parent:
            continue
        if r.parent == r.name:
            errors.append(CellError(sheet, r.row, col, _("“%(n)s”不能是自己的上级单位") % {
                "n": r.name}))
            continue
        parent_kind = (in_file[r.parent].kind if r.parent in in_file
                       else registry[r.parent].kind if r.parent in registry else None)
        if parent_kind is None:
            errors.append(CellError(sheet, r.row, col, _(
                "上级单位“%(p)s”既不在本文件中,也不在单位登记中") % {"p": r.parent}))
        elif parent_kind in CHILDLESS:
            errors.append(CellError(sheet, r.row, col, _(
                "上级单位“%(p)s”是领导干部,不能有下级") % {"p": r.parent}))
    for r in rows:
        chain = [r.name]  # in order, for the message: 甲科→乙科→甲科
        parent = in_file.get(r.parent) if r.parent else None
        while parent is not None:
            if parent.name in chain:
                errors.append(CellError(sheet, r.row, col, _(
                    "上级单位形成循环:%(n)s") % {"n": "→".join([*chain, parent.name])}))
                break
            chain.append(parent.name)
            parent = in_file.get(parent.parent) if parent.parent else None
    return errors


def _top_level(names: Iterable[str]) -> dict[str, Unit]:
    """Registry subjects a 上级单位 may name: by current name, those without a parent first."""
    found: dict[str, Unit] = {}
    for unit in Unit.objects.filter(name__in=list(names)).order_by("pk"):
        if unit.name not in found or (found[unit.name].parent_id and not unit.parent_id):
            found[unit.name] = unit
    return found


def registry_resolve(rows: Sequence[SubjectRow]) -> dict[str, Unit | None]:
    """Each row's registry subject (None: new), found by its current name or a former one
    under its parent. Parents first, one level of the family tree at a time: a query (and a
    look at the former names) per level, not per row."""
    in_file = {r.name: r for r in rows}
    outside = _top_level({r.parent for r in rows if r.parent and r.parent not in in_file})
    resolved: dict[str, Unit | None] = {}
    pending = list(rows)
    while pending:
        level: dict[int | None, list[SubjectRow]] = {}
        waiting = []
        for r in pending:
            if r.parent in in_file and r.parent not in resolved:
                waiting.append(r)
                continue
            parent = resolved[r.parent] if r.parent in in_file else outside.get(r.parent)
            if r.parent and parent is None:
                resolved[r.name] = None  # its parent is new, so is it
            else:
                level.setdefault(parent.pk if parent else None, []).append(r)
        if not level and waiting == pending:
            # A loop of parents (check_parents refuses it first): nothing of it is known.
            resolved.update((r.name, None) for r in waiting)
            break
        resolved.update(_find_under(level))
        pending = waiting
    return resolved


def _find_under(level: dict[int | None, list[SubjectRow]]) -> dict[str, Unit | None]:
    """The registry subjects of `level`'s rows (parent id -> rows), by name, then by a former
    name: one query for the names, one for the former names of those not found."""
    if not level:
        return {}
    under = Q(parent_id__in=[pk for pk in level if pk is not None])
    if None in level:
        under |= Q(parent__isnull=True)
    names = {r.name for rows in level.values() for r in rows}
    known = {(u.parent_id, u.name): u for u in Unit.objects.filter(under, name__in=names)}
    found: dict[str, Unit | None] = {}
    missing = []
    for pk, rows in level.items():
        for r in rows:
            found[r.name] = known.get((pk, r.name))
            if found[r.name] is None:
                missing.append((pk, r.name))
    if missing:
        renamed = {
            (u.parent_id, former): u
            for u in Unit.objects.filter(under).exclude(former_names="")
            for former in u.all_names()[1:]
        }
        for pk, name in missing:
            found[name] = renamed.get((pk, name))
    return found


def registry_create(rows: Sequence[SubjectRow], known: dict[str, Unit | None]) -> dict[str, Unit]:
    """Create the registry subjects `known` lacks, parents first; every row's subject."""
    in_file = {r.name: r for r in rows}
    outside = _top_level({r.parent for r in rows if r.parent and r.parent not in in_file})
    done: dict[str, Unit] = {}

    def make(r: SubjectRow) -> Unit:
        if r.name in done:
            return done[r.name]
        parent = (make(in_file[r.parent]) if r.parent in in_file
                  else outside.get(r.parent) if r.parent else None)
        unit = known.get(r.name) or Unit.objects.create(name=r.name, kind=r.kind, parent=parent)
        if unit.kind != r.kind or unit.parent_id != (parent.pk if parent else None):
            unit.kind, unit.parent = r.kind, parent
            unit.save(update_fields=["kind", "parent"])
        done[r.name] = unit
        return unit

    for r in rows:
        make(r)
    return done


# --- wording: what the pages call the subjects of a campaign ---------------------------------

# One kind's noun in a column head or a sentence ("单位", "领导干部", "科室").
_NOUNS = {
    SubjectKind.UNIT: gettext_lazy("单位"),
    SubjectKind.TEAM: gettext_lazy("领导班子"),
    SubjectKind.LEADER: gettext_lazy("领导干部"),
    SubjectKind.SECTION: gettext_lazy("科室"),
    SubjectKind.WINDOW: gettext_lazy("窗口"),
    SubjectKind.STATION: gettext_lazy("站所"),
}


def _count_phrase(kind: str, n: int) -> str:
    # A person is counted with 名, everything else with 个 (Chinese measure words).
    phrases = {
        SubjectKind.UNIT: _("%(n)d 个单位"),  # an older msgid, singular in the catalogue
        SubjectKind.TEAM: ngettext("%(n)d 个领导班子", "%(n)d 个领导班子", n),
        SubjectKind.LEADER: ngettext("%(n)d 名领导干部", "%(n)d 名领导干部", n),
        SubjectKind.SECTION: ngettext("%(n)d 个科室", "%(n)d 个科室", n),
        SubjectKind.WINDOW: ngettext("%(n)d 个窗口", "%(n)d 个窗口", n),
        SubjectKind.STATION: ngettext("%(n)d 个站所", "%(n)d 个站所", n),
    }
    return phrases[SubjectKind(kind)] % {"n": n}


def subject_noun(kinds: Iterable[str]) -> str:
    """What to call the subjects in a heading: the one kind's noun, or 评议对象 when mixed
    (never 单位 for a person)."""
    distinct = set(kinds) or {SubjectKind.UNIT.value}
    if len(distinct) == 1:
        return str(_NOUNS[SubjectKind(distinct.pop())])
    return _("评议对象")


def count_subjects(kinds: Iterable[str]) -> str:
    """"共 3 名领导干部、1 个领导班子": how many of each kind, in the order of the kinds' list,
    the most numerous first."""
    tally: dict[str, int] = {}
    for k in kinds:
        tally[k] = tally.get(k, 0) + 1
    order = list(SubjectKind.values)
    parts = sorted(tally.items(), key=lambda kv: (-kv[1], order.index(kv[0])))
    return _("共 %(parts)s") % {"parts": "、".join(_count_phrase(k, n) for k, n in parts)}


def units_only(kinds: Iterable[str]) -> bool:
    """Whether every subject is a plain unit: the pages then keep their old wording word for
    word ("共 66 个单位", "被评单位")."""
    return all(k == SubjectKind.UNIT.value for k in kinds)


@dataclass(frozen=True)
class SubjectWords:
    """What the pages call the subjects they list (issue 17, "wording follows the kind")."""

    # Units only: the templates keep today's sentences word for word.
    plain: bool
    # A column head: 被评单位 (units only), the one kind's noun, or 评议对象 when mixed.
    head: str
    # "共 3 名领导干部、1 个领导班子".
    count: str


def subject_words(kinds: Iterable[str]) -> SubjectWords:
    listed = list(kinds)
    plain = units_only(listed)
    return SubjectWords(
        plain=plain,
        head=_("被评单位") if plain else subject_noun(listed),
        count=count_subjects(listed),
    )


def subject_label(name: str, post: str) -> str:
    """A leader is shown with the post (职务) beside the name."""
    return f"{name}({post})" if post else name
