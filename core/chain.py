"""The audit log's hash chains: an entry that is edited, deleted or slipped in afterwards,
even straight in the database, no longer fits the chain, and `manage.py verify_audit` says so.

Definition (frozen: changing any detail breaks every chain already written)
-----------------------------------------------------------------------------

Every AuditLog entry has three hashes, each 64 lowercase hexadecimal digits:

* ``prev_hash``: the ``hash`` of the entry before it in the global chain, which is all entries
  in id order; "" for the first entry (genesis).
* ``campaign_prev_hash``: the ``hash`` of the entry before it with the same ``campaign_id``;
  "" for the first entry of its campaign and for every entry without a campaign.
* ``hash``: SHA-256 of the entry's canonical content, in hexadecimal::

      hash = sha256(json.dumps(content, ensure_ascii=False, sort_keys=True,
                               separators=(",", ":")).encode("utf-8")).hexdigest()

  where ``content`` is a JSON object with exactly these 13 keys:

  ==================== ==============================================================
  at                   the entry's time in UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always
                       six digits of microseconds, e.g. "2026-12-02T03:29:13.042000Z")
  username             text ("system" for entries made without a signed-in user)
  campaign_id          integer, or null for an entry without campaign
  campaign_slug        text ("" without campaign)
  action               text
  object_type          text, e.g. "campaigns.Campaign" ("" when none)
  object_id            text ("" when none)
  object_repr          text (at most 300 characters, as stored)
  before               the stored JSON value, or null
  after                the stored JSON value, or null
  reason               text
  prev_hash            text, as above
  campaign_prev_hash   text, as above
  ==================== ==============================================================

  Inside ``before`` and ``after`` a floating-point number with a whole value is written as
  the integer that its shortest decimal form (Python's ``repr``) names: 2.0 as 2, 1e16 as
  10000000000000000, 1e300 as 1 followed by 300 zeros. PostgreSQL's jsonb gives such numbers
  back as integers, and the hash must come out the same from either database. Keys of
  objects are sorted at every depth (sort_keys); text is UTF-8, unescaped (ensure_ascii=False).

The user account's id is left out on purpose: it is set to null when an account is deleted,
which is not tampering (``username`` keeps who it was).

Heads
-----

AuditChainHead keeps the end of each chain: key "global", or "campaign:<id>", with the hash
of the chain's last entry, the number of entries and the last entry's id. `audit()` (through
`append`) locks the global head row first, in the caller's transaction, then reads the
campaign's head, computes the hashes, inserts the entry and moves both heads, so entries are
chained one at a time even with several app servers on one database. Because every writer
takes the global lock first, two writers never wait on each other's heads; the lock is held
until the caller's transaction ends, so code should take its own row locks before it logs.

`verify()` walks a chain in id order, recomputes every hash, checks every link and compares
the last entry with the head. It proves the log was not changed *after* an entry was written;
someone who can rewrite the whole database can rewrite the whole chain, so keep the head hash
printed by `manage.py verify_audit` somewhere else (a printed report, a mail) now and then.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from core.models import AuditChainHead, AuditLog

GLOBAL = AuditChainHead.GLOBAL

# The entry's fields that go into its hash, in the order of the docstring's table.
HASHED_FIELDS = (
    "at",
    "username",
    "campaign_id",
    "campaign_slug",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "reason",
    "prev_hash",
    "campaign_prev_hash",
)

# Why verify() stopped at an entry.
MODIFIED = "内容被修改"
MISSING_PREV = "前一条记录缺失或被删除"
INSERTED = "插入的记录"
HEAD_MISMATCH = "链尾与记录不符"
HEAD_MISSING = "链尾记录缺失或被删除"


def campaign_key(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def at_text(at: dt.datetime) -> str:
    """The entry's time as hashed: UTC, always with microseconds."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        # The integer its shortest decimal form names (1e300 is 10**300, not int(1e300)):
        # that form is what was stored, and what jsonb gives back.
        return int(Decimal(repr(value)))
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_hash(content: Mapping[str, Any]) -> str:
    """The hash of an entry given as a mapping of HASHED_FIELDS (values as stored)."""
    data = {name: content[name] for name in HASHED_FIELDS}
    data["at"] = at_text(data["at"])
    data["before"] = _numbers(data["before"])
    data["after"] = _numbers(data["after"])
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def entry_hash(entry: Any) -> str:
    """What `entry.hash` must be (works on historical models in migrations too)."""
    return content_hash({name: getattr(entry, name) for name in HASHED_FIELDS})


