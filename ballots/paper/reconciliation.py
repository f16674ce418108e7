"""Reconciliation of paper: how many ballots were printed, came back, were keyed and counted,
per printed range, channel and district."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from ballots import sql
from ballots.models import Ballot, PrintedRange, ScanPage
from ballots.paper.cells import OUTSIDE
from ballots.paper.disputes import _open_papers
from ballots.paper.ranges import Ranges
from ballots.validity import REASON_ORDER
from campaigns.models import Campaign

# The spec's order of reasons (section 2), as every other count of reasons.
INVALID_REASONS = REASON_ORDER


@dataclass
class RecRow:
    """One line of the reconciliation: a printed range, the serials outside them, or the total.

    `returned` counts paper ballots recorded (verified by double entry, keyed once in single
    entry mode, or imported); `keyed_once` and `in_dispute` are papers back but not ballots
    yet, so `returned == valid + invalid` always holds."""

    label: str
    printed: PrintedRange | None = None
    kind: str = "range"  # "range", "outside" or "total"
    issued: int = 0
    returned: int = 0
    keyed_once: int = 0
    in_dispute: int = 0
    verified: int = 0
    single: int = 0
    imported: int = 0
    scanned: int = 0
    # Scanned pages not yet a ballot (to confirm, serial to type, other page missing,
    # unreadable): papers back but not counted, like keyed_once.
    scan_open: int = 0
    valid: int = 0
    invalid: int = 0
    invalid_by_reason: dict[str, int] = field(
        default_factory=lambda: {str(r): 0 for r in INVALID_REASONS}
    )

    @property
    def channel(self) -> str:
        return self.printed.channel if self.printed else ""

    @property
    def district(self) -> str:
        return self.printed.district if self.printed else ""

    @property
    def balanced(self) -> bool:
        return (
            self.returned
            == self.valid + self.invalid
            == (self.verified + self.single + self.imported + self.scanned)
        )

    @property
    def not_back(self) -> int | None:
        """Issued papers neither recorded nor being keyed (None outside printed ranges)."""
        if self.kind == "outside":
            return None
        return max(
            self.issued - self.returned - self.keyed_once - self.in_dispute - self.scan_open, 0
        )

    @property
    def invalid_counts(self) -> list[int]:
        """Invalid ballots per reason, in INVALID_REASONS order (for table columns)."""
        return [self.invalid_by_reason.get(str(r), 0) for r in INVALID_REASONS]

    def add(self, other: RecRow) -> None:
        for name in (
            "issued",
            "returned",
            "keyed_once",
            "in_dispute",
            "verified",
            "single",
            "imported",
            "scanned",
            "scan_open",
            "valid",
            "invalid",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.invalid_by_reason.items():
            self.invalid_by_reason[reason] = self.invalid_by_reason.get(reason, 0) + n

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "channel": self.channel,
            "district": self.district,
            "issued": self.issued,
            "returned": self.returned,
            "keyed_once": self.keyed_once,
            "in_dispute": self.in_dispute,
            "verified": self.verified,
            "single": self.single,
            "imported": self.imported,
            "scanned": self.scanned,
            "scan_open": self.scan_open,
            "valid": self.valid,
            "invalid": self.invalid,
            "invalid_by_reason": dict(self.invalid_by_reason),
        }


@dataclass
class Reconciliation:
    rows: list[RecRow]  # one per printed range, then the "范围外" row
    total: RecRow
    double_entry: bool

    @property
    def entry_mode(self) -> str:
        """For reports: which entry mode was used (both, if the campaign switched)."""
        if self.total.verified and self.total.single:
            return _("双人录入 %(v)d 张,单人录入 %(s)d 张") % {
                "v": self.total.verified,
                "s": self.total.single,
            }
        if self.total.single or not self.double_entry:
            return _("单人录入")
        return _("双人录入(两位录入员分别录入,一致或经主管裁决后计入)")

    @property
    def balanced(self) -> bool:
        return all(r.balanced for r in [*self.rows, self.total])

    def as_json(self) -> dict[str, Any]:
        return {
            "entry_mode": self.entry_mode,
            "rows": [r.as_json() for r in self.rows],
            "total": self.total.as_json(),
        }


def _open_scans(campaign: Campaign) -> list[str]:
    """Serials of scanned pages still open (one per ballot copy: the most pages of a serial
    at one page number). Pages without a serial yet are counted outside every range."""
    per: dict[tuple[str, int | None], int] = {}
    for serial, page_no in ScanPage.objects.filter(
        campaign=campaign, status__in=ScanPage.OPEN
    ).values_list("serial", "page_no"):
        per[(serial, page_no)] = per.get((serial, page_no), 0) + 1
    most: dict[str, int] = {}
    for (serial, _page), n in per.items():
        most[serial] = max(most.get(serial, 0), n)
    return [s for s, n in most.items() for _ in range(n)]


def reconciliation(campaign: Campaign) -> Reconciliation:
    """Issued, returned, keyed once, verified, in dispute, valid, invalid by reason: per
    printed range, for serials outside every range ("范围外"), and in total.

    Imported and scanned ballots count as returned and are attributed to a range by their
    serial; scanned pages that are not yet a ballot count once per serial, like a paper keyed
    once."""
    ranges = Ranges(campaign)
    rows = {r.pk: RecRow(label=r.label(), printed=r, issued=r.count) for r in ranges.ranges}
    outside = RecRow(label=OUTSIDE, kind="outside")

    def row_for(serial: str) -> RecRow:
        rng = ranges.find(serial)
        return rows[rng.pk] if rng is not None else outside

    for range_id, status, reason, via, verified, n in sql.paper_counts(campaign):
        row = rows[range_id] if range_id is not None else outside
        row.returned += n
        if via == "scan":
            row.scanned += n
        elif via:
            row.imported += n
        elif verified:
            row.verified += n
        else:
            # Keyed once in single-entry mode (or recorded by some other path): not verified.
            row.single += n
        if status == Ballot.Status.VALID:
            row.valid += n
        else:
            row.invalid += n
            row.invalid_by_reason[reason] = row.invalid_by_reason.get(reason, 0) + n
    papers = _open_papers(campaign)
    for serial in papers["pending"]:
        row_for(serial).keyed_once += 1
    for serial in papers["disputed"]:
        row_for(serial).in_dispute += 1
    for serial in _open_scans(campaign):
        row_for(serial).scan_open += 1
    total = RecRow(label=_("合计"), kind="total")
    listed = [*rows.values(), outside]
    for row in listed:
        total.add(row)
    return Reconciliation(rows=listed, total=total, double_entry=campaign.double_entry)


def reconciliation_table(campaign: Campaign) -> dict[str, Any] | None:
    """The reconciliation as a header and rows of plain values, for the PDF and Excel reports
    (scoring.reports); None when the campaign has no paper at all."""
    rec = reconciliation(campaign)
    if (
        not rec.total.returned
        and not rec.total.issued
        and not (rec.total.keyed_once or rec.total.in_dispute or rec.total.scan_open)
    ):
        return None
    header = [
        _("编号段"),
        _("发放"),
        _("回收"),
        _("仅录一遍"),
        _("有分歧"),
        _("双人核对"),
        _("单人录入"),
        _("导入"),
        _("扫描"),
        _("扫描待处理"),
        _("有效"),
        _("无效"),
        *[str(r.label) for r in INVALID_REASONS],
    ]
    rows = []
    for row in [*rec.rows, rec.total]:
        if row.kind == "outside" and not (
            row.returned or row.keyed_once or row.in_dispute or row.scan_open
        ):
            continue
        where = " ".join(x for x in (row.channel, row.district) if x)
        rows.append(
            [
                f"{row.label} {where}".strip(),
                row.issued if row.kind != "outside" else "—",
                row.returned,
                row.keyed_once,
                row.in_dispute,
                row.verified,
                row.single,
                row.imported,
                row.scanned,
                row.scan_open,
                row.valid,
                row.invalid,
                *[row.invalid_by_reason.get(str(r), 0) for r in INVALID_REASONS],
            ]
        )
    return {"header": header, "rows": rows, "entry_mode": rec.entry_mode}
