"""Background jobs: a handler runs in the worker, reports progress, and its file is served
only to the user who started it (tests/test_private_files.py: where the file is kept, who may
download it, and when it goes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from core.jobs import job_finish_file, job_start
from core.models import BackgroundJob


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path) -> Path:
    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private-files"
    return settings.PINGYI_PRIVATE_FILES_ROOT


def sample_handler(job, progress):
    for i in range(1, 4):
        progress(i, 3, f"第{i}步")
    job_finish_file(job, "结果.txt", "完成".encode())


def failing_handler(job, progress):
    raise ValueError("文件第3行有错误")


def test_job_runs_reports_progress_and_serves_its_file(client, office, leader, private_root,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test", handler="tests.test_jobs.sample_handler", campaign=None,
                        user=office)
    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.message) == ("done", 3, 3, "第3步")
    client.force_login(office)
    status = client.get(reverse("job_status", args=[job.pk])).json()
    assert status["percent"] == 100 and status["download"]
    body = b"".join(client.get(status["download"]).streaming_content)
    assert body.decode() == "完成"
    # Kept in the private folder under a random name; the download keeps the human one.
    assert Path(job.result_file.path).parent == private_root and "结果" not in job.result_file.name
    assert job.result_name == "结果.txt" and job.expires_at is not None
    assert "progress" in client.get(reverse("job_page", args=[job.pk])).content.decode()
    client.force_login(leader)  # someone else's job
    assert client.get(reverse("job_status", args=[job.pk])).status_code == 403


def test_failed_job_keeps_the_message(office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test", handler="tests.test_jobs.failing_handler", campaign=None,
                        user=office)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.FAILED and "第3行" in job.message
