"""One figure per function, each run in a fresh process by `bench/__main__.py` so its peak
memory (ru_maxrss) is its own. A figure returns {"seconds": [...], **extra}."""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import data
from bench.timing import timed as _timed


def import_xlsx(run: int) -> dict[str, Any]:
    """import_ballots of 11,436 keyed ballots × 66 units (one run per process)."""
    from ballots.intake.imports import ballots_import

    path = data.ballots_xlsx()
    campaign = data.make_campaign(f"bench-import-{run}")
    t = time.perf_counter()
    result = ballots_import(campaign=campaign, file=path, filename=path.name)
    seconds = time.perf_counter() - t
    return {"seconds": [seconds], "ballots": result.ballots, "valid": result.valid}


def _bare_group_by(campaign_id: int) -> list[tuple]:
    from django.db import connection

    # The answers' elements of the valid ballots, counted: what the tally's SQL does, without
    # the configuration queries, the decoding and the engine.
    if connection.vendor == "postgresql":
        inner = "SELECT unnest(b.answers) AS v FROM ballots_ballot b"
    else:
        inner = "SELECT a.value AS v FROM ballots_ballot b, json_each(b.answers) a"
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT v, COUNT(*) FROM ({inner} WHERE b.campaign_id = %s "
            "AND b.status = 'valid') e GROUP BY v",
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


FIGURES = {
    "import_xlsx": import_xlsx,
    "tally_10k": tally_10k,
    "load_million": load_million,
    "tally_1m": tally_1m,
}

from bench.extra import FIGURES as EXTRA  # noqa: E402

FIGURES |= EXTRA
from bench.online import FIGURES as ONLINE  # noqa: E402

FIGURES |= ONLINE
