"""Issue 18, entries from source offices (assessment.md section 5) through the pages: a source
office enters for its own sections only, staff approve or reject with a reason, the unit sees
its approved entries and objects once, staff decide; only what stands counts."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from assessments.models import Assessment, Entry, SourceAccount, UnitAccount
from core.models import AuditLog
from core.roles import ASSESSED, SOURCE
from tests.conftest import default_office, make_user
from tests.test_assessment_commands import build, survey_campaign


@pytest.fixture
def zf(db, tmp_path):  # type: ignore[no-untyped-def]
    survey_campaign(tmp_path)
    build(tmp_path, entries=[])
    a = Assessment.objects.get(slug="zf-2026")
    a.office = default_office()
    a.save(update_fields=["office"])
    a.sections.filter(name="督办落实").update(source="市委督查室、市政府督查室")
    a.sections.filter(name="违纪违规").update(source="市纪委监委")
    return a


@pytest.fixture
def source(db):  # type: ignore[no-untyped-def]
    user = make_user("duchashi", SOURCE)
    SourceAccount.objects.create(user=user, source="市委督查室")
    return user


@pytest.fixture
def unit_user(db, zf):  # type: ignore[no-untyped-def]
    user = make_user("jiaju", ASSESSED)
    UnitAccount.objects.create(user=user, unit=zf.units.get(name="甲局").unit)
    return user


def total_of(capsys, name: str) -> float:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    call_command("assess", "zf-2026", "--format", "json")
    units = json.loads(capsys.readouterr().out)["categories"][0]["units"]
    return next(u["total"] for u in units if u["unit"] == name)


def test_a_source_office_enters_only_its_own_sections(client, zf, source):
    client.force_login(source)
    page = client.get(reverse("assessment_entry_new", args=[zf.slug]))
    choices = dict(page.context["form"].fields["what"].choices)
    assert any("督办落实" in label for label in choices.values())
    assert not any("违纪违规" in label for label in choices.values())  # 市纪委监委's
    item = zf.sections.get(name="违纪违规").items.get()
    unit = zf.units.get(name="甲局")
    forged = client.post(reverse("assessment_entry_new", args=[zf.slug]), {
        "unit": unit.pk, "what": f"i{item.pk}", "count": 1, "points": 15, "basis": "x"})
    assert forged.status_code == 200 and not Entry.objects.exists()  # not a valid choice


def test_enter_review_object_and_decide_through_the_pages(
    client, capsys, zf, source, office, unit_user
):
    unit = zf.units.get(name="甲局")
    item = zf.sections.get(name="督办落实").items.get()
    client.force_login(source)
    response = client.post(reverse("assessment_entry_new", args=[zf.slug]), {
        "unit": unit.pk, "what": f"i{item.pk}", "count": 2, "basis": "督字〔2026〕9号"})
    assert response.status_code == 302
    entry = Entry.objects.get()
    assert entry.status == "pending" and entry.source == "市委督查室"
    assert total_of(capsys, "甲局") == 100  # pending does not count
    # Staff: a rejection needs a reason.
    client.force_login(office)
    decide = reverse("assessment_entry_decide", args=[zf.slug, entry.pk])
    client.post(decide, {"action": "reject", "reason": ""})
    entry.refresh_from_db()
    assert entry.status == "pending"
    client.post(decide, {"action": "approve", "reason": ""})
    assert total_of(capsys, "甲局") == 92
    # The unit sees it and objects once.
    client.force_login(unit_user)
    mine = reverse("assessment_my_entries", args=[zf.slug])
    assert "督字〔2026〕9号" in client.get(mine).content.decode()
    client.post(mine, {"entry": entry.pk, "text": "已按期落实,见附件"})
    client.post(mine, {"entry": entry.pk, "text": "再来一次"})
    entry.refresh_from_db()
    assert entry.objection == "lodged" and entry.objection_text == "已按期落实,见附件"
    # Staff accept the objection: the entry no longer counts; every step is in the log.
    client.force_login(office)
    assert "已按期落实" in client.get(reverse("assessment_entries", args=[zf.slug])).content.decode()
    client.post(decide, {"action": "accept", "reason": "核实已落实"})
    assert total_of(capsys, "甲局") == 100
    actions = list(AuditLog.objects.filter(object_type="assessments.Entry").order_by("id")
                   .values_list("action", flat=True))
    assert actions == ["entry.submit", "entry.approve", "entry.object",
                       "entry.objection_accept"]


def test_who_may_see_what(client, zf, source, unit_user, clerk):
    client.force_login(clerk)
    assert client.get(reverse("assessment_entries", args=[zf.slug])).status_code == 403
    client.force_login(source)
    assert client.get(reverse("assessment_entries", args=[zf.slug])).status_code == 403
    client.force_login(unit_user)
    assert client.get(reverse("assessment_entry_new", args=[zf.slug])).status_code == 404
    other = make_user("yiju", ASSESSED)
    UnitAccount.objects.create(user=other, unit=zf.units.get(name="乙局").unit)
    entry = Entry.objects.create(assessment=zf, unit=zf.units.get(name="甲局"),
                                 section=zf.sections.get(name="督办落实"),
                                 item=zf.sections.get(name="督办落实").items.get(), count=1,
                                 source="市委督查室", basis="b", status="approved")
    client.force_login(other)
    page = client.get(reverse("assessment_my_entries", args=[zf.slug])).content.decode()
    assert f'data-entry="{entry.pk}"' not in page  # 甲局's entry is not 乙局's to see
    client.post(reverse("assessment_my_entries", args=[zf.slug]), {"entry": entry.pk,
                                                                   "text": "x"})
    entry.refresh_from_db()
    assert entry.objection == ""


def test_evidence_is_checked_kept_privately_and_served_only_to_those_concerned(
    client, zf, source, office, unit_user, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private"
    unit = zf.units.get(name="甲局")
    item = zf.sections.get(name="督办落实").items.get()
    url = reverse("assessment_entry_new", args=[zf.slug])
    client.force_login(source)
    fake = SimpleUploadedFile("通报.pdf", b"<html><script>alert(1)</script>")
    page = client.post(url, {"unit": unit.pk, "what": f"i{item.pk}", "count": 1,
                             "basis": "督字1号", "evidence": fake})
    assert "只收 PDF、JPG 或 PNG" in page.content.decode() and not Entry.objects.exists()
    pdf = SimpleUploadedFile("通报.pdf", b"%PDF-1.4 scan")
    client.post(url, {"unit": unit.pk, "what": f"i{item.pk}", "count": 1, "basis": "督字1号",
                      "evidence": pdf})
    entry = Entry.objects.get()
    assert entry.evidence.name.startswith("evidence/") and "通报" not in entry.evidence.name
    assert (tmp_path / "private" / entry.evidence.name).read_bytes() == b"%PDF-1.4 scan"
    download = reverse("assessment_entry_evidence", args=[zf.slug, entry.pk])
    assert b"".join(client.get(download).streaming_content) == b"%PDF-1.4 scan"
    client.force_login(unit_user)
    assert client.get(download).status_code == 404  # not approved yet
    client.force_login(office)
    response = client.get(download)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    client.post(reverse("assessment_entry_decide", args=[zf.slug, entry.pk]),
                {"action": "approve", "reason": ""})
    client.force_login(unit_user)
    assert client.get(download).status_code == 200
    other = make_user("bingju", ASSESSED)
    UnitAccount.objects.create(user=other, unit=zf.units.get(name="丙局").unit)
    client.force_login(other)
    assert client.get(download).status_code == 404
    assert AuditLog.objects.filter(action="entry.evidence_download").count() == 3


def test_reports_are_built_in_the_background_and_the_lists_lead_to_each_role(
    client, zf, source, office, unit_user, django_capture_on_commit_callbacks
):
    from core.models import BackgroundJob

    client.force_login(office)
    result = client.get(reverse("assessment_result", args=[zf.slug])).content.decode()
    assert 'id="report-buttons"' in result
    assert reverse("assessment_entries", args=[zf.slug]) in result  # the review tab
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("assessment_report", args=[zf.slug]),
                               {"format": "xlsx"})
    job = BackgroundJob.objects.get()
    assert response["Location"] == reverse("job_page", args=[job.pk])
    assert job.params["handler"] == "assessments.reports.run_report_job"
    assert job.status == BackgroundJob.Status.DONE and job.result_file  # run inline in tests
    assert AuditLog.objects.filter(action="assessment.report").exists()
    assert client.post(reverse("assessment_report", args=[zf.slug]),
                       {"format": "doc"}).status_code == 404
    client.force_login(source)
    listing = client.get(reverse("assessment_list")).content.decode()
    assert 'id="entering"' in listing
    assert reverse("assessment_entry_new", args=[zf.slug]) in listing
    client.force_login(unit_user)
    listing = client.get(reverse("assessment_list")).content.decode()
    assert reverse("assessment_my_entries", args=[zf.slug]) in listing


def test_finalise_publish_and_reopen(client, capsys, zf, source, office, django_user_model):
    from assessments.entries import entry_submit

    result_url = reverse("assessment_result", args=[zf.slug])
    step = lambda s: reverse("assessment_step", args=[zf.slug, s])  # noqa: E731
    item = zf.sections.get(name="督办落实").items.get()
    pending = entry_submit(unit=zf.units.get(name="乙局"), section=item.section, item=item,
                           count=2, source="市委督查室", basis="督字1号", user=source)
    client.force_login(office)
    page = client.get(result_url).content.decode()
    assert "还有 1 条扣分或得分待审核" in page and 'id="blocking"' in page
    client.post(step("finalise"))
    zf.refresh_from_db()
    assert zf.finalised_at is None
    client.post(reverse("assessment_entry_decide", args=[zf.slug, pending.pk]),
                {"action": "approve", "reason": ""})
    client.post(step("finalise"))
    zf.refresh_from_db()
    assert zf.finalised_at is not None and len(zf.fingerprint) == 64
    # Read-only now: neither a new entry nor an import.
    with pytest.raises(Exception, match="已定稿"):
        entry_submit(unit=zf.units.get(name="甲局"), section=item.section, item=item, count=1,
                     source="市委督查室", basis="x", user=source)
    public = reverse("assessment_public", args=[zf.slug])
    client.logout()
    assert client.get(public).status_code == 404  # not yet published
    client.force_login(office)
    client.post(step("publish"), {"notice_from": "2026-12-20"})  # no channel, no issuer
    zf.refresh_from_db()
    assert zf.published_at is None
    client.post(step("publish"), {"notice_from": "2026-12-20", "notice_to": "2026-12-26",
                                  "objection_phone": "0571-1234", "issuer": "某市评议办公室"})
    client.logout()
    text = client.get(public).content.decode()
    assert "公示期为2026年12月20日至2026年12月26日" in text and "0571-1234" in text
    assert "某市评议办公室" in text
    assert "<td class=\"table-num\">84.5</td>" in text and zf.fingerprint in text  # 乙局
    assert "督字" not in text and "市委督查室" not in text  # no entries, no sources
    client.force_login(office)
    client.post(step("reopen"), {"reason": ""})
    zf.refresh_from_db()
    assert zf.finalised_at is not None
    client.post(step("reopen"), {"reason": "更正扣分"})
    zf.refresh_from_db()
    assert zf.finalised_at is None and zf.published_at is None
    client.logout()
    assert client.get(public).status_code == 404
    actions = set(AuditLog.objects.filter(action__startswith="assessment.")
                  .values_list("action", flat=True))
    assert {"assessment.finalise", "assessment.publish", "assessment.reopen"} <= actions


def test_staff_import_entries_through_the_page_preview_then_confirm(
    client, zf, office, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.helpers import xlsx_bytes
    from tests.test_assessment_commands import ENTRIES_HEADER

    settings.PINGYI_UPLOAD_ROOT = tmp_path / "uploads"
    url = reverse("assessment_entries_upload", args=[zf.slug])
    client.force_login(office)
    bad = xlsx_bytes({"扣分": [ENTRIES_HEADER, ("戊局", "督办落实", "不按时落实", 1, None,
                                                 "督查室", "1号", None)]})
    page = client.post(url, {"file": SimpleUploadedFile("e.xlsx", bad)}).content.decode()
    assert "第2行" in page and "戊局" in page and not Entry.objects.exists()
    good = xlsx_bytes({"扣分": [ENTRIES_HEADER, ("乙局", "督办落实", "不按时落实", 2, None,
                                                  "督查室", "督字3号", None)]})
    preview = client.post(url, {"file": SimpleUploadedFile("e.xlsx", good)})
    assert "预览(尚未保存)" in preview.content.decode() and not Entry.objects.exists()
    done = client.post(url, {"upload": preview.context["upload"].pk})
    assert done.status_code == 302
    entry = Entry.objects.get()
    assert entry.status == "approved" and entry.reviewed_by == office and entry.count == 2
    again = client.post(url, {"upload": preview.context["upload"].pk}, follow=True)
    assert Entry.objects.count() == 1 and again.status_code == 200


def test_a_source_office_corrects_its_entry_and_only_the_correction_counts(
    client, capsys, zf, source, office
):
    unit = zf.units.get(name="甲局")
    item = zf.sections.get(name="督办落实").items.get()
    url = reverse("assessment_entry_new", args=[zf.slug])
    client.force_login(source)
    client.post(url, {"unit": unit.pk, "what": f"i{item.pk}", "count": 3, "basis": "督字5号"})
    first = Entry.objects.get()
    client.post(url, {"unit": unit.pk, "what": f"i{item.pk}", "count": 1,
                      "basis": "督字5号(更正)", "corrects": first.pk})
    fix = Entry.objects.get(supersedes=first)
    client.force_login(office)
    for e in (first, fix):
        client.post(reverse("assessment_entry_decide", args=[zf.slug, e.pk]),
                    {"action": "approve", "reason": ""})
    assert total_of(capsys, "甲局") == 96  # the correction's 1 × 4, not 3 × 4
    assert Entry.objects.count() == 2
