"""Scanned pages to ballots (issue 21): importing a stack, and what people do with the pages
the machine could not settle. Every page status change is one of the functions here.

One path in: a page's rows become marks (the reader's key per row, a person's where the reader
was unsure), the marks of a ballot's pages are put together in ballot order, and the ballot is
recorded by `ballots.services.ballot_create` as a paper ballot, read by the one reading of
marks (ballots/reading.py) like a keyed or imported ballot. Its serial is the printed one, so a
photocopy (the same QR code) or a paper both keyed and scanned makes every ballot of that serial
`duplicate_serial` (ballots/validity.py). The ballot's import batch (kind "scans") says it came
from the scanner: source 扫描 in the reconciliation and the ballot lists.

Pages are put together per serial in the order they were scanned (batch, then position in the
stack): the first page 1 with the first page 2, and so on, so two copies in a stack make two
ballots. A serial whose pages have not all come, or whose pages disagree (page 1 of one serial
followed by page 2 of another), waits: the pages stay `waiting` until the missing page comes
in a later batch or a supervisor sets them aside.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from ballots import sql
from ballots.models import Ballot, PrintedRange, ScanPage
from ballots.paper.cells import SPOILED
from ballots.paper.ranges import Ranges
from ballots.reading import SEVERAL, UNMARKED
from ballots.scan import reader, store
from ballots.scan.files import ScanFileError, check, count_pages, pages_of
from ballots.services import WRITABLE, BallotError, Layout, ballot_create
from campaigns.models import Campaign, ImportBatch
from core.audit import audit
from core.jobs import Progress

# Share of the pages read without a person that a supervisor is offered to check by eye.
SAMPLE_SHARE = 0.01


class ScanError(BallotError):
    """A scan request that cannot be carried out; the message is shown as is."""


@dataclass
class Summary:
    """What an import did, as `manage.py scan_import` prints it (a contract)."""

    pages: int = 0
    ballots: int = 0
    confident: int = 0
    to_confirm: int = 0
    unreadable: int = 0
    waiting: int = 0
    blank: int = 0  # empty backs of sheets (duplex scans of one-sided ballots), skipped
    batch: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "pages": self.pages,
            "ballots": self.ballots,
            "confident": self.confident,
            "to_confirm": self.to_confirm,
            "unreadable": self.unreadable,
            "waiting": self.waiting,
            "blank": self.blank,
            "batch": self.batch,
        }


@dataclass(frozen=True)
class _Read:
    name: str
    number: int
    image: str
    size: tuple[int, int]
    page: reader.PageRead
    rows: list[list[int]]
    sha256: str = ""
    blank: bool = False  # an empty back of a sheet: not kept, only counted


# --- Reading a stack -------------------------------------------------------------------------


def layouts_of(campaign: Campaign) -> dict[str, dict[str, Any]]:
    """The box maps of the campaign's printed ranges, by layout version."""
    out: dict[str, dict[str, Any]] = {}
    for version, layout in PrintedRange.objects.filter(
        campaign=campaign, layout__isnull=False
    ).values_list("layout_version", "layout"):
        if layout:
            out.setdefault(version, layout)
    return out


def _fitting_versions(layouts: Mapping[str, Mapping[str, Any]], layout: Layout) -> set[str]:
    """The versions whose boxes are the campaign's cells as they are now (units or options
    changed since printing make a box map wrong: its pages cannot be counted)."""
    fits = set()
    for version, doc in layouts.items():
        seen: dict[int, tuple[Any, Any]] = {}
        for page in doc["pages"]:
            for b in page["boxes"]:
                seen[b["row"]] = (b["unit_id"], b.get("dimension_id"))
        if len(seen) == len(layout.cells) and all(
            seen.get(i) == cell for i, cell in enumerate(layout.cells)
        ):
            fits.add(version)
    return fits


def _stored(
    campaign_id: int, src: Any, read: reader.PageRead
) -> tuple[str, str, tuple[int, int], list[list[int]]]:
    """Keep the page image (grey, upright, at most store.STORE_DPI) and its rows' crops in
    the stored image's pixels."""
    grey = reader.to_grey(src)
    h, w = grey.shape[:2]
    if read.upside_down:
        grey = cv2.rotate(grey, cv2.ROTATE_180)
    f = store.shrink_factor(grey.shape)
    if f < 1:
        grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    rows = []
    for r in read.rows:
        x, y, cw, ch = r.crop
        if read.upside_down:
            x, y = w - x - cw, h - y - ch
        rows.append([r.row, r.mark, int(r.certain), int(x * f), int(y * f), int(cw * f) + 1,
                     int(ch * f) + 1])
    name, sha = store.save_image(campaign_id, grey)
    return name, sha, (grey.shape[1], grey.shape[0]), rows


