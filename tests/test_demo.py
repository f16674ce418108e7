from __future__ import annotations

import io

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
    assert c.previous is not None and c.previous.slug == "qianren-2025"
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

    def entries() -> list:
        from assessments.models import Entry

        return sorted(Entry.objects.filter(assessment__slug="zuofeng-2026").values_list(
            "unit__name", "item__name", "count", "points", "source", "basis", "date", "status"))

    from assessments.models import Assessment
    from rectification.models import Case

    call_command("demo", seed=3, ballots=30)
    first, first_entries = stored(), entries()
    Assessment.objects.all().delete()  # it reads the campaign (a protected link)
    Case.objects.all().delete()  # so do the cases opened from it
    Campaign.objects.all().delete()
    call_command("demo", seed=3, ballots=30)
    again = stored()
    assert len(first) > 30 and first == again
    assert len(first_entries) == 40 and first_entries == entries()


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
    assert last is not None
    assert last.status == Campaign.Status.PUBLISHED  # closed, then published (公示)
    settled = AccessCode.objects.filter(campaign=last, status=AccessCode.Status.USED)
    assert settled.count() == Ballot.objects.filter(campaign=last, source="online").count() == 5
    assert all(c.receipt for c in settled)
    from ballots.online.codes import receipt_counted
    from core.models import AuditLog
    from scoring.ballot_file import ballot_fingerprint
    from scoring.verification import public_ballot_file

    assert AuditLog.objects.filter(action="campaign.status", campaign_id=last.pk).count() == 3
    # Its ballot file is public and is the one counted; a representative's receipt is found.
    pub = public_ballot_file(last)
    assert pub is not None and pub.fingerprint == ballot_fingerprint(last)
    assert receipt_counted(last, settled.first().receipt) is True


def test_demo_builds_a_liangping_campaign_of_document_001(db, capsys):
    import json

    from campaigns.models import CampaignUnit
    from campaigns.representatives import composition

    call_command("demo", seed=11, ballots=12)
    c = Campaign.objects.get(slug="liangping-2026")
    assert c.preset == "liangping" and c.status == Campaign.Status.OPEN
    assert c.office == Campaign.objects.get(slug="qianren-2026").office
    # One team and its five leaders, each leader with a post, under the team in the registry.
    team = CampaignUnit.objects.get(campaign=c, unit__kind="领导班子")
    assert team.name == "市交通运输局领导班子" and team.category.name == "领导班子"
    leaders = CampaignUnit.objects.filter(campaign=c, unit__kind="领导干部")
    assert leaders.count() == 5
    assert {cu.unit.parent_id for cu in leaders} == {team.unit_id}
    assert all(cu.post for cu in leaders) and {cu.category.name for cu in leaders} == {"领导干部"}
    # Both pools, and the composition of 001 holds: 服务对象代表 at least half of 社会评议.
    pools = {g.name: g.pool for g in c.groups.all()}
    assert pools["全体干部职工"] == "内部评议" and pools["服务对象代表"] == "社会评议"
    assert set(c.representatives.values_list("group__pool", flat=True)) == {"内部评议", "社会评议"}
    assert composition(c).warnings == []
    assert c.dimension_line is True
    # Online ballots cast with its own codes, paper ballots beside them.
    ballots = Ballot.objects.filter(campaign=c)
    online = ballots.filter(source=Ballot.Source.ONLINE)
    assert online.exists() and ballots.filter(source=Ballot.Source.PAPER).exists()
    assert len(used_code_ids(c)) == online.count()
    assert set(ballots.values_list("group__pool", flat=True)) == {"内部评议", "社会评议"}
    # The tally gives each of the six subjects a result, with no 末位 and no 优胜.
    capsys.readouterr()
    call_command("tally", "liangping-2026", format="json")
    data = json.loads(capsys.readouterr().out)
    units = [u for cat in data["categories"] for u in cat["units"]]
    assert len(units) == 6
    assert {cat["name"]: (cat["winners"], cat["last_place"]) for cat in data["categories"]} == {
        "领导班子": (0, 0), "领导干部": (0, 0)}
    for u in units:
        assert u["rank"] is not None and u["satisfaction_rate"] is not None, u
        assert not {"last_place", "winner", "no_votes"} & set(u["flags"]), u


