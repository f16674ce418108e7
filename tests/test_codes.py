"""Access codes: format and entropy, normalising what people type, one per representative or
in bulk, revoke and reissue (audit-logged), the staff page and its permissions, the .xlsx list
for mail-merge and the printable slips with a QR code that decodes to the ballot link."""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import subprocess

import openpyxl
import pytest
from django.urls import reverse

from ballots.models import AccessCode, CodeAttempt
from ballots.online.codes import (
    ALPHABET,
    CODE_LENGTH,
    CodeError,
    code_reissue,
    code_revoke,
    codes_for_representatives,
    codes_unnamed,
    new_code,
    normalise,
)
from campaigns.models import Representative
from core.models import AuditLog, BackgroundJob
from tests.test_online_submit import open_campaign

SYMBOL = f"[{ALPHABET}]"
CODE_RE = re.compile(rf"^{SYMBOL}{{4}}(-{SYMBOL}{{4}}){{3}}$")


@pytest.fixture
def camp(campaign_factory):
    camp = open_campaign(campaign_factory)
    g1, g2 = camp.groups.order_by("order")
    for i, (name, group) in enumerate([("张三", g1), ("李四", g1), ("=HYPERLINK(\"x\")", g2)]):
        Representative.objects.create(
            campaign=camp, group=group, name=name, phone=f"1390000000{i}", district="东区"
        )
    return camp


def test_code_format_and_entropy():
    assert not set("0O1IL") & set(ALPHABET) and len(set(ALPHABET)) == len(ALPHABET) == 30
    assert CODE_LENGTH * math.log2(len(ALPHABET)) >= 60
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(CODE_RE.match(c) for c in codes)
    # Every symbol of the alphabet turns up: the draw is not restricted to a subset.
    assert set("".join(codes).replace("-", "")) == set(ALPHABET)


@pytest.mark.parametrize(
    "typed",
    ["abcd-efgh-jkmn-pqrs", "ABCD EFGH JKMN PQRS", " abcdefghjkmnpqrs ", "ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ－ＰＱＲＳ"],
)
def test_normalise_accepts_case_spaces_dashes_and_full_width(typed):
    assert normalise(typed) == "ABCD-EFGH-JKMN-PQRS"


@pytest.mark.parametrize("typed", ["", "ABCD-EFGH-JKMN-PQR", "ABCD-EFGH-JKMN-PQRSX", "ABCD-EFGH-JKMN-PQR0"])
def test_normalise_refuses_what_cannot_be_a_code(typed):
    assert normalise(typed) is None


def test_one_code_per_representative_and_not_twice(camp, office):
    made = codes_for_representatives(campaign=camp, user=office)
    assert len(made) == 3
    assert {c.representative.name for c in made} == {"张三", "李四", "=HYPERLINK(\"x\")"}
    assert all(c.group_id == c.representative.group_id for c in made)
    assert codes_for_representatives(campaign=camp, user=office) == []
    assert AuditLog.objects.filter(action="codes.generate", campaign_id=camp.pk).count() == 1


def test_unnamed_codes_in_bulk(camp, office):
    group = camp.groups.first()
    made = codes_unnamed(campaign=camp, count=50, group=group, user=office)
    assert len({c.code for c in made}) == 50
    assert all(c.representative_id is None and c.group == group for c in made)
    with pytest.raises(CodeError):
        codes_unnamed(campaign=camp, count=0, group=None, user=office)


def test_revoke_and_reissue_are_audit_logged(camp, office):
    (code,) = codes_unnamed(campaign=camp, count=1, group=None, user=office)
    with pytest.raises(CodeError):
        code_revoke(code=code, user=office, reason=" ")
    code_revoke(code=code, user=office, reason="码条遗失")
    code.refresh_from_db()
    assert code.status == "revoked"
    entry = AuditLog.objects.get(action="code.revoke")
    assert entry.reason == "码条遗失" and entry.username == "office"
    new = code_reissue(code=code, user=office, reason="补发")
    assert new.replaces == code and new.status == "active" and new.code != code.code
    entry = AuditLog.objects.get(action="code.reissue")
    # Never a live code in the log (an auditor could vote with it): its first group only.
    assert entry.after["new_code_id"] == str(new.pk)
    assert entry.after["new_code"] == new.code[:4] + "-…"
    logged = json.dumps([list(AuditLog.objects.values_list(
        "object_repr", "object_id", "before", "after", "reason"))], ensure_ascii=False, default=str)
    for c in AccessCode.objects.filter(campaign=camp):
        assert c.code not in logged and c.code.replace("-", "") not in logged
    with pytest.raises(CodeError):
        code_reissue(code=code, user=office, reason="再补一次")


