"""Seeded synthetic campaigns: 66 units in the three categories of 000, ballots as clerks key
them (.xlsx) or as the database holds them (COPY); and a 作风效能考评 assessment (preset
zuofeng) of many units with approved deductions and a survey section read from a campaign."""

from __future__ import annotations

import io
import random
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl

from demo.data import CHANNELS, UNITS_000

if TYPE_CHECKING:  # imported inside the functions: Django is set up by then
    from assessments.models import Assessment
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


def make_assessment(
    slug: str, units: int = 150, entries: int = 5_000, ballots: int = 1_000
) -> Assessment:
    """A 作风效能考评 (preset zuofeng, deduction mode) of `units` registry units in its one
    category, with `entries` approved deductions spread over its five items sections (as staff
    would have approved them, in bulk), and its 民主评议 section linked to a 千人评议 campaign
    of the same units holding `ballots` valid paper ballots. The rollup sections stay unlinked
    (they deduct 0). Made afresh: an earlier one of the same slug is deleted."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from assessments.config import assessment_create, section_link
    from assessments.models import Assessment, AssessmentUnit, Entry, Section
    from assessments.presets import preset_config
    from ballots.answers import KIND_OPTION, Storage
    from ballots.models import Ballot
    from campaigns.models import Campaign, CampaignUnit, Unit
    from campaigns.services import campaign_create_from_preset

    rng = random.Random(SEED + units * 7 + entries)
    Assessment.objects.filter(slug=slug).delete()  # first: it protects its campaign
    Campaign.objects.filter(slug=f"{slug}-survey").delete()
    registry = [
        Unit.objects.get_or_create(name=f"基准考核单位{i:03d}", parent=None)[0]
        for i in range(1, units + 1)
    ]

    # The survey: the same units in one category of a 千人评议 campaign, ballots bulk-made.
    campaign = campaign_create_from_preset(
        preset="qianren", slug=f"{slug}-survey", name=f"基准 {slug} 民主评议", year=2026
    )
    category = campaign.categories.order_by("order").first()
    assert category is not None
    CampaignUnit.objects.bulk_create(
        CampaignUnit(campaign=campaign, unit=u, category=category, name=u.name, order=i)
        for i, u in enumerate(registry)
    )
    campaign.status = Campaign.Status.OPEN
    campaign.save(update_fields=["status"])
    storage = Storage.of(campaign)
    options = {o.label: o.pk for o in campaign.options.all()}
    group = campaign.groups.order_by("pk").first()
    members = list(campaign.units.order_by("order").values_list("pk", flat=True))
    quality = {pk: rng.uniform(0.8, 1.0) for pk in members}
    made = []
    for i in range(ballots):
        cells = []
        for pk in members:
            r = rng.random()
            label = ("满意" if r < quality[pk] * 0.72 else
                     "基本满意" if r < quality[pk] * 0.97 else "不满意")
            cells.append((pk, None, options[label], KIND_OPTION))
        made.append(Ballot(campaign=campaign, source=Ballot.Source.PAPER, serial=f"{i + 1:06d}",
                           group=group, answers=storage.encode(cells)))
    Ballot.objects.bulk_create(made, batch_size=500)

    # The assessment, as create_assessment --preset zuofeng makes it.
    config = preset_config("zuofeng", 2026)
    config["name"], config["preset"] = f"基准 {slug}", "zuofeng"
    a = assessment_create(config=config, slug=slug)
    only = a.categories.get()
    AssessmentUnit.objects.bulk_create(
        AssessmentUnit(assessment=a, unit=u, category=only, name=u.name, order=i)
        for i, u in enumerate(registry)
    )
    survey = a.sections.get(kind=Section.Kind.SURVEY)
    section_link(assessment=a, section=survey.name, campaign=campaign)

    staff, _ = get_user_model().objects.get_or_create(
        username="bench-office", defaults={"is_staff": True})
    assessed = list(a.units.order_by("order"))
    sections = list(a.sections.filter(kind=Section.Kind.ITEMS).order_by("order"))
    catalogue = [(s, it) for s in sections for it in s.items.order_by("order")]
    now = timezone.now()
    rows = []
    for _i in range(entries):
        section, item = rng.choice(catalogue)
        points = None
        count = rng.choice((1, 1, 1, 2, 3))
        if item.points is None:
            assert item.min_points is not None and item.max_points is not None
            points, count = rng.randint(int(item.min_points), int(item.max_points)), 1
        rows.append(Entry(
            assessment=a, unit=rng.choice(assessed), section=section, item=item, count=count,
            points=points, source=section.source.split("、")[0] or "评议办公室",
            basis=f"通报〔2026〕{rng.randint(1, 300)}号", status=Entry.Status.APPROVED,
            reviewed_by=staff, reviewed_at=now, created_by=staff,
        ))
    Entry.objects.bulk_create(rows, batch_size=1000)
    return a
