"""Paper ballots: printed ranges, keyed entry with double entry, disputes, reconciliation.

The rules (issue 5, spec section 2):
- a clerk keys a serial and one key per cell: 1..n the options in scale order, 0 (or a space)
  blank, 9 several marks (spoiled);
- with double entry (the default) a second, different clerk keys the same paper blind; equal
  readings become a ballot, different ones a dispute that a supervisor resolves; only agreeing
  or resolved entries become ballots. With single entry the first reading is the ballot;
- a serial outside every printed range is refused unless a supervisor keys it and says so;
- a serial that already has a ballot is keyed as another paper (a photocopy); once it becomes a
  ballot, every ballot of that serial is duplicate_serial (ballots.validity does that);
- a campaign cannot close while any entry is keyed once or in dispute.

Ballots are created only through `services.ballot_create`, so paper, online and imported
ballots are read by the same code.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from ballots.imports import WRITABLE
from ballots.models import Ballot, KeyedEntry, PrintedRange
from ballots.services import (
    Answer,
    BallotError,
    Layout,
    ballot_create,
    campaign_status_for_write,
)
from campaigns.audit import audit
from campaigns.models import Campaign, RatingOption

BLANK = 0
SPOILED = 9
# One key per cell: 9 means "several marks", so a scale can use keys 1..8 at most.
MAX_OPTIONS = 8
RESOLVE_PERM = "campaigns.resolve_paper_disputes"
KEY_PERM = "campaigns.key_paper_ballots"
OUTSIDE = "范围外"
DIGITS = re.compile(r"[0-9]+")


class PaperError(BallotError):
    """A keying or paper-workflow request that cannot be carried out.

    `code` lets the keying screen react (e.g. offer the supervisor's override for
    "out_of_range"); `field` names the form field the message belongs to."""

    def __init__(self, message: str, *, code: str = "invalid", field: str = "") -> None:
        self.code = code
        self.field = field
        super().__init__(message)


# --- The ballot's cells, as keyed and printed ----------------------------------------------


@dataclass(frozen=True)
class Row:
    """One keyed cell: a unit (and dimension) in ballot order."""

    index: int
    unit_id: int
    unit: str
    category: str
    dimension_id: int | None
    dimension: str


def options_of(campaign: Campaign) -> list[RatingOption]:
    return list(campaign.options.order_by("order", "id"))


def rows_of(campaign: Campaign, layout: Layout | None = None) -> list[Row]:
    """The cells of `Layout.of(campaign)` with their names, in the same order."""
    layout = layout or Layout.of(campaign)
    units = {
        u.pk: u
        for u in campaign.units.select_related("category").order_by(
            "category__order", "order", "id"
        )
    }
    dims = {d.pk: d.name for d in campaign.dimensions.all()}
    return [
        Row(
            index=i,
            unit_id=unit_id,
            unit=units[unit_id].name,
            category=units[unit_id].category.name,
            dimension_id=dim_id,
            dimension=dims.get(dim_id, "") if dim_id else "",
        )
        for i, (unit_id, dim_id) in enumerate(layout.cells)
    ]


def parse_keys(
    campaign: Campaign, keys: str | Sequence[int], rows: Sequence[Row], n_options: int
) -> list[int]:
    """The keystrokes of one ballot as codes, or PaperError naming the first bad row.

    A string holds one character per row ("1", "0" or " " blank, "9" several marks); a
    sequence holds the integer codes."""
    if n_options > MAX_OPTIONS:
        raise PaperError(_("评价等次超过 %(n)d 个,无法用一个按键录入") % {"n": MAX_OPTIONS})
    if len(keys) != len(rows):
        raise PaperError(
            _("应录入 %(want)d 个单位,实际 %(got)d 个") % {"want": len(rows), "got": len(keys)},
            field="keys",
        )
    codes: list[int] = []
    for row, key in zip(rows, keys, strict=True):
        code: int | None
        if isinstance(key, str):
            code = BLANK if key == " " else int(key) if key.isascii() and key.isdigit() else None
        elif isinstance(key, int) and not isinstance(key, bool):
            code = key
        else:
            code = None
        if code is None or not (code in (BLANK, SPOILED) or 1 <= code <= n_options):
            name = row.unit + (f" · {row.dimension}" if row.dimension else "")
            raise PaperError(
                _(
                    "第 %(i)d 行(%(name)s):“%(key)s”不是有效按键(1–%(n)d 为等次,0 或空格为未填,9 为多选)"
                )
                % {"i": row.index + 1, "name": name, "key": key, "n": n_options},
                field="keys",
            )
        codes.append(code)
    return codes


def answers_of(
    codes: Sequence[int], rows: Sequence[Row], options: Sequence[RatingOption]
) -> list[Answer]:
    out: list[Answer] = []
    for row, code in zip(rows, codes, strict=True):
        if code == SPOILED:
            out.append(Answer(row.unit_id, row.dimension_id, None, spoiled=True))
        elif code != BLANK:
            out.append(Answer(row.unit_id, row.dimension_id, options[code - 1].pk))
    return out


# --- Printed ranges and serials --------------------------------------------------------------


class Ranges:
    """The campaign's printed ranges, for finding the one that holds a serial."""

    def __init__(self, campaign: Campaign) -> None:
        self.ranges = list(PrintedRange.objects.filter(campaign=campaign).order_by("first"))
        self._starts = [r.first for r in self.ranges]

    def find(self, serial: str) -> PrintedRange | None:
        if not DIGITS.fullmatch(serial or ""):
            return None
        n = int(serial)
        i = bisect.bisect_right(self._starts, n) - 1
        if i >= 0 and self.ranges[i].holds(n):
            return self.ranges[i]
        return None

    def width(self) -> int:
        return max((r.width for r in self.ranges), default=6)


