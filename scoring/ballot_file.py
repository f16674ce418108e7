"""The public ballot file (选票明细公开文件) and the tally fingerprint anyone can recompute.

recount/README.md is the contract of the three files (`manifest.json`, `ballots.jsonl`,
`ballots.csv`) and of the fingerprint; `recount/` is a second implementation that reads them.
This module writes them from the database, in one pass over the ballots.

Secrecy. A row carries only what counting needs: source, a paper ballot's printed serial (the
photocopy rule needs it), channel, group, district, validity and the answers. Never a code,
a receipt, an online ballot's serial, a representative, a comment, a time, or an id. The rows
are ordered by the SHA-256 of their own bytes, so their order comes from their content alone,
not from when or where a ballot was cast, and the same ballots always make the same file.

Channels, groups and districts describe people, and one row per ballot crosses them all: a
district of forty and a group of forty can share one person, whose ballot the row would
then show. So each of them first goes through the campaign's small-cell rule
(scoring.suppression.merge_map: slices of fewer than `min_cell_ballots` valid ballots are
merged into 其他), and then a column is kept only if every combination of the kept columns
holds no ballot or at least that many; otherwise it is left empty for every row (columns are
tried in the order group, channel, district). With group weights the groups are needed for
the score and are kept as they are: publishing is refused while a weighted group has fewer
ballots than the minimum (`ballot_file_problems`).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from ballots.answers import CODES, FIRST_OPTION, SPOILED, Storage
from ballots.models import Ballot
from campaigns.models import Campaign
from scoring.suppression import OTHER, merge_map

FORMAT = "pingyi-ballot-file"
VERSION = 1
BLANK_TOKEN = ""
SPOILED_TOKEN = "(多选)"
# Columns that describe the people who voted, in the order they are tried (module docstring).
PERSON_COLUMNS = ("group", "channel", "district")
CSV_HEAD = ("来源", "编号", "渠道", "代表类别", "片区", "状态", "无效原因")
FORMULA_START = ("=", "+", "-", "@")


def canonical(value: Any) -> bytes:
    """The canonical JSON of a value (recount/README.md): what the fingerprint hashes."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _decimal(value: Decimal | int) -> str:
    """A decimal as people write it: 0.9000 → "0.9", 2.0000 → "2"."""
    return format(Decimal(value).normalize(), "f")


@dataclass(frozen=True)
class BallotFile:
    # The manifest but its "files" (which need the CSV, made only when a file is written:
    # the fingerprint alone, for a page or a report, does not).
    head: dict[str, Any]
    jsonl: bytes
    rows: int

    @property
    def fingerprint(self) -> str:
        return str(self.head["fingerprint"])

    @functools.cached_property
    def _csv(self) -> bytes:
        return csv_of(self.head, self.jsonl)

    def csv_bytes(self) -> bytes:
        """The same rows for a spreadsheet (recount/README.md, `ballots.csv`)."""
        return self._csv

    @functools.cached_property
    def manifest(self) -> dict[str, Any]:
        """The whole manifest, with each file's SHA-256 and size."""
        files = {
            "ballots.jsonl": {"sha256": hashlib.sha256(self.jsonl).hexdigest(),
                              "bytes": len(self.jsonl)},
            "ballots.csv": {"sha256": hashlib.sha256(self._csv).hexdigest(),
                            "bytes": len(self._csv)},
        }
        return {**self.head, "files": files, "fingerprint": self.fingerprint}

    def manifest_bytes(self) -> bytes:
        return (json.dumps(self.manifest, ensure_ascii=False, indent=2) + "\n").encode()

    def write(self, folder: Path) -> list[Path]:
        """Write the three files into `folder` (created if missing); return their paths."""
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for name, data in (("manifest.json", self.manifest_bytes()),
                           ("ballots.jsonl", self.jsonl), ("ballots.csv", self.csv_bytes())):
            path = folder / name
            path.write_bytes(data)
            out.append(path)
        return out


