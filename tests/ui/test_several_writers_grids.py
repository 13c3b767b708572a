"""Two writers on one store, seen from a form's grids: a cell another officer changed
since the grid read it is refused and offered (Keep theirs / Write mine) under the
grid, never overwritten silently; a row someone changed is not removed unseen. The
user types into cells through the view (F2, the keys, Enter) and chooses by keyboard;
the second officer is another Store on the same file."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from ssp_desktop import services
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    FundingAllocation,
    Measure,
    MeasureTarget,
    MeasureValue,
    PlanApproval,
)
from ssp_desktop.services import measures
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import create_editor
from ssp_desktop.ui.forms.grids import GridSection
from tests.ui.test_forms_helpers import (
    TODAY,
    FormsPlan,
    log_count,
    make_template,
    store_copy,
    stored,
)

# The offscreen platform cannot pass a shown window's size hints on; nothing to fix.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

DISPLAY = Qt.ItemDataRole.DisplayRole
Q1 = Quarter(2022, 1)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FormsPlan]:
    return make_template(tmp_path_factory.mktemp("grid-writers"))


@pytest.fixture
def fp(template: tuple[Path, FormsPlan]) -> FormsPlan:
    return template[1]


@pytest.fixture
def doc(template: tuple[Path, FormsPlan], tmp_path: Path, qtbot: QtBot) -> Iterator[PlanDocument]:
    with store_copy(template[0], tmp_path) as store:
        document = PlanDocument(store)
        yield document
        document.close()


@pytest.fixture
def other(doc: PlanDocument) -> Iterator[Store]:
    """A second officer's connection to the same store file."""
    second = doc.store.another_writer()
    yield second
    second.close()


def shown_form(qtbot: QtBot, doc: PlanDocument, entity: str, record_id: uuid.UUID) -> Any:
    form = create_editor(doc, entity, record_id, today=TODAY)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    return form


def cell(model: QAbstractItemModel, row_header: str, column_header: str) -> QModelIndex:
    rows = [model.headerData(r, Qt.Orientation.Vertical) for r in range(model.rowCount())]
    columns = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    return model.index(rows.index(row_header), columns.index(column_header))


def type_into_cell(qtbot: QtBot, section: GridSection, index: QModelIndex, text: str) -> None:
    """As a person does: go to the cell, F2, replace the text, Enter."""
    view = section.view
    view.setFocus()
    view.setCurrentIndex(index)
    qtbot.keyClick(view, Qt.Key.Key_F2)
    line = view.findChild(QLineEdit)
    assert isinstance(line, QLineEdit) and line.isVisible()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def their_value(store: Store, measure_id: uuid.UUID, value: float, **kw: Any) -> None:
    with store.transaction(actor="Jane Other") as tx:
        measure = tx.get(Measure, measure_id)
        assert measure is not None
        services.record_value(tx, measure, Q1, value, **kw)


def value_of(doc: PlanDocument, measure_id: uuid.UUID) -> MeasureValue | None:
    with doc.read() as session:
        return session.get(MeasureValue, MeasureValue.make_id(measure_id, Q1))


