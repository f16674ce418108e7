"""The assessment figure of issue 18: assessing 150 units with 5,000 approved deductions (and a
民主评议 section read from a campaign) through `assess_assessment`, end to end (its SQL, the
campaign's tally, the engine), against its floor: the bare SQL the same work cannot do
without (the configuration read, the entries summed per unit and section, the campaign's
votes counted), timed in turns with it in the same process."""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import data
from bench.timing import timed as _timed

SLUG = "bench-assess-150"
UNITS, ENTRIES, BALLOTS = 150, 5_000, 1_000


def _read_configuration(assessment_id: int) -> int:
    """Every row of the assessment's configuration, bare: what any assessment must read."""
    from django.db import connection

    queries = (
        "SELECT * FROM assessments_assessment WHERE id = %s",
        "SELECT * FROM assessments_assessmentcategory WHERE assessment_id = %s",
        "SELECT * FROM assessments_assessmentunit WHERE assessment_id = %s",
        "SELECT * FROM assessments_section WHERE assessment_id = %s",
        "SELECT i.* FROM assessments_item i JOIN assessments_section s ON s.id = i.section_id"
        " WHERE s.assessment_id = %s",
        "SELECT * FROM assessments_band WHERE assessment_id = %s",
        "SELECT * FROM assessments_yearrule WHERE assessment_id = %s",
    )
    n = 0
    with connection.cursor() as cur:
        for q in queries:
            cur.execute(q, [assessment_id])
            n += len(cur.fetchall())
    return n


def _sum_entries(assessment_id: int) -> list[tuple]:
    """The approved entries nothing supersedes, Σ count × points per unit and section."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT e.unit_id, e.section_id, SUM(e.count * COALESCE(e.points, i.points))"
            " FROM assessments_entry e JOIN assessments_item i ON i.id = e.item_id"
            " WHERE e.assessment_id = %s AND e.status = 'approved' AND NOT EXISTS"
            " (SELECT 1 FROM assessments_entry s WHERE s.supersedes_id = e.id)"
            " GROUP BY e.unit_id, e.section_id",
            [assessment_id],
        )
        return cur.fetchall()


def floor_parts(assessment_id: int, campaign_id: int) -> tuple[float, float, float]:
    """Seconds of the three bare parts: configuration, entries, the campaign's votes."""
    from bench.figures import _bare_group_by  # here: bench.figures imports this module

    t0 = time.perf_counter()
    _read_configuration(assessment_id)
    t1 = time.perf_counter()
    _sum_entries(assessment_id)
    t2 = time.perf_counter()
    _bare_group_by(campaign_id)
    return t1 - t0, t2 - t1, time.perf_counter() - t2


def fig_assess_150(run: int) -> dict[str, Any]:
    from assessments.adapter import assess_assessment, counted_entries
    from assessments.models import Assessment, Section
    from ballots.models import Ballot

    a = Assessment.objects.filter(slug=SLUG).first()
    built = 0.0
    if a is None:  # the first run makes the data (not timed in the figure)
        t = time.perf_counter()
        a = data.make_assessment(SLUG, UNITS, ENTRIES, BALLOTS)
        built = time.perf_counter() - t
    survey = a.sections.get(kind=Section.Kind.SURVEY)
    assert survey.campaign_id is not None
    campaign_id = survey.campaign_id
    result = assess_assessment(a).result  # warm: we measure the steady state
    floor_parts(a.pk, campaign_id)
    seconds: list[float] = []
    parts: list[tuple[float, float, float]] = []
    for _ in range(5):  # in turns, so that a change of the machine's speed hits both alike
        seconds += _timed(lambda: assess_assessment(a), 1)
        parts.append(floor_parts(a.pk, campaign_id))
    floors = [sum(p) for p in parts]
    units = [u for c in result.categories for u in c.units]
    return {
        "seconds": seconds,
        "built": built,
        "units": len(units),
        "graded": sum(1 for u in units if u.grade),
        "entries": counted_entries(a).count(),
        "ballots": Ballot.objects.filter(campaign_id=campaign_id, status="valid").count(),
        "floor": statistics.median(floors),
        "floor_config": statistics.median(p[0] for p in parts),
        "floor_entries": statistics.median(p[1] for p in parts),
        "floor_votes": statistics.median(p[2] for p in parts),
        "ratio": statistics.median(seconds) / statistics.median(floors),
    }


FIGURES = {"assess_150": fig_assess_150}


def fmt_s(x: float) -> str:
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def measure(env: dict[str, str], runs: int, wanted: Any, run: Any, Row: Any) -> list:
    if not wanted("assess_150"):
        return []
    r = [run("assess_150", i, env) for i in range(1, runs + 1)]
    med = statistics.median(x for x in r for x in x["seconds"])
    first = r[0]
    ratio = statistics.median(x["ratio"] for x in r)

    def part(key: str) -> str:
        return fmt_s(statistics.median(x[key] for x in r))

    rows = [
        Row(
            "考核计算 assess(SQL + 统计 + 引擎)",
            f"{first['units']} 个单位,{first['entries']:,} 条扣分",
            fmt_s(med),
            f"{max(x['peak_mb'] for x in r):.0f} MB",
            "≤ 1 s",
            med <= 1,
            f"作风效能考评(zuofeng),民主评议读 {first['ballots']:,} 张有效票的评议活动;"
            f"{first['graded']} 个单位评定等次;造数 {first['built']:.0f} s(不计入)",
        ),
        Row(
            "  与裸 SQL 之比",
            f"下限 {part('floor')}",
            f"{ratio:.1f}×",
            "",
            "无(参照)",
            None,
            f"读配置 {part('floor_config')},扣分按单位和项目 SUM … GROUP BY "
            f"{part('floor_entries')},评议票裸 GROUP BY {part('floor_votes')}",
        ),
    ]
    print(rows, flush=True)
    return rows
