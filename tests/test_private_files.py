"""Generated files (core/files.py): private, under random names, handed out only by the job
download view to whoever still holds the right, every download audited; code slips deleted
when voting ends, other files when they expire."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from ballots.online.codes import codes_unnamed
from campaigns.models import Campaign
from campaigns.services import campaign_set_status
from core.jobs import job_finish_file, job_start
from core.models import AuditLog, BackgroundJob
from evalsite.settings import BASE_DIR
from tests.conftest import make_user
from tests.test_online_submit import open_campaign

SLIPS = "ballots.online.slips.run_slips_job"
MANAGE_CODES = "campaigns.manage_codes"


@pytest.fixture(autouse=True)
def root(settings, tmp_path) -> Path:
    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private-files"
    return settings.PINGYI_PRIVATE_FILES_ROOT


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what waits for the commit (jobs are enqueued and files deleted after it)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def camp(campaign_factory):
    return open_campaign(campaign_factory)


def report_handler(job, progress):
    job_finish_file(job, "测试-评议结果.xlsx", b"report")


@pytest.fixture
def fake_pdf(monkeypatch):
    """The slips' PDF without WeasyPrint: the codes it would print, as text."""

    def slips_pdf(campaign, codes, base):
        return ("%PDF " + " ".join(c.code for c in codes)).encode()

    monkeypatch.setattr("ballots.online.slips.slips_pdf", slips_pdf)


def slips_job(camp, user, commit) -> BackgroundJob:
    with commit():
        job = job_start(
            kind="打印评议码条", handler=SLIPS, campaign=camp, user=user,
            permission=MANAGE_CODES,
            params={"campaign_id": camp.pk, "base": "http://testserver", "which": "all"},
        )
    job.refresh_from_db()
    return job


def report_job(camp, user, commit) -> BackgroundJob:
    with commit():
        job = job_start(kind="Excel 报告", handler="tests.test_private_files.report_handler",
                        campaign=camp, user=user, permission="campaigns.download_reports")
    job.refresh_from_db()
    return job


def on_disk(job: BackgroundJob) -> Path:
    return Path(job.result_file.path)


# --- where the file goes ---------------------------------------------------------------------


def test_file_is_private_under_a_random_name(camp, office, settings, root, commit, fake_pdf):
    codes_unnamed(campaign=camp, count=2, group=None, user=office)
    job = slips_job(camp, office, commit)
    assert job.status == "done", job.message
    path = on_disk(job)
    assert path.parent == root and path.read_bytes().startswith(b"%PDF")
    assert not path.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert os.stat(path).st_mode & 0o077 == 0  # readable by the application only
    # Neither the campaign nor what the file is can be read from its name, nor guessed.
    assert camp.slug not in path.name and "评议码条" not in path.name
    assert len(path.stem) >= 32 and path.suffix == ".pdf"
    assert job.result_name == f"{camp.slug}-评议码条.pdf"
    assert slips_job(camp, office, commit).result_file.name != job.result_file.name
    # Its "url" is the permission-checked download, not a path under MEDIA_URL.
    assert job.result_file.url == reverse("job_download", args=[job.pk])


def test_no_route_serves_media_even_with_debug(tmp_path):
    """evalsite/urls.py served MEDIA_ROOT under DEBUG (the quick start): no longer."""
    code = (
        "import django, os; django.setup()\n"
        "from django.urls import resolve, Resolver404\n"
        "for p in ('/media/jobs/2026/01/x-评议码条.pdf', '/media/x.pdf'):\n"
        "    try:\n"
        "        m = resolve(p)\n"
        "    except Resolver404:\n"
        "        continue\n"
        "    raise SystemExit('served: ' + p + ' by ' + repr(m.func))\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST",)}
    env.update(DEBUG="1", DJANGO_SETTINGS_MODULE="evalsite.settings")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=BASE_DIR, timeout=60)
    assert run.returncode == 0 and "ok" in run.stdout, run.stdout + run.stderr


