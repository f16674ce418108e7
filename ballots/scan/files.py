"""A scanner's files in, page images out: multi-page PDF, TIFF, PNG, JPEG, or a zip of them.

The kind is told by the file's first bytes, not its name. A zip's members are read in name
order (scanners number their files), each checked the same way; a member that is not one of
the kinds above, an encrypted member, or a zip that would unpack to more than MAX_UNPACKED
bytes is refused by name before anything is read, so an import is all or nothing.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from ballots.scan import reader

MAX_UNPACKED = 8 * 1024**3
KINDS = {b"%PDF": "pdf", b"II*\x00": "tiff", b"MM\x00*": "tiff", b"\x89PNG": "png"}


class ScanFileError(ValueError):
    """A file that cannot be read as scanned pages; the message names it."""


@dataclass(frozen=True)
class SourcePage:
    name: str  # the file (and zip member) it came from, for people
    number: int  # its page in that file, from 1
    image: Any  # numpy array as decoded


def kind_of(head: bytes) -> str | None:
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    return KINDS.get(head[:4])


def check(path: Path, name: str) -> str:
    """The file's kind, or ScanFileError naming it."""
    with path.open("rb") as f:
        head = f.read(8)
    kind = kind_of(head)
    if kind is None:
        raise ScanFileError(
            _("“%(name)s”不是 PDF、TIFF、PNG、JPEG 或 zip 文件") % {"name": name}
        )
    if kind == "zip":
        try:
            with zipfile.ZipFile(path) as z:
                members = [i for i in z.infolist() if not i.is_dir()]
                if sum(i.file_size for i in members) > MAX_UNPACKED:
                    raise ScanFileError(_("“%(name)s”解压后过大") % {"name": name})
                for info in members:
                    if info.flag_bits & 0x1:
                        raise ScanFileError(
                            _("“%(name)s”中的“%(member)s”已加密")
                            % {"name": name, "member": info.filename}
                        )
                    with z.open(info) as m:
                        if kind_of(m.read(8)) in (None, "zip"):
                            raise ScanFileError(
                                _("“%(name)s”中的“%(member)s”不是扫描图像或 PDF")
                                % {"name": name, "member": info.filename}
                            )
        except zipfile.BadZipFile as exc:
            raise ScanFileError(_("“%(name)s”不是完好的 zip 文件") % {"name": name}) from exc
    return kind


def pages_of(path: Path, name: str) -> Iterator[SourcePage]:
    """Every page of one file, in order. Raises ScanFileError naming the file (and page)
    that cannot be decoded."""
    kind = check(path, name)
    if kind == "zip":
        with zipfile.ZipFile(path) as z, tempfile.TemporaryDirectory() as tmp:
            for info in sorted(
                (i for i in z.infolist() if not i.is_dir()), key=lambda i: i.filename
            ):
                target = Path(tmp) / "member"
                with z.open(info) as src, target.open("wb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                yield from pages_of(target, f"{name}/{info.filename}")
                target.unlink()
        return
    try:
        if kind == "pdf":
            images = reader.read_pdf_pages(str(path))
        elif kind == "tiff":
            # By content, not name: a zip's member is unpacked under a name of ours.
            images = _tiff_pages(path)
        else:
            images = reader.read_image_file(path)
        for i, image in enumerate(images, start=1):
            yield SourcePage(name=name, number=i, image=image)
    except ScanFileError:
        raise
    except Exception as exc:  # pdfium's and OpenCV's errors: the file is damaged
        raise ScanFileError(
            _("“%(name)s”无法读取:%(error)s") % {"name": name, "error": exc}
        ) from exc


def _tiff_pages(path: Path) -> Iterator[Any]:
    import cv2

    ok, pages = cv2.imreadmulti(str(path), flags=cv2.IMREAD_UNCHANGED)
    if not ok:
        raise ValueError("not a readable TIFF")
    yield from pages


def count_pages(path: Path) -> int:
    """How many pages a checked file holds, for the progress bar (a zip's members each count
    as one page unless they are PDFs or TIFFs, which are not opened for this)."""
    with path.open("rb") as f:
        kind = kind_of(f.read(8))
    if kind == "pdf":
        import pypdfium2 as pdfium  # type: ignore[import-untyped]

        doc = pdfium.PdfDocument(str(path))
        try:
            return len(doc)
        finally:
            doc.close()
    if kind == "tiff":
        import cv2

        return int(cv2.imcount(str(path)))
    if kind == "zip":
        with zipfile.ZipFile(path) as z:
            return sum(1 for i in z.infolist() if not i.is_dir())
    return 1