def scan_read(
    *, campaign: Campaign, files: Sequence[tuple[Path, str]], progress: Progress | None = None
) -> list[_Read]:
    """Read every page of the files (path, name as uploaded) and keep their images. Nothing
    is written to the database; on any error the images kept so far are deleted."""
    layouts = layouts_of(campaign)
    if not layouts:
        raise ScanError(_("本活动还没有印制带识别标记的选票(请先在“印制选票”中生成 PDF)"))
    for path, name in files:  # refuse a wrong file before reading any
        try:
            check(path, name)
        except ScanFileError as exc:
            raise ScanError(str(exc)) from exc
    total = sum(count_pages(path) for path, _name in files)
    out: list[_Read] = []
    try:
        for path, name in files:
            for sp in pages_of(path, name):
                read = reader.read_page(sp.image, layouts)
                if not read.registered and read.serial is None and store.is_blank(
                    reader.to_grey(sp.image)
                ):
                    out.append(_Read(sp.name, sp.number, "", (0, 0), read, [], blank=True))
                else:
                    image, sha, size, rows = _stored(campaign.pk, sp.image, read)
                    out.append(_Read(sp.name, sp.number, image, size, read, rows, sha))
                if progress is not None:
                    done = len(out)
                    progress(done, max(total, done), _("已读取 %(n)d 页") % {"n": done})
    except ScanFileError as exc:
        _forget(out)
        raise ScanError(str(exc)) from exc
    except BaseException:
        _forget(out)
        raise
    return out


def _forget(reads: Sequence[_Read]) -> None:
    for r in reads:
        if r.image:
            store.delete_image(r.image)


def _classify(r: _Read, campaign: Campaign, ranges: Ranges, fits: set[str]) -> tuple[str, str, str]:
    """(status, problem, serial) of a page as read."""
    p = r.page
    if p.slug is not None and p.slug != campaign.slug:
        return ScanPage.Status.UNREAD, _("不是本活动的选票(二维码:%(s)s)") % {"s": p.slug}, ""
    if p.rescan:
        # A black-and-white scan cannot show light or erased marks (reader, step 7): no person
        # could confirm them from the image either, so the paper must be scanned again.
        return ScanPage.Status.UNREAD, _("黑白扫描:请以灰度或彩色重新扫描此页"), ""
    if not p.registered or not p.rows:
        why = _("页面无法识别(%(p)s):请重新扫描,或手工录入后搁置") % {"p": p.problem}
        return ScanPage.Status.UNREAD, why, ""
    if p.version not in fits:
        why = _("选票版面与本活动当前的单位或选项不符(版面 %(v)s),不能计入") % {"v": p.version}
        return ScanPage.Status.UNREAD, why, ""
    if p.serial is None:
        return ScanPage.Status.SERIAL, _("二维码无法读取:请对照图像输入编号"), ""
    rng = ranges.find(p.serial)
    if rng is None or rng.layout_version != p.version:
        why = _("编号 %(s)s 不在按此版面印制的编号段内") % {"s": p.serial}
        return ScanPage.Status.UNREAD, why, p.serial
    serial = rng.fmt(int(p.serial))
    if any(not row[2] for row in r.rows):
        return ScanPage.Status.CONFIRM, "", serial
    return ScanPage.Status.WAITING, "", serial


def scan_record(
    *, campaign: Campaign, reads: Sequence[_Read], filename: str, sha256: str, user: Any
) -> Summary:
    """Record the pages of one import and count every ballot they complete, in one
    transaction: all of it, or (on any error) nothing, and then the images go too."""
    try:
        with transaction.atomic():
            summary = _record(campaign, reads, filename, sha256, user)
    except BaseException:
        _forget(reads)
        raise
    return summary


def _check_not_imported(campaign: Campaign, sha256: str, filename: str) -> None:
    if ImportBatch.objects.filter(
        campaign=campaign, kind=ImportBatch.Kind.SCANS, sha256=sha256, undone_at__isnull=True
    ).exists():
        raise ScanError(_("同样的扫描文件已经导入过(%(name)s)") % {"name": filename})


