"""How long refusing each crafted file of issue 15's probe takes (items 5 and 11): the files
of tests/test_spreadsheet_crafted.py (a column past XFD, row 2,000,000,000, a row of 1.8 MB,
a row whose end the fast path cannot see, a formula without its result, XXE, billion laughs),
each through the reader of the ballot import (`read_first_sheet`, the stream) and the reader
of the units and representatives imports (`open_workbook`, openpyxl after the stream's
checks). Django must be set up (bench.one does it)."""

from __future__ import annotations

import io
import time


def crafted_refusals() -> list[tuple[str, float]]:
    """(file name and reader, seconds to refuse it), for each crafted file and each reader."""
    from core.spreadsheets import SpreadsheetError, iter_rows, open_workbook, read_first_sheet
    from tests.test_spreadsheet_crafted import CRAFTED

    def stream(data: bytes) -> None:
        for _row in read_first_sheet(io.BytesIO(data)).rows:
            pass

    def with_openpyxl(data: bytes) -> None:
        wb = open_workbook(io.BytesIO(data))
        try:
            for ws in wb.worksheets:
                for _row in iter_rows(ws):
                    pass
        finally:
            wb.close()

    out: list[tuple[str, float]] = []
    for name, (build, _expected) in CRAFTED.items():
        data = build()  # built before the clock starts
        for label, read in (("read_first_sheet", stream), ("open_workbook", with_openpyxl)):
            start = time.perf_counter()
            try:
                read(data)
            except SpreadsheetError:
                out.append((f"{name} ({label})", time.perf_counter() - start))
            else:
                raise AssertionError(f"{name} was read by {label}, not refused")
    return out


if __name__ == "__main__":  # python -m bench.crafted
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalsite.settings")
    django.setup()
    for name, seconds in crafted_refusals():
        print(f"{name:55} {seconds * 1000:8.1f} ms")
