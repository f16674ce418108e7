"""One figure per function, each run in a fresh process by `bench/__main__.py` so its peak
memory (ru_maxrss) is its own. A figure returns {"seconds": [...], **extra}."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import data
from bench.timing import timed as _timed


def import_xlsx(run: int, floor: bool = True) -> dict[str, Any]:
    """import_ballots of 11,436 keyed ballots × 66 units (one run per process), and its floor
    in the same process: the same sheet read (just before the import and just after, so a
    change of the machine's speed meanwhile hits both alike) and the same rows written, bare."""
    from ballots.intake.imports import ballots_import

    path = data.ballots_xlsx()
    campaign = data.make_campaign(f"bench-import-{run}")
    reads = [_read_floor(path)] if floor else []
    t = time.perf_counter()
    result = ballots_import(campaign=campaign, file=path, filename=path.name)
    seconds = time.perf_counter() - t
    out: dict[str, Any] = {"seconds": [seconds], "ballots": result.ballots, "valid": result.valid}
    if floor:
        # The import's own peak, before the floor's writing runs in this process (bench/one.py
        # reads the process's peak at its end).
        out["import_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        write, rows = _write_floor(result.batch.id)
        reads.append(_read_floor(path))
        read = statistics.mean(reads)
        out |= {
            "floor": read + write,
            "floor_read": read,
            "floor_write": write,
            "floor_rows": rows,
            "ratio": seconds / (read + write),
        }
    return out


def import_setup(run: int) -> dict[str, Any]:
    """Setup (when the import is not a wanted figure): the campaign the other figures use,
    without the import's floor."""
    return import_xlsx(run, floor=False)


SCRATCH = "bench_floor_ballot"

# The import's floor is what any import of this file must do, with nothing of Pingyi's around
# it: read every cell of the sheet with the reader the import uses, and write as many rows of
# the ballot table's shape in one committed transaction, as the import's writers do.


def _read_floor(path: Path) -> float:
    """Seconds to read every cell of the sheet with the reader the import uses
    (core.spreadsheets.read_first_sheet, the streaming core/xlsx_stream.py)."""
    from core.spreadsheets import read_first_sheet

    t = time.perf_counter()
    cells = 0
    for row in read_first_sheet(path).rows:
        for value in row:  # every cell handed over, as the import's parse loop receives it
            cells += value is not None
    return time.perf_counter() - t


def _write_floor(batch_id: int) -> tuple[float, int]:
    """Seconds to write the rows the import wrote, every column, in one committed transaction:
    COPY on PostgreSQL, executemany on SQLite, as the import's writers do; and their number.

    The rows are copied out before the clock starts, into a scratch table with the ballot
    table's columns and defaults but no index, constraint or trigger: what remains is the
    least the database does to store them. The table is logged (not TEMP), so the floor
    writes the WAL the real table does."""
    from django.db import connection, transaction

    from ballots.models import Ballot

    table = Ballot._meta.db_table
    pg = connection.vendor == "postgresql"
    payload = bytearray()
    rows: list[tuple] = []
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
        if pg:
            cur.execute(f"CREATE TABLE {SCRATCH} (LIKE {table} INCLUDING DEFAULTS)")
            query = f"SELECT * FROM {table} WHERE batch_id = {int(batch_id)}"
            with cur.cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
                for chunk in copy:
                    payload += chunk
            n = payload.count(b"\n")  # one line a row: COPY escapes newlines inside values
        else:
            cur.execute(f"CREATE TABLE {SCRATCH} AS SELECT * FROM {table} WHERE 0")
            cur.execute(f"SELECT * FROM {table} WHERE batch_id = %s", [batch_id])
            rows = cur.fetchall()
            n = len(rows)

    t = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:  # committed, as the import is
        if pg:
            # LIKE made the same columns in the same order as SELECT * read them.
            with cur.cursor.copy(f"COPY {SCRATCH} FROM STDIN") as copy:
                copy.write(bytes(payload))
        else:
            marks = ", ".join(["%s"] * len(rows[0]))
            cur.executemany(f"INSERT INTO {SCRATCH} VALUES ({marks})", rows)
    seconds = time.perf_counter() - t

    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE {SCRATCH}")
    return seconds, n


def _bare_group_by(campaign_id: int, slices: tuple[str, ...] = ()) -> list[tuple]:
    """The answers' elements of the valid ballots, counted: what the tally's SQL does, without
    the configuration queries, the decoding and the engine. `slices` are ballot columns to
    count by as well (the Excel report's breakdowns: group_id, channel, district)."""
    from django.db import connection

    picked = "".join(f", b.{c}" for c in slices)
    keys = ", ".join(["v", *slices])
    if connection.vendor == "postgresql":
        inner = f"SELECT unnest(b.answers) AS v{picked} FROM ballots_ballot b"
    else:
        inner = f"SELECT a.value AS v{picked} FROM ballots_ballot b, json_each(b.answers) a"
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {keys}, COUNT(*) FROM ({inner} WHERE b.campaign_id = %s "
            f"AND b.status = 'valid') e GROUP BY {keys}",
            [campaign_id],
        )
        return cur.fetchall()


def tally(slug: str, runs: int = 5) -> dict[str, Any]:
    """tally_campaign end to end (SQL + engine), and a bare GROUP BY over the same votes."""
    from ballots.models import Ballot
    from campaigns.models import Campaign
    from scoring.tally import tally_campaign

    campaign = Campaign.objects.get(slug=slug)
    valid = Ballot.objects.filter(campaign=campaign, status="valid").count()
    tally_campaign(campaign)  # warm the caches: we measure the steady state
    seconds = _timed(lambda: tally_campaign(campaign), runs)
    _bare_group_by(campaign.id)
    bare = _timed(lambda: _bare_group_by(campaign.id), runs)
    return {
        "seconds": seconds,
        "valid": valid,
        "bare_median": statistics.median(bare),
        "ratio": statistics.median(seconds) / statistics.median(bare),
    }


def tally_10k(run: int) -> dict[str, Any]:
    return tally("bench-import-1")


def load_million(run: int) -> dict[str, Any]:
    """Setup for the big tally (not a figure): 1,000,000 ballots × 66 units by COPY."""
    from campaigns.models import Campaign

    if Campaign.objects.filter(slug="bench-1m").exists():
        return {"seconds": [0.0]}
    campaign = data.make_campaign("bench-1m")
    t = time.perf_counter()
    data.copy_ballots(campaign, 1_000_000)
    return {"seconds": [time.perf_counter() - t]}


def tally_1m(run: int) -> dict[str, Any]:
    return tally("bench-1m", runs=3)


def crafted(run: int) -> dict[str, Any]:
    """Refusing the crafted spreadsheets of issue 15's probe, each through both readers."""
    from bench.crafted import crafted_refusals

    return {"files": crafted_refusals()}


FIGURES: dict[str, Callable[[int], dict[str, Any]]] = {
    "crafted": crafted,
    "import_xlsx": import_xlsx,
    "import_setup": import_setup,
    "tally_10k": tally_10k,
    "load_million": load_million,
    "tally_1m": tally_1m,
}

from bench.extra import FIGURES as EXTRA  # noqa: E402

FIGURES |= EXTRA
from bench.online import FIGURES as ONLINE  # noqa: E402

FIGURES |= ONLINE
from bench.slips import slips_1000  # noqa: E402

FIGURES["slips_1000"] = slips_1000
from bench.assess import FIGURES as ASSESS  # noqa: E402

FIGURES |= ASSESS
from bench.verify import FIGURES as VERIFY  # noqa: E402

FIGURES |= VERIFY
from bench.scan import fig_scan_2000  # noqa: E402

FIGURES["scan_2000"] = fig_scan_2000  # issue 21: reading scanned ballots