def test_demo_runs_again_without_a_second_liangping_campaign(db, capsys):
    call_command("demo", seed=2, ballots=6)
    n = Ballot.objects.filter(campaign__slug="liangping-2026").count()
    call_command("demo", if_missing=True)
    call_command("demo")
    assert Campaign.objects.filter(slug__startswith="liangping").count() == 1
    assert Ballot.objects.filter(campaign__slug="liangping-2026").count() == n
    # A demo made before the 两评一树 campaign existed gains it on the next run.
    Campaign.objects.filter(slug="liangping-2026").delete()
    call_command("demo", if_missing=True)
    assert Ballot.objects.filter(campaign__slug="liangping-2026").count() == n
    assert Campaign.objects.filter(slug="qianren-2026").count() == 1


def test_demo_builds_a_zuofeng_assessment_over_its_66_units(db, capsys):
    from assessments.adapter import assess_assessment
    from assessments.models import Assessment, Entry

    call_command("demo", seed=7, ballots=60)
    a = Assessment.objects.get(slug="zuofeng-2026")
    campaign = Campaign.objects.get(slug="qianren-2026")
    assert (a.preset, a.year, a.mode) == ("zuofeng", 2026, "deduction")
    assert a.office == campaign.office is not None
    # The same registry units as the campaign, all in the preset's one category.
    assert a.units.count() == 66 and a.categories.count() == 1
    assert set(a.units.values_list("unit_id", flat=True)) == set(
        campaign.units.values_list("unit_id", flat=True))
    survey = a.sections.get(kind="survey")
    assert survey.name == "民主评议" and survey.campaign == campaign
    assert not a.sections.filter(kind="rollup", campaign__isnull=False).exists()
    # Entries through the review: most approved by the office's staff, 2 pending, 1 rejected.
    approved = Entry.objects.filter(assessment=a, status="approved")
    assert approved.count() == 37
    assert not approved.filter(reviewed_by__isnull=True).exists()
    assert all(e.reviewed_by is not None and e.reviewed_by.is_staff for e in approved)
    assert Entry.objects.filter(assessment=a, status="pending").count() == 2
    rejected = Entry.objects.get(assessment=a, status="rejected")
    assert rejected.review_reason
    # Each entry's source office is one the preset names for its section.
    for e in Entry.objects.filter(assessment=a).select_related("section"):
        assert e.source in e.section.source and e.basis
    # Assessed: every unit ranked and graded (the unlinked rollups deduct 0).
    result = assess_assessment(a).result
    (category,) = result.categories
    assert len(category.units) == 66
    ranked = [u for u in category.units if u.rank is not None]
    assert len(ranked) == 66 and all(u.grade for u in ranked)
    assert ranked[0].rank == 1 and len({u.grade for u in ranked}) >= 2
    # Built once: running the demo again makes no second assessment and no new entries.
    call_command("demo", if_missing=True)
    assert Assessment.objects.filter(preset="zuofeng").count() == 1
    assert Entry.objects.filter(assessment=a).count() == 40


@pytest.mark.django_db
def test_the_demo_has_cases_in_several_states_and_a_unit_contact():
    from assessments.models import UnitAccount
    from rectification.models import Case

    call_command("demo", "--seed", "7", "--ballots", "200", stdout=io.StringIO())
    cases = Case.objects.filter(campaign__slug="qianren-2025")
    states = set(cases.values_list("status", flat=True))
    assert {"awaiting_plan", "plan_submitted", "in_progress", "awaiting_acceptance",
            "accepted"} <= states
    contact = UnitAccount.objects.get(user__username="lianluoyuan")
    assert cases.filter(unit=contact.unit, status="awaiting_plan").exists()
    call_command("demo", "--if-missing", stdout=io.StringIO())
    assert Case.objects.count() == cases.count()
