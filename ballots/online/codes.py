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
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from ballots import sql
from ballots.models import AccessCode, Ballot, CodeAttempt
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


def _keyed(purpose: str, campaign_id: int, code: str) -> bytes:
    return salted_hmac(
        f"pingyi.{purpose}", f"{campaign_id}:{code}", secret=settings.PINGYI_BALLOT_KEY,
        algorithm="sha256",
    ).digest()


def ballot_token(campaign_id: int, code: str) -> str:
    """What an anonymous ballot records of its code: an HMAC under the application's key.

    Unique among ballots, so one code makes one ballot. Whoever holds the key can compute it
    for every code and so link ballots to codes (the application does, to tell a voter their
    code was used); a database administrator without the key cannot (README, threat model)."""
    return _keyed("ballot-token", campaign_id, code).hex()


def receipt_for(campaign_id: int, code: str) -> str:
    """The receipt of a code's ballot: derived from the code under the key, so it needs no
    storage when the code votes, the same receipt comes back on a repeated submission, and it
    says nothing about the code or the ballot to anyone without the key."""
    digest = _keyed("receipt", campaign_id, code)
    n = int.from_bytes(digest, "big")
    chars = []
    for _i in range(RECEIPT_LENGTH):
        n, k = divmod(n, len(ALPHABET))
        chars.append(ALPHABET[k])
    return grouped("".join(chars), 5)


def normalise_receipt(text: str) -> str | None:
    """The stored form of a receipt number someone typed, or None if it cannot be one
    (full-width, case and separators forgiven, as for codes)."""
    folded = unicodedata.normalize("NFKC", text or "").upper()
    raw = "".join(ch for ch in folded if ch not in _SEPARATORS and not ch.isspace())
    if len(raw) != RECEIPT_LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return grouped(raw, 5)


def receipt_counted(campaign: Campaign, text: str) -> bool | None:
    """Whether a ballot with this receipt was received and is in the published count (None:
    not a receipt number at all).

    Answered from the codes alone, never from a ballot's row: a code's row records that it
    was spent and the receipt it was given (for an anonymous campaign, only since voting
    closed: codes_settle). So checking a receipt creates no link from a receipt to any
    ballot's answers, and says nothing but yes or no."""
    normal = normalise_receipt(text)
    if normal is None:
        return None
    return AccessCode.objects.filter(
        campaign=campaign, status=AccessCode.Status.USED, receipt=normal
    ).exists()


def mask(code: str) -> str:
    """How a code is named where it must not be readable (audit log, admin, messages): its
    first group only, enough to match a slip, far too little to vote with."""
    return f"{code[:GROUP]}-…"


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


def _lock_and_check_unused(code: AccessCode) -> AccessCode:
    """Lock the campaign row (FOR UPDATE: submissions hold it FOR SHARE, so none is in flight
    and none starts until this transaction ends) and the code; refuse a code that has voted.
    In an anonymous campaign that is known from its token, not from its row."""
    Campaign.objects.select_for_update().filter(pk=code.campaign_id).first()
    locked = AccessCode.objects.select_for_update().get(pk=code.pk)
    if locked.status == AccessCode.Status.USED or Ballot.objects.filter(
        token=ballot_token(locked.campaign_id, locked.code)
    ).exists():
        raise CodeError(_("评议码 %(c)s 已使用") % {"c": mask(locked.code)})
    return locked


def code_revoke(*, code: AccessCode, user: Any, reason: str) -> AccessCode:
    """Revoke an unused code (lost slip, wrong person). A used code cannot be revoked: its
    ballot is in, and in an anonymous campaign nothing could find that ballot anyway."""
    reason = (reason or "").strip()
    if not reason:
        raise CodeError(_("请填写作废原因"))
    with transaction.atomic():
        locked = _lock_and_check_unused(code)
        if locked.status != AccessCode.Status.ACTIVE:
            raise CodeError(_("评议码 %(c)s 不是未使用状态,不能作废") % {"c": mask(locked.code)})
        locked.status = AccessCode.Status.REVOKED
        locked.save(update_fields=["status"])
        audit(
            user=user,
            action="code.revoke",
            obj=locked,
            campaign=locked.campaign,
            before={"status": AccessCode.Status.ACTIVE},
            after={"status": AccessCode.Status.REVOKED},
            reason=reason,
        )
    code.status = AccessCode.Status.REVOKED
    return code


