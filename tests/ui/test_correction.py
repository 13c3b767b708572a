"""A form's edit of a published (locked) figure asks for the reason and writes it as a
correction; cancelling leaves the figure as it was."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.enums import UpdateState
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import ChangeLog, Measure, MeasureValue
from ssp_desktop.reports.export import export_pack, prepare_pack, publish_export
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.correction import CorrectionDialog, ask_correction_reason
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import create_editor
from tests.factories import MiniPlan, mini_plan

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")
Q = Quarter.parse("2023/24 Q2")
EDIT = Qt.ItemDataRole.EditRole


@pytest.fixture
def locked(store: Store, tmp_path: Path) -> MiniPlan:
    mp = mini_plan(store)
    with store.transaction() as tx:
        measure = tx.get(Measure, mp.measure.id)
        assert measure is not None
        services.set_target(tx, measure, FinancialYear(2023), 50.0)
        value = services.record_value(tx, measure, Q, 45.0)
        services.edit(tx, value, state=UpdateState.ACCEPTED)
    pack_id = prepare_pack(store, mp.plan.id, Q, meeting_date=dt.date(2023, 11, 20))
    publish_export(store, export_pack(store, pack_id, tmp_path / "q2.pdf").export_id)
    return mp


@pytest.fixture
def window(qtbot: QtBot, store: Store) -> Iterator[tuple[QWidget, PlanDocument]]:
    parent = QWidget()
    qtbot.addWidget(parent)
    document = PlanDocument(store)
    document.ask_reason = lambda what, message: ask_correction_reason(parent, what, message)
    yield parent, document
    document.close()


def _answer(qtbot: QtBot, reason: str | None) -> None:
    """When the dialog opens, type ``reason`` and press Correct (None: press Escape)."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, CorrectionDialog):
            QTimer.singleShot(20, act)
            return
        if reason is None:
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
            return
        assert not dialog.correct_button.isEnabled()  # no reason, no correction
        qtbot.keyClicks(dialog.reason, reason)
        assert dialog.correct_button.isEnabled()
        qtbot.keyClick(dialog.correct_button, Qt.Key.Key_Space)

    QTimer.singleShot(0, act)


def _cell(model: object, row: str, column: str) -> object:
    rows = [model.headerData(r, Qt.Orientation.Vertical) for r in range(model.rowCount())]  # type: ignore[attr-defined]
    cols = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]  # type: ignore[attr-defined]
    return model.index(rows.index(row), cols.index(column))  # type: ignore[attr-defined]


def test_a_locked_value_asks_for_the_reason_and_is_corrected(
    qtbot: QtBot, store: Store, locked: MiniPlan, window: tuple[QWidget, PlanDocument]
) -> None:
    _parent, document = window
    form = create_editor(document, "measure", locked.measure.id, today=dt.date(2023, 11, 1))
    qtbot.addWidget(form)
    model = form.values_model  # type: ignore[attr-defined]

    _answer(qtbot, None)
    assert not model.setData(_cell(model, Q.label, "Value"), "48", EDIT)
    with store.session() as s:
        assert s.get(MeasureValue, MeasureValue.make_id(locked.measure.id, Q)).value == 45.0  # type: ignore[union-attr]

    _answer(qtbot, "Police validated the figure late")
    assert model.setData(_cell(model, Q.label, "Value"), "48", EDIT)
    with store.session() as s:
        value = s.get(MeasureValue, MeasureValue.make_id(locked.measure.id, Q))
        assert value is not None and value.value == 48.0
        row = s.scalars(
            select(ChangeLog).where(ChangeLog.record_id == value.id).order_by(ChangeLog.seq.desc())
        ).first()
        assert row is not None and row.field == "value"
        assert row.reason == "Police validated the figure late"


def test_undoing_a_correction_is_a_correction_too(
    qtbot: QtBot, store: Store, locked: MiniPlan, window: tuple[QWidget, PlanDocument]
) -> None:
    _parent, document = window
    form = create_editor(document, "measure", locked.measure.id, today=dt.date(2023, 11, 1))
    qtbot.addWidget(form)
    model = form.values_model  # type: ignore[attr-defined]
    _answer(qtbot, "Validated late")
    assert model.setData(_cell(model, Q.label, "Value"), "48", EDIT)
    value_id = MeasureValue.make_id(locked.measure.id, Q)

    _answer(qtbot, None)  # Undo, then Cancel: still 48, and it can be undone later
    document.undo_stack.undo()
    with store.session() as s:
        assert s.get(MeasureValue, value_id).value == 48.0  # type: ignore[union-attr]
    assert document.undo_stack.canUndo()

    _answer(qtbot, "Correction was itself wrong")
    document.undo_stack.undo()
    with store.session() as s:
        assert s.get(MeasureValue, value_id).value == 45.0  # type: ignore[union-attr]
        reasons = s.scalars(
            select(ChangeLog.reason)
            .where(ChangeLog.record_id == value_id, ChangeLog.field == "value")
            .order_by(ChangeLog.seq)
        ).all()
    assert reasons[-2:] == ["Validated late", "Correction was itself wrong"]
