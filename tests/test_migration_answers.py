"""Migration 0005 moves every vote row into its ballot's answers, losing none, and back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("ballots", "0004_vote_fewer_indexes")]
AFTER = [("ballots", "0005_ballot_answers")]


@pytest.mark.django_db(transaction=True)
def test_votes_become_answers():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Campaign = old.get_model("campaigns", "Campaign")
    Category = old.get_model("campaigns", "Category")
    Unit = old.get_model("campaigns", "Unit")
    CampaignUnit = old.get_model("campaigns", "CampaignUnit")
    Option = old.get_model("campaigns", "RatingOption")
    Dimension = old.get_model("campaigns", "Dimension")
    Ballot = old.get_model("ballots", "Ballot")
    Vote = old.get_model("ballots", "Vote")

    camp = Campaign.objects.create(name="迁移", slug="migrate", year=2026)
    cat = Category.objects.create(campaign=camp, name="类")
    # Created in reverse display order, so id order and display order differ.
    units = [
        CampaignUnit.objects.create(
            campaign=camp, unit=Unit.objects.create(name=n), category=cat, name=n, order=9 - i
        )
        for i, n in enumerate(("甲", "乙"))
    ]
    dims = [Dimension.objects.create(campaign=camp, name=n) for n in ("作风", "效能")]
    good, bad = (
        Option.objects.create(campaign=camp, label=x, weight=w) for x, w in (("好", 2), ("差", 0))
    )
    expected = {}
    for k in range(3):
        ballot = Ballot.objects.create(campaign=camp, source="paper", serial=str(k))
        rows = []
        for u in units:
            for d in dims:
                if (u.pk + d.pk + k) % 3 == 0:
                    rows.append((u.pk, d.pk, None, "blank"))
                elif k == 2 and d is dims[0]:
                    rows.append((u.pk, d.pk, None, "spoiled"))
                else:
                    rows.append((u.pk, d.pk, (good if (u.pk + k) % 2 else bad).pk, "option"))
        for unit_id, dim_id, option_id, kind in rows:
            Vote.objects.create(
                ballot=ballot,
                campaign=camp,
                unit_id=unit_id,
                dimension_id=dim_id,
                option_id=option_id,
                kind=kind,
            )
        expected[str(k)] = sorted(rows, key=repr)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    try:
        from ballots.models import Ballot as NewBallot

        for b in NewBallot.objects.filter(campaign_id=camp.pk):
            got = sorted(
                ((v.unit_id, v.dimension_id, v.option_id, v.kind) for v in b.votes()), key=repr
            )
            assert got == expected[b.serial]
        assert NewBallot.objects.filter(campaign_id=camp.pk).count() == 3

        # And back: unapplying writes every answer out as its vote row again.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(BEFORE)
        back = executor.loader.project_state(BEFORE).apps
        for b in back.get_model("ballots", "Ballot").objects.filter(campaign_id=camp.pk):
            rows = back.get_model("ballots", "Vote").objects.filter(ballot_id=b.pk)
            got = sorted(rows.values_list("unit_id", "dimension_id", "option_id", "kind"), key=repr)
            assert got == expected[b.serial]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
