"""The benchmark's synthetic campaigns hold what the figures claim: a figure measured on broken
data would be a number about nothing. (Speed itself is measured in bench/, never here.)"""

from __future__ import annotations

import pytest
from django.db import connection

from ballots.intake.imports import ballots_import
from bench import data, figures
from scoring.tally import tally_campaign


def test_keyed_file_has_the_photocopies_it_says(db, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "CACHE", tmp_path)
    path = data.ballots_xlsx(rows=40, copies=3)
    campaign = data.make_campaign("bench-test-import")
    assert campaign.units.count() == 66
    result = ballots_import(campaign=campaign, file=path, filename=path.name)
    # Each photocopied serial makes both of its ballots invalid.
    assert (result.ballots, result.valid, len(result.duplicate_serials)) == (40, 34, 3)
    assert tally_campaign(campaign).ballots.valid == 34


def test_copy_loader_gives_the_tally_exactly_its_ballots(db):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY loader is PostgreSQL's")
    campaign = data.make_campaign("bench-test-copy")
    data.copy_ballots(campaign, 250, chunk=100)
    t = tally_campaign(campaign)
    assert t.ballots.valid == 250
    for category in t.result.categories:
        for u in category.units:
            assert sum(n for _label, n in u.counts) + u.blank + u.spoiled == 250
    bare = figures._bare_group_by(campaign.id)
    assert sum(n for _element, n in bare) == 250 * 66
