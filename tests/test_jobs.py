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


def plain_handler(job, progress):
    progress(1, 1, "完成")


def test_a_job_with_a_file_stays_on_its_page_to_offer_it(
    client, office, django_capture_on_commit_callbacks
):
    """Issue 16: the page went back to where the job started and the download vanished."""
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test", handler="tests.test_jobs.sample_handler", campaign=None,
                        user=office, params={"redirect": "/back/here/"})
    client.force_login(office)
    status = client.get(reverse("job_status", args=[job.pk])).json()
    assert status["redirect"] is None
    assert status["download"] == reverse("job_download", args=[job.pk])
    page = client.get(reverse("job_page", args=[job.pk])).content.decode()
    assert 'id="job-download" hidden' not in page and 'id="job-download" >' in page
    assert 'href="/back/here/"' in page  # a link back instead
    # A file gone since (voting ended) is also said on the page, which stays.
    BackgroundJob.objects.filter(pk=job.pk).update(
        result_file="", file_removed=BackgroundJob.FileRemoved.CLOSED
    )
    status = client.get(reverse("job_status", args=[job.pk])).json()
    assert status["redirect"] is None and status["file_removed"] and not status["download"]


def test_a_job_without_a_file_goes_back_when_done(
    client, office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_start(kind="test", handler="tests.test_jobs.plain_handler", campaign=None,
                        user=office, params={"redirect": "/back/here/"})
    client.force_login(office)
    status = client.get(reverse("job_status", args=[job.pk])).json()
    assert status["redirect"] == "/back/here/" and status["download"] is None


def test_the_back_link_is_a_path_of_this_site(client, office):
    job = job_start(kind="test", handler="tests.test_jobs.plain_handler", campaign=None,
                    user=office, params={"redirect": "//evil.example/"})
    client.force_login(office)
    assert "evil.example" not in client.get(reverse("job_page", args=[job.pk])).content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_slips_job_page_keeps_its_download_in_a_browser(live_server, office, campaign_factory):
    """The page polls, finds the job done, and stays with the button (it used to leave for
    the code list); at 1280 and 360 px. Then the code list offers the same file."""
    from tests.test_codes import codes_unnamed
    from tests.test_online_submit import open_campaign
    from tests.test_paper_browser import logged_in, shot

    pytest.importorskip("playwright.sync_api")
    camp = open_campaign(campaign_factory)
    codes_unnamed(campaign=camp, count=3, group=None, user=office)
    job = job_start(kind="打印评议码条", handler="ballots.online.slips.run_slips_job",
                    campaign=camp, user=office, permission="campaigns.manage_codes",
                    params={"redirect": reverse("codes", args=[camp.slug]), "which": "all",
                            "campaign_id": camp.pk, "base": live_server.url})
    job.refresh_from_db()
    assert job.status == "done"
    from playwright.sync_api import sync_playwright

    from tests.test_paper_browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for width in (1280, 360):
                page = logged_in(browser, live_server, office, width=width)
                page.goto(live_server.url + reverse("job_page", args=[job.pk]))
                page.wait_for_timeout(1500)  # a poll or two
                assert page.url.endswith(reverse("job_page", args=[job.pk]))
                button = page.locator("#job-download a")
                assert button.is_visible()
                shot(page, f"job-slips-{width}")
                page.goto(live_server.url + reverse("codes", args=[camp.slug]))
                link = page.locator(f'a[href="{reverse("job_download", args=[job.pk])}"]')
                assert link.is_visible()
                link.focus()
                shot(page, f"codes-slip-jobs-{width}", full_page=True)
        finally:
            browser.close()
            from django.db import connections

            connections.close_all()
