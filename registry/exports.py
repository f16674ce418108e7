"""The 通报 of the outcome (003 三(四)1: 按审核结果向各地区各部门进行通报) as Excel and PDF,
built in the background (core/jobs.py) and downloaded from the job's page; and the
《自查统计表》 as a sheet of the workbook. Every text cell that could be read as a formula is
stored as text."""

from __future__ import annotations

import io
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.models import Activity, BasisKind, Cleanup, Decision, Kind, System
from registry.publication import retained_rows
from registry.services import final_decisions
from registry.stats import (
    outcome_header,
    outcome_table,
    registered,
    self_check_header,
    self_check_table,
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
VIEW = "registry.view_cleanup"


def _row(ws: Any, values: list[Any], *, bold: bool = False) -> None:
    from openpyxl.styles import Font

    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
            cell.data_type = "s"  # a name like "=SUM(…)" stays what was typed
        if bold:
            cell.font = Font(bold=True)


def _sheet(wb: Any, title: str, header: list[str], rows: list[list[Any]],
           preamble: list[str] | None = None) -> None:
    ws = wb.create_sheet(title[:31])
    for line in preamble or []:
        _row(ws, [line], bold=True)
    _row(ws, header, bold=True)
    for r in rows:
        _row(ws, r)
    ws.freeze_panes = ws.cell(row=len(preamble or []) + 2, column=1)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    for i, _h in enumerate(header, start=1):
        from openpyxl.utils import get_column_letter

        ws.column_dimensions[get_column_letter(i)].width = 14 if i > 1 else 26


def activity_rows(cleanup: Cleanup) -> list[list[Any]]:
    finals = final_decisions(cleanup)
    out = []
    for a in registered(cleanup):
        d = finals.get(a.pk)
        out.append([a.organiser.name, a.name, str(System(a.system).label),
                    str(Kind(a.kind).label), a.targets_label(),
                    str(BasisKind(a.basis_kind).label), a.basis_document,
                    str(Decision(a.proposal).label),
                    str(Decision(d.decision).label) if d else _("未定"),
                    d.merged_into.name if d and d.merged_into else "",
                    d.round.name if d else "", d.reason if d else ""])
    return out


def outcome_workbook(cleanup: Cleanup) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    outcomes, total = outcome_table(cleanup)
    title = _("%(c)s审核结果通报") % {"c": cleanup.name}
    _sheet(wb, _("通报"), [_("举办单位"), *outcome_header()],
           [[o.label, *o.row()] for o in [*outcomes, total]], [title])
    _sheet(wb, _("保留项目"), [_("举办单位"), _("项目名称"), _("类型"), _("系统"), _("举办周期"),
                               _("依据类别"), _("依据文件及文号"), _("合并进来的项目")],
           [[r["organiser"], r["name"], r["kind"], r["system"], r["frequency"],
             r["basis_kind"], r["basis_document"], "、".join(r["merged"])]
            for r in retained_rows(cleanup)])
    _sheet(wb, _("全部项目"), [_("举办单位"), _("项目名称"), _("系统"), _("类型"), _("面向对象"),
                               _("依据类别"), _("依据文件及文号"), _("单位意见"), _("最终意见"),
                               _("合并到"), _("审核轮次"), _("理由")], activity_rows(cleanup))
    orgs, systems, sum_row = self_check_table(cleanup)
    _sheet(wb, _("自查统计表"), [_("举办单位"), *self_check_header()],
           [[c.label, *c.row()] for c in [*orgs, sum_row]]
           + [[""]] + [[c.label, *c.row()] for c in systems])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def outcome_pdf(cleanup: Cleanup) -> bytes:
    from weasyprint import HTML

    outcomes, total = outcome_table(cleanup)
    html = render_to_string("registry/report_pdf.html", {
        "cleanup": cleanup, "outcomes": outcomes, "total": total, "header": outcome_header(),
        "retained": retained_rows(cleanup),
        "cancelled": [a for a in activity_rows(cleanup)
                      if a[8] in (str(Decision.CANCEL.label), str(Decision.MERGE.label))],
        "now": timezone.localtime(),
    })
    result: bytes = HTML(string=html).write_pdf()
    return result


def run_report_job(job: Any, progress: Any) -> None:
    """Background job of the cleanup page's download buttons (params: slug, format)."""
    from core.audit import audit
    from core.jobs import job_finish_file

    cleanup = Cleanup.objects.get(slug=job.params["slug"])
    fmt = job.params["format"]
    progress(0, 1, _("正在生成通报"))
    data = outcome_pdf(cleanup) if fmt == "pdf" else outcome_workbook(cleanup)
    name = f"{cleanup.slug}-tongbao.{fmt}"
    job_finish_file(job, name, data)
    audit(user=job.created_by, action="registry.report", obj=cleanup, object_repr=name,
          after={"format": fmt, "activities": Activity.objects.filter(
              cleanup=cleanup, status=Activity.Status.REGISTERED).count()})
    progress(1, 1, _("通报已生成,可以下载"))
