"""Writes that matter: recording a ballot, invalidating and restoring one.

Every path that creates ballots (online submission, keyed paper entry, spreadsheet import)
reads the ballot with `read_answers` (spec section 2), so there is one implementation of
"blank", "spoiled" and `blank_means`. Functions are keyword-only, atomic, and rely on database
constraints (one vote per unit and dimension, status/reason consistency) as the last guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ballots.models import AccessCode, Ballot, Comment, ImportBatch, Vote
from ballots.validity import own_validity, refresh_serial_validity
from campaigns.audit import audit
from campaigns.models import Campaign, RepresentativeGroup


class BallotError(Exception):
    """A ballot that cannot be recorded; the message is shown to the user as is."""


@dataclass(frozen=True)
class Answer:
    """What one ballot says about one unit (and dimension).

    `option_id` is the marked option, or None when nothing is marked; `spoiled` means several
    options were marked (paper only)."""

    unit_id: int
    dimension_id: int | None
    option_id: int | None
    spoiled: bool = False


@dataclass(frozen=True)
class VoteRow:
    unit_id: int
    dimension_id: int | None
    option_id: int | None
    kind: str


@dataclass(frozen=True)
class Reading:
    is_blank: bool
    votes: tuple[VoteRow, ...]


@dataclass(frozen=True)
class Layout:
    """The cells a ballot of the campaign has: (unit, dimension) pairs, and the scale."""

    cells: tuple[tuple[int, int | None], ...]
    option_ids: frozenset[int]
    blank_means_id: int | None

    @classmethod
    def of(cls, campaign: Campaign) -> Layout:
        units = list(
            campaign.units.order_by("category__order", "order", "id").values_list("id", flat=True)
        )
        dims: list[int | None] = list(
            campaign.dimensions.order_by("order", "id").values_list("id", flat=True)
        )
        if not dims:
            dims = [None]
        return cls(
            cells=tuple((u, d) for u in units for d in dims),
            option_ids=frozenset(campaign.options.values_list("id", flat=True)),
            blank_means_id=campaign.blank_means_id,
        )


def read_answers(layout: Layout, answers: Iterable[Answer]) -> Reading:
    """Spec section 2 for one ballot: one vote row per cell of the layout.

    A cell the answers do not mention is unmarked. Raises BallotError for an answer about a
    unit, dimension or option that is not part of the campaign, or for a cell answered twice.
    """
    given: dict[tuple[int, int | None], Answer] = {}
    cells = set(layout.cells)
    for a in answers:
        key = (a.unit_id, a.dimension_id)
        if key not in cells:
            raise BallotError(f"单位或评议内容不属于本次评议:{key}")
        if key in given:
            raise BallotError(f"同一单位重复作答:{key}")
        if a.option_id is not None and a.option_id not in layout.option_ids:
            raise BallotError(f"评价等次不属于本次评议:{a.option_id}")
        given[key] = a
    marked = any(a.spoiled or a.option_id is not None for a in given.values())
    rows: list[VoteRow] = []
    for unit_id, dim_id in layout.cells:
        a = given.get((unit_id, dim_id))
        if a is not None and a.spoiled:
            rows.append(VoteRow(unit_id, dim_id, None, Vote.Kind.SPOILED))
        elif a is not None and a.option_id is not None:
            rows.append(VoteRow(unit_id, dim_id, a.option_id, Vote.Kind.OPTION))
        elif layout.blank_means_id is not None:
            rows.append(VoteRow(unit_id, dim_id, layout.blank_means_id, Vote.Kind.OPTION))
        else:
            rows.append(VoteRow(unit_id, dim_id, None, Vote.Kind.BLANK))
    return Reading(is_blank=not marked, votes=tuple(rows))


def ballot_create(
    *,
    campaign: Campaign,
    source: str,
    answers: Iterable[Answer],
    serial: str = "",
    channel: str = "",
    group: RepresentativeGroup | None = None,
    district: str = "",
    comments: Mapping[int | None, str] | None = None,
    batch: ImportBatch | None = None,
    access_code: AccessCode | None = None,
    layout: Layout | None = None,
) -> Ballot:
    """Record one ballot with its votes and comments, and re-derive duplicate serials.

    Call inside the caller's transaction when it must be atomic with other writes (e.g. the
    access code update); on its own it is atomic too.
    """
    if access_code is not None and campaign.anonymous:
        # Secrecy by construction: an anonymous campaign never stores the link.
        raise BallotError("匿名评议不得记录评议码与选票的关联")
    if source == Ballot.Source.PAPER and not serial:
        raise BallotError("纸质选票必须有编号")
    reading = read_answers(layout or Layout.of(campaign), answers)
    status, reason = own_validity(is_blank=reading.is_blank)
    with transaction.atomic():
        ballot = Ballot.objects.create(
            campaign=campaign,
            source=source,
            serial=serial,
            channel=channel,
            group=group,
            district=district,
            status=status,
            invalid_reason=reason,
            is_blank=reading.is_blank,
            batch=batch,
            access_code=access_code,
        )
        Vote.objects.bulk_create(
            Vote(
                ballot=ballot,
                campaign=campaign,
                unit_id=v.unit_id,
                dimension_id=v.dimension_id,
                option_id=v.option_id,
                kind=v.kind,
            )
            for v in reading.votes
        )
        texts = [(u, t.strip()) for u, t in (comments or {}).items() if t and t.strip()]
        Comment.objects.bulk_create(
            Comment(ballot=ballot, campaign=campaign, unit_id=u, text=t[:2000]) for u, t in texts
        )
        if source == Ballot.Source.PAPER:
            refresh_serial_validity(campaign, [serial])
            ballot.refresh_from_db(fields=["status", "invalid_reason"])
    return ballot


def ballot_invalidate(*, ballot: Ballot, reason: str, user: Any) -> Ballot:
    """Staff judge a ballot invalid (e.g. a photocopy), with a written reason."""
    reason = (reason or "").strip()
    if not reason:
        raise BallotError("请填写认定无效的原因")
    with transaction.atomic():
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
