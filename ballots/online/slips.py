"""Printable code slips (评议码条): several per A4 page, each with the campaign name, the
code, and a QR code of the ballot link carrying the code (`/v/<slug>/?c=CODE`; the page moves
it into the session and redirects at once). WeasyPrint renders the HTML; the QR codes are
SVG from segno, embedded as data URIs so nothing is fetched."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import segno
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from ballots.models import AccessCode
from campaigns.models import Campaign
from core.files import job_files_remove
from core.jobs import Progress, job_finish_file
from core.models import BackgroundJob

PER_PAGE = 10  # 2 columns x 5 rows on A4


def code_link(base: str, campaign: Campaign, code: str) -> str:
    """The QR link: `base` is the site's address, e.g. https://pingyi.example.gov.cn"""
    return f"{base.rstrip('/')}/v/{campaign.slug}/?c={quote(code)}"


def qr_data_uri(text: str) -> str:
    # Error level M survives a crease or a smudge; a border of 4 modules is the quiet zone
    # the QR standard asks for (less and some phone scanners miss codes beside text).
    return segno.make(text, error="m").svg_data_uri(scale=4, border=4)


def slips_html(campaign: Campaign, codes: Sequence[AccessCode], base: str) -> str:
    slips = [
        {
            "code": c.code,
            "qr": qr_data_uri(code_link(base, campaign, c.code)),
            "name": c.representative.name if c.representative else "",
            "group": c.group.name if c.group else "",
        }
        for c in codes
    ]
    pages = [slips[i : i + PER_PAGE] for i in range(0, len(slips), PER_PAGE)]
    return render_to_string(
        "ballots/codes/slips.html",
        {"campaign": campaign, "pages": pages, "entry": f"{base.rstrip('/')}/v/"},
    )


def slips_pdf(campaign: Campaign, codes: Sequence[AccessCode], base: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=slips_html(campaign, codes, base)).write_pdf()


def slip_codes(campaign: Campaign, which: str) -> list[AccessCode]:
    """The active codes to print: all, the named ones, or the unnamed ones."""
    qs = AccessCode.objects.filter(campaign=campaign, status=AccessCode.Status.ACTIVE)
    if which == "named":
        qs = qs.filter(representative__isnull=False)
    elif which == "unnamed":
        qs = qs.filter(representative__isnull=True)
    return list(
        qs.select_related("representative", "group").order_by(
            "group__order", "representative__name", "code"
        )
    )


# Jobs whose files hold access codes: kept while voting goes on (a lost slip is printed again),
# deleted once it ends (ballots/receivers.py). A job that exports codes to a file belongs here.
CODE_FILE_HANDLERS = ("ballots.online.slips.run_slips_job",)
VOTING = (Campaign.Status.DRAFT, Campaign.Status.OPEN)


def code_files_remove(campaign_id: int) -> int:
    """Delete the campaign's files that hold codes; their job pages then say voting ended."""
    jobs = BackgroundJob.objects.filter(
        campaign_id=campaign_id, params__handler__in=CODE_FILE_HANDLERS
    )
    return job_files_remove(jobs, BackgroundJob.FileRemoved.CLOSED)


def run_slips_job(job: BackgroundJob, progress: Progress) -> None:
    """Background job: params campaign_id, base (site address), which."""
    campaign = Campaign.objects.get(pk=job.params["campaign_id"])
    if campaign.status not in VOTING:
        raise ValueError(_("评议已结束,不再生成评议码条"))
    codes = slip_codes(campaign, job.params.get("which", "all"))
    if not codes:
        raise ValueError("没有可打印的未使用评议码")
    progress(0, len(codes), f"正在生成 {len(codes)} 张评议码条……")
    pdf = slips_pdf(campaign, codes, job.params["base"])
    # No expiry: the slips are needed until voting ends, and go then.
    job_finish_file(job, f"{campaign.slug}-评议码条.pdf", pdf, expires=False)
    # Closed while the PDF was being made: the close found no file to delete, so delete it now.
    campaign.refresh_from_db(fields=["status"])
    if campaign.status not in VOTING:
        code_files_remove(campaign.pk)
        progress(len(codes), len(codes), _("评议已结束,评议码条已删除"))
        return
    progress(len(codes), len(codes), f"已生成 {len(codes)} 张评议码条")


