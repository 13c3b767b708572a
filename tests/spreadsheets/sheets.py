"""Builders for the spreadsheets the import tests read: trackers as councils keep them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from ssp_desktop.domain.records import ChangeLog
from ssp_desktop.store.engine import Store


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    sheet: str = "Tracker",
    merges: Sequence[str] = (),
    extra_sheets: dict[str, Sequence[Sequence[Any]]] | None = None,
    formats: dict[str, str] | None = None,
) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(list(row))
    for cell_range in merges:
        ws.merge_cells(cell_range)
    for ref, number_format in (formats or {}).items():
        ws[ref].number_format = number_format
    for name, more in (extra_sheets or {}).items():
        other = wb.create_sheet(name)
        for row in more:
            other.append(list(row))
    wb.save(path)
    return path


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], *, sep: str = ",", encoding: str = "utf-8-sig"
) -> Path:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, delimiter=sep).writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def change_rows(store: Store) -> int:
    from sqlalchemy import func, select

    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(ChangeLog)) or 0)


TRACKER_HEADINGS = [
    "Ref No.",
    "Action",
    "Theme",
    "Area for action",
    "Lead Agency",
    "Lead Officer",
    "Partners",
    "Start",
    "Due Date",
    "Status",
    "RAG Status",
    "Progress Update",
]