def recount_config(campaign: Campaign) -> tuple[dict[str, Any], Storage]:
    """The manifest's `recount` section (everything the tally uses) and the campaign's
    storage layout."""
    from scoring.tally import _previous_last_place  # the same series rule as the tally

    options = list(campaign.options.order_by("order", "id"))
    categories = list(campaign.categories.order_by("order", "id"))
    category_key = {c.pk: f"c{i}" for i, c in enumerate(categories, start=1)}
    units = list(
        campaign.units.order_by("category__order", "category_id", "order", "id").values_list(
            "id", "unit_id", "name", "category_id", "vetoed", "unit__kind", "unit__parent__name"
        )
    )
    unit_key = {pk: f"u{i}" for i, (pk, *_rest) in enumerate(units, start=1)}
    dims = dict(campaign.dimensions.values_list("id", "name"))
    storage = Storage.of(campaign)
    previous = _previous_last_place(campaign)
    weights: list[dict[str, str]] = []
    if campaign.aggregation == Campaign.Aggregation.MEAN:
        weights = [{"group": g.name, "weight": _decimal(g.weight)}
                   for g in campaign.groups.order_by("order", "id") if g.weight is not None]
    blank_means = next((o.label for o in options if o.pk == campaign.blank_means_id), None)
    config = {
        "campaign": {
            "slug": campaign.slug,
            "name": campaign.name,
            "aggregation": campaign.aggregation,
            "threshold": _decimal(campaign.threshold),
        },
        "options": [{"label": o.label, "weight": _decimal(o.weight), "satisfied": o.satisfied,
                     "counted": o.counted} for o in options],
        "blank_means": blank_means,
        "dimensions": list(
            campaign.dimensions.order_by("order", "id").values_list("name", flat=True)),
        "categories": [{"key": category_key[c.pk], "name": c.name, "winners": c.winners,
                        "last_place": c.last_place} for c in categories],
        "units": [{"key": unit_key[pk], "name": name, "category": category_key[cat],
                   "vetoed": vetoed, "kind": kind, "parent": parent}
                  for pk, _reg, name, cat, vetoed, kind, parent in units],
        "cells": [{"unit": unit_key[u], "dimension": dims[d] if d is not None else None}
                  for u, d in storage.cells],
        "group_weights": weights,
        "grade_bands": [{"minimum": _decimal(b.minimum), "label": b.label}
                        for b in campaign.grade_bands.order_by("minimum")],
        "honoured_quota": campaign.honoured_quota,
        "dimension_line": campaign.dimension_line,
        "previous_last_place": [unit_key[pk] for pk, reg, *_r in units
                                if reg is not None and str(reg) in previous],
    }
    return config, storage


def _tokens(campaign: Campaign, storage: Storage) -> list[str]:
    """Stored element → its answer token, JSON-encoded once (an element is slot × 16 + code:
    ballots/answers.py)."""
    labels = dict(campaign.options.values_list("id", "label"))
    table = [""] * (len(storage.cells) * CODES)
    for slot in range(len(storage.cells)):
        base = slot * CODES
        table[base] = json.dumps(BLANK_TOKEN)
        table[base + SPOILED] = json.dumps(SPOILED_TOKEN, ensure_ascii=False)
        for i, oid in enumerate(storage.option_ids):
            table[base + FIRST_OPTION + i] = json.dumps(labels[oid], ensure_ascii=False)
    return table


def _rows(campaign: Campaign) -> Iterator[tuple[str, str, str, int | None, str, str, str, Any]]:
    return (
        Ballot.objects.filter(campaign=campaign)
        .order_by()
        .values_list("source", "serial", "channel", "group_id", "district", "status",
                     "invalid_reason", "answers")
        .iterator(chunk_size=10_000)
    )


