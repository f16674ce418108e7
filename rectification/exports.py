"""The ledger (整改台账) as an office files it: one sheet, one row per measure (a case without
an approved plan yet gets one row), the case's cells repeated on each of its rows, so the sheet
sorts and filters as it is. Written by scoring.reports.excel (print settings, formula-safe
text)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from scoring.reports.excel import Sheet, write_workbook


def ledger_sheet(rows: list[dict[str, Any]], title: str = "") -> Sheet:
    """`rows` as `rectification.services.ledger` returns them."""

    def lines() -> Iterator[list[Any]]:
        for r in rows:
            measures = r["measures"] or [{"text": "", "owner": "", "deadline": ""}]
            for m in measures:
                yield [r["unit"], r["problem"], m["text"], m["owner"],
                       m["deadline"] or r["deadline"], r["progress"], r["acceptance"],
                       r["status_label"], r["days_overdue"]]

    return Sheet(
        _("整改台账"),
        [_("单位"), _("问题"), _("措施"), _("责任人"), _("时限"), _("进展"), _("验收意见"),
         _("状态"), _("逾期天数")],
        lines(),
        widths=[20, 40, 40, 12, 12, 40, 30, 10, 9],
        preamble=[[title or _("整改台账")]],
    )


def ledger_workbook(rows: list[dict[str, Any]], title: str = "") -> bytes:
    out = io.BytesIO()
    write_workbook([ledger_sheet(rows, title)], out)
    return out.getvalue()
