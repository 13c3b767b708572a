"""The import preview table shared by bundles and spreadsheets: kind, record, field,
before, after, decision; a person sorts it by clicking a heading and narrows it by
typing or by choosing a decision."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from ssp_desktop.spreadsheets.plan import FieldChange, Outcome, RowPlan
from ssp_desktop.ui.import_preview import ImportPreviewTable, lines_from_rows

ROWS = (
    RowPlan(
        2,
        "PVP-01",
        Outcome.UPDATE,
        ("RAG: Green → Amber",),
        (
            FieldChange("RAG", "Green", "Amber"),
            FieldChange("Due date", "31 Mar 2024", "30 Jun 2024"),
        ),
    ),
    RowPlan(3, "PVP-02", Outcome.CREATE, ("new action",)),
    RowPlan(4, "PVP-03", Outcome.REFUSE, ("'next spring' is text, not a date",)),
)


def _column(table: ImportPreviewTable, column: int) -> list[str]:
    proxy = table.proxy
    return [str(proxy.index(r, column).data()) for r in range(proxy.rowCount())]


def test_headings_and_one_line_per_changed_field(qtbot: QtBot) -> None:
    table = ImportPreviewTable()
    qtbot.addWidget(table)
    table.set_lines(lines_from_rows(ROWS, "Action"))
    headings = [table.model.headerData(i, Qt.Orientation.Horizontal) for i in range(6)]
    assert headings == ["Kind", "Record", "Field", "Before", "After", "Decision"]
    assert _column(table, 2) == ["RAG", "Due date", "", ""]
    assert _column(table, 3)[:2] == ["Green", "31 Mar 2024"]
    assert _column(table, 5)[3] == "Refused: 'next spring' is text, not a date"
    assert table.count.text() == "4 lines"


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_typing_filters_and_a_heading_click_sorts(qtbot: QtBot) -> None:
    table = ImportPreviewTable()
    qtbot.addWidget(table)
    table.resize(900, 400)
    table.show()
    qtbot.waitExposed(table)
    table.set_lines(lines_from_rows(ROWS, "Action"))
    qtbot.keyClicks(table.search, "amber")
    assert _column(table, 2) == ["RAG"] and table.count.text() == "1 of 4 lines"
    table.search.clear()
    # Click the Field heading: sorted by field.
    header = table.view.horizontalHeader()
    x = header.sectionViewportPosition(2) + header.sectionSize(2) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert _column(table, 2) == sorted(_column(table, 2))
    # Choose a decision with the keyboard.
    table.decision.setFocus()
    qtbot.keyClicks(table.decision, "Refused")
    assert _column(table, 1) == ["Row 4: PVP-03"]
