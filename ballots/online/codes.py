"""Access codes (评议码): making, normalising, revoking and reissuing them, and the .xlsx list.

A code is 16 symbols drawn with `secrets` from a 30-symbol alphabet that has no look-alikes
(no 0/O, 1/I/L, and no U beside V), i.e. 16·log2(30) ≈ 78.5 bits: guessing one of a
campaign's codes at the rate-limited pace of code entry is hopeless. It is stored grouped
(XXXX-XXXX-XXXX-XXXX) so that what staff read aloud is exactly what the database holds;
whatever a representative types is normalised back to that form.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import secrets
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ballots import sql
from ballots.models import AccessCode, CodeAttempt
from campaigns.models import Campaign, Representative, RepresentativeGroup
from core.audit import audit

ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 16
GROUP = 4
RECEIPT_LENGTH = 10
# Dashes, spaces and their full-width forms that phones' Chinese keyboards produce.
_SEPARATORS = {"-", "_", " ", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\u3000"}


class CodeError(Exception):
    """A code operation refused; the message is shown to staff as is."""


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def grouped(raw: str, size: int = GROUP) -> str:
    return "-".join(raw[i : i + size] for i in range(0, len(raw), size))


def new_code() -> str:
    return grouped(_random(CODE_LENGTH))


def new_receipt() -> str:
    """A receipt number: random, so it says nothing about the code or the ballot."""
    return grouped(_random(RECEIPT_LENGTH), 5)


def normalise(text: str) -> str | None:
    """The stored form of what a representative typed, or None if it cannot be a code.

    Full-width letters become ASCII (NFKC), case and separators are ignored."""
    folded = unicodedata.normalize("NFKC", text or "").upper()
    raw = "".join(ch for ch in folded if ch not in _SEPARATORS and not ch.isspace())
    if len(raw) != CODE_LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return grouped(raw)


def _create_codes(
    campaign: Campaign,
    specs: Iterable[tuple[Representative | None, RepresentativeGroup | None]],
    replaces: AccessCode | None = None,
) -> list[AccessCode]:
    made: list[AccessCode] = []
    for rep, grp in specs:
        # 78 bits make a collision practically impossible; the unique constraint still has the
        # last word, and a savepoint lets us draw again instead of failing the whole batch.
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    made.append(
                        AccessCode.objects.create(
                            campaign=campaign,
                            code=new_code(),
                            representative=rep,
                            group=grp,
                            replaces=replaces,
                        )
                    )
                break
            except IntegrityError:
                continue
        else:  # pragma: no cover - needs five collisions in a row
            raise CodeError(_("无法生成不重复的评议码,请重试"))
    return made


def codes_for_representatives(*, campaign: Campaign, user: Any) -> list[AccessCode]:
    """One code for each representative of the campaign who has no active or used code yet."""
    with transaction.atomic():
        reps = (
            Representative.objects.filter(campaign=campaign)
            .exclude(codes__status__in=[AccessCode.Status.ACTIVE, AccessCode.Status.USED])
            .select_related("group")
            .order_by("group__order", "name", "pk")
        )
        made = _create_codes(campaign, ((r, r.group) for r in reps))
        if made:
            audit(
                user=user,
                action="codes.generate",
                campaign=campaign,
                after={"count": len(made), "named": True},
                object_repr=_("为 %(n)d 名评议代表生成评议码") % {"n": len(made)},
            )
    return made


def codes_unnamed(
    *, campaign: Campaign, count: int, group: RepresentativeGroup | None, user: Any
) -> list[AccessCode]:
    """Unnamed codes in bulk, e.g. for a walk-in session; optionally tied to a group."""
    if count < 1 or count > 5000:
        raise CodeError(_("一次可生成 1 到 5000 个评议码"))
    if group is not None and group.campaign_id != campaign.pk:
        raise CodeError(_("代表类别不属于本评议活动"))
    with transaction.atomic():
        made = _create_codes(campaign, [(None, group)] * count)
        audit(
            user=user,
            action="codes.generate",
            campaign=campaign,
            after={"count": count, "named": False, "group": group.name if group else None},
            object_repr=_("生成 %(n)d 个不记名评议码") % {"n": count},
        )
    return made


def code_revoke(*, code: AccessCode, user: Any, reason: str) -> AccessCode:
    """Revoke an unused code (lost slip, wrong person). A used code cannot be revoked: its
    ballot is in, and in an anonymous campaign nothing could find that ballot anyway."""
    reason = (reason or "").strip()
    if not reason:
        raise CodeError(_("请填写作废原因"))
    with transaction.atomic():
        n = AccessCode.objects.filter(pk=code.pk, status=AccessCode.Status.ACTIVE).update(
            status=AccessCode.Status.REVOKED
        )
        if n == 0:
            raise CodeError(_("评议码 %(c)s 不是未使用状态,不能作废") % {"c": code.code})
        audit(
            user=user,
            action="code.revoke",
            obj=code,
            campaign=code.campaign,
            before={"status": AccessCode.Status.ACTIVE},
            after={"status": AccessCode.Status.REVOKED},
            reason=reason,
        )
    code.status = AccessCode.Status.REVOKED
    return code


def code_reissue(*, code: AccessCode, user: Any, reason: str) -> AccessCode:
    """Revoke an unused (or already revoked) code and give its holder a new one."""
    reason = (reason or "").strip()
    if not reason:
        raise CodeError(_("请填写补发原因"))
    with transaction.atomic():
        locked = AccessCode.objects.select_for_update().get(pk=code.pk)
        if locked.status == AccessCode.Status.USED:
            raise CodeError(_("评议码 %(c)s 已使用,不能补发") % {"c": locked.code})
        if AccessCode.objects.filter(replaces=locked).exists():
            raise CodeError(_("评议码 %(c)s 已补发过") % {"c": locked.code})
        before = locked.status
        if locked.status == AccessCode.Status.ACTIVE:
            locked.status = AccessCode.Status.REVOKED
            locked.save(update_fields=["status"])
        (new,) = _create_codes(
            locked.campaign, [(locked.representative, locked.group)], replaces=locked
        )
        audit(
            user=user,
            action="code.reissue",
            obj=locked,
            campaign=locked.campaign,
            before={"status": before, "code": locked.code},
            after={"status": AccessCode.Status.REVOKED, "new_code": new.code},
            reason=reason,
        )
    return new


# --- the .xlsx list for mail-merge -------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@")


def _text_cell(ws: Any, row: int, col: int, value: Any) -> None:
    """Write a value; strings that a spreadsheet would run as a formula stay text."""
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True


def codes_xlsx(campaign: Campaign, codes: QuerySet[AccessCode], link_for: Any) -> bytes:
    """The codes as a sheet for mail-merge: one row per code with its ballot link.

    `link_for(code) -> str` builds the absolute link (it needs the site address)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "评议码"
    header = [
        "评议码",
        "评议链接",
        "姓名",
        "代表类别",
        "片区",
        "单位及职务",
        "手机",
        "状态",
        "发放日期",
    ]
    for col, title in enumerate(header, start=1):
        ws.cell(row=1, column=col, value=title)
    for r, code in enumerate(
        codes.select_related("representative", "group").order_by(
            "group__order", "representative__name", "code"
        ),
        start=2,
    ):
        rep = code.representative
        values = [
            code.code,
            link_for(code),
            rep.name if rep else "",
            code.group.name if code.group else "",
            rep.district if rep else "",
            rep.affiliation if rep else "",
            rep.phone if rep else "",
            code.get_status_display(),
            code.issued_on.isoformat() if code.issued_on else "",
        ]
        for col, value in enumerate(values, start=1):
            _text_cell(ws, r, col, str(value))
    for letter, width in zip("ABCDEFGHI", (22, 60, 12, 18, 12, 30, 16, 8, 12), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- wrong-code limit ---------------------------------------------------------------------
# Failures are CodeAttempt rows, so every application server sees the same count and staff
# can look at them. Only failures count: a hall of representatives typing their own valid
# codes from one NAT address is never slowed down.


def attempt_record(*, client: str, campaign: Campaign | None, reason: str) -> None:
    CodeAttempt.objects.create(client=client[:64], campaign=campaign, reason=reason[:20])


def attempt_wait_minutes(client: str, *, recent: int | None = None) -> int:
    """0 if `client` may try a code now, else the whole minutes until it may. `recent`: the
    count of `recent_attempts_sql`, when the caller has asked it already."""
    limit = settings.PINGYI_CODE_ATTEMPTS_PER_WINDOW
    window = settings.PINGYI_CODE_WINDOW_SECONDS
    now = timezone.now()
    since = now - dt.timedelta(seconds=window)
    # Every online submission asks this, and nearly always the answer is 0: a plain count
    # first (building the ORM query cost more than running it), the times only when needed.
    if recent is None:
        recent = sql.recent_attempts(client)
    if recent < limit:
        return 0
    times = list(
        CodeAttempt.objects.filter(client=client[:64], at__gt=since)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(times) < limit:
        return 0
    # The limit lifts when the oldest of the last `limit` failures leaves the window.
    free_at = times[-1] + dt.timedelta(seconds=window)
    return max(1, math.ceil((free_at - now).total_seconds() / 60))


# --- PostgreSQL's transaction ids -------------------------------------------------------
# A code is marked used in the same transaction that writes its ballot (it must be: that is
# what makes the code single-use). PostgreSQL stamps every row version with the id of the
# transaction that wrote it (the hidden `xmin` column), so right after a submission the code
# row and the ballot row share an xmin, and a database administrator could join them. Rewriting
# all used codes of a campaign in ONE transaction gives them all the same, new xmin and ends
# that link for every code so far (the old row versions are dead and go with the next VACUUM).


def codes_scrub_traces(*, campaign: Campaign, user: Any = None) -> int:
    """Rewrite the used codes of an anonymous campaign in one transaction; return how many.

    Run it when voting closes (and, during long campaigns, e.g. nightly), then VACUUM."""
    if not campaign.anonymous:
        return 0
    with transaction.atomic():
        n = AccessCode.objects.filter(campaign=campaign, status=AccessCode.Status.USED).update(
            receipt=F("receipt")
        )
        audit(
            user=user,
            action="codes.scrub",
            campaign=campaign,
            after={"codes": n},
            object_repr=_("重写 %(n)d 个已使用评议码的事务号") % {"n": n},
        )
    return n