def test_default_folder_is_private_and_inside_media_root_is_refused(tmp_path):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("PINGYI_PRIVATE_FILES_ROOT", "MEDIA_ROOT", "PINGYI_FILE_EXPIRY_DAYS",
                          "PYTEST_CURRENT_TEST")}

    def settings_with(**env: str) -> subprocess.CompletedProcess[str]:
        code = ("import evalsite.settings as s; "
                "print(s.PINGYI_PRIVATE_FILES_ROOT); print(s.PINGYI_FILE_EXPIRY_DAYS)")
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={**clean, "DEBUG": "1", **env}, cwd=BASE_DIR, timeout=60)

    default = settings_with()
    assert default.returncode == 0, default.stderr
    folder, days = default.stdout.split()
    assert Path(folder) == Path(BASE_DIR) / "private" / "files" and days == "7"
    inside = settings_with(MEDIA_ROOT=str(tmp_path), PINGYI_PRIVATE_FILES_ROOT=str(tmp_path / "f"))
    assert inside.returncode != 0 and "must not be inside MEDIA_ROOT" in inside.stderr


# --- who may download --------------------------------------------------------------------------


def test_download_keeps_the_human_name_and_is_no_store(client, camp, office, commit):
    job = report_job(camp, office, commit)
    client.force_login(office)
    r = client.get(reverse("job_download", args=[job.pk]))
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"report"
    assert "attachment" in r["Content-Disposition"]
    assert quote("测试-评议结果.xlsx") in r["Content-Disposition"]
    assert "no-store" in r["Cache-Control"]


def test_a_campaign_job_needs_the_permission_it_was_started_with(
    client, camp, office, leader, commit, fake_pdf
):
    codes_unnamed(campaign=camp, count=1, group=None, user=office)
    job = slips_job(camp, office, commit)
    assert job.params["permission"] == MANAGE_CODES
    urls = [reverse(name, args=[job.pk]) for name in ("job_page", "job_status", "job_download")]
    client.force_login(office)
    assert [client.get(u).status_code for u in urls] == [200, 200, 200]
    # The creator loses the right (moved to another role): the job is no longer theirs to see.
    office.groups.clear()
    office.user_permissions.add(Permission.objects.get(codename="download_reports"))
    assert [client.get(u).status_code for u in urls] == [403, 403, 403]
    # Someone else holding the right still may not: a job is its creator's.
    other = make_user("office2", None)
    other.user_permissions.add(Permission.objects.get(codename="manage_codes"))
    client.force_login(other)
    assert client.get(urls[2]).status_code == 403
    client.force_login(leader)
    assert client.get(urls[2]).status_code == 403
    admin = make_user("root", None)
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    assert client.get(urls[2]).status_code == 200


def test_job_start_refuses_a_campaign_job_without_permission(camp, office, leader):
    with pytest.raises(ValueError, match="permission"):
        job_start(kind="x", handler=SLIPS, campaign=camp, user=office)
    # Nor may it be started by someone without the permission it names.
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        job_start(kind="x", handler=SLIPS, campaign=camp, user=leader, permission=MANAGE_CODES)
    assert not BackgroundJob.objects.exists()


def test_campaign_job_naming_no_permission_is_for_superusers_only(client, camp, office):
    """A job recorded before permissions were: nothing to check a right against."""
    job = BackgroundJob.objects.create(kind="旧任务", campaign_id=camp.pk, created_by=office,
                                       status="done", params={"handler": SLIPS})
    client.force_login(office)
    assert client.get(reverse("job_page", args=[job.pk])).status_code == 403


