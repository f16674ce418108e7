from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from ballots.models import AccessCode, Ballot
from ballots.online.codes import used_code_ids
from campaigns.models import Campaign


@pytest.fixture(autouse=True)
def _private_logins(tmp_path, monkeypatch):
    """The demo's logins file goes to a temporary place, never the working tree's private/."""
    monkeypatch.setenv("PINGYI_DEMO_LOGINS", str(tmp_path / "demo-logins.txt"))


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


def test_demo_online_ballots_are_cast_with_its_own_codes(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", seed=5, ballots=30)
    current = Campaign.objects.get(slug="qianren-2026")
    online = Ballot.objects.filter(campaign=current, source=Ballot.Source.ONLINE)
    assert online.count() == 10 and not online.filter(token__isnull=True).exists()
    # The codes page derives "used" from the tokens: exactly the codes that voted, and some
    # codes are left for trying the ballot page.
    codes = AccessCode.objects.filter(campaign=current)
    assert len(used_code_ids(current)) == 10 < codes.count()
    assert current.status == Campaign.Status.OPEN
    # Last year's campaign was closed through campaign_set_status: its codes are settled.
    last = current.previous
    assert last.status == Campaign.Status.CLOSED
    settled = AccessCode.objects.filter(campaign=last, status=AccessCode.Status.USED)
    assert settled.count() == Ballot.objects.filter(campaign=last, source="online").count() == 5
    assert all(c.receipt for c in settled)
    from core.models import AuditLog

    assert AuditLog.objects.filter(action="campaign.status", campaign_id=last.pk).count() == 2
