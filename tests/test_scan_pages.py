"""Scanned ballots (issue 21) at the edges: empty backs of a duplex scan, black-and-white
scans, the staff pages' permissions and headers, the upload page, and what the notary gets."""

from __future__ import annotations

import csv
import hashlib
import io
import stat

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")

from ballots.models import Ballot, ScanPage  # noqa: E402
from ballots.scan.export import export_scans, scans_index_csv  # noqa: E402
from ballots.scan.services import scan_import  # noqa: E402
from ballots.services import Layout  # noqa: E402
from tests.scan_helpers import marked_pages, scanned, small_campaign  # noqa: E402, F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def private(settings, tmp_path):
    settings.PINGYI_PRIVATE_FILES_ROOT = tmp_path / "private"
    return settings.PINGYI_PRIVATE_FILES_ROOT


def _clean(campaign_factory, office, tmp_path, slug="saomiao2"):
    camp, pdf, layout = small_campaign(campaign_factory, office, slug=slug, ballots=1)
    plan = {row: 1 + row % 4 for row in range(len(Layout.of(camp).cells))}
    files = marked_pages(pdf, layout, [(plan, -1)], tmp_path)
    return camp, files, plan


def test_an_empty_back_is_skipped_and_a_black_and_white_page_is_sent_back(
    campaign_factory, office, private, tmp_path
):
    camp, files, _plan = _clean(campaign_factory, office, tmp_path)
    page = cv2.imread(str(files[0][0]))
    white = np.full_like(page, 255)
    cv2.imwrite(str(tmp_path / "back.png"), white)
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(tmp_path / "bw.png"), np.where(grey < 150, 0, 255).astype(np.uint8))
    summary = scan_import(
        campaign=camp,
        files=[files[0], (tmp_path / "back.png", "back.png"), (tmp_path / "bw.png", "bw.png")],
        user=office,
    )
    assert (summary.pages, summary.blank, summary.ballots, summary.unreadable) == (3, 1, 1, 1)
    # The back is not kept at all; the black-and-white page waits, asking for a rescan.
    assert ScanPage.objects.filter(campaign=camp).count() == 2
    bw = ScanPage.objects.get(campaign=camp, status=ScanPage.Status.UNREAD)
    assert "黑白" in bw.problem and bw.source_name.startswith("bw.png")
    # The counted one is the colour page: one ballot, not two of one serial.
    assert Ballot.objects.get(campaign=camp).invalid_reason == ""


def test_page_images_are_private_and_listed_with_their_digest(
    campaign_factory, office, private, tmp_path
):
    camp, files, _plan = _clean(campaign_factory, office, tmp_path)
    scan_import(campaign=camp, files=files, user=office)
    page = ScanPage.objects.get(campaign=camp)
    path = private / "scans" / page.image
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert hashlib.sha256(path.read_bytes()).hexdigest() == page.image_sha256
    rows = list(csv.reader(io.StringIO(scans_index_csv(camp).decode("utf-8-sig"))))
    assert rows[1][1:3] == ["000001", "1"] and rows[1][-1] == page.image_sha256
    out = tmp_path / "export"
    assert export_scans(camp, out) == 1
    exported = out / rows[1][0]
    assert hashlib.sha256(exported.read_bytes()).hexdigest() == page.image_sha256


def test_staff_pages_need_their_role_and_images_are_not_cached(
    client, scanned, clerk, leader, office  # noqa: F811
):
    camp = scanned[0]
    page = ScanPage.objects.filter(campaign=camp).first()
    image = reverse("scan_page_image", args=[camp.slug, page.pk])
    crop = reverse("scan_row_image", args=[camp.slug, page.pk, 2])
    assert client.get(image).status_code == 302  # to the login page
    client.force_login(leader)
    assert client.get(image).status_code == 403
    assert client.get(reverse("scan_confirm", args=[camp.slug])).status_code == 403
    client.force_login(clerk)
    got = client.get(image)
    assert got.status_code == 200 and got["Content-Type"] == "image/jpeg"
    assert "no-store" in got["Cache-Control"]
    assert client.get(crop)["Content-Type"] == "image/png"
    # A clerk confirms, but does not import.
    assert client.post(reverse("scan_upload", args=[camp.slug])).status_code == 403


