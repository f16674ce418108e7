"""The generated tables: 《自查统计表》 (counts of what the departments registered and
proposed, per organiser and per system) and the 通报's outcome per organiser (registered /
kept / merged / cancelled). Counted from the rows, never typed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from registry.models import Activity, Cleanup, Decision, Kind, System
from registry.screening import screening_flags
from registry.services import final_decisions


@dataclass
class Counts:
    label: str
    total: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    proposals: Counter[str] = field(default_factory=Counter)
    legal_basis: int = 0
    burden: int = 0
    flagged: int = 0
    submitted: str = ""

    def add(self, a: Activity) -> None:
        self.total += 1
        self.kinds[a.kind] += 1
        self.proposals[a.proposal] += 1
        self.legal_basis += a.has_legal_basis()
        self.burden += a.charges_fees or a.asks_contributions or a.improper_payments
        self.flagged += bool(screening_flags(a))

    def row(self) -> list[int]:
        return [self.total, *(self.kinds[k] for k in Kind.values),
                *(self.proposals[d] for d in Decision.values), self.legal_basis, self.burden,
                self.flagged]


def registered(cleanup: Cleanup) -> list[Activity]:
    return list(cleanup.activities.filter(status=Activity.Status.REGISTERED)
                .select_related("organiser").order_by("organiser__name", "name", "id"))


def self_check_header() -> list[str]:
    return [_("登记项目"), *(str(k.label) for k in Kind), *(_("拟%(d)s") % {"d": d.label}
                                                     for d in Decision),
            _("有法定依据"), _("涉及收费或摊派"), _("甄别提示")]


def self_check_table(cleanup: Cleanup) -> tuple[list[Counts], list[Counts], Counts]:
    """(per organiser, every organiser even with nothing registered; per system; total)."""
    by_org = {o.name: Counts(o.name, submitted=(
        f"{o.submitted_at:%Y-%m-%d}" if o.submitted_at else ""))
        for o in cleanup.organisers.all()}
    by_system: dict[str, Counts] = {}
    total = Counts(_("合计"))
    for a in registered(cleanup):
        by_org.setdefault(a.organiser.name, Counts(a.organiser.name)).add(a)
        by_system.setdefault(a.system, Counts(str(System(a.system).label))).add(a)
        total.add(a)
    systems = [by_system[s] for s in System.values if s in by_system]
    return sorted(by_org.values(), key=lambda c: c.label), systems, total


@dataclass
class Outcome:
    label: str
    registered: int = 0
    kept: int = 0
    merged: int = 0
    cancelled: int = 0
    undecided: int = 0

    def row(self) -> list[int]:
        return [self.registered, self.kept, self.merged, self.cancelled, self.undecided]


def outcome_table(cleanup: Cleanup) -> tuple[list[Outcome], Outcome]:
    finals = final_decisions(cleanup)
    rows: dict[str, Outcome] = {}
    total = Outcome(_("合计"))
    for a in registered(cleanup):
        for o in (rows.setdefault(a.organiser.name, Outcome(a.organiser.name)), total):
            o.registered += 1
            d = finals.get(a.pk)
            if d is None:
                o.undecided += 1
            elif d.decision == Decision.KEEP:
                o.kept += 1
            elif d.decision == Decision.MERGE:
                o.merged += 1
            else:
                o.cancelled += 1
    return sorted(rows.values(), key=lambda o: o.label), total


def outcome_header() -> list[str]:
    return [_("登记"), *(str(d.label) for d in Decision), _("未定")]
