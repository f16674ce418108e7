"""Verifiable results, the pages and services: the fingerprint on the 公示, publishing the
ballot file, the receipt check, the notary's package (scoring/verification.py)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ballots.models import AccessCode, Ballot, CodeAttempt
from ballots.online.codes import new_code, receipt_counted
from ballots.online.submit import ballot_submit
from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from core.chain import chain_head
from core.models import AuditLog
from scoring.ballot_file import ballot_fingerprint, build_ballot_file
from scoring.models import Publication
from scoring.tally import tally_json
from scoring.verification import notary_package
from tests.results_fixtures import results_campaign  # noqa: F401
from tests.test_online_submit import all_satisfied, open_campaign
from tests.test_publication import close


def _publish(client, office, campaign) -> Publication:
    close(campaign)
    client.force_login(office)
    client.post(reverse("results_publish", args=[campaign.slug]))
    return Publication.objects.get(campaign=campaign, withdrawn_at__isnull=True)


def test_the_published_fingerprint_is_the_ballot_files(client, office, results_campaign):  # noqa: F811
    pub = _publish(client, office, results_campaign)
    assert len(pub.fingerprint) == 64
    assert pub.fingerprint == ballot_fingerprint(results_campaign)
    assert pub.ballot_manifest["fingerprint"] == pub.fingerprint
    client.logout()
    page = client.get(reverse("public_results", args=["golden"])).content.decode()
    assert pub.fingerprint in page
    # The ballot file is kept, but not offered until staff publish it too.
    assert "ballots.jsonl" not in page
    url = reverse("ballot_file_download", args=["golden", "ballots.jsonl"])
    assert client.get(url).status_code == 404


def test_staff_publish_the_ballot_file_and_withdraw_it(client, office, leader,
                                                      results_campaign):  # noqa: F811
    pub = _publish(client, office, results_campaign)
    client.force_login(leader)  # leaders read results but do not publish
    assert client.post(reverse("ballots_publish", args=["golden"])).status_code == 403
    client.force_login(office)
    client.post(reverse("ballots_publish", args=["golden"]))
    pub.refresh_from_db()
    assert pub.ballots_published_at is not None
    assert AuditLog.objects.filter(action="results.ballots_publish").count() == 1
    client.logout()
    page = client.get(reverse("public_results", args=["golden"])).content.decode()
    assert "ballots.jsonl" in page and "python3 -m recount" in page
    built = build_ballot_file(results_campaign)
    got = {name: client.get(reverse("ballot_file_download", args=["golden", name]))
           for name in ("manifest.json", "ballots.jsonl", "ballots.csv")}
    assert b"".join(got["ballots.jsonl"].streaming_content
                    if got["ballots.jsonl"].streaming else [got["ballots.jsonl"].content]) \
        == built.jsonl
    assert json.loads(got["manifest.json"].content)["fingerprint"] == pub.fingerprint
    assert got["ballots.csv"].content == built.csv_bytes()
    assert "attachment" in got["ballots.csv"]["Content-Disposition"]
    assert client.get(reverse("ballot_file_download", args=["golden", "x.txt"])).status_code == 404
    program = client.get(reverse("ballot_file_download", args=["golden", "recount.zip"]))
    assert "recount/__main__.py" in zipfile.ZipFile(io.BytesIO(program.content)).namelist()
    # Withdrawn with a reason: the files are gone from the public side, the copy stays.
    client.force_login(office)
    client.post(reverse("ballots_withdraw", args=["golden"]), {"reason": ""})
    pub.refresh_from_db()
    assert pub.ballots_published_at is not None  # no reason, no withdrawal
    client.post(reverse("ballots_withdraw", args=["golden"]), {"reason": "发现片区名称有误"})
    pub.refresh_from_db()
    assert pub.ballots_published_at is None and pub.ballot_rows
    assert AuditLog.objects.get(action="results.ballots_withdraw").reason == "发现片区名称有误"
    client.logout()
    for name in ("manifest.json", "recount.zip"):
        url = reverse("ballot_file_download", args=["golden", name])
        assert client.get(url).status_code == 404


def test_the_published_copy_stays_when_the_ballots_change(client, office, results_campaign):  # noqa: F811
    """The ballot file is fixed with the 公示 it was counted for: a later change makes a new
    fingerprint in the reports, and the public page keeps the announced one."""
    pub = _publish(client, office, results_campaign)
    Ballot.objects.filter(campaign=results_campaign, status="valid").filter(
        pk=Ballot.objects.filter(campaign=results_campaign, status="valid").values("pk")[:1]
    ).update(status="invalid", invalid_reason="manual")
    assert ballot_fingerprint(results_campaign) != pub.fingerprint
    page = client.get(reverse("public_results", args=["golden"])).content.decode()
    assert pub.fingerprint in page


@pytest.fixture
def voted(campaign_factory, django_capture_on_commit_callbacks, client, office):
    """An anonymous campaign where three codes voted, closed and published."""
    camp = open_campaign(campaign_factory)
    codes = [AccessCode.objects.create(campaign=camp, code=new_code()) for _i in range(4)]
    for c in codes[:3]:
        ballot_submit(campaign=camp, code=c.code, answers=all_satisfied(camp))
    with django_capture_on_commit_callbacks(execute=True):
        campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED)
    _publish(client, office, camp)
    client.logout()
    for c in codes:
        c.refresh_from_db()
    return camp, codes


def test_a_receipt_is_found_and_nothing_else_is_said(client, voted):
    camp, codes = voted
    url = reverse("receipt_check", args=[camp.slug])
    assert codes[0].receipt and not codes[3].receipt
    page = client.get(reverse("public_results", args=[camp.slug])).content.decode()
    assert url in page
    # Typed as people type it: lower case, full-width, without the dash.
    typed = codes[0].receipt.replace("-", "").lower()
    r = client.post(url, {"receipt": typed})
    body = r.content.decode()
    assert r.status_code == 200 and 'id="receipt-answer"' in body and "已收到" in body
    for label in camp.options.values_list("label", flat=True):
        assert label not in body  # never the ballot's answers
    r = client.post(url, {"receipt": "ABCDE-FGHJK"})
    assert "查无此回执号" in r.content.decode()
    r = client.post(url, {"receipt": "不是回执"})
    assert "格式不正确" in r.content.decode()
    assert CodeAttempt.objects.filter(reason="receipt").count() == 2


def test_the_receipt_check_reads_codes_never_ballots(voted):
    camp, codes = voted
    with CaptureQueriesContext(connection) as queries:
        assert receipt_counted(camp, codes[1].receipt) is True
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert Ballot._meta.db_table not in sql and "ballots_accesscode" in sql


def test_wrong_receipts_are_rate_limited_like_codes(client, voted, settings):
    camp, codes = voted
    settings.PINGYI_CODE_ATTEMPTS_PER_WINDOW = 3
    url = reverse("receipt_check", args=[camp.slug])
    for _i in range(3):
        assert client.post(url, {"receipt": "ABCDE-FGHJK"}).status_code == 200
    r = client.post(url, {"receipt": codes[0].receipt})
    assert r.status_code == 429 and "receipt-answer" not in r.content.decode()
    assert int(r["Retry-After"]) > 0


def test_no_receipt_check_before_publication(client, campaign_factory):
    camp = open_campaign(campaign_factory)
    assert client.get(reverse("receipt_check", args=[camp.slug])).status_code == 404


def test_the_notary_package(client, auditor, office, results_campaign):  # noqa: F811
    close(results_campaign)
    data = notary_package(results_campaign)
    z = zipfile.ZipFile(io.BytesIO(data))
    names = set(z.namelist())
    assert {"README.txt", "选票明细/manifest.json", "选票明细/ballots.jsonl",
            "选票明细/ballots.csv", "审计日志.csv", "纸质票核对.csv"} <= names
    assert any(n.startswith("报告/") and n.endswith(".pdf") for n in names)
    assert any(n.startswith("报告/") and n.endswith(".xlsx") for n in names)
    readme = z.read("README.txt").decode()
    fingerprint = ballot_fingerprint(results_campaign)
    assert fingerprint in readme and "python3 -m recount" in readme
    assert "recount/__main__.py" in names and "recount/README.md" in names
    log = list(csv.reader(io.StringIO(z.read("审计日志.csv").decode("utf-8-sig"))))
    assert len(log) - 1 == AuditLog.objects.filter(campaign_id=results_campaign.pk).count()
    assert log[-1][-1] in readme  # the chain's head, in the README too
    # The reports are made without the comments (the notary checks the count).
    for name in names:
        if name.endswith(".jsonl") or name.endswith(".csv") or name.endswith(".txt"):
            assert "办事效率高" not in z.read(name).decode("utf-8-sig")
    # Made by the auditor, as a background job; office staff have no audit log to give.
    client.force_login(office)
    assert client.post(reverse("notary_start", args=["golden"])).status_code == 403
    client.force_login(auditor)
    r = client.post(reverse("notary_start", args=["golden"]))
    assert r.status_code == 302 and "/jobs/" in r["Location"]


def test_the_notary_package_recounts_on_its_own(tmp_path, results_campaign):  # noqa: F811
    """Unzipped anywhere, `python3 -m recount 选票明细` in it prints what `tally` prints."""
    out = tmp_path / "n.zip"
    call_command("notary_package", "golden", "-o", str(out), stdout=io.StringIO())
    folder = tmp_path / "unzipped"
    zipfile.ZipFile(out).extractall(folder)
    done = subprocess.run([sys.executable, "-S", "-m", "recount", "选票明细"], cwd=folder,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == tally_json(results_campaign)
    assert ballot_fingerprint(results_campaign) in done.stderr
    # The audit log checks on its own too, to the head the reports print.
    log = subprocess.run([sys.executable, "-S", "-m", "recount.audit", "审计日志.csv"],
                         cwd=folder, capture_output=True, text=True, check=False)
    assert log.returncode == 0, log.stderr
    head = log.stdout.split("链尾 ")[1].strip()
    assert f"审计日志链尾哈希:{head}" in (folder / "README.txt").read_text(encoding="utf-8")
    # The package's making is logged after it: the chain has grown by that entry since.
    assert AuditLog.objects.filter(campaign_id=results_campaign.pk).order_by("-id")[1].hash == head
    assert chain_head(results_campaign.pk) != head
    # One character of one entry changed: named, exit 1.
    path = folder / "审计日志.csv"
    text = path.read_text(encoding="utf-8-sig").replace("campaign.create", "campaign.crea7e", 1)
    path.write_text(text, encoding="utf-8-sig")
    log = subprocess.run([sys.executable, "-S", "-m", "recount.audit", "审计日志.csv"],
                         cwd=folder, capture_output=True, text=True, check=False)
    assert log.returncode == 1 and "第 2 行" in log.stderr and "被修改" in log.stderr