def resolve_serial(
    campaign: Campaign, raw: str, *, allow_out_of_range: bool = False, ranges: Ranges | None = None
) -> tuple[str, PrintedRange | None]:
    """The serial as stored (zero-padded like its range) and the range that holds it."""
    raw = (raw or "").strip()
    if not raw:
        raise PaperError(_("请填写选票编号"), code="serial", field="serial")
    if len(raw) > 40:
        raise PaperError(_("编号过长(最多 40 个字符)"), code="serial", field="serial")
    ranges = ranges or Ranges(campaign)
    rng = ranges.find(raw)
    if rng is not None:
        return rng.fmt(int(raw)), rng
    if not allow_out_of_range:
        printed = "、".join(r.label() for r in ranges.ranges[:5]) or _("尚未登记任何编号段")
        raise PaperError(
            _("编号 %(s)s 不在已印制的编号段内(%(printed)s)。请核对编号;确需录入须由主管允许。")
            % {"s": raw, "printed": printed},
            code="out_of_range",
            field="serial",
        )
    # Digits are padded like the printed serials so "12" and "000012" are the same paper.
    return (raw.zfill(ranges.width()) if DIGITS.fullmatch(raw) else raw), None


def range_create(
    *,
    campaign: Campaign,
    first: int,
    last: int,
    width: int = 6,
    channel: str = "",
    district: str = "",
    note: str = "",
    user: Any = None,
) -> PrintedRange:
    """Record serials first..last as printed and issued; refuses overlaps with other ranges."""
    if first < 1 or last < first:
        raise PaperError(_("编号段无效:起始编号须不小于 1,且不大于结束编号"), field="first")
    if not 1 <= width <= 12 or last >= 10**width:
        raise PaperError(
            _("结束编号 %(n)d 超过 %(w)d 位数") % {"n": last, "w": width}, field="width"
        )
    with transaction.atomic():
        # Lock the campaign row so two staff recording ranges at once cannot both pass the
        # overlap check.
        Campaign.objects.select_for_update().get(pk=campaign.pk)
        clash = (
            PrintedRange.objects.filter(campaign=campaign, first__lte=last, last__gte=first)
            .order_by("first")
            .first()
        )
        if clash is not None:
            raise PaperError(_("编号段与已登记的 %(r)s 重叠") % {"r": clash.label()}, field="first")
        rng = PrintedRange.objects.create(
            campaign=campaign,
            first=first,
            last=last,
            width=width,
            channel=channel.strip(),
            district=district.strip(),
            note=note.strip(),
            count=last - first + 1,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        audit(
            user=user,
            action="paper_range_create",
            obj=rng,
            campaign=campaign,
            after={
                "first": first,
                "last": last,
                "width": width,
                "channel": rng.channel,
                "district": rng.district,
                "count": rng.count,
            },
        )
    return rng


# --- Keying ------------------------------------------------------------------------------------


def _assert_writable(campaign: Campaign) -> None:
    """The status is read FOR SHARE inside the writing transaction (see
    services.campaign_status_for_write): closing waits for entries in flight."""
    status = campaign_status_for_write(campaign)
    if status not in WRITABLE:
        raise PaperError(_("评议活动已结束,不能再录入或裁决选票"), code="closed")


@dataclass
class KeyResult:
    entry: KeyedEntry
    ballot: Ballot | None
    message: str
    warnings: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.entry.status


def _make_ballot(
    *,
    campaign: Campaign,
    serial: str,
    rng: PrintedRange | None,
    codes: Sequence[int],
    comments: str,
    rows: Sequence[Row],
    options: Sequence[RatingOption],
    layout: Layout,
) -> Ballot:
    return ballot_create(
        campaign=campaign,
        source=Ballot.Source.PAPER,
        answers=answers_of(codes, rows, options),
        serial=serial,
        channel=rng.channel if rng else "",
        district=rng.district if rng else "",
        comments={None: comments} if comments.strip() else None,
        layout=layout,
    )


def _ballot_warnings(ballot: Ballot) -> list[str]:
    if ballot.invalid_reason == Ballot.Reason.DUPLICATE_SERIAL:
        return [
            _("编号 %(s)s 已有另一张选票:同编号的选票全部按“编号重复(复印)”作无效")
            % {"s": ballot.serial}
        ]
    if ballot.invalid_reason == Ballot.Reason.BLANK_BALLOT:
        return [_("这是一张空白票(没有任何标记),按无效票计")]
    return []


def entry_key(
    *,
    campaign: Campaign,
    clerk: Any,
    serial: str,
    keys: str | Sequence[int],
    comments: str = "",
    allow_out_of_range: bool = False,
) -> KeyResult:
    """Save one clerk's keying of one paper ballot; create the ballot when it is verified.

    Raises PaperError (nothing saved) for bad keys, an unknown serial, a closed campaign, the
    same clerk keying both passes, or a serial whose two passes await a supervisor."""
    if not clerk.has_perm(KEY_PERM):
        raise PaperError(_("您没有录入纸质选票的权限"), code="forbidden")
    if allow_out_of_range and not clerk.has_perm(RESOLVE_PERM):
        raise PaperError(_("只有主管可以允许范围外的编号"), code="forbidden", field="serial")
    layout = Layout.of(campaign)
    rows = rows_of(campaign, layout)
    if not rows:
        raise PaperError(_("本次评议还没有被评单位"))
    options = options_of(campaign)
    codes = parse_keys(campaign, keys, rows, len(options))
    comments = (comments or "").strip()[:2000]
    serial, rng = resolve_serial(campaign, serial, allow_out_of_range=allow_out_of_range)
    for attempt in range(3):
        try:
            with transaction.atomic():
                _assert_writable(campaign)
                result = _key_once(
                    campaign=campaign,
                    clerk=clerk,
                    serial=serial,
                    rng=rng,
                    codes=codes,
                    comments=comments,
                    rows=rows,
                    options=options,
                    layout=layout,
                )
                if rng is None:
                    audit(
                        user=clerk,
                        action="paper_out_of_range_allowed",
                        obj=result.entry,
                        campaign=campaign,
                        after={"serial": serial},
                        reason=_("主管允许录入范围外编号"),
                    )
                return result
        except IntegrityError:
            # Another clerk saved the same serial and pass at the same moment: read again.
            if attempt == 2:
                raise PaperError(_("编号 %(s)s 正被他人同时录入,请重试") % {"s": serial}) from None
    raise AssertionError("unreachable")


def _key_once(
    *,
    campaign: Campaign,
    clerk: Any,
    serial: str,
    rng: PrintedRange | None,
    codes: list[int],
    comments: str,
    rows: Sequence[Row],
    options: Sequence[RatingOption],
    layout: Layout,
) -> KeyResult:
    same = KeyedEntry.objects.filter(campaign=campaign, serial=serial)
    # Lock the open entries of this serial: two second passes cannot both complete one paper.
    open_entries = list(
        same.select_for_update().filter(status__in=KeyedEntry.OPEN).order_by("copy_no", "pass_no")
    )
    if any(e.status == KeyedEntry.Status.DISPUTED for e in open_entries):
        raise PaperError(
            _("编号 %(s)s 的两遍录入有分歧,正等待主管裁决;裁决前不能再录入此编号") % {"s": serial},
            code="disputed",
            field="serial",
        )
    first = next((e for e in open_entries if e.clerk_id != clerk.pk), None)
    if first is not None:
        return _second_pass(
            first=first,
            campaign=campaign,
            clerk=clerk,
            serial=serial,
            rng=rng,
            codes=codes,
            comments=comments,
            rows=rows,
            options=options,
            layout=layout,
        )
    if open_entries:
        raise PaperError(
            _(
                "编号 %(s)s 的第一遍是您录入的,第二遍须由另一位录入员录入。如是同编号的另一张选票(复印件),请交另一位录入员。"
            )
            % {"s": serial},
            code="same_clerk",
            field="serial",
        )
    warnings: list[str] = []
    had_ballot = Ballot.objects.filter(
        campaign=campaign, source=Ballot.Source.PAPER, serial=serial
    ).exists()
    if had_ballot and campaign.double_entry:
        # Said now, at the first pass: the ballot (and the duplicate) only exists after the
        # second. In single entry the ballot's own warning below says it.
        warnings.append(
            _("注意:编号 %(s)s 已有选票。这是同编号的另一张(复印件),两张都将按“编号重复”作无效。")
            % {"s": serial}
        )
    # A new paper follows the papers already verified. Counting only those (not open entries)
    # matters under concurrency: a first pass another clerk committed a moment ago then
    # collides with ours on the unique constraint, and the retry makes ours its second pass,
    # instead of both becoming first passes of two "different" papers.
    copy_no = (same.filter(status__in=KeyedEntry.DONE).aggregate(m=Max("copy_no"))["m"] or 0) + 1
    entry = KeyedEntry(
        campaign=campaign,
        serial=serial,
        copy_no=copy_no,
        pass_no=1,
        clerk=clerk,
        answers=codes,
        comments=comments,
    )
    if campaign.double_entry:
        entry.save()
        return KeyResult(
            entry, None, _("编号 %(s)s 第一遍已保存,等待另一位录入员核对") % {"s": serial}, warnings
        )
    ballot = _make_ballot(
        campaign=campaign,
        serial=serial,
        rng=rng,
        codes=codes,
        comments=comments,
        rows=rows,
        options=options,
        layout=layout,
    )
    entry.status, entry.ballot = KeyedEntry.Status.AGREED, ballot
    entry.save()
    warnings += _ballot_warnings(ballot)
    return KeyResult(entry, ballot, _("编号 %(s)s 已保存(单人录入)") % {"s": serial}, warnings)


def _second_pass(
    *,
    first: KeyedEntry,
    campaign: Campaign,
    clerk: Any,
    serial: str,
    rng: PrintedRange | None,
    codes: list[int],
    comments: str,
    rows: Sequence[Row],
    options: Sequence[RatingOption],
    layout: Layout,
) -> KeyResult:
    if len(first.answers) != len(codes):
        raise PaperError(
            _("编号 %(s)s 第一遍录入后被评单位有变化,请主管作废第一遍后重新录入") % {"s": serial},
            code="layout_changed",
        )
    second = KeyedEntry(
        campaign=campaign,
        serial=serial,
        copy_no=first.copy_no,
        pass_no=2,
        clerk=clerk,
        answers=codes,
        comments=comments,
    )
    if list(first.answers) != codes:
        second.status = KeyedEntry.Status.DISPUTED
        second.save()
        KeyedEntry.objects.filter(pk=first.pk).update(status=KeyedEntry.Status.DISPUTED)
        first.status = KeyedEntry.Status.DISPUTED
        # Blind entry: the clerk learns that the readings differ, never what the first said.
        return KeyResult(second, None, _("编号 %(s)s 与第一遍不一致,已交主管裁决") % {"s": serial})
    ballot = _make_ballot(
        campaign=campaign,
        serial=serial,
        rng=rng,
        codes=codes,
        comments=first.comments or comments,
        rows=rows,
        options=options,
        layout=layout,
    )
    second.status, second.ballot = KeyedEntry.Status.AGREED, ballot
    second.save()
    KeyedEntry.objects.filter(pk=first.pk).update(status=KeyedEntry.Status.AGREED, ballot=ballot)
    return KeyResult(
        second,
        ballot,
        _("编号 %(s)s 两遍一致,已计入选票") % {"s": serial},
        _ballot_warnings(ballot),
    )


# --- Disputes ----------------------------------------------------------------------------------


def dispute_pair(entry: KeyedEntry) -> tuple[KeyedEntry, KeyedEntry]:
    """The first and second pass of the paper `entry` belongs to (both disputed)."""
    pair = list(
        KeyedEntry.objects.select_related("clerk")
        .filter(
            campaign_id=entry.campaign_id,
            serial=entry.serial,
            copy_no=entry.copy_no,
            status=KeyedEntry.Status.DISPUTED,
        )
        .order_by("pass_no")
    )
    if len(pair) != 2:
        raise PaperError(_("编号 %(s)s 没有待裁决的分歧(可能已被处理)") % {"s": entry.serial})
    return pair[0], pair[1]


def dispute_resolve(
    *, entry: KeyedEntry, keys: str | Sequence[int], user: Any, reason: str = ""
) -> Ballot:
    """A supervisor decides a disagreement: `keys` becomes the ballot; audit-logged."""
    if not user.has_perm(RESOLVE_PERM):
        raise PaperError(_("只有主管可以裁决录入分歧"), code="forbidden")
    campaign = entry.campaign
    layout = Layout.of(campaign)
    rows = rows_of(campaign, layout)
    options = options_of(campaign)
    codes = parse_keys(campaign, keys, rows, len(options))
    with transaction.atomic():
        _assert_writable(campaign)
        locked = list(
            KeyedEntry.objects.select_for_update()
            .filter(
                campaign=campaign,
                serial=entry.serial,
                copy_no=entry.copy_no,
                status=KeyedEntry.Status.DISPUTED,
            )
            .order_by("pass_no")
        )
        if len(locked) != 2:
            raise PaperError(_("编号 %(s)s 没有待裁决的分歧(可能已被处理)") % {"s": entry.serial})
        if user.pk in {e.clerk_id for e in locked}:
            raise PaperError(_("裁决人不能是录入这张选票的录入员"), code="forbidden")
        first, second = locked
        ranges = Ranges(campaign)
        ballot = _make_ballot(
            campaign=campaign,
            serial=entry.serial,
            rng=ranges.find(entry.serial),
            codes=codes,
            comments=first.comments or second.comments,
            rows=rows,
            options=options,
            layout=layout,
        )
        KeyedEntry.objects.filter(pk__in=[first.pk, second.pk]).update(
            status=KeyedEntry.Status.RESOLVED, ballot=ballot
        )
        audit(
            user=user,
            action="paper_dispute_resolve",
            obj=ballot,
            campaign=campaign,
            before={
                "serial": entry.serial,
                "copy_no": entry.copy_no,
                "pass1": {"clerk": first.clerk.get_username(), "answers": first.answers},
                "pass2": {"clerk": second.clerk.get_username(), "answers": second.answers},
            },
            after={
                "answers": codes,
                "status": ballot.status,
                "invalid_reason": ballot.invalid_reason,
            },
            reason=(reason or "").strip(),
        )
    return ballot


def entry_discard(*, entry: KeyedEntry, user: Any, reason: str) -> int:
    """A supervisor voids an open entry (e.g. a mistyped serial); a disputed paper loses both
    passes and is keyed again. Returns the number of entries voided."""
    if not user.has_perm(RESOLVE_PERM):
        raise PaperError(_("只有主管可以作废录入"), code="forbidden")
    reason = (reason or "").strip()
    if not reason:
        raise PaperError(_("请填写作废的原因"), field="reason")
    with transaction.atomic():
        qs = KeyedEntry.objects.select_for_update().filter(
            campaign_id=entry.campaign_id,
            serial=entry.serial,
            copy_no=entry.copy_no,
            status__in=KeyedEntry.OPEN,
        )
        found = list(qs.values("pk", "pass_no", "status", "clerk_id", "answers"))
        if not found:
            raise PaperError(_("该录入已不在待处理状态"))
        n = qs.update(status=KeyedEntry.Status.SUPERSEDED)
        audit(
            user=user,
            action="paper_entry_discard",
            obj=entry,
            campaign=entry.campaign,
            before=found,
            after={"status": KeyedEntry.Status.SUPERSEDED},
            reason=reason,
        )
    return n


# --- Closing and reconciliation -------------------------------------------------------------


def _open_papers(campaign: Campaign) -> dict[str, list[str]]:
    """Serials of papers keyed once ("pending") and in dispute ("disputed")."""
    out: dict[str, list[str]] = {"pending": [], "disputed": []}
    seen: set[tuple[str, int]] = set()
    rows = (
        KeyedEntry.objects.filter(campaign=campaign, status__in=KeyedEntry.OPEN)
        .order_by("serial", "copy_no")
        .values_list("serial", "copy_no", "status")
    )
    for serial, copy_no, status in rows:
        if (serial, copy_no) not in seen:
            seen.add((serial, copy_no))
            out[status].append(serial)
    return out


def close_blockers(campaign: Campaign) -> list[str]:
    """Why the campaign cannot close yet: entries keyed once, or in dispute."""
    papers = _open_papers(campaign)
    problems: list[str] = []

    def sample(serials: list[str]) -> str:
        more = "…" if len(serials) > 10 else ""
        return "、".join(serials[:10]) + more

    if papers["pending"]:
        problems.append(
            _("有 %(n)d 张纸质选票只录入了一遍,尚未核对(编号 %(s)s)")
            % {"n": len(papers["pending"]), "s": sample(papers["pending"])}
        )
    if papers["disputed"]:
        problems.append(
            _("有 %(n)d 张纸质选票两遍录入不一致,等待主管裁决(编号 %(s)s)")
            % {"n": len(papers["disputed"]), "s": sample(papers["disputed"])}
        )
    return problems


INVALID_REASONS = (
    Ballot.Reason.BLANK_BALLOT,
    Ballot.Reason.DUPLICATE_SERIAL,
    Ballot.Reason.MANUAL,
)


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
            == (self.verified + self.single + self.imported)
        )

    @property
    def not_back(self) -> int | None:
        """Issued papers neither recorded nor being keyed (None outside printed ranges)."""
        if self.kind == "outside":
            return None
        return max(self.issued - self.returned - self.keyed_once - self.in_dispute, 0)

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