def test_reissue_of_a_named_code_keeps_the_holder(camp, office):
    code = codes_for_representatives(campaign=camp, user=office)[0]
    new = code_reissue(code=code, user=office, reason="手机号码变更")
    code.refresh_from_db()
    assert code.status == "revoked"
    assert new.representative == code.representative and new.group == code.group


def test_used_code_can_be_neither_revoked_nor_reissued(camp, office):
    (code,) = codes_unnamed(campaign=camp, count=1, group=None, user=office)
    AccessCode.objects.filter(pk=code.pk).update(status="used", used_on="2026-11-01")
    with pytest.raises(CodeError):
        code_revoke(code=code, user=office, reason="x")
    with pytest.raises(CodeError):
        code_reissue(code=code, user=office, reason="x")


def test_a_code_that_voted_in_an_anonymous_campaign_is_used_though_its_row_says_active(
    client, camp, office
):
    """Its row is written only when voting closes; the code page, revoking and reissuing
    know it has voted from its token among the ballots."""
    from ballots.online.submit import ballot_submit
    from tests.test_online_submit import all_satisfied

    voted, unused = codes_unnamed(campaign=camp, count=2, group=None, user=office)
    ballot_submit(campaign=camp, code=voted.code, answers=all_satisfied(camp))
    voted.refresh_from_db()
    assert voted.status == "active"  # the row, untouched
    for change in (code_revoke, code_reissue):
        with pytest.raises(CodeError, match="已使用"):
            change(code=voted, user=office, reason="x")
    client.force_login(office)
    url = reverse("codes", args=[camp.slug])
    page = client.get(url).content.decode()
    assert re.search(r'id="n-used">1<', page) and re.search(r'id="n-active">1<', page)
    used_page = client.get(url, {"status": "used"}).content.decode()
    active_page = client.get(url, {"status": "active"}).content.decode()
    assert voted.code in used_page and voted.code not in active_page
    assert unused.code in active_page and unused.code not in used_page


# --- staff pages -------------------------------------------------------------------------


def test_codes_page_is_for_office_staff_only(client, camp, leader, clerk, auditor):
    url = reverse("codes", args=[camp.slug])
    assert client.get(url).status_code == 302  # to login
    for user in (leader, clerk, auditor):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(reverse("codes_generate", args=[camp.slug]), {"kind": "named"}).status_code == 403
    assert not AccessCode.objects.exists()


def test_office_generates_lists_revokes_and_reissues(client, camp, office):
    client.force_login(office)
    url = reverse("codes", args=[camp.slug])
    r = client.post(reverse("codes_generate", args=[camp.slug]), {"kind": "named"})
    assert r.status_code == 302 and AccessCode.objects.count() == 3
    group = camp.groups.first()
    client.post(reverse("codes_generate", args=[camp.slug]), {"kind": "unnamed", "count": 4, "group": group.pk})
    assert AccessCode.objects.filter(representative__isnull=True, group=group).count() == 4
    r = client.post(reverse("codes_generate", args=[camp.slug]), {"kind": "unnamed"})
    assert "请填写要生成的数量" in client.get(url).content.decode()
    page = client.get(url).content.decode()
    assert re.search(r'id="n-active">7<', page) and "张三" in page
    # User text is escaped on the page.
    assert "=HYPERLINK(&quot;x&quot;)" in page
    code = AccessCode.objects.get(representative__name="张三")
    change = reverse("code_change", args=[camp.slug, code.pk, "revoke"])
    r = client.post(change, {"reason": ""})
    code.refresh_from_db()
    assert code.status == "active"
    client.post(change, {"reason": "本人要求"})
    code.refresh_from_db()
    assert code.status == "revoked"
    client.post(reverse("code_change", args=[camp.slug, code.pk, "reissue"]), {"reason": "补发"})
    new = AccessCode.objects.get(replaces=code)
    page = client.get(url, {"q": "张三"}).content.decode()
    assert new.code in page and code.code in page
    assert client.post(reverse("code_change", args=[camp.slug, code.pk, "delete"]), {"reason": "x"}).status_code == 404