def code_reissue(*, code: AccessCode, user: Any, reason: str) -> AccessCode:
    """Revoke an unused (or already revoked) code and give its holder a new one. The log
    names both codes by id and by their first group only: a logged code could vote."""
    reason = (reason or "").strip()
    if not reason:
        raise CodeError(_("请填写补发原因"))
    with transaction.atomic():
        locked = _lock_and_check_unused(code)
        if AccessCode.objects.filter(replaces=locked).exists():
            raise CodeError(_("评议码 %(c)s 已补发过") % {"c": mask(locked.code)})
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
            before={"status": before, "code": mask(locked.code)},
            after={"status": AccessCode.Status.REVOKED, "new_code_id": str(new.pk),
                   "new_code": mask(new.code)},
            reason=reason,
        )
    return new


def voted_on(code: AccessCode) -> dt.date | None:
    """The day the code's ballot came in, or None if it has not voted (in an anonymous
    campaign, known from its token until voting closes)."""
    if code.status == AccessCode.Status.USED:
        return code.used_on or timezone.localdate()
    if code.status != AccessCode.Status.ACTIVE:
        return None
    return (
        Ballot.objects.filter(token=ballot_token(code.campaign_id, code.code))
        .values_list("received_on", flat=True)
        .first()
    )


def receipt_of(code: AccessCode) -> str:
    """The receipt of a code that has voted: stored for a named campaign, derived otherwise."""
    return code.receipt or receipt_for(code.campaign_id, code.code)


def used_code_ids(campaign: Campaign) -> set[Any]:
    """Ids of the campaign's codes that have voted. In an anonymous campaign a code's row
    says so only once voting has closed (codes_settle); until then its token in the ballots
    does, which only the application, holding the key, can compute."""
    used = set(
        AccessCode.objects.filter(campaign=campaign, status=AccessCode.Status.USED).values_list(
            "pk", flat=True
        )
    )
    if campaign.anonymous:
        active = list(
            AccessCode.objects.filter(campaign=campaign, status=AccessCode.Status.ACTIVE)
            .values_list("pk", "code")
        )
        by_token = {ballot_token(campaign.pk, code): pk for pk, code in active}
        tokens = list(by_token)
        for start in range(0, len(tokens), 500):  # within SQLite's parameter limit
            found = Ballot.objects.filter(token__in=tokens[start : start + 500]).values_list(
                "token", flat=True
            )
            used |= {by_token[t] for t in found if t is not None}
    return used


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


# --- Closing an anonymous campaign ------------------------------------------------------------
# While voting goes on, an anonymous code's row is never written (submit.py): its ballot holds
# only its token. When voting closes, every code that voted is marked used in ONE transaction,
# so the code rows all carry that one transaction and no row, log record or time pairs a code
# with a ballot; and the ballots are rewritten in random order (sql.shuffle_ballots), so they
# no longer lie in arrival order either. `manage.py scrub_code_traces` runs both (again) and
# then VACUUMs, removing the old row versions.


def codes_settle(*, campaign: Campaign, today: dt.date | None = None) -> int:
    """Mark every code of an anonymous campaign that has voted as used, with its receipt, in
    this one transaction; return how many were marked."""
    used = used_code_ids(campaign)
    pending = list(
        AccessCode.objects.filter(pk__in=used, status=AccessCode.Status.ACTIVE).only(
            "pk", "code", "campaign_id"
        )
    )
    day = today or timezone.localdate()
    for code in pending:
        code.status, code.used_on = AccessCode.Status.USED, day
        code.receipt = receipt_for(campaign.pk, code.code)
    AccessCode.objects.bulk_update(pending, ["status", "used_on", "receipt"], batch_size=1000)
    return len(pending)


def codes_scrub_traces(*, campaign: Campaign, user: Any = None) -> int:
    """Close the books of an anonymous campaign's codes: settle them (codes_settle) and
    shuffle its ballots, each in one transaction; return how many ballots were moved."""
    if not campaign.anonymous:
        return 0
    with transaction.atomic():
        settled = codes_settle(campaign=campaign)
    with transaction.atomic():
        moved = sql.shuffle_ballots(campaign.pk)
        audit(
            user=user,
            action="codes.scrub",
            campaign=campaign,
            after={"codes_settled": settled, "ballots_shuffled": moved},
            object_repr=_("标记 %(n)d 个已使用的评议码,并打乱 %(m)d 张选票的存储顺序")
            % {"n": settled, "m": moved},
        )
    return moved