def test_downloads_are_audited_without_any_code(client, camp, office, commit, fake_pdf):
    made = codes_unnamed(campaign=camp, count=3, group=None, user=office)
    job = slips_job(camp, office, commit)
    client.force_login(office)
    before = AuditLog.objects.count()
    r = client.get(reverse("job_download", args=[job.pk]))
    data = b"".join(r.streaming_content)
    assert all(c.code.encode() in data for c in made)  # the file holds the codes ...
    assert AuditLog.objects.count() == before + 1
    entry = AuditLog.objects.get(action="job.download")
    assert (entry.user, entry.campaign_id, entry.campaign_slug) == (office, camp.pk, camp.slug)
    assert entry.object_repr == f"{camp.slug}-评议码条.pdf"
    assert entry.after["kind"] == "打印评议码条" and entry.object_id == str(job.pk)
    # ... the log does not.
    logged = json.dumps([entry.object_repr, entry.before, entry.after, entry.reason],
                        ensure_ascii=False)
    assert not any(c.code in logged for c in made)


def test_report_generation_is_audited(camp, office, commit):
    with commit():
        job = job_start(kind="Excel 报告", handler="scoring.reports.run_report_job",
                        campaign=camp, user=office, permission="campaigns.download_reports",
                        params={"format": "xlsx", "comments": False})
    job.refresh_from_db()
    assert job.status == "done", job.message
    entry = AuditLog.objects.get(action="report.generate")
    assert (entry.user, entry.campaign_id, entry.campaign_slug) == (office, camp.pk, camp.slug)
    assert entry.after["format"] == "xlsx" and entry.after["comments"] is False
    assert entry.object_repr == job.result_name and entry.object_id == str(job.pk)


# --- code slips go when voting ends --------------------------------------------------------


def test_code_slips_are_deleted_when_the_campaign_closes(
    client, camp, office, commit, fake_pdf
):
    codes_unnamed(campaign=camp, count=2, group=None, user=office)
    slips = slips_job(camp, office, commit)
    report = report_job(camp, office, commit)
    path = on_disk(slips)
    assert path.is_file() and slips.expires_at is None  # kept while voting goes on
    with commit():
        campaign_set_status(campaign=camp, status=Campaign.Status.CLOSED, user=office)
    slips.refresh_from_db()
    assert not path.exists() and not slips.result_file
    assert slips.file_removed == BackgroundJob.FileRemoved.CLOSED
    report.refresh_from_db()
    assert on_disk(report).is_file()  # other files live out their own time
    client.force_login(office)
    page = client.get(reverse("job_page", args=[slips.pk])).content.decode()
    assert "评议已结束,文件已删除" in page
    status = client.get(reverse("job_status", args=[slips.pk])).json()
    assert status["download"] is None and "评议已结束" in status["file_removed"]
    r = client.get(reverse("job_download", args=[slips.pk]))
    assert r.status_code == 302 and r.url == reverse("job_page", args=[slips.pk])
    # Voting over: no new slips either.
    again = slips_job(camp, office, commit)
    assert again.status == "failed" and not again.result_file


def test_slips_finished_after_the_close_are_deleted_too(camp, office, commit, monkeypatch):
    """The close looked for slip files before this one was saved: the job finds the campaign
    closed and deletes its own file."""
    codes_unnamed(campaign=camp, count=1, group=None, user=office)

    def slips_pdf(campaign, codes, base):
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CLOSED)
        return b"%PDF " + codes[0].code.encode()

    monkeypatch.setattr("ballots.online.slips.slips_pdf", slips_pdf)
    job = slips_job(camp, office, commit)
    assert not job.result_file and job.file_removed == BackgroundJob.FileRemoved.CLOSED
    assert not any(Path(job.result_file.storage.location).iterdir())


# --- other files expire ----------------------------------------------------------------------


