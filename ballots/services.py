"""Writes that matter: recording a ballot, invalidating and restoring one.

Every way a ballot comes in (online submission, keyed paper entry, spreadsheet import, the
scanner) reads it with `ballots.reading.read_ballot` (spec section 2), so there is one
implementation of "blank", "spoiled", `blank_means` and a ballot's own validity. Functions are
keyword-only, atomic, and rely on database constraints (one answer per unit and dimension,
status/reason consistency) as the last guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ballots import sql
from ballots.answers import LayoutError, Storage
from ballots.models import AccessCode, Ballot, Comment, ImportBatch
from ballots.reading import SEVERAL as SEVERAL_MARK
from ballots.reading import UNMARKED, MarkError, Reading, Scheme, own_validity, read_ballot
from ballots.validity import refresh_serial_validity
from campaigns.models import Campaign, RepresentativeGroup
from core.audit import audit

# Statuses in which ballots may be added, keyed, imported or undone.
WRITABLE = (Campaign.Status.DRAFT, Campaign.Status.OPEN)


class BallotError(Exception):
    """A ballot that cannot be recorded; the message is shown to the user as is."""


@dataclass(frozen=True)
class Answer:
    """What one ballot says about one unit (and dimension), as pages and tests name it.

    `option_id` is the marked option, or None when nothing is marked; `spoiled` means several
    options were marked (paper only)."""

    unit_id: int
    dimension_id: int | None
    option_id: int | None
    spoiled: bool = False


@dataclass(frozen=True)
class Layout:
    """The cells a ballot of the campaign has, in ballot order, and how its marks are read."""

    cells: tuple[tuple[int, int | None], ...]
    option_ids: frozenset[int]
    blank_means_id: int | None
    storage: Storage
    scheme: Scheme

    @classmethod
    def of(cls, campaign: Campaign) -> Layout:
        units = list(
            campaign.units.order_by("category__order", "order", "id").values_list("id", flat=True)
        )
        dims: list[int | None] = list(
            campaign.dimensions.order_by("order", "id").values_list("id", flat=True)
        )
        return cls.build(
            campaign, units, dims, campaign.options.order_by("order", "id").values_list("id", flat=True)
        )

    @classmethod
    def build(
        cls,
        campaign: Campaign,
        unit_ids: Iterable[int],
        dimension_ids: Iterable[int | None],
        option_ids: Iterable[int],
    ) -> Layout:
        """The layout from ids already loaded (units and dimensions in ballot order, options in
        scale order, best first), so the ballot page does not ask the database again for what
        its form holds."""
        dims = list(dimension_ids) or [None]
        cells = tuple((u, d) for u in unit_ids for d in dims)
        scale = tuple(option_ids)
        try:
            storage = Storage.build(cells, scale)
        except LayoutError as exc:
            raise BallotError(str(exc)) from exc
        return cls(
            cells=cells,
            option_ids=frozenset(scale),
            blank_means_id=campaign.blank_means_id,
            storage=storage,
            scheme=Scheme.build(storage, cells, scale, campaign.blank_means_id),
        )

    def marks(self, answers: Iterable[Answer]) -> list[int]:
        """The marks of `answers` in ballot order (a cell they do not mention is unmarked).

        Raises BallotError for an answer about a unit, dimension or option that is not part of
        the campaign, or for a cell answered twice."""
        index = {cell: i for i, cell in enumerate(self.cells)}
        marks = [UNMARKED] * len(self.cells)
        seen: set[int] = set()
        for a in answers:
            i = index.get((a.unit_id, a.dimension_id))
            if i is None:
                raise BallotError(f"单位或评议内容不属于本次评议:{(a.unit_id, a.dimension_id)}")
            if i in seen:
                raise BallotError(f"同一单位重复作答:{(a.unit_id, a.dimension_id)}")
            seen.add(i)
            try:
                marks[i] = SEVERAL_MARK if a.spoiled else self.scheme.mark_for_option(a.option_id)
            except MarkError as exc:
                raise BallotError(str(exc)) from None
        return marks

    def read(self, marks: Sequence[int]) -> Reading:
        """`read_ballot` with a ballot's marks in this layout's order."""
        try:
            return read_ballot(self.scheme, marks)
        except MarkError as exc:
            raise BallotError(str(exc)) from None


def _new_ballot(
    *, campaign: Campaign, source: str, marks: Sequence[int], layout: Layout, **fields: Any
) -> Ballot:
    """An unsaved ballot: its marks read (spec section 2), with its own validity."""
    reading = layout.read(marks)
    return Ballot(
        campaign=campaign,
        source=source,
        status=reading.status,
        invalid_reason=reading.invalid_reason,
        is_blank=reading.is_blank,
        answers=reading.answers,
        **fields,
    )


def ballot_create(
    *,
    campaign: Campaign,
    source: str,
    answers: Iterable[Answer] = (),
    marks: Sequence[int] | None = None,
    serial: str = "",
    channel: str = "",
    group: RepresentativeGroup | None = None,
    group_id: int | None = None,
    district: str = "",
    comments: Mapping[int | None, str] | None = None,
    batch: ImportBatch | None = None,
    access_code: AccessCode | None = None,
    token: str | None = None,
    layout: Layout | None = None,
) -> Ballot:
    """Record one ballot with its marks (or answers, turned into marks) and comments, and
    re-derive duplicate serials.

    Call inside the caller's transaction when it must be atomic with other writes (e.g. the
    access code update); on its own it is atomic too.
    """
    if access_code is not None and campaign.anonymous:
        # Secrecy by construction: an anonymous campaign never stores the link.
        raise BallotError("匿名评议不得记录评议码与选票的关联")
    if source == Ballot.Source.PAPER and not serial:
        raise BallotError("纸质选票必须有编号")
    layout = layout or Layout.of(campaign)
    new = _new_ballot(
        campaign=campaign,
        source=source,
        marks=marks if marks is not None else layout.marks(answers),
        layout=layout,
        serial=serial,
        channel=channel,
        group_id=group.pk if group is not None else group_id,
        district=district,
        batch=batch,
        access_code=access_code,
        token=token,
    )
    # No savepoint: if anything below fails, the caller's whole transaction (e.g. the code
    # being claimed) must fail with it anyway.
    with transaction.atomic(savepoint=False):
        ballot = sql.insert_ballot(new)
        texts = [(u, t.strip()) for u, t in (comments or {}).items() if t and t.strip()]
        Comment.objects.bulk_create(
            Comment(ballot=ballot, campaign=campaign, unit_id=u, text=t[:2000]) for u, t in texts
        )
        if source == Ballot.Source.PAPER:
            refresh_serial_validity(campaign, [serial])
            ballot.refresh_from_db(fields=["status", "invalid_reason"])
    return ballot


def _assert_ballots_writable(campaign_id: int) -> None:
    """Refuse a write to ballots once the campaign is closed or published: the count is
    final then, whatever page asks (admin included). The campaign row is read FOR SHARE, so a
    close waits for this transaction and this one for a close."""
    status = sql.campaign_status_for_write(Campaign(pk=campaign_id))
    if status not in WRITABLE:
        raise BallotError("评议活动已结束,选票不能再改动(如确需改动,请先重新开放评议)")


def ballot_invalidate(*, ballot: Ballot, reason: str, user: Any) -> Ballot:
    """Staff judge a ballot invalid (e.g. a photocopy), with a written reason."""
    reason = (reason or "").strip()
    if not reason:
        raise BallotError("请填写认定无效的原因")
    with transaction.atomic():
        _assert_ballots_writable(ballot.campaign_id)
        locked = Ballot.objects.select_for_update().get(pk=ballot.pk)
        if locked.invalid_reason == Ballot.Reason.MANUAL:
            raise BallotError("该选票已被认定无效")
        before = {"status": locked.status, "invalid_reason": locked.invalid_reason}
        locked.status = Ballot.Status.INVALID
        locked.invalid_reason = Ballot.Reason.MANUAL
        locked.invalid_note = reason
        locked.save(update_fields=["status", "invalid_reason", "invalid_note"])
        audit(
            user=user,
            action="ballot_invalidate",
            obj=locked,
            campaign=locked.campaign,
            before=before,
            after={"status": locked.status, "invalid_reason": locked.invalid_reason},
            reason=reason,
        )
    return locked


def ballot_restore(*, ballot: Ballot, reason: str, user: Any) -> Ballot:
    """Undo a manual invalidation: the ballot is judged again on its own and its serial."""
    reason = (reason or "").strip()
    if not reason:
        raise BallotError("请填写恢复的原因")
    with transaction.atomic():
        _assert_ballots_writable(ballot.campaign_id)
        locked = Ballot.objects.select_for_update().get(pk=ballot.pk)
        if locked.invalid_reason != Ballot.Reason.MANUAL:
            raise BallotError("只有人工认定无效的选票可以恢复")
        status, why = own_validity(is_blank=locked.is_blank)
        locked.status, locked.invalid_reason, locked.invalid_note = status, why, ""
        locked.save(update_fields=["status", "invalid_reason", "invalid_note"])
        if locked.source == Ballot.Source.PAPER:
            refresh_serial_validity(locked.campaign, [locked.serial])
            locked.refresh_from_db(fields=["status", "invalid_reason"])
        audit(
            user=user,
            action="ballot_restore",
            obj=locked,
            campaign=locked.campaign,
            before={"invalid_reason": Ballot.Reason.MANUAL},
            after={"status": locked.status, "invalid_reason": locked.invalid_reason},
            reason=reason,
        )
    return locked


