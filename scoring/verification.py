"""Verifiable results (选票明细公开, 公证材料包): publishing the ballot file beside the 公示, and
the notary's package. The file itself is built in scoring.ballot_file; recount/ counts it
again without Pingyi.

Check, then do: `ballot_file_problems_to_publish` says why the file may not go public, the
services publish and withdraw it, each audit-logged; pages only call them."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ballots.scan.export import scans_index_csv
from campaigns.models import Campaign
from core.audit import audit
from core.chain import audit_rows, chain_head
from core.jobs import Progress, job_finish_file
from scoring.ballot_file import BallotFile, ballot_file_problems, build_ballot_file, csv_of
from scoring.models import Publication
from scoring.publication import live_publication

# The standalone recount program (recount/README.md), read as files, never imported.
RECOUNT = Path(__file__).resolve().parent.parent / "recount"
FILE_NAMES = ("manifest.json", "ballots.jsonl", "ballots.csv")
CONTENT_TYPES = {
    "manifest.json": "application/json; charset=utf-8",
    "ballots.jsonl": "application/jsonl; charset=utf-8",
    "ballots.csv": "text/csv; charset=utf-8",
}


def recount_zip() -> bytes:
    """The recount program as a zip, for whoever downloads a ballot file from the 公示: with
    it they need nothing from us but Python."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(RECOUNT.iterdir()):
            if path.suffix in (".py", ".md"):
                z.writestr(f"recount/{path.name}", path.read_bytes())
    return buf.getvalue()


def published_file(pub: Publication, name: str) -> bytes:
    """One of the three files of the ballot file kept with a publication."""
    manifest = pub.ballot_manifest or {}
    if name == "manifest.json":
        return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
    with pub.ballot_rows.open("rb") as fh:
        jsonl = fh.read()
    if name == "ballots.jsonl":
        return jsonl
    if name == "ballots.csv":
        return csv_of(manifest, jsonl)
    raise KeyError(name)


def public_ballot_file(campaign: Campaign) -> Publication | None:
    """The live publication whose ballot file the public may download, or None."""
    pub = live_publication(campaign)
    if pub is None or pub.ballots_published_at is None or not pub.ballot_rows:
        return None
    return pub


def public_verification(campaign: Campaign, pub: Publication) -> dict[str, Any]:
    """What the 公示 page offers for checking it: the fingerprint, the receipt check (where
    ballots came in online with codes) and the ballot file's three files once published."""
    from ballots.models import AccessCode

    files = FILE_NAMES if pub.ballots_published_at is not None and pub.ballot_rows else ()
    return {
        "fingerprint": pub.fingerprint,
        "receipts": AccessCode.objects.filter(campaign=campaign).exists(),
        "files": files,
        "rows": (pub.ballot_manifest or {}).get("ballots", {}).get("rows"),
    }


def ballot_file_problems_to_publish(campaign: Campaign) -> list[str]:
    pub = live_publication(campaign)
    if pub is None:
        return [_("结果公示后才能公开选票明细")]
    if not pub.ballot_rows:
        return [_("这次公示没有保存选票明细(早于此功能),请撤回后重新公示")]
    if pub.ballots_published_at is not None:
        return [_("选票明细已经公开")]
    return ballot_file_problems(campaign)


@transaction.atomic
def ballot_file_publish(*, campaign: Campaign, user: Any) -> Publication:
    """Let the public download the ballot file kept with the live publication."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    problems = ballot_file_problems_to_publish(campaign)
    if problems:
        raise ValidationError(problems)
    pub = live_publication(campaign)
    assert pub is not None
    pub.ballots_published_at = timezone.now()
    pub.ballots_published_by = user if getattr(user, "is_authenticated", False) else None
    pub.save(update_fields=["ballots_published_at", "ballots_published_by"])
    audit(user=user, action="results.ballots_publish", obj=pub, campaign=campaign,
          after={"fingerprint": pub.fingerprint,
                 "rows": (pub.ballot_manifest or {}).get("ballots", {}).get("rows")})
    return pub


@transaction.atomic
def ballot_file_withdraw(*, campaign: Campaign, user: Any, reason: str) -> Publication:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not reason.strip():
        raise ValidationError(_("请填写撤回原因"))
    pub = live_publication(campaign)
    if pub is None or pub.ballots_published_at is None:
        raise ValidationError(_("选票明细没有公开"))
    pub.ballots_published_at = None
    pub.ballots_published_by = None
    pub.save(update_fields=["ballots_published_at", "ballots_published_by"])
    audit(user=user, action="results.ballots_withdraw", obj=pub, campaign=campaign,
          reason=reason.strip())
    return pub


# --- the notary's package (公证材料包) ------------------------------------------------------

README = """公证材料包:{name}({year})
================================

本材料包由评议系统生成,供公证人员独立核对计票结果。内容:

  选票明细/manifest.json    计票所需的全部配置(评价等次及分值、参评{noun}及类别、名额、
                            整改线、评议内容、代表类别权重)与下列文件的 SHA-256
  选票明细/ballots.jsonl    每张选票一行(有效与无效),只含计票所需内容,不含评议码、
                            回执号、代表信息、意见建议和任何时间;行序由内容决定
  选票明细/ballots.csv      同样内容,可用 Excel 打开
  报告/                     排名 PDF 报告与 Excel 报告(不含意见建议)
  审计日志.csv              本次评议的全部操作记录;每条记录带上一条记录的哈希,
                            任何一条被改、被删或被插入,此后的哈希都对不上
  纸质票核对.csv            各印制编号段的发出、收回与有效情况{paper}
  扫描页清单.csv            扫描选票每一页的编号、页码、状态和图像的 SHA-256{scans}