def test_other_files_expire(client, camp, office, commit, settings, root, fake_pdf):
    settings.PINGYI_FILE_EXPIRY_DAYS = 7
    report = report_job(camp, office, commit)
    assert report.expires_at - timezone.now() > timedelta(days=6, hours=23)
    codes_unnamed(campaign=camp, count=1, group=None, user=office)
    slips = slips_job(camp, office, commit)
    # A file nobody names (a crash between saving and recording it): swept once as old.
    stray, fresh = root / ("a" * 32 + ".pdf"), root / ("b" * 32 + ".pdf")
    stray.write_bytes(b"x")
    fresh.write_bytes(b"x")
    old = time.time() - timedelta(days=8).total_seconds()
    os.utime(stray, (old, old))
    os.utime(on_disk(slips), (old, old))  # slips do not expire by age, only by the close
    call_command("expire_files", stdout=open(os.devnull, "w"))
    assert on_disk(report).is_file() and not stray.exists() and fresh.exists()
    BackgroundJob.objects.filter(pk=report.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    path = on_disk(report)
    with commit():
        call_command("expire_files", stdout=open(os.devnull, "w"))
    report.refresh_from_db()
    assert not path.exists() and not report.result_file
    assert report.file_removed == BackgroundJob.FileRemoved.EXPIRED
    slips.refresh_from_db()
    assert on_disk(slips).is_file()
    client.force_login(office)
    assert "已过保存期限" in client.get(reverse("job_page", args=[report.pk])).content.decode()


def test_starting_a_job_expires_old_files(camp, office, commit):
    first = report_job(camp, office, commit)
    BackgroundJob.objects.filter(pk=first.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    path = on_disk(first)
    report_job(camp, office, commit)
    first.refresh_from_db()
    assert not path.exists() and first.file_removed == BackgroundJob.FileRemoved.EXPIRED


def test_removal_rolled_back_keeps_the_file(camp, office, commit):
    """Files go after the commit: a rolled-back expiry leaves the row and its file as they
    were."""
    from django.db import transaction

    from core.files import job_files_expire

    job = report_job(camp, office, commit)
    BackgroundJob.objects.filter(pk=job.pk).update(expires_at=timezone.now())
    path = on_disk(job)
    with commit(), pytest.raises(RuntimeError), transaction.atomic():
        job_files_expire()
        raise RuntimeError
    job.refresh_from_db()
    assert path.is_file() and job.result_file and not job.file_removed


# --- files made before -------------------------------------------------------------------------


def test_migration_moves_old_public_files_into_the_private_folder(camp, office, settings, root):
    media = Path(settings.MEDIA_ROOT)
    (media / "jobs" / "2026" / "01").mkdir(parents=True)
    (media / "jobs" / "2026" / "01" / f"{camp.slug}-评议码条.pdf").write_bytes(b"%PDF codes")
    done = timezone.now() - timedelta(days=1)
    kept = BackgroundJob.objects.create(
        kind="打印评议码条", campaign_id=camp.pk, created_by=office, status="done",
        result_file=f"jobs/2026/01/{camp.slug}-评议码条.pdf", finished_at=done,
    )
    lost = BackgroundJob.objects.create(
        kind="PDF 报告", campaign_id=camp.pk, created_by=office, status="done",
        result_file="jobs/2026/01/gone.pdf", finished_at=done,
    )
    migration = importlib.import_module("core.migrations.0003_private_job_files")
    migration.move_files_out_of_media(apps, None)
    kept.refresh_from_db()
    lost.refresh_from_db()
    assert not any((media / "jobs").rglob("*.pdf"))
    assert on_disk(kept).parent == root and on_disk(kept).read_bytes() == b"%PDF codes"
    assert camp.slug not in kept.result_file.name
    assert abs(kept.expires_at - (done + timedelta(days=settings.PINGYI_FILE_EXPIRY_DAYS))) < (
        timedelta(seconds=1)
    )
    assert not lost.result_file and lost.file_removed == "expired"


def test_admin_links_the_file_to_the_download_view(client, camp, office, commit):
    job = report_job(camp, office, commit)
    admin = make_user("root", None, staff=True)
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    page = client.get(reverse("admin:core_backgroundjob_change", args=[job.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("job_download", args=[job.pk]) in body and "/media/" not in body
