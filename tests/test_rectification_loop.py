"""Issue 19, done when (the end of the loop, through the pages): an accepted case shows on the
ledger and, once published, on the 整改公示; a follow-up survey is created from the ledger,
voted, and its before / after figures appear on the cases."""

from __future__ import annotations

import datetime as dt

from django.core.management import call_command
from django.urls import reverse

from campaigns.models import Campaign
from rectification.models import Case
from rectification.services import case_accept, plan_review, plan_submit, report_submit
from tests.helpers import xlsx_file
from tests.test_rectification_contact import loop  # noqa: F401  (the fixture)


def test_ledger_publication_and_followup_before_after(client, loop, tmp_path):  # noqa: F811
    case, office, pz = loop["case"], loop["office"], loop["pz"]
    plan = plan_submit(case=case, problems="态度生硬", user=loop["contact"],
                       measures=[("开展窗口礼仪培训", "办公室主任", dt.date(2099, 3, 1))])
    plan_review(plan=plan, approve=True, reason="", user=office)
    report_submit(case=case, kind="completion", text="培训全部完成", user=loop["contact"])
    case_accept(case=case, accept=True, note="整改到位", user=office)
    client.force_login(office)
    ledger = reverse("rectification_ledger", args=[pz.slug])
    page = client.get(ledger).content.decode()
    assert 'id="ledger-actions"' in page and "已验收" in page and "整改到位" in page
    client.post(reverse("rectification_publication", args=[pz.slug, "publish"]),
                {"next": ledger})
    client.logout()
    public = client.get(reverse("rectification_public", args=[pz.slug])).content.decode()
    assert "丙局" in public and "开展窗口礼仪培训" in public and "整改到位" in public
    assert "办公室主任" not in public
    client.force_login(office)
    response = client.post(reverse("rectification_followup", args=[pz.slug]),
                           {"slug": "pz-hkk", "reuse": "on"})
    follow = Campaign.objects.get(slug="pz-hkk")
    assert response["Location"] == reverse("campaign_detail", args=["pz-hkk"])
    assert set(follow.units.values_list("name", flat=True)) == {"丙局", "乙局"}
    rows = [("编号", "丙局", "乙局")] + [(f"{i}", "满意" if i < 19 else "不满意", "满意")
                                       for i in range(20)]
    call_command("import_ballots", "pz-hkk", str(xlsx_file(tmp_path, "f.xlsx", {"票": rows})))
    page = client.get(ledger)
    row = next(r for r in page.context["rows"] if r["id"] == case.pk)
    assert row["change"] == ("80.00%", "95.00%")  # 丙局: before, after
    assert "整改前 80.00%,回头看 95.00%" in page.content.decode()
    assert Case.objects.get(pk=case.pk).status == "accepted"
