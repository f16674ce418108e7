"""Seeded synthetic campaigns: 66 units in the three categories of 000, ballots as clerks key
them (.xlsx) or as the database holds them (COPY)."""

from __future__ import annotations

import io
import random
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl

from demo.data import CHANNELS, UNITS_000

if TYPE_CHECKING:  # imported inside the functions: Django is set up by then
    from campaigns.models import Campaign

CACHE = Path(__file__).resolve().parent / ".cache"
GROUPS = ("服务对象", "党政干部", "各界代表")
SEED = 20261123


def unit_names() -> list[str]:
    return [n for names in UNITS_000.values() for n in names]


def make_campaign(slug: str) -> Campaign:
    """A 千人评议 campaign with the 66 units of 000 (open)."""
    from campaigns.models import Campaign, CampaignUnit, Unit
    from campaigns.services import campaign_create_from_preset

    Campaign.objects.filter(slug=slug).delete()
    c = campaign_create_from_preset(preset="qianren", slug=slug, name=f"基准 {slug}", year=2026)
    for category in c.categories.all():
        for order, name in enumerate(UNITS_000[category.name]):
            unit, _ = Unit.objects.get_or_create(name=name)
            CampaignUnit.objects.create(
                campaign=c, unit=unit, category=category, name=name, order=order
            )
    c.status = Campaign.Status.OPEN
    c.save(update_fields=["status"])
    return c


def _answer(rng: random.Random, quality: float) -> str | None:
    r = rng.random()
    if r < 0.03:
        return None  # blank: 弃权 under blank_means
    if r < 0.035:
        return "满意,不满意"  # two marks: spoiled
    if r < 0.03 + quality * 0.75:
        return "满意"
    if r < 0.03 + quality * 0.97:
        return "基本满意"
    return "不满意"


def ballots_xlsx(rows: int = 11_436, copies: int = 301) -> Path:
    """The 万人评议 size: `rows` keyed ballots of which `copies` repeat an earlier serial (a
    photocopy), so 2 × copies ballots are invalid: 11,436 − 602 = 10,834 valid."""
    path = CACHE / f"ballots-{rows}-{copies}-{SEED}.xlsx"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    rng = random.Random(SEED)
    names = unit_names()
    quality = {n: rng.uniform(0.6, 0.97) for n in names}
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("评议表")
    ws.append(["编号", "渠道", "代表类别", *names])
    unique = rows - copies
    copied = set(rng.sample(range(unique), copies))
    order = list(range(unique)) + sorted(copied)
    for i in order:
        ws.append(
            [f"{i + 1:06d}", rng.choice(CHANNELS), rng.choice(GROUPS)]
            + [_answer(rng, quality[n]) for n in names]
        )
    tmp = path.with_suffix(".tmp")
    wb.save(tmp)
    tmp.rename(path)
    return path


def _ordered_uuid(i: int, rand: int) -> uuid.UUID:
    """A valid version-4 UUID whose leading bits count up: bulk-loaded rows then append to
    the B-tree indexes instead of landing at random pages (load speed only; the product's
    ids stay fully random)."""
    return uuid.UUID(int=(i << 80) | (rand & ((1 << 80) - 1)), version=4)


def copy_ballots(campaign: Campaign, n: int, chunk: int = 20_000) -> None:
    """Load n valid online ballots answering every unit straight into the ballot table with
    COPY (for the 1,000,000-ballot tally; PostgreSQL only, as a superuser).

    Bulk-load practice for a benchmark fixture: foreign-key triggers are disabled during the
    load (the rows are built from the campaign's own ids, so they hold) and ids are ordered.
    The answers' CHECK constraint stays on: it is not a trigger."""
    from django.db import connection, transaction

    from ballots.answers import KIND_OPTION, Storage
    from ballots.models import Ballot

    rng = random.Random(SEED + n)
    storage = Storage.of(campaign)
    units = [u for u, _d in storage.cells]
    options = list(campaign.options.order_by("order").values_list("id", flat=True))
    weights = [60, 28, 5, 7][: len(options)]
    groups: list[int | None] = list(campaign.groups.values_list("id", flat=True)) or [None]
    cid = campaign.id
    null = "\\N"
    table = Ballot._meta.db_table
    # The stored element of each (slot, option), as text: one lookup per answer.
    table_of = [
        {o: str(storage.encode_one(slot, o, KIND_OPTION)) for o in options}
        for slot in range(len(units))
    ]
    # Above every id already in the tables (those are random, so start at the top bit).
    start = 1 << 47
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        raw = cur.cursor
        done = 0
        while done < n:
            m = min(chunk, n - done)
            ids = [_ordered_uuid(start + done + k, rng.getrandbits(80)) for k in range(m)]
            with raw.copy(
                f"COPY {table} (id, campaign_id, source, serial, channel, "
                "group_id, district, status, invalid_reason, invalid_note, is_blank, batch_id, "
                "access_code_id, received_on, answers) FROM STDIN"
            ) as copy:
                buf = io.StringIO()
                for bid in ids:
                    g = rng.choice(groups)
                    picks = rng.choices(options, weights=weights, k=len(units))
                    answers = ",".join([t[o] for t, o in zip(table_of, picks, strict=True)])
                    buf.write(
                        f"{bid}\t{cid}\tonline\t\t{rng.choice(CHANNELS)}\t"
                        f"{null if g is None else g}\t\tvalid\t\t\tf\t{null}\t{null}\t2026-11-23"
                        f"\t{{{answers}}}\n"
                    )
                copy.write(buf.getvalue())
            done += m
        cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")
    # Setup ends with the table as a vacuum leaves it (hint bits, visibility map,
    # statistics), as a campaign's table is long before anyone tallies it: otherwise the
    # first figure to read a million fresh rows writes their hint bits, or autovacuum (off
    # on this machine's server) works through them during the figures measured next.
    # (VACUUM cannot run inside a transaction, as in the tests: there ANALYZE alone.)
    with connection.cursor() as cur:
        vacuum = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        cur.execute(f"{vacuum} {table}")
