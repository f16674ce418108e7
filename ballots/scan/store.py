"""Where scanned page images are kept: privately, with the ballot, for the notary and disputes.

Images live in `settings.PINGYI_PRIVATE_FILES_ROOT / "scans" / <campaign id>`, files 0600 under
random names, served by no URL: staff pages read them through `open_image` after checking who
asks (ballots/scan/views.py). The generated-file sweep (core/files.py) looks only at the top
of the private folder, so it never touches these. Everything that stores or reads an image goes
through this module, so moving them elsewhere (object storage) changes only this file.

A page is kept as a grey JPEG of at most STORE_DPI, turned upright: enough to see every mark and
comment, about a tenth of a colour scan's size.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from django.conf import settings

STORE_DPI = 150
QUALITY = 80
A4_LONG_INCHES = 297 / 25.4


def root() -> Path:
    return Path(settings.PINGYI_PRIVATE_FILES_ROOT) / "scans"


def _path(name: str) -> Path:
    # Names are ours ("<campaign id>/<hex>.jpg"); refuse anything else rather than follow it.
    folder, _, file = name.partition("/")
    if not (folder.isdigit() and file.endswith(".jpg") and file[:-4].isalnum()):
        raise ValueError(f"not a page image name: {name!r}")
    return root() / folder / file


def shrink_factor(shape: tuple[int, ...], page_long_points: float | None = None) -> float:
    """The factor (≤ 1) that brings an image to STORE_DPI for its page size (A4 by default)."""
    inches = (page_long_points / 72) if page_long_points else A4_LONG_INCHES
    dpi = max(shape[:2]) / inches
    return min(1.0, STORE_DPI / dpi) if dpi > 0 else 1.0


def save_image(campaign_id: int, grey: np.ndarray[Any, Any]) -> tuple[str, str]:
    """Write a grey page image; its name and the SHA-256 of its bytes (listed for the
    notary, who can then tell the images handed over are the ones counted). The caller deletes it (`delete_image`) if what
    refers to it is not saved, so a failed import leaves no image behind."""
    ok, data = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    if not ok:
        raise ValueError("cannot encode the page image")
    folder = root() / str(campaign_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{campaign_id}/{secrets.token_hex(16)}.jpg"
    fd = os.open(_path(name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data.tobytes())
    return name, hashlib.sha256(data.tobytes()).hexdigest()


def delete_image(name: str) -> None:
    _path(name).unlink(missing_ok=True)


def image_bytes(name: str) -> bytes:
    return _path(name).read_bytes()


def open_image(name: str) -> np.ndarray[Any, Any]:
    img = cv2.imdecode(np.frombuffer(image_bytes(name), np.uint8), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError(f"cannot read page image {name}")
    return img


def crop_png(name: str, box: tuple[int, int, int, int], pad: int = 4) -> bytes:
    """One row of a page (x, y, width, height in the stored image's pixels) as a PNG."""
    img = open_image(name)
    x, y, w, h = box
    h_img, w_img = img.shape[:2]
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(w_img, x + w + pad), min(h_img, y + h + pad)
    ok, data = cv2.imencode(".png", img[y0:y1, x0:x1])
    if not ok:
        raise ValueError("cannot encode the crop")
    return bytes(data.tobytes())


def is_blank(grey: np.ndarray[Any, Any]) -> bool:
    """A sheet's empty back from a duplex scan: next to no dark pixel at all (a printed
    ballot's corner marks alone are far more)."""
    small = grey[::4, ::4]
    return bool(np.count_nonzero(small < 128) < small.size * 0.0005)