def test_xlsx_list_for_mail_merge(client, camp, office):
    codes_for_representatives(campaign=camp, user=office)
    client.force_login(office)
    r = client.get(reverse("codes_download", args=[camp.slug]))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxml")
    assert "attachment" in r["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("评议码", "评议链接", "姓名", "代表类别")
    by_name = {row[2]: row for row in rows[1:]}
    zhang = by_name["张三"]
    code = AccessCode.objects.get(representative__name="张三").code
    assert zhang[0] == code
    assert zhang[1] == f"http://testserver/v/{camp.slug}/?c={code}"
    # A name that looks like a formula stays text.
    raw = openpyxl.load_workbook(io.BytesIO(r.content)).active
    cell = next(c for row in raw.iter_rows() for c in row if c.value == '=HYPERLINK("x")')
    assert cell.data_type == "s"


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "s.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_slips_pdf_with_qr_codes_of_the_ballot_link(
    client, camp, office, tmp_path, django_capture_on_commit_callbacks
):
    codes_for_representatives(campaign=camp, user=office)
    codes_unnamed(campaign=camp, count=9, group=None, user=office)  # 12 codes: two pages
    client.force_login(office)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("codes_slips", args=[camp.slug]), {"which": "all"})
    job = BackgroundJob.objects.get()
    assert r.status_code == 302 and r.url == reverse("job_page", args=[job.pk])
    job.refresh_from_db()
    assert job.status == "done", job.message
    data = job.result_file.read()
    text = _pdf_text(data, tmp_path)
    codes = list(AccessCode.objects.values_list("code", flat=True))
    assert all(c in text for c in codes)
    assert text.count(camp.name) == 12 and "张三" in text
    pages = subprocess.run(["pdfinfo", str(tmp_path / "s.pdf")], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+2", pages)
    if not shutil.which("zbarimg"):
        pytest.skip("zbar-tools not installed")
    decoded: set[str] = set()
    for dpi in ("150", "300"):  # as a phone would, from two distances
        prefix = tmp_path / f"p{dpi}"
        subprocess.run(["pdftoppm", "-r", dpi, "-png", "-f", "1", "-l", "1", str(tmp_path / "s.pdf"), str(prefix)], check=True)
        png = next(tmp_path.glob(f"p{dpi}*.png"))
        out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
        decoded |= set(out.stdout.split())
    assert len(decoded) == 10  # ten slips on an A4 page, each with its own link
    for link in decoded:
        m = re.fullmatch(rf"http://testserver/v/{camp.slug}/\?c=(.+)", link)
        assert m and m.group(1) in codes
    # The link works: it signs the phone in and leaves a code-free address.
    r = client.get(sorted(decoded)[0].replace("http://testserver", ""))
    assert r.status_code == 302 and r.url == reverse("vote_ballot", args=[camp.slug])


def test_attempts_page_shows_failures_by_address(client, camp, office, settings):
    settings.PINGYI_CODE_ATTEMPTS_PER_WINDOW = 2
    for _ in range(3):
        client.post(reverse("vote_enter_campaign", args=[camp.slug]), {"code": "AAAA-AAAA-AAAA-AAAA"}, REMOTE_ADDR="203.0.113.7")
    assert CodeAttempt.objects.filter(client="203.0.113.7").count() == 2  # the 3rd was refused unread
    client.force_login(office)
    page = client.get(reverse("code_attempts", args=[camp.slug])).content.decode()
    assert "203.0.113.7" in page and "须等待" in page and "评议码不存在" in page


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_slips_are_stamped_on_one_rendered_sheet(camp, office, tmp_path):
    """Issue 16: WeasyPrint lays the sheet out once (a full page and the shorter last one);
    every page of slips draws it and gets its own codes, names and QR codes stamped on."""
    from pypdf import PdfReader

    from ballots.online.slips import slip_codes, slips_pdf

    codes_for_representatives(campaign=camp, user=office)
    codes_unnamed(campaign=camp, count=20, group=None, user=office)  # 23: pages of 10, 10, 3
    chosen = slip_codes(camp, "all")
    data = slips_pdf(camp, chosen, "http://testserver")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 3
    sheets = [p["/Resources"]["/XObject"].raw_get("/Sheet").idnum for p in reader.pages]
    assert sheets[0] == sheets[1] != sheets[2]
    for number, page in enumerate(reader.pages):
        text = page.extract_text()
        mine = [c.code for c in chosen[number * 10 : number * 10 + 10]]
        assert all(code in text for code in mine)
        assert not any(c.code in text for c in chosen if c.code not in mine)
    text = _pdf_text(data, tmp_path)
    # Each name once, on its own slip only (not read from every slip of a shared page).
    assert text.count("张三") == 1 and text.count("李四") == 1
    assert text.count(camp.name) == 23


def test_codes_page_lists_recent_slips_with_their_download(
    client, camp, office, django_capture_on_commit_callbacks
):
    codes_unnamed(campaign=camp, count=2, group=None, user=office)
    client.force_login(office)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("codes_slips", args=[camp.slug]), {"which": "unnamed"})
    job = BackgroundJob.objects.get()
    page = client.get(reverse("codes", args=[camp.slug])).content.decode()
    assert reverse("job_download", args=[job.pk]) in page and "仅不记名" in page
    # Once voting ends the file goes; the page says so instead of offering it.
    from ballots.online.slips import code_files_remove

    code_files_remove(camp.pk)
    page = client.get(reverse("codes", args=[camp.slug])).content.decode()
    assert reverse("job_download", args=[job.pk]) not in page
    assert str(BackgroundJob.FileRemoved.CLOSED.label) in page
