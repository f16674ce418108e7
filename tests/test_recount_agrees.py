"""`recount` (a second implementation, standard library only) agrees with `tally` on every
golden case and on generated campaigns, and catches a changed ballot (issue 20).

The generated campaigns go through the real paths: ballots read by the one reading
(ballots.services.ballot_create), duplicate serials re-derived, manual invalidations by the
service, group weights, vetoes, sub-units and the per-dimension line; then the ballot file is
written by `export_ballots` and counted by `python3 -m recount` in its own process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ballots.models import Ballot
from ballots.reading import SEVERAL, UNMARKED
from ballots.services import Layout, ballot_create, ballot_invalidate
from campaigns.models import Campaign, CampaignUnit, RepresentativeGroup, Unit
from scoring.ballot_file import build_ballot_file
from scoring.tally import tally_json
from tests.conftest import PROJECT
from tests.helpers import add_units


def recount(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """The program as an outsider runs it: a fresh interpreter, in the repository's root,
    with nothing of Django in its environment."""
    return subprocess.run(
        [sys.executable, "-m", "recount", str(folder), *extra], cwd=PROJECT,
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, check=False)


def export(slug: str, folder: Path) -> dict:
    call_command("export_ballots", slug, "-o", str(folder), stdout=io.StringIO())
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def tally_of(slug: str) -> dict:
    out = io.StringIO()
    call_command("tally", slug, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("preset", ["qianren", "wanren", "zhengfeng"])
def test_recount_agrees_with_tally_on_the_golden_cases(golden, preset, db, tmp_path):
    folder = golden / preset
    call_command("create_campaign", "--preset", preset, "--slug", "golden", "--name", "示例",
                 "--year", "2026", stdout=io.StringIO())
    call_command("import_units", "golden", str(folder / "units.xlsx"), stdout=io.StringIO())
    call_command("import_ballots", "golden", str(folder / "ballots.xlsx"), stdout=io.StringIO())
    manifest = export("golden", tmp_path / "d")
    done = recount(tmp_path / "d")
    assert done.returncode == 0, done.stderr
    # Byte for byte what `tally --format json` prints.
    out = io.StringIO()
    call_command("tally", "golden", "--format", "json", stdout=out)
    assert done.stdout.strip() == out.getvalue().strip()
    # And both are the spec's expected result (apart from the campaign header).
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    got = json.loads(done.stdout)
    assert got["ballots"] == expected["ballots"]
    assert [c["name"] for c in got["categories"]] == [c["name"] for c in expected["categories"]]
    assert manifest["fingerprint"] in done.stderr
    fp = recount(tmp_path / "d", "--fingerprint")
    assert fp.stdout.strip() == manifest["fingerprint"]


def test_a_changed_ballot_is_caught(golden, db, tmp_path):
    folder = golden / "qianren"
    call_command("create_campaign", "--preset", "qianren", "--slug", "golden", "--name", "示例",
                 "--year", "2026", stdout=io.StringIO())
    call_command("import_units", "golden", str(folder / "units.xlsx"), stdout=io.StringIO())
    call_command("import_ballots", "golden", str(folder / "ballots.xlsx"), stdout=io.StringIO())
    d = tmp_path / "d"
    manifest = export("golden", d)
    lines = (d / "ballots.jsonl").read_bytes().splitlines(keepends=True)
    row = json.loads(lines[0])
    row["answers"][0] = "不满意" if row["answers"][0] != "不满意" else "满意"
    changed = b"".join([json.dumps(row, ensure_ascii=False, sort_keys=True,
                                   separators=(",", ":")).encode() + b"\n", *lines[1:]])
    # Changed in place: the manifest's SHA-256 no longer matches, and recount says so.
    (d / "ballots.jsonl").write_bytes(changed)
    done = recount(d)
    assert done.returncode == 1 and done.stdout == "" and "ballots.jsonl" in done.stderr
    # Changed with the manifest's file hashes forged to match: the count runs, and both the
    # fingerprint and the figures differ from the office's.
    import hashlib

    manifest["files"]["ballots.jsonl"] = {"sha256": hashlib.sha256(changed).hexdigest(),
                                          "bytes": len(changed)}
    del manifest["files"]["ballots.csv"]
    (d / "ballots.csv").unlink()
    (d / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    forged = recount(d)
    assert forged.returncode == 0, forged.stderr
    assert f"fingerprint: {manifest['fingerprint']}" not in forged.stderr
    assert "与重算的指纹不同" in forged.stderr  # the manifest's own fingerprint no longer fits
    assert recount(d, "--fingerprint").stdout.strip() != manifest["fingerprint"]
    assert json.loads(forged.stdout)["categories"] != tally_of("golden")["categories"]


# --- generated campaigns ---------------------------------------------------------------------

PRESETS = ("qianren", "wanren", "zhengfeng", "liangping")
SUB_KINDS = ("内设科室", "办事窗口")


@st.composite
def campaigns(draw: st.DrawFn) -> dict:
    preset = draw(st.sampled_from(PRESETS))
    n_units = draw(st.integers(2, 6))
    n_ballots = draw(st.integers(0, 24))
    marks_of = st.one_of(st.integers(1, 4), st.just(UNMARKED), st.just(SEVERAL))
    return {
        "preset": preset,
        "units": [{"category": draw(st.integers(0, 1)), "vetoed": draw(st.booleans()),
                   "sub": draw(st.integers(0, 4)) == 0} for _ in range(n_units)],
        "ballots": [{"marks": draw(st.lists(marks_of, min_size=12, max_size=12)),
                     "paper": draw(st.booleans()), "serial": draw(st.integers(1, 12)),
                     "group": draw(st.integers(0, 1)), "manual": draw(st.integers(0, 9)) == 0,
                     "blank": draw(st.integers(0, 9)) == 0}
                    for _ in range(n_ballots)],
        "weights": draw(st.booleans()),
        "honoured": draw(st.integers(0, 2)),
        "dimension_line": draw(st.booleans()),
        "threshold": draw(st.sampled_from(["0.9", "0.5", "0.75"])),
        "quotas": draw(st.lists(st.integers(0, 3), min_size=4, max_size=4)),
    }


def build(spec: dict, n: int, campaign_factory, office) -> Campaign:
    camp = campaign_factory(spec["preset"], slug=f"gen-{n}")
    cats = list(camp.categories.order_by("order", "id"))
    for i, cat in enumerate(cats[:2]):
        cat.winners, cat.last_place = spec["quotas"][2 * i], spec["quotas"][2 * i + 1]
        cat.save(update_fields=["winners", "last_place"])
    by_cat: dict[str, list[str]] = {}
    for i, u in enumerate(spec["units"]):
        by_cat.setdefault(cats[min(u["category"], len(cats) - 1)].name, []).append(f"单位{i}")
    add_units(camp, by_cat)
    for i, u in enumerate(spec["units"]):
        cu = CampaignUnit.objects.get(campaign=camp, name=f"单位{i}")
        if u["vetoed"]:
            CampaignUnit.objects.filter(pk=cu.pk).update(vetoed=True)
        if u["sub"]:
            Unit.objects.filter(pk=cu.unit_id).update(kind=SUB_KINDS[i % 2])
    camp.threshold = spec["threshold"]
    camp.honoured_quota = spec["honoured"]
    camp.dimension_line = spec["dimension_line"]
    camp.save(update_fields=["threshold", "honoured_quota", "dimension_line"])
    camp.groups.all().delete()
    weighted = spec["weights"] and camp.aggregation == "mean"
    groups = [RepresentativeGroup.objects.create(
        campaign=camp, name=name, order=i, weight=w if weighted else None)
        for i, (name, w) in enumerate((("服务对象", "0.6"), ("党政干部", "0.4")))]
    layout = Layout.of(camp)
    n_options = camp.options.count()
    for b in spec["ballots"]:
        marks = [m if m in (UNMARKED, SEVERAL) else 1 + (m - 1) % n_options
                 for m in (b["marks"] * 20)[: len(layout.cells)]]
        if b["blank"]:
            marks = [UNMARKED] * len(layout.cells)
        ballot = ballot_create(
            campaign=camp, source="paper" if b["paper"] else "online", marks=marks,
            serial=f"{b['serial']:04d}" if b["paper"] else "", group=groups[b["group"]],
            layout=layout)
        if b["manual"]:
            ballot_invalidate(ballot=ballot, reason="人工认定", user=office)
    return camp


@pytest.mark.django_db
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=campaigns())
def test_recount_agrees_with_tally_on_generated_campaigns(
    spec, campaign_factory, office, tmp_path_factory
):
    n = Campaign.objects.count() + 1
    camp = build(spec, n, campaign_factory, office)
    folder = tmp_path_factory.mktemp("gen")
    built = build_ballot_file(camp)
    built.write(folder)
    done = recount(folder)
    try:
        expected = tally_json(camp)
    except ValueError as exc:  # the engine refuses (e.g. a weighted group without weight)
        assert done.returncode == 2, (str(exc), done.stdout)
        return
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected
    assert built.fingerprint in done.stderr
    # The photocopy rule and the other reasons are the same ballots on both sides.
    assert expected["ballots"]["total"] == Ballot.objects.filter(campaign=camp).count()


@pytest.mark.django_db
def test_recount_agrees_on_a_campaign_with_every_awkward_part(campaign_factory, office, tmp_path):
    """Not left to chance: group weights, a photocopied serial, spoiled cells, a blank and a
    manually invalidated ballot, vetoed and sub-units, the per-dimension line, and units tied
    exactly (the same marks on every ballot)."""
    same = [1, 1, 2, 3, SEVERAL, UNMARKED]
    spec = {
        "preset": "wanren",
        "units": [{"category": 0, "vetoed": i == 1, "sub": i >= 3} for i in range(5)],
        "ballots": [{"marks": (same * 2)[:12], "paper": i % 2 == 0 or i < 2,
                     "serial": 7 if i < 2 else i + 10,
                     "group": i % 2, "manual": i == 5, "blank": i == 6} for i in range(12)],
        "weights": True,
        "honoured": 1,
        "dimension_line": True,
        "threshold": "0.9",
        "quotas": [1, 1, 1, 1],
    }
    camp = build(spec, 1, campaign_factory, office)
    data = tally_json(camp)
    assert data["ballots"]["invalid_reasons"] == {
        "manual": 1, "duplicate_serial": 2, "blank_ballot": 1}
    units = data["categories"][0]["units"]
    assert any(u["spoiled"] for u in units)
    ranks = [u["rank"] for u in units]
    assert len(set(ranks)) < len(ranks)  # ties
    built = build_ballot_file(camp)
    assert built.head["recount"]["group_weights"]
    built.write(tmp_path)
    done = recount(tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == data