计票指纹:{fingerprint}
审计日志链尾哈希:{head}
生成时间:{when}

如何独立复核计票
----------------
1. 准备任意一台装有 Python 3.11 或更新版本的电脑,无需安装任何其他软件。
2. 复核程序就在本材料包的 recount 文件夹中(只用 Python 标准库,源代码可逐行查看;
   与评议系统源代码中的 recount 文件夹相同)。
3. 解压后,在本材料包的根目录运行:

       python3 -m recount 选票明细

   程序按公开的计分规则重新计票,输出各类别的名次、得分、满意率和认定结果(JSON),
   并在最后给出计票指纹。计票指纹与上面、与报告页脚、与公示页上印的一致,说明所核对的
   正是公示结果所依据的选票与配置;逐项比较输出与报告中的数字即可。
4. 核对审计日志:在本材料包的根目录运行

       python3 -m recount.audit 审计日志.csv

   程序按公开的定义(recount/audit.py 开头的说明)逐行重算哈希,核对每行与“哈希”一致、
   每行的“前一条哈希(活动链)”等于上一行的“哈希”,并给出链尾哈希;它应与上面和报告
   封面上印的一致。任何一条记录被修改、删除或插入,都会在这里对不上。
"""


def _paper_csv(campaign: Campaign) -> tuple[bytes, bool]:
    from scoring.reports import paper_table

    table = paper_table(campaign)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if table is None:
        writer.writerow([_("本次评议没有纸质票")])
        return "\ufeff".encode() + buf.getvalue().encode(), False
    writer.writerow([str(h) for h in table["header"]])
    for row in table["rows"]:
        writer.writerow([_cell(v) for v in row])
    return "\ufeff".encode() + buf.getvalue().encode(), True


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # As in the ballot file's CSV (recount/README.md): a reader drops one leading '.
    return "'" + text if text.startswith(("=", "+", "-", "@", "'")) else text


def _audit_csv(campaign: Campaign) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in audit_rows(campaign.pk):
        writer.writerow([_cell(v) for v in row])
    return "\ufeff".encode() + buf.getvalue().encode()


def notary_package(campaign: Campaign, progress: Progress | None = None,
                   built: BallotFile | None = None) -> bytes:
    """The zip for the notary: the ballot file, the reports, the audit log with its chain,
    the paper reconciliation and a README in Chinese on how to recount."""
    from campaigns.subjects import subject_noun
    from scoring.reports import build_report

    step = progress or (lambda done, total, message: None)
    step(0, 4, _("正在生成选票明细"))
    built = built or build_ballot_file(campaign)
    step(1, 4, _("正在生成报告"))
    pdf = build_report(campaign, "pdf", comments=False)
    xlsx = build_report(campaign, "xlsx", comments=False)
    step(2, 4, _("正在导出审计日志"))
    audit_csv = _audit_csv(campaign)
    paper, has_paper = _paper_csv(campaign)
    scans = scans_index_csv(campaign)
    step(3, 4, _("正在打包"))
    noun = subject_noun(campaign.units.values_list("unit__kind", flat=True))
    readme = README.format(
        name=campaign.name, year=campaign.year, noun=noun,
        paper="" if has_paper else "(本次评议没有纸质票)",
        scans=(
            "(图像文件另行提供:manage.py export_scans,可逐一核对 SHA-256)"
            if scans is not None else "(本次评议没有扫描选票)"
        ),
        fingerprint=built.fingerprint, head=chain_head(campaign.pk) or "—",
        when=timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", readme.replace("\n", "\r\n").encode("utf-8"))
        z.writestr("选票明细/manifest.json", built.manifest_bytes())
        z.writestr("选票明细/ballots.jsonl", built.jsonl)
        z.writestr("选票明细/ballots.csv", built.csv_bytes())
        z.writestr(f"报告/{pdf.filename}", pdf.data)
        z.writestr(f"报告/{xlsx.filename}", xlsx.data)
        z.writestr("审计日志.csv", audit_csv)
        z.writestr("纸质票核对.csv", paper)
        if scans is not None:
            z.writestr("扫描页清单.csv", scans)
        # The recount program itself (standard library only): the notary needs nothing else.
        with zipfile.ZipFile(io.BytesIO(recount_zip())) as program:
            for name in program.namelist():
                z.writestr(name, program.read(name))
    return buf.getvalue()


def notary_filename(campaign: Campaign) -> str:
    return f"{campaign.slug}-{campaign.year}-公证材料包.zip"


def run_notary_job(job: Any, progress: Progress) -> None:
    """Background job behind the 公证材料包 button."""
    campaign = Campaign.objects.get(pk=job.campaign_id)
    built = build_ballot_file(campaign)
    data = notary_package(campaign, progress, built)
    job_finish_file(job, notary_filename(campaign), data)
    audit(user=job.created_by, action="notary.package", obj=job, campaign=campaign,
          object_repr=notary_filename(campaign), after={"fingerprint": built.fingerprint})
    progress(4, 4, _("公证材料包已生成,可以下载"))