# ---------------------------------------------------------------------------------------------
# Writing


def _lock_global() -> AuditChainHead:
    heads = AuditChainHead.objects
    if not connection.features.has_select_for_update and (
        connection.settings_dict.get("OPTIONS", {}).get("transaction_mode") != "IMMEDIATE"
    ):
        # SQLite takes its one write lock at BEGIN when transactions begin IMMEDIATE (the
        # settings' choice); otherwise a write takes it now, until the transaction ends.
        heads.filter(pk=GLOBAL).update(count=F("count"))
    try:
        return heads.select_for_update().get(pk=GLOBAL)
    except AuditChainHead.DoesNotExist:
        # Made by the migration; only a flushed database (tests) lacks it. get_or_create
        # survives a race with another writer making it.
        heads.get_or_create(pk=GLOBAL)
        return heads.select_for_update().get(pk=GLOBAL)


def append(fields: dict[str, Any]) -> AuditLog:
    """Write one entry (AuditLog fields without the hashes), chained. In the caller's
    transaction when there is one, so the entry and its heads commit or roll back with it."""
    fields = {**fields, "at": fields.get("at") or timezone.now()}
    with transaction.atomic(savepoint=False):
        top = _lock_global()
        campaign_id = fields.get("campaign_id")
        mine: AuditChainHead | None = None
        if campaign_id is not None:
            # No other writer can be here: the global lock is held.
            try:
                mine = AuditChainHead.objects.get(pk=campaign_key(campaign_id))
            except AuditChainHead.DoesNotExist:
                mine = AuditChainHead.objects.create(key=campaign_key(campaign_id))
        fields["prev_hash"] = top.hash
        fields["campaign_prev_hash"] = mine.hash if mine is not None else ""
        fields["hash"] = content_hash({f: fields.get(f) for f in HASHED_FIELDS})
        entry = AuditLog.objects.create(**fields)
        keys = [top.pk] if mine is None else [top.pk, mine.pk]
        AuditChainHead.objects.filter(pk__in=keys).update(
            hash=entry.hash, count=F("count") + 1, last_id=entry.pk
        )
    return entry


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class Broken:
    id: int | None
    reason: str
    at: dt.datetime | None = None
    action: str = ""


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    head: str
    broken: Broken | None = None
    campaign_id: int | None = field(default=None)

    def as_json(self) -> dict[str, Any]:
        broken = self.broken
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "broken": None if broken is None else {"id": broken.id, "reason": broken.reason},
        }


@dataclass(frozen=True)
class _Head:
    hash: str
    count: int
    last_id: int


def _read_head(key: str) -> _Head:
    row = AuditChainHead.objects.filter(pk=key).values_list("hash", "count", "last_id").first()
    if row is None:
        return _Head("", 0, 0)
    return _Head(row[0], row[1], row[2] or 0)


def chain_head(campaign_id: int | None = None) -> str:
    """The hash of the chain's last entry as its head row says, "" when it has none."""
    return _read_head(GLOBAL if campaign_id is None else campaign_key(campaign_id)).hash


def _chain(campaign_id: int | None) -> QuerySet[AuditLog]:
    qs = AuditLog.objects.all()
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    return qs.order_by("id")


class _Walk:
    """The entries of a chain in id order, streamed; follows the head while others append, so
    an entry committed during the walk is neither missed nor taken for an inserted one."""

    def __init__(self, campaign_id: int | None) -> None:
        self.key = GLOBAL if campaign_id is None else campaign_key(campaign_id)
        self.qs = _chain(campaign_id)
        self.head = _read_head(self.key)
        self._ahead: list[AuditLog] = []
        self._it = self._entries()

    def _entries(self) -> Generator[AuditLog, None, None]:
        done = 0  # every entry with id <= done has been yielded
        while True:
            part = self.qs.filter(id__gt=done, id__lte=self.head.last_id)
            yield from part.iterator(chunk_size=2000)
            done = max(done, self.head.last_id)
            beyond = self.qs.filter(id__gt=done).first()
            if beyond is None:
                return
            # Appended since the head was read? Its head was committed with it.
            newer = _read_head(self.key)
            if newer.last_id >= beyond.pk:
                self.head = newer
                continue
            # Not covered by the head: slipped in. Yield the rest for the walker to judge.
            yield from self.qs.filter(id__gt=done).iterator(chunk_size=2000)
            return

    def close(self) -> None:
        # Now, not whenever the garbage collector gets to it: an abandoned server-side cursor
        # closed in the middle of another query on the connection (PostgreSQL) hangs it.
        self._it.close()

    def next(self) -> AuditLog | None:
        if self._ahead:
            return self._ahead.pop()
        return next(self._it, None)

    def peek(self) -> AuditLog | None:
        if not self._ahead:
            entry = next(self._it, None)
            if entry is None:
                return None
            self._ahead.append(entry)
        return self._ahead[-1]


