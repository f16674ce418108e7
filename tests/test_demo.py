from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.management import call_command

from ballots.models import Ballot
from campaigns.models import Campaign


def test_demo_builds_the_66_units_of_document_000(db, capsys):
    call_command("demo", seed=7, ballots=60)
    out = capsys.readouterr().out
    assert "seed = 7" in out
    c = Campaign.objects.get(slug="qianren-2026")
    counts = {cat.name: cat.units.count() for cat in c.categories.all()}
    assert counts == {"地方管理部门类": 45, "垂直管理部门类": 12, "金融部门类": 9}
    assert c.units.filter(name="供电局(公司)").exists()
    assert c.previous.slug == "qianren-2025"
    # The same registry units in both years: identity carries over.
    assert set(c.units.values_list("unit_id", flat=True)) == set(
        c.previous.units.values_list("unit_id", flat=True)
    )
    assert Ballot.objects.filter(campaign=c).count() == 60
    assert Ballot.objects.filter(campaign=c, invalid_reason="duplicate_serial").count() == 2
    password = out.split("密码 ")[-1].strip()
    assert authenticate(username="office", password=password) is not None


def test_demo_is_reproducible_from_its_seed(db):
    from tests.helpers import votes_of

    def stored() -> list:
        ballots = Ballot.objects.filter(campaign__slug="qianren-2026")
        return sorted(repr((b.serial, *v)) for b in ballots for v in votes_of(b))

    call_command("demo", seed=3, ballots=30)
    first = stored()
    Campaign.objects.all().delete()
    call_command("demo", seed=3, ballots=30)
    again = stored()
    assert len(first) > 30 and first == again
