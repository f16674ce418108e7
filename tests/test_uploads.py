"""Staged uploads (core/uploads.py): the one upload → preview → confirm service every import
uses. Private and unguessable, its uploader's only, applied at most once, all or nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone
from django.views.static import serve

from core.audit import audit
from core.models import AuditLog, StagedUpload
from core.uploads import (
    UploadRefused,
    UploadUnavailable,
    upload_apply,
    upload_discard,
    upload_get,
    upload_preview,
    upload_stage,
    uploads_expire,
)
from evalsite.settings import BASE_DIR
from tests.conftest import make_user
from tests.helpers import xlsx_bytes

DATA = xlsx_bytes({"单位": [("类别", "单位"), ("金融部门类", "人行")]})


@pytest.fixture(autouse=True)
def root(settings, tmp_path) -> Path:
    settings.PINGYI_UPLOAD_ROOT = tmp_path / "uploads"
    return settings.PINGYI_UPLOAD_ROOT


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what waits for the commit (files are deleted after it; tests run in a transaction)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def stage(user, campaign, data: bytes = DATA, name: str = "名单.xlsx", kind: str = "units"):
    return upload_stage(
        file=SimpleUploadedFile(name, data), kind=kind, campaign=campaign, user=user
    )


def get(upload, user, campaign, kind: str = "units"):
    return upload_get(upload_id=str(upload.pk), user=user, kind=kind, campaign=campaign)


# --- where the file goes -----------------------------------------------------------------


def test_file_is_kept_privately_under_a_random_name(office, qianren, settings, root):
    upload = stage(office, qianren)
    assert upload.path.parent == root and upload.path.read_bytes() == DATA
    assert not upload.path.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    # Neither the user's file name nor anything guessable names the file or the upload.
    assert "名单" not in upload.stored_name and len(upload.stored_name) >= 32
    assert uuid.UUID(str(upload.pk)).version == 4
    assert stage(office, qianren, xlsx_bytes({"x": [("a",)]})).stored_name != upload.stored_name
    assert (upload.filename, upload.size, upload.state) == ("名单.xlsx", len(DATA), "staged")
    assert (upload.kind, upload.campaign_id, upload.user) == ("units", qianren.pk, office)
    assert os.stat(upload.path).st_mode & 0o077 == 0  # readable by the application only


def test_staged_file_is_not_served(client, office, qianren, settings):
    upload = stage(office, qianren)
    media = Path(settings.MEDIA_ROOT).resolve()
    relative = os.path.relpath(upload.path.resolve(), media)  # ../…/uploads/<name>
    client.force_login(office)
    for url in (
        settings.MEDIA_URL + upload.stored_name,
        settings.MEDIA_URL + "uploads/" + upload.stored_name,
        settings.MEDIA_URL + relative,
        "/private/uploads/" + upload.stored_name,
    ):
        assert client.get(url).status_code == 404, url
    # Not even where DEBUG serves MEDIA_ROOT (evalsite/urls.py): the file is outside it, and
    # climbing out of it is refused.
    request = RequestFactory().get("/media/x")
    for path in (upload.stored_name, relative):
        with pytest.raises((Http404, SuspiciousFileOperation)):
            serve(request, path, document_root=str(media))


def test_default_folder_is_outside_media_root_and_inside_it_is_refused(tmp_path):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("PINGYI_UPLOAD_ROOT", "MEDIA_ROOT", "PYTEST_CURRENT_TEST")}

    def settings_with(**env: str) -> subprocess.CompletedProcess[str]:
        code = "import evalsite.settings as s; print(s.PINGYI_UPLOAD_ROOT)"
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={**clean, "DEBUG": "1", **env}, cwd=BASE_DIR, timeout=60)

    default = settings_with()
    assert default.returncode == 0, default.stderr
    assert Path(default.stdout.strip()) == Path(BASE_DIR) / "private" / "uploads"
    inside = settings_with(MEDIA_ROOT=str(tmp_path), PINGYI_UPLOAD_ROOT=str(tmp_path / "up"))
    assert inside.returncode != 0 and "must not be inside MEDIA_ROOT" in inside.stderr


# --- refusals ----------------------------------------------------------------------------


def test_oversize_file_is_refused_with_its_size_and_the_limit(office, qianren, settings, root):
    settings.PINGYI_MAX_UPLOAD_BYTES = 100
    with pytest.raises(UploadRefused) as exc:
        stage(office, qianren)
    assert "文件太大" in str(exc.value) and f"{len(DATA)} 字节" in str(exc.value)
    assert "上限 100 字节" in str(exc.value)
    assert not StagedUpload.objects.exists() and not list(root.glob("*"))


def test_size_is_checked_while_copying_when_the_declared_size_is_wrong(office, settings, root):
    settings.PINGYI_MAX_UPLOAD_BYTES = 100
    file = SimpleUploadedFile("a.xlsx", DATA)
    file.size = 10  # a client may say anything
    with pytest.raises(UploadRefused, match="文件太大"):
        upload_stage(file=file, kind="units", campaign=None, user=office)
    assert not list(root.glob("*"))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [("a.csv", b"a,b", "请上传 .xlsx 文件"), ("a.xlsx", b"not a zip", "不是有效的 .xlsx 文件")],
)
def test_not_an_xlsx_is_refused_and_nothing_is_kept(office, qianren, root, name, data, message):
    with pytest.raises(UploadRefused, match=message):
        stage(office, qianren, data, name)
    assert not StagedUpload.objects.exists() and not list(root.glob("*"))


def test_anonymous_upload_is_refused(qianren):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        stage(AnonymousUser(), qianren)


# --- who may confirm -----------------------------------------------------------------------


def test_only_the_uploader_or_a_superuser_gets_an_upload(office, auditor, qianren):
    from core.roles import OFFICE

    upload = stage(office, qianren)
    assert get(upload, office, qianren) == upload
    colleague = make_user("office2", OFFICE, staff=True)
    for user in (colleague, auditor):
        with pytest.raises(UploadUnavailable, match="预览已过期"):
            get(upload, user, qianren)
    admin = make_user("root", None, staff=True)
    admin.is_superuser = True
    admin.save()
    assert get(upload, admin, qianren) == upload


def test_wrong_kind_campaign_or_id_is_refused(office, qianren, campaign_factory):
    upload = stage(office, qianren)
    with pytest.raises(UploadUnavailable):
        get(upload, office, qianren, kind="ballots")
    with pytest.raises(UploadUnavailable):
        get(upload, office, campaign_factory("qianren"))
    with pytest.raises(UploadUnavailable):
        get(upload, office, None)
    for bad in ("not-a-uuid", str(uuid.uuid4())):
        with pytest.raises(UploadUnavailable):
            upload_get(upload_id=bad, user=office, kind="units", campaign=qianren)


# --- the same bytes twice ----------------------------------------------------------------------


def test_same_bytes_staged_twice_give_the_same_upload(office, qianren, root, commit):
    from core.roles import OFFICE

    first = stage(office, qianren)
    assert stage(office, qianren, name="again.xlsx") == first
    assert StagedUpload.objects.count() == 1 and len(list(root.glob("*"))) == 1
    # Another user, another kind, other bytes: uploads of their own.
    colleague = make_user("office2", OFFICE, staff=True)
    assert stage(colleague, qianren) != first
    assert stage(office, qianren, kind="representatives") != first
    assert stage(office, qianren, xlsx_bytes({"x": [("a",)]})) != first
    # Once applied, the same bytes staged again are a new upload: whether the file may be
    # imported twice is the domain's question (ImportBatch), asked when it is applied.
    with commit():
        upload_apply(upload=first, apply=lambda path: None)
    assert stage(office, qianren) != first


# --- applying ------------------------------------------------------------------------------


def test_apply_runs_once_and_deletes_the_file(office, qianren, commit):
    upload = stage(office, qianren)
    seen: list[bytes] = []
    with commit():
        result = upload_apply(upload=upload, apply=lambda path: seen.append(path.read_bytes()) or 7)
    assert result == 7 and seen == [DATA]
    assert upload.state == StagedUpload.State.APPLIED
    upload.refresh_from_db()
    assert upload.state == StagedUpload.State.APPLIED and upload.finished_at is not None
    assert not upload.path.exists()
    # A second confirmation (a double click, a second tab) applies nothing.
    with pytest.raises(UploadUnavailable, match="已确认导入"):
        upload_apply(upload=upload, apply=lambda path: seen.append(b"again"))
    with pytest.raises(UploadUnavailable, match="已确认导入"):
        get(upload, office, qianren)
    assert seen == [DATA]


def test_stale_copy_of_an_applied_upload_cannot_apply_again(office, qianren):
    upload = stage(office, qianren)
    stale = StagedUpload.objects.get(pk=upload.pk)  # loaded by the second click's request
    upload_apply(upload=upload, apply=lambda path: None)
    calls: list[Path] = []
    with pytest.raises(UploadUnavailable):
        upload_apply(upload=stale, apply=calls.append)
    assert calls == []


def test_failing_apply_saves_nothing_and_leaves_the_upload_staged(office, qianren, commit):
    upload = stage(office, qianren)

    def apply(path: Path) -> None:
        audit(user=office, action="half.done", campaign=qianren)
        raise ValueError("row 3 is wrong")

    with commit(), pytest.raises(ValueError, match="row 3"):
        upload_apply(upload=upload, apply=apply)
    assert not AuditLog.objects.filter(action="half.done").exists()
    upload.refresh_from_db()
    assert upload.state == StagedUpload.State.STAGED and upload.path.is_file()
    # …and it can still be confirmed once the problem is fixed.
    with commit():
        assert upload_apply(upload=get(upload, office, qianren), apply=lambda p: "ok") == "ok"
    assert not upload.path.exists()


def test_discard_deletes_the_file_and_the_upload_cannot_be_applied(office, qianren, commit):
    upload = stage(office, qianren)
    with commit():
        upload_discard(upload=upload)
    upload.refresh_from_db()
    assert upload.state == StagedUpload.State.DISCARDED and not upload.path.exists()
    with pytest.raises(UploadUnavailable, match="预览已过期"):
        get(upload, office, qianren)
    with pytest.raises(UploadUnavailable):
        upload_apply(upload=upload, apply=lambda path: None)


def test_preview_discards_a_file_its_parse_refuses(office, qianren, root, commit):
    def parse(upload: StagedUpload) -> None:
        raise UploadRefused("第2行第B列:不对")

    with commit(), pytest.raises(UploadRefused, match="第2行第B列"):
        upload_preview(file=SimpleUploadedFile("a.xlsx", DATA), kind="units", campaign=qianren,
                       user=office, parse=parse)
    assert StagedUpload.objects.get().state == StagedUpload.State.DISCARDED
    assert not list(root.glob("*"))
    upload, plan = upload_preview(file=SimpleUploadedFile("a.xlsx", DATA), kind="units",
                                  campaign=qianren, user=office, parse=lambda up: up.size)
    assert plan == len(DATA) and upload.state == StagedUpload.State.STAGED


# --- expiry --------------------------------------------------------------------------------------


def _age(upload: StagedUpload, days: float) -> None:
    StagedUpload.objects.filter(pk=upload.pk).update(
        created_at=timezone.now() - timedelta(days=days)
    )


def test_uploads_left_staged_for_a_day_expire(office, qianren, root, commit):
    old = stage(office, qianren)
    fresh = stage(office, qianren, xlsx_bytes({"x": [("a",)]}))
    applied = stage(office, qianren, xlsx_bytes({"y": [("b",)]}))
    upload_apply(upload=applied, apply=lambda path: None)
    _age(old, 1.5)
    _age(applied, 3)
    # A file no staged upload owns (a crash between writing and saving), long forgotten,
    # and one being written right now.
    stray, writing = root / "stray.xlsx", root / "writing.xlsx"
    stray.write_bytes(b"x")
    writing.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    os.utime(stray, (two_days_ago, two_days_ago))
    with commit():
        assert uploads_expire() == 2
    old.refresh_from_db()
    fresh.refresh_from_db()
    applied.refresh_from_db()
    assert old.state == StagedUpload.State.DISCARDED and not old.path.exists()
    assert fresh.state == StagedUpload.State.STAGED and fresh.path.is_file()
    assert applied.state == StagedUpload.State.APPLIED
    assert not stray.exists() and writing.exists()
    with pytest.raises(UploadUnavailable):
        get(old, office, qianren)


def test_uploading_expires_old_uploads_on_the_way(office, qianren, commit):
    old = stage(office, qianren)
    _age(old, 2)
    with commit():
        stage(office, qianren, xlsx_bytes({"x": [("a",)]}))
    old.refresh_from_db()
    assert old.state == StagedUpload.State.DISCARDED and not old.path.exists()


def test_expire_uploads_command(office, qianren, commit, capsys):
    old = stage(office, qianren)
    _age(old, 0.5)
    with commit():
        call_command("expire_uploads")
    assert "已删除 0 个" in capsys.readouterr().out
    with commit():
        call_command("expire_uploads", "--hours", "6")
    assert "已删除 1 个" in capsys.readouterr().out
    assert not old.path.exists()


# --- two confirmations at once (PostgreSQL: SQLite serialises writers) ------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_apply_once():
    if connection.vendor != "postgresql":
        pytest.skip("races can only be shown on PostgreSQL")
    user = make_user("office", None, staff=True)
    upload = stage(user, None)
    applied: list[int] = []
    refused: list[Exception] = []
    barrier = threading.Barrier(2)

    def confirm(i: int) -> None:
        try:
            mine = StagedUpload.objects.get(pk=upload.pk)
            barrier.wait(timeout=30)

            def apply(path: Path) -> None:
                time.sleep(0.2)  # long enough for the other one to reach the lock
                applied.append(i)

            upload_apply(upload=mine, apply=apply)
        except UploadUnavailable as exc:
            refused.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(applied) == 1 and len(refused) == 1
    assert StagedUpload.objects.get(pk=upload.pk).state == StagedUpload.State.APPLIED
    assert not upload.path.exists()


def test_deleting_a_campaign_discards_its_staged_uploads(campaign_factory, office, settings):
    from core.models import StagedUpload
    from core.uploads import upload_stage

    camp = campaign_factory("qianren")
    upload = upload_stage(
        file=SimpleUploadedFile("u.xlsx", xlsx_bytes({"单位": [("类别", "单位")]})),
        kind="units", campaign=camp, user=office,
    )
    camp.delete()
    upload.refresh_from_db()
    assert upload.state == StagedUpload.State.DISCARDED
