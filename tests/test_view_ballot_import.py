"""The staff page for importing ballots: upload, progress job, batch list, undo, permissions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ballots.models import Ballot, ImportBatch
from core.models import AuditLog, BackgroundJob
from tests.helpers import add_units, xlsx_bytes

UNITS = ("甲局", "乙局")


@pytest.fixture
def camp(qianren):
    add_units(qianren, {"地方管理部门类": UNITS})
    return qianren


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST, then run what waits for the commit (the job is enqueued after commit, and tests
    run inside a transaction)."""

    def do(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return do


def upload(rows, name="b.xlsx"):
    data = xlsx_bytes({"评议表": [("编号", *UNITS), *rows]})
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_office_imports_through_a_job_and_sees_the_batch(client, office, camp, post):
    client.force_login(office)
    url = reverse("ballot_import", args=[camp.slug])
    r = post(url, {"file": upload([("000001", "满意", "不满意"), ("000001", "满意", None)])})
    job = BackgroundJob.objects.get()
    assert r.status_code == 302 and r.url == reverse("job_page", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "done" and "已导入 2 张选票" in job.message
    assert job.params["redirect"] == url
    assert Ballot.objects.filter(campaign=camp).count() == 2
    page = client.get(url).content.decode()
    assert "b.xlsx" in page and "000001" in page  # the duplicated serial is named
    # The upload is not kept once read.
    assert not list((__import__("pathlib").Path(job.params["path"])).parent.glob("*.xlsx"))


def test_bad_file_fails_the_job_with_errors_naming_the_cell(client, office, camp, post):
    client.force_login(office)
    post(reverse("ballot_import", args=[camp.slug]), {"file": upload([("000001", "很好", "满意")])})
    job = BackgroundJob.objects.get()
    assert job.status == "failed"
    assert "第2行第B列" in job.message and "很好" in job.message
    assert not Ballot.objects.exists() and not ImportBatch.objects.exists()


def test_repeated_file_is_refused_on_the_form(client, office, camp, post):
    client.force_login(office)
    url = reverse("ballot_import", args=[camp.slug])
    # The same bytes twice: openpyxl stamps each file it saves with the time, so building
    # the file twice can give two different files when a second ticks over in between.
    data = upload([("000001", "满意", "满意")]).read()
    post(url, {"file": SimpleUploadedFile("b.xlsx", data)})
    r = client.post(url, {"file": SimpleUploadedFile("b.xlsx", data)})
    assert r.status_code == 200 and "不能重复导入" in r.content.decode()
    assert Ballot.objects.count() == 1


def test_not_an_xlsx_is_refused(client, office, camp):
    client.force_login(office)
    r = client.post(
        reverse("ballot_import", args=[camp.slug]),
        {"file": SimpleUploadedFile("b.xlsx", b"not a zip")},
    )
    assert "不是有效的 .xlsx 文件" in r.content.decode()
    assert not BackgroundJob.objects.exists()


def test_undo_needs_a_reason_and_is_audited(client, office, camp, post):
    client.force_login(office)
    post(reverse("ballot_import", args=[camp.slug]), {"file": upload([("000001", "满意", "满意")])})
    batch = ImportBatch.objects.get()
    undo = reverse("ballot_import_undo", args=[camp.slug, batch.pk])
    client.post(undo, {"reason": ""})
    assert Ballot.objects.count() == 1
    client.post(undo, {"reason": "导错了活动"})
    assert not Ballot.objects.exists()
    assert AuditLog.objects.get(action="ballots_import_undo").reason == "导错了活动"


@pytest.mark.parametrize("who", ["clerk", "leader", "auditor", "outsider"])
def test_only_office_staff_import(client, camp, who, request):
    client.force_login(request.getfixturevalue(who))
    url = reverse("ballot_import", args=[camp.slug])
    assert client.get(url).status_code == 403
    assert client.post(url, {"file": upload([("000001", "满意", "满意")])}).status_code == 403
    assert not Ballot.objects.exists()


def test_anonymous_user_is_sent_to_login(client, camp):
    r = client.get(reverse("ballot_import", args=[camp.slug]))
    assert r.status_code == 302 and "/accounts/login/" in r.url
