"""A campaign with real-looking results for the results/report tests: the golden 千人评议
example (units, ballots) plus comments, two channels and a previous year."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
from django.core.management import call_command

from ballots.models import Ballot, Comment
from campaigns.models import Campaign, CampaignUnit
from tests.conftest import TEST_OFFICE


def tally_data(slug: str) -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        call_command("tally", slug, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture
def results_campaign(golden, db):
    folder = golden / "qianren"
    call_command(
        "create_campaign",
        "--preset",
        "qianren",
        "--slug",
        "golden",
        "--name",
        "示例评议",
        "--year",
        "2026",
        "--office",
        TEST_OFFICE,  # the role fixtures' office: they see the campaign
        stdout=io.StringIO(),
    )
    call_command("import_units", "golden", str(folder / "units.xlsx"), stdout=io.StringIO())
    call_command("import_ballots", "golden", str(folder / "ballots.xlsx"), stdout=io.StringIO())
    campaign = Campaign.objects.get(slug="golden")
    units = list(CampaignUnit.objects.filter(campaign=campaign).order_by("id"))
    ballots = list(Ballot.objects.filter(campaign=campaign, status="valid").order_by("serial"))
    # Comments as representatives type them, including hostile ones.
    texts = ['=HYPERLINK("http://x","点我")', "<script>alert(1)</script>办事效率高", "+1 很好"]
    for i, text in enumerate(texts):
        Comment.objects.create(ballot=ballots[i], campaign=campaign, unit=units[0], text=text)
    Comment.objects.create(ballot=ballots[5], campaign=campaign, unit=None, text="总体满意")
    return campaign
