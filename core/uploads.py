"""Staged uploads: every spreadsheet import (units, representatives, ballots) is upload →
preview → confirm, and the file waits here between the two.

    upload, plan = upload_preview(file=f, kind="units", campaign=c, user=u,
                                  parse=lambda up: units_parse(c, up.path, up.filename))
    # ... the page shows `plan`, and posts back `upload.pk` to confirm ...
    upload = upload_get(upload_id=posted_id, user=u, kind="units", campaign=c)
    counts = upload_apply(upload=upload, apply=lambda path: units_import(...))

The file is kept in one private folder (`settings.PINGYI_UPLOAD_ROOT`, outside MEDIA_ROOT and
served by no URL) under a random name; the page only ever holds the upload's random id, and
only the uploader (or a superuser) can use it. Applying marks the upload applied in the same
transaction as the import, so a second confirmation finds nothing to apply and a failed import
leaves the upload staged and nothing saved. The domain's own "already imported" checks
(ImportBatch) stay with the domain: they outlive an upload.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _

from core.files import sweep_stray_files
from core.models import StagedUpload
from core.spreadsheets import SpreadsheetError, check_xlsx_limits

log = logging.getLogger(__name__)

T = TypeVar("T")
P = TypeVar("P")

# A preview left unconfirmed this long is dropped (file and all).
EXPIRE_AFTER = timedelta(days=1)


class UploadRefused(SpreadsheetError):
    """The file was not staged: not an .xlsx, too big, or not a readable workbook. A
    SpreadsheetError, so pages show it the way they show a file's other problems."""


class UploadUnavailable(Exception):
    """No staged upload by that id for this user, kind and campaign, or no longer staged."""


def _gone() -> UploadUnavailable:
    # One message whether the id is wrong, someone else's, or expired: a page must not tell
    # a stranger that somebody's upload exists.
    return UploadUnavailable(_("预览已过期,请重新上传。"))


def _already_applied() -> UploadUnavailable:
    return UploadUnavailable(_("该文件已确认导入,不会再导入一次。"))


def _root() -> Path:
    return Path(settings.PINGYI_UPLOAD_ROOT)


def _campaign_id(campaign: models.Model | None) -> int | None:
    return campaign.pk if campaign is not None else None


def _delete_after_commit(path: Path) -> None:
    # After the commit, not before: if the transaction rolls back the upload is still staged
    # and its file must still be there.
    transaction.on_commit(lambda: path.unlink(missing_ok=True))


def _store(file: UploadedFile) -> tuple[str, int, str]:
    """Copy the upload into the private folder under a fresh random name: (name, size, sha256)."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    limit = settings.PINGYI_MAX_UPLOAD_BYTES
    name = f"{secrets.token_hex(16)}.xlsx"
    path = root / name
    digest = hashlib.sha256()
    size = 0
    # O_EXCL: never write over another file; 0600: only the application reads it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in file.chunks():
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(_too_big(size, limit))
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return name, size, digest.hexdigest()


def _too_big(size: int, limit: int) -> str:
    return _("文件太大(%(size)d 字节,上限 %(max)d 字节)") % {"size": size, "max": limit}


def upload_stage(
    *, file: UploadedFile, kind: str, campaign: models.Model | None, user: Any
) -> StagedUpload:
    """Keep an uploaded .xlsx until it is confirmed or discarded.

    Refuses (UploadRefused, naming the problem) a file that is not .xlsx, is over
    PINGYI_MAX_UPLOAD_BYTES, or fails `check_xlsx_limits`. The same bytes staged again by the
    same user for the same kind and campaign give back the upload already staged."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied
    uploads_expire()
    filename = Path(file.name or "").name[:255]
    if not filename.lower().endswith(".xlsx"):
        raise UploadRefused(_("请上传 .xlsx 文件(收到的是“%(name)s”)") % {"name": filename})
    limit = settings.PINGYI_MAX_UPLOAD_BYTES
    if file.size is not None and file.size > limit:
        raise UploadRefused(_too_big(file.size, limit))
    stored_name, size, sha = _store(file)
    path = _root() / stored_name
    try:
        check_xlsx_limits(path)
        with transaction.atomic():
            earlier = StagedUpload.objects.filter(
                user=user,
                kind=kind,
                campaign_id=_campaign_id(campaign),
                sha256=sha,
                state=StagedUpload.State.STAGED,
            ).first()
            if earlier is not None and earlier.path.is_file():
                path.unlink(missing_ok=True)
                return earlier
            return StagedUpload.objects.create(
                kind=kind,
                campaign_id=_campaign_id(campaign),
                user=user,
                filename=filename,
                size=size,
                sha256=sha,
                stored_name=stored_name,
            )
    except SpreadsheetError as exc:
        path.unlink(missing_ok=True)
        raise UploadRefused(exc.errors) from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def upload_preview(
    *,
    file: UploadedFile,
    kind: str,
    campaign: models.Model | None,
    user: Any,
    parse: Callable[[StagedUpload], P],
) -> tuple[StagedUpload, P]:
    """Stage a file and read it with the domain's `parse` for the preview. A file the parse
    refuses is discarded at once: the same bytes would be refused again at confirmation."""
    upload = upload_stage(file=file, kind=kind, campaign=campaign, user=user)
    try:
        plan = parse(upload)
    except Exception:
        upload_discard(upload=upload)
        raise
    return upload, plan