def verify(campaign_id: int | None = None) -> VerifyResult:
    """Walk one chain (the global one, or a campaign's) and say whether it is whole; when not,
    name the first entry where it breaks and why."""
    walk = _Walk(campaign_id)
    try:
        return _verify(walk, campaign_id)
    finally:
        walk.close()


def _verify(walk: _Walk, campaign_id: int | None) -> VerifyResult:
    link = "prev_hash" if campaign_id is None else "campaign_prev_hash"
    expected = ""  # the hash the next entry must link to
    before_last: str | None = None  # the hash the last accepted entry linked to
    last: AuditLog | None = None
    count = 0

    def broken(entry: AuditLog | None, reason: str, entry_id: int | None = None) -> VerifyResult:
        b = Broken(
            id=entry.pk if entry is not None else entry_id,
            reason=reason,
            at=entry.at if entry is not None else None,
            action=entry.action if entry is not None else "",
        )
        return VerifyResult(False, count, walk.head.hash, b, campaign_id)

    while (entry := walk.next()) is not None:
        if entry.pk > walk.head.last_id:
            return broken(entry, INSERTED)
        own = entry_hash(entry)
        prev = getattr(entry, link)
        if own == entry.hash and prev == expected:
            before_last, expected, last = expected, entry.hash, entry
            count += 1
            continue
        after = walk.peek()
        skipped = after is not None and getattr(after, link) == expected  # the next skips it
        if skipped and getattr(after, link) != entry.hash:
            return broken(entry, INSERTED)
        if own != entry.hash:
            return broken(entry, MODIFIED)
        if last is not None and prev == before_last:
            # It links to where the last one did: the last one was slipped in between.
            count -= 1
            return broken(last, INSERTED)
        return broken(entry, MISSING_PREV)

    head = walk.head
    if last is None and head.count == 0 and head.hash == "":
        return VerifyResult(True, 0, "", None, campaign_id)
    if last is None or last.pk < head.last_id:
        return broken(None, HEAD_MISSING, entry_id=head.last_id or None)
    if expected != head.hash or count != head.count or last.pk != head.last_id:
        return broken(last, HEAD_MISMATCH)
    return VerifyResult(True, count, head.hash, None, campaign_id)


def audit_rows(campaign_id: int) -> Iterator[list[str]]:
    """A campaign's entries for a CSV file: a header row, then one row per entry in id order,
    with every field its hash covers written as hashed (time in UTC, before and after as
    canonical JSON, "" for none), so the file can be checked on its own
    (`python3 -m recount.audit FILE.csv`)."""
    yield [
        "编号",
        "时间(UTC)",
        "用户",
        "活动编号",
        "活动",
        "操作",
        "对象类型",
        "对象",
        "对象名称",
        "修改前",
        "修改后",
        "原因",
        "前一条哈希(全局链)",
        "前一条哈希(活动链)",
        "哈希",
    ]
    for e in _chain(campaign_id).iterator(chunk_size=2000):
        yield [
            str(e.pk),
            at_text(e.at),
            e.username,
            "" if e.campaign_id is None else str(e.campaign_id),
            e.campaign_slug,
            e.action,
            e.object_type,
            e.object_id,
            e.object_repr,
            "" if e.before is None else canonical_json(_numbers(e.before)),
            "" if e.after is None else canonical_json(_numbers(e.after)),
            e.reason,
            e.prev_hash,
            e.campaign_prev_hash,
            e.hash,
        ]
