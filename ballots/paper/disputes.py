"""Disputes between two passes of double entry, voiding an entry, and what blocks closing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ballots.models import Ballot, KeyedEntry
from ballots.paper.cells import RESOLVE_PERM, PaperError, options_of, parse_keys, rows_of
from ballots.paper.keying import _assert_writable, _make_ballot
from ballots.paper.ranges import Ranges
from ballots.services import (
    Layout,
)
from campaigns.models import Campaign
from core.audit import audit

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