def _paper_counts(campaign: Campaign) -> list[tuple[int | None, str, str, bool, bool, int]]:
    """The campaign's paper ballots counted by (printed range, status, reason, imported,
    verified by two passes), in one GROUP BY: the reports print this table, and reading
    11,000 ballots into Python to count them was a tenth of the ranking PDF's time.

    The range is found as `Ranges.find` finds it: a serial of ASCII digits only, read as a
    number, falls in the range with the greatest first serial not above it if that range
    holds it, else in none (范围外). Serials of more than 18 significant digits exceed every
    range (PrintedRange.last is an integer column) and are not cast."""
    from django.db import connection

    b, k, r = (m._meta.db_table for m in (Ballot, KeyedEntry, PrintedRange))
    if connection.vendor == "postgresql":
        digits = "b.serial ~ '^[0-9]+$'"
    else:
        digits = "b.serial <> '' AND b.serial NOT GLOB '*[^0-9]*'"
    sql = f"""
        WITH passes AS (
            SELECT ballot_id, count(*) AS n FROM {k}
            WHERE campaign_id = %s AND status IN (%s, %s) GROUP BY ballot_id
        ), paper AS (
            SELECT b.status, b.invalid_reason, b.batch_id IS NOT NULL AS imported,
                   COALESCE(p.n, 0) >= 2 AS verified,
                   CASE WHEN {digits} AND length(ltrim(b.serial, '0')) <= 18
                        THEN CAST(b.serial AS BIGINT) END AS num
            FROM {b} b LEFT JOIN passes p ON p.ballot_id = b.id
            WHERE b.campaign_id = %s AND b.source = %s
        ), placed AS (
            SELECT paper.*, (
                SELECT r.id FROM {r} r WHERE r.campaign_id = %s AND r.first <= paper.num
                ORDER BY r.first DESC LIMIT 1
            ) AS candidate FROM paper
        )
        SELECT r.id, placed.status, placed.invalid_reason, placed.imported, placed.verified,
               count(*)
        FROM placed LEFT JOIN {r} r ON r.id = placed.candidate AND placed.num <= r.last
        GROUP BY r.id, placed.status, placed.invalid_reason, placed.imported, placed.verified
    """
    done = [str(s) for s in KeyedEntry.DONE]
    params = [campaign.pk, *done, campaign.pk, Ballot.Source.PAPER.value, campaign.pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (rid, status, reason, bool(imported), bool(verified), n)
            for rid, status, reason, imported, verified, n in cursor.fetchall()
        ]


