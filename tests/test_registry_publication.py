"""Publication (公示) of the retained list and the 通报 (issue 22): publishing needs every
activity decided, merges into activities that survive, closed rounds and the notice; the public
page shows the fixed copy without a login; the Excel and PDF 通报 count per organiser and keep
text cells text."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from core.models import AuditLog, BackgroundJob
from registry.exports import outcome_pdf, outcome_workbook
from registry.publication import (
    cleanup_publish,
    cleanup_unpublish,
    notice_save,
    publish_problems,
)
from registry.services import decision_record, organiser_add, round_close
from tests.registry_fixtures import (  # noqa: F401  (fixtures)
    cleanup_fixture,
    dept_fixture,
    jiwei_fixture,
    organiser_fixture,
    register,
    to_status,
)


@pytest.fixture
def decided(cleanup, organiser, jiwei):  # type: ignore[no-untyped-def]
    """Four activities of two organisers: kept, merged into the kept one, cancelled, and one
    with a formula-like name, kept."""
    youth = organiser_add(cleanup=cleanup, name="团市委")
    kept = register(organiser, "全市优秀教师表彰", basis_kind="provincial",
                    basis_document="省政府批准文件")
    merged = register(organiser, "师德标兵评选", basis_kind="local")
    gone = register(youth, "青年岗位能手评比", basis_kind="none", charges_fees=True)
    odd = register(youth, "=1+1青年文明号", basis_kind="central", basis_document="中发〔2000〕1号")
    cleanup = to_status(cleanup, "self_check", "review")
    r1, r2 = list(cleanup.rounds.all())[:2]
    for a, d, into in ((kept, "keep", None), (merged, "cancel", None), (gone, "cancel", None),
                       (odd, "keep", None)):
        decision_record(round=r1, activity=a, decision=d, merged_into=into, reason="初审意见",
                        user=jiwei)
    decision_record(round=r2, activity=merged, decision="merge", merged_into=kept,
                    reason="全体会议决定并入优秀教师表彰", user=jiwei)
    return cleanup, kept, merged, gone, odd


def notice(cleanup, jiwei):  # type: ignore[no-untyped-def]
    return notice_save(cleanup=cleanup, user=jiwei, notice_from=dt.date(2026, 5, 10),
                       notice_to=dt.date(2026, 5, 16), objection_phone="0514-1234567",
                       objection_address="市纪委纠风室", issuer="市清理规范评比达标表彰工作联席会议办公室")


def test_publishing_waits_for_decisions_rounds_and_the_notice(decided, jiwei):
    cleanup, kept, merged, gone, odd = decided
    problems = publish_problems(cleanup)
    assert "“联席会议办公室甄别审核”尚未结束" in problems
    assert "请填写公示期" in problems and "请填写发布单位" in problems
    for r in cleanup.rounds.filter(decisions__isnull=False).distinct():
        round_close(round=r, user=jiwei)
    cleanup = notice(cleanup, jiwei)
    assert publish_problems(cleanup) == []
    # A merge into an activity that is not kept in the end is refused.
    r3 = cleanup.rounds.get(order=3)
    decision_record(round=r3, activity=kept, decision="cancel", reason="上级反馈撤销",
                    user=jiwei)
    round_close(round=r3, user=jiwei)
    assert "“师德标兵评选”合并到“全市优秀教师表彰”,但“全市优秀教师表彰”的最终意见不是保留" in (
        publish_problems(cleanup))
    r4 = cleanup.rounds.get(order=4)
    decision_record(round=r4, activity=kept, decision="keep", reason="第三次全体会议调整为保留",
                    user=jiwei)
    round_close(round=r4, user=jiwei)
    assert publish_problems(cleanup) == []


def _publishable(decided, jiwei):  # type: ignore[no-untyped-def]
    cleanup = decided[0]
    for r in cleanup.rounds.filter(decisions__isnull=False).distinct():
        round_close(round=r, user=jiwei)
    return notice(cleanup, jiwei)


def test_publish_fixes_the_retained_list_and_the_public_page_shows_it(client, decided, jiwei):
    cleanup = _publishable(decided, jiwei)
    public = reverse("registry_public", args=[cleanup.slug])
    assert client.get(public).status_code == 404
    cleanup = cleanup_publish(cleanup=cleanup, user=jiwei)
    assert cleanup.status == "publicity"
    names = [r["name"] for r in cleanup.publication["retained"]]
    assert sorted(names) == sorted(["全市优秀教师表彰", "=1+1青年文明号"])
    merged = {r["name"]: r["merged"] for r in cleanup.publication["retained"]}
    assert merged == {"全市优秀教师表彰": ["师德标兵评选"], "=1+1青年文明号": []}
    page = client.get(public).content.decode()  # no login
    assert "保留的评比达标表彰项目公示" in page and "全市优秀教师表彰" in page
    assert "合并了" in page and "师德标兵评选" in page and "青年岗位能手评比" not in page
    assert "2026年5月16日" in page and "0514-1234567" in page
    with pytest.raises(ValidationError, match="请先撤回公示"):
        notice(cleanup, jiwei)
    with pytest.raises(ValidationError, match="须说明理由"):
        cleanup_unpublish(cleanup=cleanup, reason="", user=jiwei)
    cleanup = cleanup_unpublish(cleanup=cleanup, reason="发现遗漏项目", user=jiwei)
    assert cleanup.status == "review" and client.get(public).status_code == 404
    assert AuditLog.objects.filter(action="registry.unpublish", reason="发现遗漏项目").exists()


def test_publishing_through_the_page(client, decided, jiwei):
    cleanup = _publishable(decided, jiwei)
    client.force_login(jiwei)
    page = client.get(reverse("registry_cleanup", args=[cleanup.slug])).content.decode()
    assert "公示保留项目名单" in page and 'id="publish-problems"' not in page
    client.post(reverse("registry_publication", args=[cleanup.slug, "publish"]))
    cleanup.refresh_from_db()
    assert cleanup.published_at is not None
    client.post(reverse("registry_status", args=[cleanup.slug]), {"status": "done"})
    cleanup.refresh_from_db()
    assert cleanup.status == "done"
    assert client.get(reverse("registry_public", args=[cleanup.slug])).status_code == 200


def test_the_excel_tongbao_counts_per_organiser_and_keeps_text_as_text(decided):
    cleanup = decided[0]
    wb = openpyxl.load_workbook(io.BytesIO(outcome_workbook(cleanup)))
    assert wb.sheetnames == ["通报", "保留项目", "全部项目", "自查统计表"]
    rows = [[c.value for c in r] for r in wb["通报"].iter_rows()]
    assert rows[1] == ["举办单位", "登记", "保留", "合并", "撤销", "未定"]
    assert ["团市委", 2, 1, 0, 1, 0] in rows and ["市教育局", 2, 1, 1, 0, 0] in rows
    assert rows[-1] == ["合计", 4, 2, 1, 1, 0]
    cell = next(c for r in wb["保留项目"].iter_rows() for c in r if c.value == "=1+1青年文明号")
    assert cell.data_type == "s"


def test_the_pdf_tongbao_in_the_background(client, decided, jiwei,
                                            django_capture_on_commit_callbacks):
    cleanup = decided[0]
    pdf = outcome_pdf(cleanup)
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                              check=True).stdout.decode()
        assert "审核结果通报" in text and "全市优秀教师表彰" in text and "青年岗位能手评比" in text
    client.force_login(jiwei)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry_report", args=[cleanup.slug]),
                               {"format": "xlsx"})
    job = BackgroundJob.objects.get()
    assert response["Location"] == reverse("job_page", args=[job.pk])
    assert job.status == BackgroundJob.Status.DONE and job.result_file
    assert AuditLog.objects.filter(action="registry.report").exists()


def test_the_report_command(decided, tmp_path):
    out = tmp_path / "t.xlsx"
    call_command("cleanup_report", decided[0].slug, "--format", "xlsx", "-o", str(out))
    assert out.stat().st_size > 0


def test_the_department_sees_its_outcome_with_the_publication(client, decided, jiwei, dept):
    cleanup = _publishable(decided, jiwei)
    client.force_login(dept)
    url = reverse("registry_mine", args=[cleanup.slug])
    assert "审核结果" not in client.get(url).content.decode()
    cleanup_publish(cleanup=cleanup, user=jiwei)
    page = client.get(url).content.decode()
    assert "审核结果" in page and "全体会议决定并入优秀教师表彰" in page


def test_the_pages_render_in_english_too(client, decided, jiwei):
    cleanup = cleanup_publish(cleanup=_publishable(decided, jiwei), user=jiwei)
    client.cookies["django_language"] = "en"
    assert 'lang="en"' in client.get(reverse("registry_public", args=[cleanup.slug])).content.decode()
    client.force_login(jiwei)
    for name, args in (("registry_cleanup", [cleanup.slug]), ("registry_activities", [cleanup.slug]),
                       ("registry_round", [cleanup.slug, cleanup.rounds.first().pk]),
                       ("registry_activity", [cleanup.slug, decided[2].pk])):
        assert client.get(reverse(name, args=args)).status_code == 200, name
