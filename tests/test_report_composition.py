"""The representatives' composition check appears in the reports, warnings included; closing an
anonymous campaign rewrites its used codes (no transaction-id link to ballots)."""

from __future__ import annotations

import io
import subprocess

import openpyxl
from django.core.management import call_command

from campaigns.models import Campaign, Representative, RepresentativeGroup
from core.models import AuditLog


def add_reps(campaign: Campaign) -> None:
    groups = list(RepresentativeGroup.objects.filter(campaign=campaign).order_by("order"))
    # 000 wants 60% service recipients: give them 1 of 4, so the check must warn.
    for i in range(4):
        Representative.objects.create(
            campaign=campaign,
            group=groups[0] if i == 0 else groups[-1],
            name=f"代表{i}",
            phone=f"1390000000{i}",
            is_new=i < 2,
        )


def test_composition_in_excel_and_pdf(qianren, tmp_path):
    add_reps(qianren)
    out = tmp_path / "r.xlsx"
    call_command("report", qianren.slug, "--format", "xlsx", "-o", str(out), stdout=io.StringIO())
    ws = openpyxl.load_workbook(out)["代表构成"]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True)]
    first = rows[0]
    assert first[1] == 1 and first[2] == "25.00%" and first[4] == "不符合"
    assert any(r[0] == "合计" and r[1] == 4 for r in rows)
    assert any(r[0] and "服务对象" in str(r[0]) and r[1] is None for r in rows)  # a warning line
    pdf = tmp_path / "r.pdf"
    call_command("report", qianren.slug, "--format", "pdf", "-o", str(pdf), stdout=io.StringIO())
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "评议代表构成" in text and "不符合" in text


def test_closing_an_anonymous_campaign_scrubs_code_traces(
    qianren, office, django_capture_on_commit_callbacks
):
    from campaigns.services import campaign_set_status

    Campaign.objects.filter(pk=qianren.pk).update(status=Campaign.Status.OPEN)
    qianren.refresh_from_db()
    assert qianren.anonymous
    with django_capture_on_commit_callbacks(execute=True):
        campaign_set_status(campaign=qianren, status=Campaign.Status.CLOSED, user=office)
        # Not yet: after the close commits, in a transaction of its own (no transaction
        # writes both codes and ballots).
        assert not AuditLog.objects.filter(action="codes.scrub").exists()
    assert AuditLog.objects.filter(action="codes.scrub", campaign_id=qianren.pk).exists()
