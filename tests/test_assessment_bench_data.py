"""The benchmark's synthetic assessment holds what the 考核计算 figure claims (150 units, 5,000
approved entries, a survey section read from a campaign with votes), built here on a tiny
scale so the builder cannot rot. (Speed itself is measured in bench/, never here.)"""

from __future__ import annotations

from assessments.adapter import assess_assessment, counted_entries
from assessments.models import Entry
from bench import assess, data


def test_bench_assessment_builder_makes_its_units_entries_and_survey(db):
    a = data.make_assessment("bench-test-assess", units=15, entries=50, ballots=20)
    assert (a.preset, a.mode) == ("zuofeng", "deduction")
    assert a.units.count() == 15 and a.categories.count() == 1
    assert counted_entries(a).count() == Entry.objects.filter(assessment=a).count() == 50
    assert not Entry.objects.filter(assessment=a, reviewed_by__isnull=True).exists()
    survey = a.sections.get(kind="survey")
    assert survey.campaign is not None
    assert survey.campaign.units.count() == 15 and survey.campaign.ballots.count() == 20
    assert set(survey.campaign.units.values_list("unit_id", flat=True)) == set(
        a.units.values_list("unit_id", flat=True))
    # Every unit has votes, so the assessment grades all 15 (the rollups deduct 0).
    result = assess_assessment(a).result
    units = [u for c in result.categories for u in c.units]
    assert len(units) == 15 and all(u.grade and u.rank for u in units)
    # The floor's bare SUM gives the same deductions as the engine reads.
    raw = {(str(u), s): v for u, s, v in assess._sum_entries(a.pk)}
    assert sum(raw.values()) == sum(
        e.count * (e.points if e.item.points is None else e.item.points)
        for e in counted_entries(a).select_related("item"))
    # Built again with the same slug: replaced, not doubled.
    again = data.make_assessment("bench-test-assess", units=15, entries=50, ballots=20)
    assert Entry.objects.filter(assessment__slug="bench-test-assess").count() == 50
    assert again.units.count() == 15


def test_bench_figure_sizes_are_the_issues():
    assert (assess.UNITS, assess.ENTRIES) == (150, 5_000)
