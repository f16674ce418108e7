"""Scan import from the browser: the uploaded files wait in a private folder, and the import
runs as a background job with progress (core/jobs.py), then the files are deleted.

Uploads are limited to PINGYI_MAX_SCAN_UPLOAD_BYTES in total (a stack of 2,000 pages at 200 dpi
is about 1 GB of PDF; larger stacks go in several uploads or by `manage.py scan_import`)."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from ballots.scan import store
from ballots.scan.files import ScanFileError, check
from ballots.scan.services import ScanError, scan_import
from campaigns.models import Campaign
from core.jobs import Progress


def _incoming(token: str) -> Path:
    if not token.isalnum():
        raise ValueError("bad folder")
    return store.root() / "incoming" / token


def stage_files(files: Sequence[UploadedFile]) -> tuple[str, list[tuple[str, str]]]:
    """Copy the uploads into a fresh private folder: (folder token, [(stored, name)]).
    Refuses (ScanError, naming the file) what is too big or not a scan; nothing stays then."""
    limit = int(getattr(settings, "PINGYI_MAX_SCAN_UPLOAD_BYTES", 1024**3))
    token = secrets.token_hex(16)
    folder = _incoming(token)
    folder.mkdir(parents=True, mode=0o700)
    out: list[tuple[str, str]] = []
    total = 0
    try:
        for i, f in enumerate(files):
            name = Path(f.name or f"file{i}").name[:200]
            stored = f"{i:04d}"
            with (folder / stored).open("wb") as dst:
                for chunk in f.chunks():
                    total += len(chunk)
                    if total > limit:
                        raise ScanError(
                            _("上传的文件共超过 %(mb)d MB;请分批上传,或用 manage.py scan_import")
                            % {"mb": limit // 1024**2}
                        )
                    dst.write(chunk)
            (folder / stored).chmod(0o600)
            try:
                check(folder / stored, name)
            except ScanFileError as exc:
                raise ScanError(str(exc)) from exc
            out.append((stored, name))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return token, out


def run_scan_job(job: Any, progress: Progress) -> None:
    """Background handler: import the staged files of `params["folder"]`, then delete them."""
    params, user = job.params, job.created_by
    campaign = Campaign.objects.get(pk=job.campaign_id)
    folder = _incoming(params["folder"])
    files = [(folder / stored, name) for stored, name in params["files"]]
    try:
        summary = scan_import(campaign=campaign, files=files, user=user, progress=progress)
    except ScanError as exc:
        job.params = {**params, "errors": [str(exc)]}
        job.save(update_fields=["params"])
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    job.params = {**params, "summary": summary.as_json()}
    job.message = _(
        "共 %(pages)d 页:计入 %(ballots)d 张选票;识别确定 %(confident)d 页,待确认 "
        "%(to_confirm)d 页,无法识别或待输入编号 %(unreadable)d 页,待配页 %(waiting)d 页"
    ) % summary.as_json()
    job.save(update_fields=["params", "message"])