def _record(
    campaign: Campaign, reads: Sequence[_Read], filename: str, sha256: str, user: Any
) -> Summary:
    status = sql.campaign_status_for_write(campaign)
    if status not in WRITABLE:
        raise ScanError(_("评议活动已结束,不能再导入扫描选票"))
    _check_not_imported(campaign, sha256, filename)
    layout = Layout.of(campaign)
    fits = _fitting_versions(layouts_of(campaign), layout)
    ranges = Ranges(campaign)
    batch = ImportBatch.objects.create(
        campaign=campaign,
        kind=ImportBatch.Kind.SCANS,
        filename=filename[:255],
        sha256=sha256,
        rows=len(reads),
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    summary = Summary(pages=len(reads), batch=batch.pk)
    pages = []
    for seq, r in enumerate(reads, start=1):
        if r.blank:
            summary.blank += 1
            continue
        st, problem, serial = _classify(r, campaign, ranges, fits)
        marks = {str(row[0]): row[1] for row in r.rows} if st == ScanPage.Status.WAITING else None
        pages.append(
            ScanPage(
                campaign=campaign, batch=batch, seq=seq,
                source_name=f"{r.name} p{r.number}"[:255],
                image=r.image, image_sha256=r.sha256,
                image_width=r.size[0], image_height=r.size[1],
                serial=serial, page_no=r.page.page, pages=r.page.pages,
                layout_version=r.page.version or "", status=st, problem=problem[:300],
                rows=r.rows, marks=marks,
            )
        )
        if st == ScanPage.Status.WAITING:
            summary.confident += 1
        elif st == ScanPage.Status.CONFIRM:
            summary.to_confirm += 1
        else:
            summary.unreadable += 1
    ScanPage.objects.bulk_create(pages, batch_size=500)
    serials = sorted({p.serial for p in pages if p.status == ScanPage.Status.WAITING})
    made = _assemble(campaign, serials, batch, layout, ranges)
    _assemble_again_after_commit(campaign.pk, serials)
    summary.ballots = len(made)
    summary.waiting = ScanPage.objects.filter(
        batch=batch, status=ScanPage.Status.WAITING
    ).count()
    ImportBatch.objects.filter(pk=batch.pk).update(summary=summary.as_json())
    audit(
        user=user, action="scan_import", obj=batch, campaign=campaign,
        after=summary.as_json(), object_repr=filename[:200],
    )
    return summary


def _assemble_again_after_commit(campaign_id: int, serials: Sequence[str]) -> None:
    """Put these serials' pages together once more after this transaction commits.

    Two transactions settling the two pages of one ballot at once (two clerks, or a clerk and
    an import) each see only their own page waiting, and neither counts the ballot. Whichever
    commits last sees both from here. The pages are locked FOR UPDATE with `status = waiting`
    in the query, so two of these running at once count the ballot once."""
    serials = list(serials)
    if not serials:
        return

    def again() -> None:
        with transaction.atomic():
            _assemble(Campaign.objects.get(pk=campaign_id), serials, None)

    transaction.on_commit(again)


def _assemble(
    campaign: Campaign,
    serials: Iterable[str],
    batch: ImportBatch | None,
    layout: Layout | None = None,
    ranges: Ranges | None = None,
) -> list[Ballot]:
    """Count every ballot whose pages are all settled, for these serials (in the caller's
    transaction). The pages are locked first, so two people settling the two pages of one
    ballot at once make one ballot."""
    made: list[Ballot] = []
    serials = list(serials)
    if not serials:
        return made
    layout = layout or Layout.of(campaign)
    ranges = ranges or Ranges(campaign)
    waiting = list(
        ScanPage.objects.select_for_update()
        .filter(campaign=campaign, serial__in=serials, status=ScanPage.Status.WAITING)
        .order_by("serial", "batch__created_at", "batch_id", "seq")
    )
    by_serial: dict[str, list[ScanPage]] = {}
    for p in waiting:
        by_serial.setdefault(p.serial, []).append(p)
    for serial, pages in by_serial.items():
        while True:
            first: dict[int, ScanPage] = {}
            for p in pages:
                if p.page_no is not None:
                    first.setdefault(p.page_no, p)
            need = pages[0].pages or 0
            if not need or not set(range(1, need + 1)) <= set(first):
                break
            chosen = [first[n] for n in range(1, need + 1)]
            if len({p.layout_version for p in chosen}) != 1:
                break
            made.append(_count(campaign, serial, chosen, batch, layout, ranges))
            pages = [p for p in pages if p not in chosen]
            if not pages:
                break
    return made


def _count(
    campaign: Campaign,
    serial: str,
    pages: Sequence[ScanPage],
    batch: ImportBatch | None,
    layout: Layout,
    ranges: Ranges,
) -> Ballot:
    marks = [UNMARKED] * len(layout.cells)
    for p in pages:
        for row, mark in (p.marks or {}).items():
            marks[int(row)] = int(mark)
    rng = ranges.find(serial)
    ballot = ballot_create(
        campaign=campaign,
        source=Ballot.Source.PAPER,
        marks=marks,
        serial=serial,
        channel=rng.channel if rng else "",
        district=rng.district if rng else "",
        batch=batch or pages[-1].batch,
        layout=layout,
    )
    ScanPage.objects.filter(pk__in=[p.pk for p in pages]).update(
        status=ScanPage.Status.COUNTED, ballot=ballot
    )
    return ballot


def scan_import(
    *, campaign: Campaign, files: Sequence[tuple[Path, str]], user: Any,
    progress: Progress | None = None,
) -> Summary:
    """Read and record a stack: `files` are (path, name) in scanning order."""
    digest = hashlib.sha256()
    for path, _name in files:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    # Before reading (minutes for a big stack): the same stack again is refused at once.
    # _record checks again under the campaign's lock, for two imports racing.
    _check_not_imported(campaign, digest.hexdigest(), "、".join(n for _p, n in files))
    reads = scan_read(campaign=campaign, files=files, progress=progress)
    if not reads:
        raise ScanError(_("文件中没有任何页面"))
    name = "、".join(n for _p, n in files)
    return scan_record(
        campaign=campaign, reads=reads, filename=name, sha256=digest.hexdigest(), user=user
    )


# --- What people do --------------------------------------------------------------------------


def _locked(page: ScanPage, *statuses: str) -> ScanPage:
    if sql.campaign_status_for_write(Campaign(pk=page.campaign_id)) not in WRITABLE:
        raise ScanError(_("评议活动已结束,扫描页不能再处理"))
    locked = ScanPage.objects.select_for_update().get(pk=page.pk)
    if locked.status not in statuses:
        raise ScanError(
            _("该页已由他人处理(现为“%(s)s”)") % {"s": locked.get_status_display()}
        )
    return locked


def mark_of_key(key: int, options: int) -> int:
    """A keying key (ballots.paper.cells: 1..n the options, 0 blank, 9 several) as a mark."""
    if key == 0:
        return UNMARKED
    if key == SPOILED:
        return SEVERAL
    if 1 <= key <= options:
        return key
    raise ScanError(_("无效的键:%(k)s(可用 0、1–%(n)d、9)") % {"k": key, "n": options})


def key_of_mark(mark: int) -> int:
    return SPOILED if mark == SEVERAL else mark


def page_confirm(*, page: ScanPage, keys: Mapping[int, int], user: Any) -> list[Ballot]:
    """A person settles the uncertain rows of a page (`keys`: row → keying key); the page
    then waits for its ballot's other pages, or completes the ballot."""
    options = page.campaign.options.count()
    with transaction.atomic():
        locked = _locked(page, ScanPage.Status.CONFIRM)
        unsure = [r[0] for r in locked.rows if not r[2]]
        missing = [r for r in unsure if r not in keys]
        if missing:
            raise ScanError(
                _("还有 %(n)d 行未确认:%(rows)s")
                % {"n": len(missing), "rows": "、".join(_row_names(locked.campaign, missing))}
            )
        extra = set(keys) - set(unsure)
        if extra:
            raise ScanError(_("只能确认识别不确定的行"))
        settled = {str(r[0]): r[1] for r in locked.rows if r[2]}
        settled.update({str(r): mark_of_key(keys[r], options) for r in unsure})
        locked.marks = settled
        locked.status = ScanPage.Status.WAITING
        locked.confirmed_rows = len(unsure)
        locked.confirmed_by = user if getattr(user, "is_authenticated", False) else None
        locked.save(update_fields=["marks", "status", "confirmed_rows", "confirmed_by"])
        machine = {r[0]: key_of_mark(r[1]) for r in locked.rows if not r[2]}
        changed = sum(1 for r in unsure if machine[r] != keys[r])
        audit(
            user=user, action="scan_confirm", obj=locked, campaign=locked.campaign,
            after={"rows": len(unsure), "changed_from_machine": changed},
        )
        _assemble_again_after_commit(locked.campaign_id, [locked.serial])
        return _assemble(locked.campaign, [locked.serial], None)


def _row_names(campaign: Campaign, rows: Sequence[int]) -> list[str]:
    """Rows as a person finds them on the paper: "第 n 行(unit[ · dimension])"."""
    from campaigns.models import CampaignUnit, Dimension

    cells = Layout.of(campaign).cells
    units = dict(CampaignUnit.objects.filter(campaign=campaign).values_list("id", "name"))
    dims = dict(Dimension.objects.filter(campaign=campaign).values_list("id", "name"))
    out = []
    for r in rows:
        if 0 <= r < len(cells):
            unit, dim = cells[r]
            label = units.get(unit, "") + (f" · {dims.get(dim, '')}" if dim else "")
            out.append(_("第 %(n)d 行(%(u)s)") % {"n": r + 1, "u": label})
        else:
            out.append(_("第 %(n)d 行") % {"n": r + 1})
    return out


def page_set_serial(*, page: ScanPage, serial: str, user: Any) -> list[Ballot]:
    """A person types the serial of a page whose QR code could not be read."""
    raw = (serial or "").strip()
    with transaction.atomic():
        locked = _locked(page, ScanPage.Status.SERIAL)
        ranges = Ranges(locked.campaign)
        rng = ranges.find(raw)
        if rng is None:
            raise ScanError(_("编号 %(s)s 不在已印制的编号段内") % {"s": raw})
        if rng.layout_version != locked.layout_version:
            raise ScanError(
                _("编号 %(s)s 所在编号段的版面与这一页不同,请核对编号") % {"s": raw}
            )
        locked.serial = rng.fmt(int(raw))
        locked.problem = ""
        if any(not r[2] for r in locked.rows):
            locked.status = ScanPage.Status.CONFIRM
        else:
            locked.status = ScanPage.Status.WAITING
            locked.marks = {str(r[0]): r[1] for r in locked.rows}
        locked.save(update_fields=["serial", "problem", "status", "marks"])
        audit(
            user=user, action="scan_serial", obj=locked, campaign=locked.campaign,
            after={"serial": locked.serial, "page": locked.page_no},
        )
        if locked.status == ScanPage.Status.WAITING:
            _assemble_again_after_commit(locked.campaign_id, [locked.serial])
            return _assemble(locked.campaign, [locked.serial], None)
    return []


def page_set_aside(*, page: ScanPage, reason: str, user: Any) -> ScanPage:
    """A supervisor sets a page aside with a reason (rescanned, keyed by hand, not a ballot);
    it is no longer waited for."""
    reason = (reason or "").strip()
    if not reason:
        raise ScanError(_("请填写搁置原因"))
    with transaction.atomic():
        locked = _locked(page, *ScanPage.OPEN)
        before = locked.status
        locked.status = ScanPage.Status.ASIDE
        locked.aside_reason = reason[:300]
        locked.marks = None
        locked.save(update_fields=["status", "aside_reason", "marks"])
        audit(
            user=user, action="scan_set_aside", obj=locked, campaign=locked.campaign,
            before={"status": before}, after={"status": locked.status}, reason=reason,
        )
    return locked


def sample_due(campaign: Campaign, share: float = SAMPLE_SHARE) -> list[ScanPage]:
    """Pages counted without a person, chosen at random for a supervisor to check by eye:
    enough that `share` of them (at least one) has been sampled."""
    confident = ScanPage.objects.filter(
        campaign=campaign, status=ScanPage.Status.COUNTED, confirmed_rows=0
    )
    total = confident.count()
    want = math.ceil(total * share) if total else 0
    done = confident.filter(sampled=True).count()
    if done >= want:
        return []
    ids = list(confident.filter(sampled=False).values_list("pk", flat=True))
    picked = random.SystemRandom().sample(ids, min(len(ids), want - done))
    return list(ScanPage.objects.filter(pk__in=picked))


def page_sample_record(*, page: ScanPage, agrees: bool, note: str, user: Any) -> ScanPage:
    """A supervisor's check of the reader on one page: does the reading match the paper?"""
    note = (note or "").strip()
    if not agrees and not note:
        raise ScanError(_("请说明哪一行识别有误"))
    with transaction.atomic():
        locked = ScanPage.objects.select_for_update().get(pk=page.pk)
        if locked.status != ScanPage.Status.COUNTED:
            raise ScanError(_("只能抽查已计入的页面"))
        locked.sampled, locked.sample_ok, locked.sample_note = True, agrees, note[:300]
        locked.save(update_fields=["sampled", "sample_ok", "sample_note"])
        audit(
            user=user, action="scan_sample", obj=locked, campaign=locked.campaign,
            after={"agrees": agrees}, reason=note,
        )
    return locked


def close_blockers(campaign: Campaign) -> list[str]:
    """Why the campaign cannot close yet: scanned pages that still need someone."""
    counts = dict(
        ScanPage.objects.filter(campaign=campaign, status__in=ScanPage.OPEN)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    if not counts:
        return []
    words = {str(s): str(label) for s, label in ScanPage.Status.choices}
    parts = "、".join(f"{words[str(s)]} {n} 页" for s, n in sorted(counts.items()))
    return [_("还有扫描页未处理完:%(parts)s(见“扫描选票”)") % {"parts": parts}]