def _may_see(user: Any, upload: StagedUpload) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or upload.user_id == user.pk


def upload_get(
    *, upload_id: str | uuid.UUID, user: Any, kind: str, campaign: models.Model | None
) -> StagedUpload:
    """The staged upload by that id, if this user may confirm it for this kind and campaign;
    UploadUnavailable otherwise (also when it was applied, discarded or has expired)."""
    try:
        pk = upload_id if isinstance(upload_id, uuid.UUID) else uuid.UUID(str(upload_id))
    except ValueError:
        raise _gone() from None
    upload = StagedUpload.objects.filter(
        pk=pk, kind=kind, campaign_id=_campaign_id(campaign)
    ).first()
    if upload is None or not _may_see(user, upload):
        raise _gone()
    if upload.state == StagedUpload.State.APPLIED:
        raise _already_applied()
    if upload.state != StagedUpload.State.STAGED or not upload.path.is_file():
        raise _gone()
    return upload


def upload_apply(*, upload: StagedUpload, apply: Callable[[Path], T]) -> T:
    """Run the domain import `apply(path)` and mark the upload applied, in one transaction.

    The upload's row is locked first, so of two confirmations (a double click, two tabs) one
    applies and the other gets UploadUnavailable. Whatever `apply` raises rolls back both its
    own writes and the marking: the upload stays staged, and nothing is half-saved."""
    with transaction.atomic():
        locked = StagedUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.state == StagedUpload.State.APPLIED:
            raise _already_applied()
        if locked.state != StagedUpload.State.STAGED or not locked.path.is_file():
            raise _gone()
        result = apply(locked.path)
        locked.state = StagedUpload.State.APPLIED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["state", "finished_at"])
        _delete_after_commit(locked.path)
    upload.state, upload.finished_at = locked.state, locked.finished_at
    return result


def upload_discard(*, upload: StagedUpload) -> None:
    """Drop a staged upload and its file; an upload no longer staged is left as it is."""
    with transaction.atomic():
        locked = StagedUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.state != StagedUpload.State.STAGED:
            return
        locked.state = StagedUpload.State.DISCARDED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["state", "finished_at"])
        _delete_after_commit(locked.path)
    upload.state, upload.finished_at = locked.state, locked.finished_at


def uploads_expire(older_than: timedelta = EXPIRE_AFTER) -> int:
    """Discard uploads staged longer ago than `older_than` and delete their files, and delete
    any file in the folder that no staged upload owns (left by a crash) and is as old.
    Returns the number of files deleted."""
    cutoff = timezone.now() - older_than
    stale = StagedUpload.objects.filter(state=StagedUpload.State.STAGED, created_at__lt=cutoff)
    expired: set[str] = set()
    # Checked without a lock first: this runs on every upload and there is rarely any.
    if stale.exists():
        with transaction.atomic():
            rows = list(stale.select_for_update(skip_locked=True))
            StagedUpload.objects.filter(pk__in=[u.pk for u in rows]).update(
                state=StagedUpload.State.DISCARDED, finished_at=timezone.now()
            )
            for u in rows:
                _delete_after_commit(u.path)
                expired.add(u.stored_name)
    deleted = len(expired)
    root = _root()
    if not root.is_dir():
        return deleted
    # Files of the uploads just expired are deleted after their commit, not here.
    owned = expired | set(
        StagedUpload.objects.filter(state=StagedUpload.State.STAGED).values_list(
            "stored_name", flat=True
        )
    )
    deleted += sweep_stray_files(root, owned, older_than.total_seconds())
    if deleted:
        log.info("expired %d staged upload file(s)", deleted)
    return deleted


def uploads_discard_for_campaign(campaign_id: int) -> None:
    """Discard every staged upload of a campaign (deleted): its files go after the commit."""
    for upload in StagedUpload.objects.filter(
        campaign_id=campaign_id, state=StagedUpload.State.STAGED
    ):
        upload_discard(upload=upload)


def upload_confirmation(
    request: HttpRequest, *, upload_id: Any, kind: str, campaign: models.Model | None, back: str
) -> StagedUpload | HttpResponseRedirect:
    """The second step of every import page: the staged upload its confirmation form names,
    ready to apply; or, when the upload is gone or the user chose 放弃 (discard), the
    redirect to `back` with the message that says so."""
    try:
        if upload_id is None:
            raise _gone()
        upload = upload_get(upload_id=upload_id, user=request.user, kind=kind, campaign=campaign)
    except UploadUnavailable as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(back)
    if "discard" in request.POST:
        upload_discard(upload=upload)
        messages.info(request, _("已放弃这次上传,未导入任何数据。"))
        return HttpResponseRedirect(back)
    return upload
