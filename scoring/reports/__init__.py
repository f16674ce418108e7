"""Reports: the ranking PDF, the feedback sheets (反馈单) and the Excel workbook.

`build_report` is the one entry point for the `report` command and the background job behind
the download buttons, so both produce the same file for the same tally."""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext as _

from ballots.paper.reconciliation import reconciliation_table
from campaigns.models import Campaign
from campaigns.representatives import composition
from core.audit import audit
from core.jobs import Progress, job_finish_file
from scoring.presentation import fmt_percent
from scoring.tally import CampaignTally, tally_campaign

FORMATS = ("pdf", "xlsx", "feedback")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "feedback": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Report:
    filename: str
    data: bytes
    content_type: str


def entry_mode(campaign: Campaign) -> str:
    return _("双人录入核对") if campaign.double_entry else _("单人录入")


def paper_table(campaign: Campaign) -> dict[str, Any] | None:
    """The reconciliation of paper (ballots.paper.reconciliation) as a header and rows; None
    when the campaign has no paper at all."""
    return reconciliation_table(campaign)


def composition_table(campaign: Campaign) -> dict[str, Any] | None:
    """The representatives' composition check (campaigns.representatives) as a header, rows and
    warnings; None when the campaign has no representatives on record."""
    comp = composition(campaign)
    if not comp.total:
        return None
    rows: list[list[Any]] = [
        [
            r.name,
            r.count,
            fmt_percent(r.share),
            ("≥ " if r.target_is_minimum else "") + fmt_percent(Fraction(r.target))
            if r.target is not None
            else "—",
            "—" if r.ok is None else (_("符合") if r.ok else _("不符合")),
        ]
        for r in comp.rows
    ]
    rows.append(
        [
            _("其中新聘"),
            comp.new_count,
            fmt_percent(comp.new_share),
            "≥ " + fmt_percent(Fraction(comp.min_new_share)) if comp.min_new_share else "—",
            "",
        ]
    )
    rows.append([_("合计"), comp.total, "100.00%", "", ""])
    return {
        "header": [_("代表类别"), _("人数"), _("占比"), _("要求"), _("是否符合")],
        "rows": rows,
        "warnings": list(comp.warnings),
    }


def needs_breakdowns(fmt: str, campaign: Campaign | None = None) -> bool:
    """Only the workbook shows breakdowns (by channel, group, district); the PDFs show the
    ranking figures alone, which the plain tally gives faster and identically, except the
    review pools (两评一树) where the groups have them: the ranking PDF shows those too."""
    if fmt == "pdf" and campaign is not None:
        return campaign.groups.exclude(pool="").exists()
    return fmt == "xlsx"


def build_report(
    campaign: Campaign,
    fmt: str,
    *,
    comments: bool = True,
    unit_keys: list[str] | None = None,
    tallied: CampaignTally | None = None,
) -> Report:
    if fmt not in FORMATS:
        raise ValueError(fmt)
    t = tallied or tally_campaign(campaign, breakdowns=needs_breakdowns(fmt, campaign))
    stem = f"{campaign.slug}-{campaign.year}"
    if fmt == "xlsx":
        from scoring.reports.excel import sheets, write_workbook

        buf = io.BytesIO()
        write_workbook(
            sheets(
                t,
                entry_mode(campaign),
                comments=comments,
                paper=paper_table(campaign),
                representatives=composition_table(campaign),
            ),
            buf,
        )
        return Report(f"{stem}-评议结果.xlsx", buf.getvalue(), CONTENT_TYPES[fmt])
    from scoring.reports import pdf

    if fmt == "pdf":
        data = pdf.ranking_pdf(
            t,
            comments=comments,
            paper=paper_table(campaign),
            representatives=composition_table(campaign),
        )
        return Report(f"{stem}-评议结果.pdf", data, CONTENT_TYPES[fmt])
    data = pdf.feedback_pdf(t, unit_keys)
    return Report(f"{stem}-反馈单.pdf", data, CONTENT_TYPES[fmt])


def run_report_job(job: Any, progress: Progress) -> None:
    """Background job behind the download buttons (params: format, comments, units)."""
    campaign = Campaign.objects.get(pk=job.campaign_id)
    params = job.params
    progress(0, 3, _("正在计票"))
    t = tally_campaign(campaign, breakdowns=needs_breakdowns(params["format"], campaign))
    progress(1, 3, _("正在生成报告"))
    report = build_report(
        campaign,
        params["format"],
        comments=params.get("comments", True),
        unit_keys=params.get("units"),
        tallied=t,
    )
    progress(2, 3, _("正在保存"))
    job_finish_file(job, report.filename, report.data)
    # Who had which report made (their downloads are logged by core/views.py).
    audit(
        user=job.created_by,
        action="report.generate",
        obj=job,
        campaign=campaign,
        object_repr=report.filename,
        after={
            "format": params["format"],
            "comments": params.get("comments", True),
            "units": params.get("units"),
            "file": report.filename,
        },
    )
    progress(3, 3, _("报告已生成,可以下载"))
