"""The public ballot file (scoring/ballot_file.py, recount/README.md): its shape, its
fingerprint, and that it joins to nothing in an anonymous campaign."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ballots import sql
from ballots.answers import KIND_BLANK, KIND_OPTION, Storage
from ballots.models import AccessCode, Ballot
from ballots.online.codes import new_code
from ballots.online.submit import ballot_submit
from ballots.services import Answer
from campaigns.models import Campaign, Representative, RepresentativeGroup
from campaigns.services import campaign_set_status
from core.models import AuditLog
from scoring.ballot_file import ballot_file_problems, build_ballot_file, canonical
from tests.results_fixtures import results_campaign  # noqa: F401
from tests.test_online_submit import open_campaign

ROW_KEYS = {"source", "serial", "channel", "group", "district", "status", "reason", "answers"}


def test_the_golden_file_is_canonical_and_its_fingerprint_recomputable(results_campaign):  # noqa: F811
    built = build_ballot_file(results_campaign)
    lines = built.jsonl.splitlines(keepends=True)
    assert built.rows == len(lines) == Ballot.objects.filter(campaign=results_campaign).count()
    for line in lines:
        row = json.loads(line)
        assert set(row) == ROW_KEYS
        assert canonical(row) + b"\n" == line  # each line is the canonical JSON of its row
        assert len(row["answers"]) == len(built.manifest["recount"]["cells"])
    # Ordered by the SHA-256 of each line: from the content alone.
    assert lines == sorted(lines, key=lambda b: hashlib.sha256(b).digest())
    m = built.manifest
    assert m["format"] == "pingyi-ballot-file" and m["version"] == 1
    assert m["fingerprint"] == hashlib.sha256(
        canonical(m["recount"]) + b"\n" + built.jsonl).hexdigest()
    assert m["files"]["ballots.jsonl"] == {
        "sha256": hashlib.sha256(built.jsonl).hexdigest(), "bytes": len(built.jsonl)}
    csv_bytes = built.csv_bytes()
    assert m["files"]["ballots.csv"]["sha256"] == hashlib.sha256(csv_bytes).hexdigest()
    # The same ballots always make the same file.
    assert build_ballot_file(results_campaign).jsonl == built.jsonl
    # The golden file's awkward parts are there: spoiled cells, photocopies, a blank ballot.
    rows = [json.loads(line) for line in lines]
    assert any("(多选)" in r["answers"] for r in rows)
    reasons = {r["reason"] for r in rows}
    assert {"duplicate_serial", "blank_ballot"} <= reasons
    assert all(r["serial"] for r in rows if r["source"] == "paper")


def test_the_csv_opens_in_excel_and_carries_the_same_rows(results_campaign):  # noqa: F811
    built = build_ballot_file(results_campaign)
    data = built.csv_bytes()
    assert data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == built.manifest["ballots"]["columns"]
    assert table[0][:7] == ["来源", "编号", "渠道", "代表类别", "片区", "状态", "无效原因"]
    assert len(table) == built.rows + 1
    first = json.loads(built.jsonl.splitlines()[0])
    assert table[1][7:] == first["answers"] and table[1][1] == first["serial"]


def test_export_command_writes_the_three_files(results_campaign, tmp_path):  # noqa: F811
    out = io.StringIO()
    call_command("export_ballots", results_campaign.slug, "-o", str(tmp_path / "d"), stdout=out)
    names = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert names == ["ballots.csv", "ballots.jsonl", "manifest.json"]
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["fingerprint"] in out.getvalue()
    jsonl = (tmp_path / "d" / "ballots.jsonl").read_bytes()
    assert hashlib.sha256(jsonl).hexdigest() == manifest["files"]["ballots.jsonl"]["sha256"]
    with pytest.raises(CommandError, match="没有标识"):
        call_command("export_ballots", "nope", "-o", str(tmp_path / "e"))


def _cast(camp: Campaign, n: int, *, district: str, group: RepresentativeGroup,
          tag: str) -> list[AccessCode]:
    units = list(camp.units.order_by("id"))
    options = list(camp.options.order_by("order"))
    codes = []
    for i in range(n):
        rep = Representative.objects.create(
            campaign=camp, group=group, name=f"{tag}代表{i}", phone=f"139{tag}{i:04d}",
            district=district)
        code = AccessCode.objects.create(
            campaign=camp, code=new_code(), representative=rep, group=group)
        # Every code answers differently, so a row could be told apart if anything joined it.
        answers = [Answer(u.pk, None, options[(i + j) % len(options)].pk)
                   for j, u in enumerate(units)]
        ballot_submit(campaign=camp, code=code.code, answers=answers,
                      comments={None: f"{tag}的意见{i}"})
        codes.append(code)
    return codes


@pytest.mark.django_db
def test_an_anonymous_campaigns_file_joins_to_nothing(
    campaign_factory, django_capture_on_commit_callbacks
):
    camp = open_campaign(campaign_factory)
    big, small = camp.groups.order_by("order")[:2]
    codes = _cast(camp, 12, district="东区", group=big, tag="E")
    codes += _cast(camp, 3, district="西区", group=small, tag="W")
    with django_capture_on_commit_callbacks(execute=True):
        campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED)
    built = build_ballot_file(camp)
    rows = [json.loads(line) for line in built.jsonl.splitlines()]
    assert len(rows) == 15 and all(set(r) == ROW_KEYS for r in rows)
    # Nothing that names a code, a receipt, a token, a ballot, a person or an audit entry.
    secrets: set[str] = set()
    for c in codes:
        c.refresh_from_db()
        secrets |= {c.code, c.receipt, str(c.pk), c.representative.name,
                    c.representative.phone}
    for b in Ballot.objects.filter(campaign=camp):
        secrets |= {str(b.pk), b.token or "", b.received_on.isoformat()}
    # What the audit log says of codes and ballots (ids, masked codes), and every hash of it.
    for entry in AuditLog.objects.filter(campaign_id=camp.pk):
        if entry.object_type.startswith("ballots."):
            secrets |= {entry.object_id, entry.object_repr}
        secrets |= {entry.hash}
    secrets.discard("")
    text = built.jsonl.decode() + built.csv_bytes().decode("utf-8-sig") + json.dumps(
        built.manifest, ensure_ascii=False)
    for s in secrets:
        assert s not in text, s
    assert all(r["serial"] == "" for r in rows)  # online ballots' serials never appear
    # The small district and group (3 ballots) are not shown; the big ones may be.
    assert "西区" not in text and small.name not in {r["group"] for r in rows}
    # No order shared with storage: the rows are rewritten in another order and the file
    # stays byte for byte the same.
    sql.shuffle_ballots(camp.pk)
    assert build_ballot_file(camp).jsonl == built.jsonl


@pytest.mark.django_db
def test_a_column_whose_crossing_would_single_out_a_few_is_left_empty(campaign_factory):
    """District and group are each large, but one group's ballots in one district are few:
    one row per ballot crosses them, so one of the two columns is emptied."""
    camp = open_campaign(campaign_factory)
    g1, g2 = camp.groups.order_by("order")[:2]
    storage = Storage.of(camp)
    cells = storage.cells
    option = camp.options.order_by("order").first()
    for district, group, n in (("东区", g1, 12), ("西区", g2, 12), ("东区", g2, 2)):
        for _i in range(n):
            Ballot.objects.create(
                campaign=camp, source="online", group=group, district=district,
                answers=storage.encode([(u, d, option.pk, KIND_OPTION) for u, d in cells]))
    rows = [json.loads(line) for line in build_ballot_file(camp).jsonl.splitlines()]
    # The group column is tried first and kept; the district would make a cell of 2.
    assert {r["group"] for r in rows} == {g1.name, g2.name}
    assert {r["district"] for r in rows} == {""}


@pytest.mark.django_db
def test_a_weighted_group_too_small_to_publish_is_refused(campaign_factory, tmp_path):
    camp = campaign_factory("wanren")
    open_campaign(lambda _p: camp)
    camp.groups.all().delete()
    groups = [RepresentativeGroup.objects.create(campaign=camp, name=name, order=i, weight=w)
              for i, (name, w) in enumerate((("服务对象", "0.6"), ("党政干部", "0.4")))]
    storage = Storage.of(camp)
    for group, n in ((groups[0], 12), (groups[1], 3)):
        for _i in range(n):
            Ballot.objects.create(
                campaign=camp, source="online", group=group,
                answers=storage.encode([(u, d, None, KIND_BLANK) for u, d in storage.cells]))
    problems = ballot_file_problems(camp)
    assert len(problems) == 1 and groups[1].name in problems[0] and "3" in problems[0]
    with pytest.raises(CommandError, match="计分加权"):
        call_command("export_ballots", camp.slug, "-o", str(tmp_path))
    assert not any(Path(tmp_path).iterdir())