def _published_columns(
    campaign: Campaign,
    sources: list[str],
    people: list[tuple[str, str, str]],
    valid: list[bool],
    weighted: bool,
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Per person column, value → published value; and the columns kept (module docstring)."""
    minimum = campaign.min_cell_ballots
    maps: dict[str, dict[str, str]] = {}
    for i, attr in enumerate(PERSON_COLUMNS):
        counts: Counter[str] = Counter(p[i] for p, v in zip(people, valid, strict=True) if v)
        values = {p[i] for p in people}
        if attr == "group" and weighted:
            maps[attr] = {v: v for v in values}
            continue
        merge = merge_map({v: counts.get(v, 0) for v in values}, minimum)
        # "" (no value) stays "" unless merged: it is not a slice anyone is named by.
        maps[attr] = {v: ("" if v == "" and merge[v] != OTHER else merge[v]) for v in values}
    kept: list[str] = []
    for attr in PERSON_COLUMNS:
        idx = [PERSON_COLUMNS.index(a) for a in (*kept, attr)]
        # The source is in every row, so it is part of every combination.
        cells = Counter((s, *(maps[PERSON_COLUMNS[j]][p[j]] for j in idx))
                        for s, p in zip(sources, people, strict=True))
        if (attr == "group" and weighted) or all(n >= minimum for n in cells.values()):
            kept.append(attr)
    return maps, kept


def ballot_file_problems(campaign: Campaign) -> list[str]:
    """Why the campaign's ballots may not be published as a file (empty when they may)."""
    problems = []
    if campaign.aggregation == Campaign.Aggregation.MEAN:
        minimum = campaign.min_cell_ballots
        weighted = set(campaign.groups.filter(weight__isnull=False).values_list("name",
                                                                                 flat=True))
        counts = Counter(
            Ballot.objects.filter(campaign=campaign, group__name__in=weighted)
            .values_list("group__name", flat=True)
        )
        for name in sorted(weighted):
            if 0 < counts.get(name, 0) < minimum:
                problems.append(
                    _("代表类别“%(g)s”计分加权,计票需要注明每张选票的代表类别,但该类别只有 "
                      "%(n)d 张选票(少于 %(m)d 张),公开选票明细会暴露这些代表的评价,"
                      "因此不能公开选票明细。") % {"g": name, "n": counts[name], "m": minimum})
    return problems


def build_ballot_file(campaign: Campaign) -> BallotFile:
    """The campaign's ballot file and manifest (recount/README.md), from one read of its
    ballots."""
    config, storage = recount_config(campaign)
    tokens = _tokens(campaign, storage)
    groups = dict(campaign.groups.values_list("id", "name"))
    weighted = bool(config["group_weights"])
    raw = []
    for source, serial, channel, group_id, district, status, reason, answers in _rows(campaign):
        group = groups.get(group_id, "") if group_id is not None else ""
        raw.append((source, serial if source == Ballot.Source.PAPER else "",
                    (group, channel or "", district or ""), status, reason,
                    ",".join(map(tokens.__getitem__, answers))))
    people = [r[2] for r in raw]
    maps, kept = _published_columns(
        campaign, [r[0] for r in raw], people, [r[3] == Ballot.Status.VALID for r in raw],
        weighted)

    encoded: dict[str, str] = {}

    def enc(text: str) -> str:
        # Sources, statuses, reasons, groups and districts repeat: each is encoded once.
        found = encoded.get(text)
        if found is None:
            if text.isascii() and text.isalnum():  # a serial: JSON quotes it as it is
                return f'"{text}"'
            found = encoded[text] = json.dumps(text, ensure_ascii=False)
        return found

    lines = []
    for source, serial, person, status, reason, answers in raw:
        shown = {attr: (maps[attr][person[i]] if attr in kept else "")
                 for i, attr in enumerate(PERSON_COLUMNS)}
        # The canonical JSON (keys sorted, no spaces), written out: the answers are already
        # encoded, which makes a 20,000-ballot file several times faster than json.dumps.
        lines.append(
            f'{{"answers":[{answers}],"channel":{enc(shown["channel"])},'
            f'"district":{enc(shown["district"])},"group":{enc(shown["group"])},'
            f'"reason":{enc(reason)},"serial":{enc(serial)},"source":{enc(source)},'
            f'"status":{enc(status)}}}\n'.encode()
        )
    lines.sort(key=lambda line: hashlib.sha256(line).digest())
    jsonl = b"".join(lines)
    config_bytes = canonical(config)
    fingerprint = hashlib.sha256(config_bytes + b"\n" + jsonl).hexdigest()
    columns = [*CSV_HEAD, *_cell_headers(config)]
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "recount": config,
        "ballots": {
            "rows": len(lines),
            "district_minimum": campaign.min_cell_ballots,
            "suppressed": OTHER,
            "tokens": {"blank": BLANK_TOKEN, "spoiled": SPOILED_TOKEN},
            "columns": columns,
        },
        "fingerprint": fingerprint,
    }
    return BallotFile(manifest, jsonl, len(lines))


def _cell_headers(config: dict[str, Any]) -> list[str]:
    names = {u["key"]: u["name"] for u in config["units"]}
    return [names[c["unit"]] if c["dimension"] is None else f'{names[c["unit"]]}|{c["dimension"]}'
            for c in config["cells"]]


def _safe(text: str) -> str:
    """A text a spreadsheet would run as a formula gets a leading ', and so does one that
    starts with ' itself, so that a reader may drop one leading ' from every text and get
    the text back (recount/README.md)."""
    return "'" + text if text.startswith((*FORMULA_START, "'")) else text


def csv_of(manifest: dict[str, Any], jsonl: bytes) -> bytes:
    """The CSV of a ballot file's rows (from the JSONL: also for the copy kept with a
    publication, whose CSV is made when it is downloaded)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([_safe(c) for c in manifest["ballots"]["columns"]])
    safe: dict[str, str] = {}

    def cell(text: str) -> str:
        found = safe.get(text)
        if found is None:
            found = safe[text] = _safe(text)
        return found

    for line in jsonl.splitlines():
        row = json.loads(line)
        writer.writerow(list(map(cell, (
            row["source"], row["serial"], row["channel"], row["group"], row["district"],
            row["status"], row["reason"], *row["answers"]))))
    return "\ufeff".encode() + buf.getvalue().encode()


def ballot_fingerprint(campaign: Campaign) -> str:
    """The tally fingerprint (计票指纹): SHA-256 of the canonical recount configuration and
    the ballot file (recount/README.md). Printed on the 公示 page and in every report."""
    return build_ballot_file(campaign).fingerprint


class LazyFingerprint:
    """The fingerprint for a template: computed the first time it is shown, then kept (a
    report shows it on every page; a page that does not show it does not pay for it)."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign

    @functools.cached_property
    def value(self) -> str:
        return ballot_fingerprint(self.campaign)

    def __str__(self) -> str:
        return self.value

    def __bool__(self) -> bool:
        return True
