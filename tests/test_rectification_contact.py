"""Issue 19, the unit contact's and the acceptor's pages: a contact sees only its own unit
(cases, comments, results, attachments; any other id is a 404), submits a plan that an
acceptor returns and then approves, files progress and a completion report with a PDF, and
the acceptor accepts. An acceptor sees only the cases assigned to them.

Set PINGYI_SHOTS=/some/folder to save the 360 px screenshots of the browser test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments.models import UnitAccount
from ballots.models import Ballot, Comment
from campaigns.models import Campaign
from core.models import AuditLog
from core.roles import ACCEPTOR, CONTACT
from rectification.models import Case, Plan
from rectification.services import case_open
from tests.conftest import make_user
from tests.test_assessment_commands import survey_campaign

DEADLINE = dt.date.today() + dt.timedelta(days=150)


def _setup(tmp_path):  # type: ignore[no-untyped-def]
    survey_campaign(tmp_path)
    pz = Campaign.objects.get(slug="pz")
    Campaign.objects.filter(pk=pz.pk).update(status=Campaign.Status.CLOSED)
    pz.refresh_from_db()
    office = make_user("office", "评议办公室", staff=True)
    Campaign.objects.filter(pk=pz.pk).update(office=office.offices.first())
    bing, yi = pz.units.get(name="丙局"), pz.units.get(name="乙局")
    ballots = list(Ballot.objects.filter(campaign=pz, status=Ballot.Status.VALID)[:3])
    for b, text in zip(ballots, ["窗口人员态度生硬", "办事要跑好几趟", "丙局网上办不通"],
                       strict=True):
        Comment.objects.create(ballot=b, campaign=pz, unit=bing, text=text)
    Comment.objects.create(ballot=ballots[0], campaign=pz, unit=yi, text="乙局的秘密意见")
    acceptor = make_user("daibiao", ACCEPTOR)
    case = case_open(campaign=pz, unit=bing.unit, unit_name="丙局", flag="last_place",
                     problem="评议结果为末位,须限期整改", deadline=DEADLINE, user=office,
                     acceptors=[acceptor])
    other_case = case_open(campaign=pz, unit=yi.unit, unit_name="乙局",
                           flag="key_rectification", problem="乙局满意率低", deadline=DEADLINE,
                           user=office)
    contact = make_user("bing", CONTACT)
    UnitAccount.objects.create(user=contact, unit=bing.unit)
    other = make_user("yi", CONTACT)
    UnitAccount.objects.create(user=other, unit=yi.unit)
    return {"pz": pz, "office": office, "case": case, "other_case": other_case,
            "contact": contact, "other": other, "acceptor": acceptor}


@pytest.fixture
def loop(db, tmp_path):  # type: ignore[no-untyped-def]
    return _setup(tmp_path)


def _plan(problems: str, *measures: tuple[str, str, str]) -> dict[str, str]:
    data = {"action": "plan", "problems": problems}
    for i, (text, owner, deadline) in enumerate(measures):
        data |= {f"m{i}_text": text, f"m{i}_owner": owner, f"m{i}_deadline": deadline}
    return data


def test_the_whole_loop_through_the_pages(client, loop):
    case, contact, acceptor = loop["case"], loop["contact"], loop["acceptor"]
    url = reverse("rect_case", args=[case.pk])
    client.force_login(contact)
    listing = client.get(reverse("rect_my_cases")).content.decode()
    assert "评议结果为末位" in listing and "乙局满意率低" not in listing
    assert "未提交方案" in listing and "还有" in listing
    page = client.get(url).content.decode()
    assert 'id="plan-form"' in page and 'id="report-form"' not in page
    # A half-written measure is refused; blank rows are ignored.
    bad = client.post(url, _plan("办事效率低", ("压缩办理时限", "", "2099-03-01")))
    assert "请写明措施、责任人和时限" in bad.content.decode()
    client.post(url, _plan("办事效率低", ("压缩办理时限", "张科长", "2099-03-01")))
    case.refresh_from_db()
    assert case.status == Case.Status.PLAN_SUBMITTED
    assert client.post(url, {"action": "approve", "plan": case.plans.get().pk}).status_code == 404

    client.force_login(acceptor)
    assert "丙局" in client.get(reverse("rect_to_accept")).content.decode()
    plan = case.plans.get()
    client.post(url, {"action": "return", "plan": plan.pk, "reason": ""})  # a reason is needed
    assert Case.objects.get(pk=case.pk).status == Case.Status.PLAN_SUBMITTED
    client.post(url, {"action": "return", "plan": plan.pk, "reason": "措施不具体"})
    assert Case.objects.get(pk=case.pk).status == Case.Status.AWAITING_PLAN

    client.force_login(contact)
    page = client.get(url).content.decode()
    assert "退回修改" in page and "措施不具体" in page and 'id="plan-form"' in page
    client.post(url, _plan("办事效率低,群众跑腿多",
                           ("窗口办理时限压缩到3日", "张科长", "2099-03-01"),
                           ("", "", ""),
                           ("推行一网通办", "李主任", "2099-04-01")))
    plan2 = Plan.objects.get(case=case, status=Plan.Status.SUBMITTED)
    assert [m.text for m in plan2.measures.all()] == ["窗口办理时限压缩到3日", "推行一网通办"]

    client.force_login(acceptor)
    client.post(url, {"action": "approve", "plan": plan2.pk, "reason": ""})
    assert Case.objects.get(pk=case.pk).status == Case.Status.IN_PROGRESS

    client.force_login(contact)
    page = client.get(url).content.decode()
    assert 'id="report-form"' in page and 'id="plan-form"' not in page
    client.post(url, {"action": "report", "kind": "progress", "text": "已完成流程再造"})
    fake = SimpleUploadedFile("完成报告.pdf", b"<html>not a pdf</html>")
    refused = client.post(url, {"action": "report", "kind": "completion", "text": "整改完成",
                                "attachment": fake}, follow=True).content.decode()
    assert "证明材料只收 PDF、JPG 或 PNG 文件" in refused
    pdf = SimpleUploadedFile("完成报告.pdf", b"%PDF-1.4 report")
    client.post(url, {"action": "report", "kind": "completion", "text": "整改完成",
                      "attachment": pdf})
    case.refresh_from_db()
    assert case.status == Case.Status.AWAITING_ACCEPTANCE
    report = case.reports.get(kind="completion")
    att = reverse("rect_report_attachment", args=[case.pk, report.pk])
    got = client.get(att)
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"%PDF-1.4 report"
    assert "attachment" in got["Content-Disposition"]

    client.force_login(acceptor)
    assert client.get(att).status_code == 200
    client.post(url, {"action": "accept", "note": "整改到位,同意验收"})
    case.refresh_from_db()
    assert case.status == Case.Status.ACCEPTED and case.acceptance_note == "整改到位,同意验收"

    client.force_login(loop["office"])
    assert client.get(att).status_code == 200  # staff managing cases
    assert AuditLog.objects.filter(action="case.attachment_download").count() == 3
    client.force_login(contact)
    page = client.get(url).content.decode()
    assert "已验收" in page and "整改到位,同意验收" in page


def test_another_units_contact_sees_nothing_of_this_unit(client, loop):
    case, other = loop["case"], loop["other"]
    from rectification.services import plan_review, plan_submit, report_submit

    plan = plan_submit(case=case, problems="x", user=loop["contact"],
                       measures=[("措施", "张", DEADLINE)])
    plan_review(plan=plan, approve=True, reason="", user=loop["acceptor"])
    report = report_submit(case=case, kind="progress", text="进展", user=loop["contact"],
                           attachment=SimpleUploadedFile("a.pdf", b"%PDF-1.4"))
    client.force_login(other)
    assert client.get(reverse("rect_case", args=[case.pk])).status_code == 404
    assert client.post(reverse("rect_case", args=[case.pk]),
                       {"action": "report", "kind": "progress", "text": "x"}).status_code == 404
    att = reverse("rect_report_attachment", args=[case.pk, report.pk])
    assert client.get(att).status_code == 404
    assert client.get(reverse("rect_case", args=[loop["other_case"].pk])).status_code == 200
    # Its own unit page: its own comment, none of 丙局's.
    mine = client.get(reverse("rect_my_unit")).content.decode()
    assert "乙局的秘密意见" in mine and "窗口人员态度生硬" not in mine
    bing_cu = loop["pz"].units.get(name="丙局")
    assert client.get(reverse("rect_my_feedback", args=[bing_cu.pk])).status_code == 404
    # Someone without a unit account: no list at all.
    client.force_login(loop["acceptor"])
    assert client.get(reverse("rect_my_cases")).status_code == 404
    assert client.get(reverse("rect_my_unit")).status_code == 404


def test_the_unit_page_lists_results_and_sorted_comments_without_traces(client, loop):
    client.force_login(loop["contact"])
    page = client.get(reverse("rect_my_unit")).content.decode()
    texts = ["丙局网上办不通", "办事要跑好几趟", "窗口人员态度生硬"]
    assert all(t in page for t in texts) and "乙局的秘密意见" not in page
    positions = [page.index(t) for t in sorted(texts)]
    assert positions == sorted(positions)
    assert "80.00%" in page and "末位" in page
    ballot_ids = Ballot.objects.filter(comments__isnull=False).values_list("pk", flat=True)
    assert not any(str(b) in page for b in ballot_ids)
    cu = loop["pz"].units.get(name="丙局")
    sheet = client.get(reverse("rect_my_feedback", args=[cu.pk]))
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    assert AuditLog.objects.filter(action="case.feedback_download").count() == 1


def test_an_acceptor_not_assigned_gets_404(client, loop):
    stranger = make_user("weiyuan", ACCEPTOR)
    client.force_login(stranger)
    assert client.get(reverse("rect_case", args=[loop["case"].pk])).status_code == 404
    assert "丙局" not in client.get(reverse("rect_to_accept")).content.decode()
    client.force_login(loop["acceptor"])
    assert client.get(reverse("rect_case", args=[loop["other_case"].pk])).status_code == 404
    assert client.get(reverse("rect_case", args=[loop["case"].pk])).status_code == 200


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.django_db(transaction=True)
def test_the_contacts_case_page_on_a_phone(live_server, tmp_path):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    from rectification.services import plan_review
    from tests.test_paper_browser import ARGS, logged_in, shot

    data = _setup(tmp_path)
    case = data["case"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = logged_in(browser, live_server, data["contact"], width=360, height=800)
            page.goto(live_server.url + reverse("rect_my_cases"))
            shot(page, "rect-contact-list-360", full_page=True)
            page.click(f"[data-case='{case.pk}']")
            page.fill("#id_problems", "办事效率低,群众跑腿多")
            page.fill("#id_m0_text", "窗口办理时限压缩到3日")
            page.fill("#id_m0_owner", "张科长")
            page.fill("#id_m0_deadline", "2099-03-01")
            shot(page, "rect-contact-case-plan-360", full_page=True)
            page.click("#plan-form button")
            page.wait_for_selector(".alert-success")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            plan_review(plan=case.plans.get(), approve=True, reason="", user=data["acceptor"])
            page.reload()
            page.fill("#id_text", "已完成流程再造,窗口办理时限压缩到3日")
            page.set_input_files("#id_attachment", files=[{
                "name": "进展.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}])
            page.click("#report-form button")
            page.wait_for_selector(".alert-success")
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
            shot(page, "rect-contact-case-progress-360", full_page=True)
            page.goto(live_server.url + reverse("rect_my_unit"))
            shot(page, "rect-contact-unit-360", full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
        finally:
            browser.close()
            connections.close_all()
    assert case.reports.get().attachment_name == "进展.pdf"
