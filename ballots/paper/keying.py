"""Paper ballots: printed ranges, keyed entry with double entry, disputes, reconciliation.

The rules (issue 5, spec section 2):
- a clerk keys a serial and one key per cell: 1..n the options in scale order, 0 (or a space)
  blank, 9 several marks (spoiled);
- with double entry (the default) a second, different clerk keys the same paper blind; equal
  readings become a ballot, different ones a dispute that a supervisor resolves; only agreeing
  or resolved entries become ballots. With single entry the first reading is the ballot;
- a serial outside every printed range is refused unless a supervisor keys it and says so;
- a serial that already has a ballot is keyed as another paper (a photocopy) only when the
  clerk confirms it (`confirm_copy`, audited); once it becomes a ballot, every ballot of that
  serial is duplicate_serial (ballots.validity does that). Without the confirmation nothing is
  saved, so a slip of the serial never silently voids a genuine ballot;
- `serial_check` says all this as soon as the serial is typed, before any key is pressed;
- a campaign cannot close while any entry is keyed once or in dispute.

Ballots are created only through `services.ballot_create`, so paper, online and imported
ballots are read by the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from ballots.models import Ballot, KeyedEntry, PrintedRange
from ballots.paper.cells import (
    KEY_PERM,
    RESOLVE_PERM,
    PaperError,
    marks_of,
    options_of,
    parse_keys,
    rows_of,
)
from ballots.paper.ranges import resolve_serial
from ballots.services import (
    WRITABLE,
    Layout,
    ballot_create,
)
from ballots.sql import campaign_status_for_write
from campaigns.models import Campaign
from core.audit import audit

# --- Keying ------------------------------------------------------------------------------------


def _assert_writable(campaign: Campaign) -> None:
    """The status is read FOR SHARE inside the writing transaction (see
    sql.campaign_status_for_write): closing waits for entries in flight."""
    status = campaign_status_for_write(campaign)
    if status not in WRITABLE:
        raise PaperError(_("评议活动已结束,不能再录入或裁决选票"), code="closed")


@dataclass
class KeyResult:
    entry: KeyedEntry
    ballot: Ballot | None
    message: str
    warnings: list[str] = field(default_factory=list)
    # Keyed as another paper of a serial that already has a ballot, as the clerk confirmed.
    copy_confirmed: bool = False

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
    layout: Layout,
) -> Ballot:
    return ballot_create(
        campaign=campaign,
        source=Ballot.Source.PAPER,
        marks=marks_of(codes),
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


def _counted(campaign: Campaign, serial: str) -> bool:
    """Whether a paper ballot of this serial already exists (is counted)."""
    return Ballot.objects.filter(
        campaign=campaign, source=Ballot.Source.PAPER, serial=serial
    ).exists()


def counted_message(serial: str) -> str:
    return _(
        "编号 %(s)s 已有一张计入的选票。如确为另一张同编号的问卷(复印件),继续录入后两张都将作无效。"
    ) % {"s": serial}


@dataclass
class SerialIssue:
    code: str
    message: str
    # What the user may do about it: "allow_out_of_range" (supervisors only), "confirm_copy".
    choices: list[str] = field(default_factory=list)


@dataclass
class SerialCheck:
    serial: str
    issues: list[SerialIssue]

    @property
    def ok(self) -> bool:
        return not self.issues

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "serial": self.serial,
            "issues": [
                {"code": i.code, "message": i.message, "choices": i.choices} for i in self.issues
            ],
        }


def serial_check(*, campaign: Campaign, clerk: Any, serial: str) -> SerialCheck:
    """What keying this serial would meet, said as soon as it is typed (reads only).

    Issues, in order: outside every printed range; in dispute; keyed once by this clerk;
    already counted. Blind entry: nothing of another clerk's reading is told."""
    issues: list[SerialIssue] = []
    raw = (serial or "").strip()
    try:
        resolve_serial(campaign, raw)
    except PaperError as exc:
        if exc.code != "out_of_range":
            return SerialCheck(raw, [SerialIssue(exc.code, str(exc))])
        choices = ["allow_out_of_range"] if clerk.has_perm(RESOLVE_PERM) else []
        issues.append(SerialIssue("out_of_range", str(exc), choices))
    stored, _rng = resolve_serial(campaign, raw, allow_out_of_range=True)
    open_entries = list(
        KeyedEntry.objects.filter(campaign=campaign, serial=stored, status__in=KeyedEntry.OPEN)
    )
    mine = [e for e in open_entries if e.clerk_id == clerk.pk]
    if any(e.status == KeyedEntry.Status.DISPUTED for e in open_entries):
        issues.append(
            SerialIssue(
                "disputed",
                _("编号 %(s)s 的两遍录入有分歧,正等待主管裁决;裁决前不能再录入此编号")
                % {"s": stored},
            )
        )
    elif mine and len(mine) == len(open_entries):
        issues.append(
            SerialIssue(
                "same_clerk",
                _(
                    "编号 %(s)s 的第一遍是您录入的,第二遍须由另一位录入员录入。如是同编号的另一张选票(复印件),请交另一位录入员。"
                )
                % {"s": stored},
            )
        )
    elif _counted(campaign, stored):
        issues.append(SerialIssue("counted", counted_message(stored), ["confirm_copy"]))
    return SerialCheck(stored, issues)


def entry_key(
    *,
    campaign: Campaign,
    clerk: Any,
    serial: str,
    keys: str | Sequence[int],
    comments: str = "",
    allow_out_of_range: bool = False,
    confirm_copy: bool = False,
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
                    layout=layout,
                    confirm_copy=confirm_copy,
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
                if result.copy_confirmed:
                    audit(
                        user=clerk,
                        action="paper_copy_confirmed",
                        obj=result.entry,
                        campaign=campaign,
                        after={
                            "serial": serial,
                            "copy_no": result.entry.copy_no,
                            "pass_no": result.entry.pass_no,
                        },
                        reason=_("录入员确认为同编号的另一张问卷(复印件)"),
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
    layout: Layout,
    confirm_copy: bool = False,
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
    had_ballot = _counted(campaign, serial)
    if had_ballot and not (first is None and open_entries):
        # Another paper of a counted serial: both passes must say it is meant (the second
        # clerk may hold the genuine paper by mistake).
        if not confirm_copy:
            raise PaperError(counted_message(serial), code="counted", field="serial")
    if first is not None:
        result = _second_pass(
            first=first,
            campaign=campaign,
            clerk=clerk,
            serial=serial,
            rng=rng,
            codes=codes,
            comments=comments,
            layout=layout,
        )
        result.copy_confirmed = had_ballot
        return result
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
            entry,
            None,
            _("编号 %(s)s 第一遍已保存,等待另一位录入员核对") % {"s": serial},
            warnings,
            copy_confirmed=had_ballot,
        )
    ballot = _make_ballot(
        campaign=campaign,
        serial=serial,
        rng=rng,
        codes=codes,
        comments=comments,
        layout=layout,
    )
    entry.status, entry.ballot = KeyedEntry.Status.AGREED, ballot
    entry.save()
    warnings += _ballot_warnings(ballot)
    return KeyResult(
        entry,
        ballot,
        _("编号 %(s)s 已保存(单人录入)") % {"s": serial},
        warnings,
        copy_confirmed=had_ballot,
    )


def _second_pass(
    *,
    first: KeyedEntry,
    campaign: Campaign,
    clerk: Any,
    serial: str,
    rng: PrintedRange | None,
    codes: list[int],
    comments: str,
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