def reconciliation(campaign: Campaign) -> Reconciliation:
    """Issued, returned, keyed once, verified, in dispute, valid, invalid by reason: per
    printed range, for serials outside every range ("范围外"), and in total.

    Imported ballots count as returned and are attributed to a range by their serial."""
    ranges = Ranges(campaign)
    rows = {r.pk: RecRow(label=r.label(), printed=r, issued=r.count) for r in ranges.ranges}
    outside = RecRow(label=OUTSIDE, kind="outside")

    def row_for(serial: str) -> RecRow:
        rng = ranges.find(serial)
        return rows[rng.pk] if rng is not None else outside

    for range_id, status, reason, imported, verified, n in _paper_counts(campaign):
        row = rows[range_id] if range_id is not None else outside
        row.returned += n
        if imported:
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
        and not (rec.total.keyed_once or rec.total.in_dispute)
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
        _("有效"),
        _("无效"),
        *[str(r.label) for r in INVALID_REASONS],
    ]
    rows = []
    for row in [*rec.rows, rec.total]:
        if row.kind == "outside" and not (row.returned or row.keyed_once or row.in_dispute):
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
                row.valid,
                row.invalid,
                *[row.invalid_by_reason.get(str(r), 0) for r in INVALID_REASONS],
            ]
        )
    return {"header": header, "rows": rows, "entry_mode": rec.entry_mode}