def test_the_upload_page_imports_in_the_background_and_refuses_a_non_scan(
    client, campaign_factory, office, private, tmp_path, django_capture_on_commit_callbacks
):
    camp, files, _plan = _clean(campaign_factory, office, tmp_path, slug="saomiao3")
    client.force_login(office)
    url = reverse("scan_upload", args=[camp.slug])
    bad = SimpleUploadedFile("ballots.pdf", b"not a pdf at all", content_type="application/pdf")
    got = client.post(url, {"files": [bad]}, follow=True)
    assert "不是 PDF、TIFF、PNG、JPEG 或 zip 文件" in got.content.decode()
    assert not ScanPage.objects.filter(campaign=camp).exists()
    assert not list((private / "scans" / "incoming").iterdir())
    good = SimpleUploadedFile("scan.png", files[0][0].read_bytes(), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        got = client.post(url, {"files": [good]})
    assert got.status_code == 302 and "/jobs/" in got["Location"]
    # Tests run jobs inline: the page is read, the ballot counted, the upload gone.
    assert Ballot.objects.filter(campaign=camp, serial="000001").count() == 1
    assert not list((private / "scans" / "incoming").iterdir())
    desk = client.get(reverse("scan_desk", args=[camp.slug])).content.decode()
    assert "scan.png" in desk


def test_a_zip_of_a_multipage_tiff_and_a_jpeg_reads_in_order(
    campaign_factory, office, private, tmp_path
):
    import zipfile

    camp, pdf, layout = small_campaign(campaign_factory, office, slug="yasuo", ballots=3)
    plan = {row: 1 + row % 4 for row in range(len(Layout.of(camp).cells))}
    files = marked_pages(pdf, layout, [(plan, -1)] * 3, tmp_path)
    images = [cv2.imread(str(p)) for p, _name in files]
    assert cv2.imwritemulti(str(tmp_path / "a.tif"), [cv2.cvtColor(i, cv2.COLOR_BGR2GRAY)
                                                       for i in images[:2]])
    cv2.imwrite(str(tmp_path / "b.jpg"), images[2], [cv2.IMWRITE_JPEG_QUALITY, 85])
    with zipfile.ZipFile(tmp_path / "stack.zip", "w") as z:
        z.write(tmp_path / "a.tif", "01/a.tif")
        z.write(tmp_path / "b.jpg", "02/b.jpg")
    seen: list[tuple[int, int]] = []
    summary = scan_import(
        campaign=camp, files=[(tmp_path / "stack.zip", "stack.zip")], user=office,
        progress=lambda done, total, message: seen.append((done, total)),
    )
    assert (summary.pages, summary.ballots) == (3, 3)
    names = list(ScanPage.objects.filter(campaign=camp).order_by("seq")
                 .values_list("source_name", "serial"))
    assert names == [("stack.zip/01/a.tif p1", "000001"), ("stack.zip/01/a.tif p2", "000002"),
                     ("stack.zip/02/b.jpg p1", "000003")]
    assert seen[-1][0] == 3 and seen[-1][1] >= 2  # progress with a total


def test_a_supervisor_samples_about_one_percent_of_machine_read_pages(
    campaign_factory, office, private, tmp_path
):
    from ballots.scan.services import page_sample_record, sample_due

    camp, files, _plan = _clean(campaign_factory, office, tmp_path, slug="chouyang")
    scan_import(campaign=camp, files=files, user=office)
    due = sample_due(camp)
    assert len(due) == 1  # ceil(1% of 1)
    from ballots.scan.services import ScanError

    with pytest.raises(ScanError):
        page_sample_record(page=due[0], agrees=False, note="", user=office)
    page_sample_record(page=due[0], agrees=True, note="", user=office)
    assert sample_due(camp) == []
    assert ScanPage.objects.get(campaign=camp).sample_ok is True


def test_a_scanners_pdf_of_jpeg_pages_imports(campaign_factory, office, private, tmp_path):
    from bench.scanset import images_pdf

    camp, pdf, layout = small_campaign(campaign_factory, office, slug="pdfsaomiao", ballots=2)
    plan = {row: 1 + row % 4 for row in range(len(Layout.of(camp).cells))}
    pngs = marked_pages(pdf, layout, [(plan, -1)] * 2, tmp_path)
    jpgs = []
    for path, _name in reversed(pngs):  # pages in any order
        jpg = path.with_suffix(".jpg")
        cv2.imwrite(str(jpg), cv2.imread(str(path)), [cv2.IMWRITE_JPEG_QUALITY, 80])
        jpgs.append(jpg)
    images_pdf(jpgs, tmp_path / "stack.pdf")
    summary = scan_import(campaign=camp, files=[(tmp_path / "stack.pdf", "stack.pdf")],
                          user=office)
    assert (summary.pages, summary.ballots, summary.confident) == (2, 2, 2)
    assert sorted(Ballot.objects.filter(campaign=camp).values_list("serial", flat=True)) == [
        "000001", "000002"]