def test_a_value_entered_meanwhile_into_a_cell_shown_empty_is_offered_not_overwritten(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    measure_id = fp.mini.measure.id
    form = shown_form(qtbot, doc, "measure", measure_id)
    section = form.values
    index = cell(form.values_model, Q1.label, "Value")
    assert index.data(DISPLAY) == ""
    their_value(other, measure_id, 71.0)
    before = log_count(doc)

    type_into_cell(qtbot, section, index, "64")

    panel = section.conflict_panel
    qtbot.waitUntil(lambda: not panel.isHidden())
    words = panel.text.text()
    assert "Jane Other" in words
    assert "Theirs: 71\nYours: 64\n" in words
    assert section.error.text() == ""  # the panel says it, with the choice
    record = value_of(doc, measure_id)
    assert record is not None and record.value == 71.0
    assert log_count(doc) == before

    # The panel took focus on "Keep theirs"; Space presses it: the grid shows theirs.
    assert section.window().focusWidget() is panel.theirs_button
    qtbot.keyClick(panel.theirs_button, Qt.Key.Key_Space)
    assert panel.isHidden()
    assert index.data(DISPLAY) == "71"
    assert log_count(doc) == before
    # Back in the grid, on the cell the user was editing.
    assert section.window().focusWidget() is section.view
    assert section.view.currentIndex() == index


def test_write_mine_writes_over_theirs_and_keeps_the_fields_not_edited(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    measure_id = fp.mini.measure.id
    their_value(other, measure_id, 60.0)
    form = shown_form(qtbot, doc, "measure", measure_id)
    section = form.values
    # Someone else changes the value and adds a note after the grid read the row.
    their_value(other, measure_id, 63.0, note="Survey wave 2")
    type_into_cell(qtbot, section, cell(form.values_model, Q1.label, "Value"), "65")
    panel = section.conflict_panel
    qtbot.waitUntil(lambda: not panel.isHidden())
    assert "Theirs: 63" in panel.text.text()
    panel.mine_button.setFocus()
    qtbot.keyClick(panel.mine_button, Qt.Key.Key_Space)
    assert panel.isHidden()
    record = value_of(doc, measure_id)
    assert record is not None and record.value == 65.0
    # Their note, a cell this user never touched, is kept.
    assert record.note == "Survey wave 2"
    assert cell(form.values_model, Q1.label, "Note").data(DISPLAY) == "Survey wave 2"


def test_a_note_changed_meanwhile_is_no_conflict_for_an_edit_of_the_value(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    measure_id = fp.mini.measure.id
    their_value(other, measure_id, 60.0)
    form = shown_form(qtbot, doc, "measure", measure_id)
    their_value(other, measure_id, 60.0, note="Provisional figure")
    type_into_cell(qtbot, form.values, cell(form.values_model, Q1.label, "Value"), "62")
    qtbot.waitUntil(lambda: (value_of(doc, measure_id) or MeasureValue()).value == 62.0)
    record = value_of(doc, measure_id)
    assert record is not None and record.note == "Provisional figure"
    assert form.values.conflict_panel.isHidden()


def test_a_target_changed_meanwhile_is_offered_in_the_targets_grid(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    measure_id = fp.mini.measure.id
    year = FinancialYear(2023)
    form = shown_form(qtbot, doc, "measure", measure_id)
    with other.transaction(actor="Jane Other") as tx:
        measure = tx.get(Measure, measure_id)
        assert measure is not None
        measures.enter_target(tx, measure, year, 80.0)
    index = cell(form.targets_model, year.label, "Target")
    type_into_cell(qtbot, form.targets, index, "85")
    panel = form.targets.conflict_panel
    qtbot.waitUntil(lambda: not panel.isHidden())
    assert "Theirs: 80" in panel.text.text() and "Yours: 85" in panel.text.text()
    target_id = MeasureTarget.make_id(measure_id, year)
    assert stored(doc, MeasureTarget, target_id, "value") == 80.0
    qtbot.mouseClick(panel.mine_button, Qt.MouseButton.LeftButton)
    assert stored(doc, MeasureTarget, target_id, "value") == 85.0
    assert index.data(DISPLAY) == "85"
    assert panel.isHidden()


def test_an_allocation_changed_meanwhile_is_offered_in_the_allocations_grid(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    stream_id = fp.stream.id
    form = shown_form(qtbot, doc, "funding_stream", stream_id)
    model = form.allocations_model
    row = 0
    year: FinancialYear = model.rows[row].key
    shown_before = model.index(row, 0).data(DISPLAY)
    with other.transaction(actor="Jane Other") as tx:
        services.set_allocation(tx, stream_id, year, Decimal("4321"))
    type_into_cell(qtbot, form.allocations, model.index(row, 0), "5000")
    panel = form.allocations.conflict_panel
    qtbot.waitUntil(lambda: not panel.isHidden())
    assert "Jane Other" in panel.text.text() and "Theirs: 4321" in panel.text.text()
    alloc_id = FundingAllocation.make_id(stream_id, year)
    assert stored(doc, FundingAllocation, alloc_id, "amount") == Decimal("4321")
    assert model.index(row, 0).data(DISPLAY) == shown_before  # until the user chooses
    qtbot.keyClick(panel.theirs_button, Qt.Key.Key_Space)
    assert model.index(row, 0).data(DISPLAY) == "£4,321.00"


def test_an_approval_changed_meanwhile_is_not_removed_unseen(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    form = shown_form(qtbot, doc, "plan", fp.mini.plan.id)
    section = form.approvals_section
    section.view.setCurrentIndex(form.approvals.index(0, 0))
    with other.transaction(actor="Jane Other") as tx:
        approval = tx.get(PlanApproval, fp.approval.id)
        assert approval is not None
        services.edit(tx, approval, body="Council Executive")
    remove = next(b for b in section.focus_widgets() if b.accessibleName() == "Remove approval")
    remove.setFocus()
    qtbot.keyClick(remove, Qt.Key.Key_Space)
    assert "was changed by Jane Other on " in section.error.text()
    assert "its body is now \u201cCouncil Executive\u201d" in section.error.text()
    assert "Nothing was deleted" in section.error.text()
    assert stored(doc, PlanApproval, fp.approval.id, "deleted_at") is None
    # The list now shows theirs; removing what is shown goes through.
    assert form.approvals.index(0, 0).data(DISPLAY) == "Council Executive"
    section.view.setCurrentIndex(form.approvals.index(0, 0))
    qtbot.keyClick(remove, Qt.Key.Key_Space)
    assert stored(doc, PlanApproval, fp.approval.id, "deleted_at") is not None


def test_an_approvals_body_changed_meanwhile_is_offered(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    form = shown_form(qtbot, doc, "plan", fp.mini.plan.id)
    section = form.approvals_section
    with other.transaction(actor="Jane Other") as tx:
        approval = tx.get(PlanApproval, fp.approval.id)
        assert approval is not None
        services.edit(tx, approval, body="Council Executive")
    type_into_cell(qtbot, section, form.approvals.index(0, 0), "Cabinet")
    panel = section.conflict_panel
    qtbot.waitUntil(lambda: not panel.isHidden())
    assert "Theirs: \u201cCouncil Executive\u201d" in panel.text.text()
    assert stored(doc, PlanApproval, fp.approval.id, "body") == "Council Executive"
