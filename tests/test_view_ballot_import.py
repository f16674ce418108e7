"""The staff page for importing ballots: upload and preview, confirm into a progress job, batch
list, undo, permissions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ballots.models import Ballot, ImportBatch
from core.models import AuditLog, BackgroundJob, StagedUpload
from tests.helpers import add_units, xlsx_bytes

UNITS = ("甲局", "乙局")


@pytest.fixture(autouse=True)
def _upload_root(settings, tmp_path):
    settings.PINGYI_UPLOAD_ROOT = tmp_path / "uploads"


@pytest.fixture
def camp(qianren):
    add_units(qianren, {"地方管理部门类": UNITS})
    return qianren


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST, then run what waits for the commit (the job is enqueued after commit, a staged
    file deleted after commit, and tests run inside a transaction)."""

    def do(url, data, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **kw)

    return do


def upload(rows, name="b.xlsx"):
    data = xlsx_bytes({"评议表": [("编号", *UNITS), *rows]})
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def imported(client, camp, post):
    """Upload, preview and confirm a file of `rows`: the preview's response and the upload."""

    def do(rows, name="b.xlsx"):
        url = reverse("ballot_import", args=[camp.slug])
        preview = client.post(url, {"file": upload(rows, name)})
        staged = preview.context["upload"]
        post(url, {"upload": staged.pk, "confirm": ""})
        return preview, staged

    return do


def test_preview_then_confirm_imports_through_a_job(client, office, camp, post):
    client.force_login(office)
    url = reverse("ballot_import", args=[camp.slug])
    preview = client.post(
        url, {"file": upload([("000001", "满意", "不满意"), ("000001", "满意", None),
                              ("000002", None, None)])}
    )
    page = preview.content.decode()
    assert preview.status_code == 200 and "预览(尚未保存)" in page
    shown = preview.context["preview"]
    assert (shown.ballots, shown.blank_ballots, shown.repeated_serials) == (3, 1, ["000001"])
    assert not Ballot.objects.exists() and not BackgroundJob.objects.exists()
    staged = preview.context["upload"]
    assert f'name="upload" value="{staged.pk}"' in page and staged.path.is_file()
    r = post(url, {"upload": staged.pk, "confirm": ""})
    job = BackgroundJob.objects.get()
    assert r.status_code == 302 and r.url == reverse("job_page", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "done" and "已导入 3 张选票" in job.message
    # The job was handed the staged upload, not a path on disk.
    assert job.params["upload"] == str(staged.pk) and "path" not in job.params
    assert job.params["redirect"] == url
    assert Ballot.objects.filter(campaign=camp).count() == 3
    page = client.get(url).content.decode()
    assert "b.xlsx" in page and "000001" in page  # the duplicated serial is named
    # The upload is not kept once applied.
    staged.refresh_from_db()
    assert staged.state == StagedUpload.State.APPLIED and not staged.path.exists()
    # Confirming again (a double click) starts nothing new and imports nothing more.
    again = post(url, {"upload": staged.pk, "confirm": ""}, follow=True)
    assert "该文件已确认导入" in again.content.decode()
    assert BackgroundJob.objects.count() == 1 and Ballot.objects.count() == 3


def test_the_preview_counts_reasons_as_the_import_and_the_tally_will(client, office, camp, post):
    """A blank ballot whose serial repeats (in the file, or a ballot already in the campaign)
    is a photocopy, not a blank ballot (spec section 2)."""
    client.force_login(office)
    url = reverse("ballot_import", args=[camp.slug])
    first = client.post(url, {"file": upload([("000009", "满意", "满意")], "a.xlsx")})
    post(url, {"upload": first.context["upload"].pk, "confirm": ""})
    preview = client.post(url, {"file": upload([
        ("000001", None, None), ("000001", None, None),  # blank and photocopied in the file
        ("000009", None, None),  # blank, and a photocopy of a ballot already imported
        ("000002", None, None),  # blank only
    ])})
    shown = preview.context["preview"]
    assert (shown.blank_ballots, shown.repeated_serials) == (1, ["000001", "000009"])
    post(url, {"upload": preview.context["upload"].pk, "confirm": ""})
    batch = ImportBatch.objects.filter(campaign=camp).order_by("-created_at").first()
    assert batch.summary["invalid_reasons"] == {"duplicate_serial": 3, "blank_ballot": 1}


def test_second_click_while_the_job_runs_goes_to_the_same_job(client, office, camp):
    client.force_login(office)
    url = reverse("ballot_import", args=[camp.slug])
    staged = client.post(url, {"file": upload([("000001", "满意", "满意")])}).context["upload"]
    # Without running the on-commit callbacks the job stays queued, as on a busy server.
    first = client.post(url, {"upload": staged.pk})
    second = client.post(url, {"upload": staged.pk})
    job = BackgroundJob.objects.get()
    assert first.url == second.url == reverse("job_page", args=[job.pk])


def test_bad_file_is_refused_at_the_preview_naming_the_cell(client, office, camp):
    client.force_login(office)
    url = reverse("ballot_import", args=[camp.slug])
    r = client.post(url, {"file": upload([("000001", "很好", "满意")])})
    page = r.content.decode()
    assert "第2行第B列" in page and "很好" in page and "预览(尚未保存)" not in page
    assert not BackgroundJob.objects.exists()
    assert not Ballot.objects.exists() and not ImportBatch.objects.exists()
    # A file the parse refuses is not kept for a confirmation.
    assert StagedUpload.objects.get().state == StagedUpload.State.DISCARDED


def test_job_failing_leaves_the_upload_staged_and_nothing_imported(client, office, camp, post):
    client.force_login(office)
    url = reverse("ballot_import", args=[camp.slug])
    staged = client.post(url, {"file": upload([("000001", "满意", "满意")])}).context["upload"]
    # Between the preview and the confirmation the file stopped fitting the configuration.
    camp.units.get(name="乙局").delete()
    post(url, {"upload": staged.pk})
    job = BackgroundJob.objects.get()
    assert job.status == "failed" and "乙局" in job.message and job.params["errors"]
    assert not Ballot.objects.exists() and not ImportBatch.objects.exists()
    staged.refresh_from_db()
    assert staged.state == StagedUpload.State.STAGED and staged.path.is_file()


def test_repeated_file_is_refused_on_the_form(client, office, camp, post):
    client.force_login(office)
    url = reverse("ballot_import", args=[camp.slug])
    # The same bytes twice: openpyxl stamps each file it saves with the time, so building
    # the file twice can give two different files when a second ticks over in between.
    data = upload([("000001", "满意", "满意")]).read()
    staged = client.post(url, {"file": SimpleUploadedFile("b.xlsx", data)}).context["upload"]
    post(url, {"upload": staged.pk})
    assert Ballot.objects.count() == 1
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
    assert not BackgroundJob.objects.exists() and not StagedUpload.objects.exists()


def test_undo_needs_a_reason_and_is_audited(client, office, camp, imported):
    client.force_login(office)
    imported([("000001", "满意", "满意")])
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
