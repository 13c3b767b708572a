"""The grids and lists inside record editors: quarterly values, targets, allocations,
approvals, links and quarterly updates; every item model passes qtmodeltester."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QAbstractItemModel, QDate, QModelIndex, Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop.domain.enums import Rag, UpdateState, ValueStatus
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    ActionPartner,
    ActionUpdate,
    FundingAllocation,
    Measure,
    MeasureTarget,
    MeasureValue,
    PlanApproval,
    PlanFramework,
    PriorityOutcome,
)
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import create_editor
from ssp_desktop.ui.forms.action import ActionEditor, UpdatesModel
from ssp_desktop.ui.forms.funding import AllocationsModel, AwardsModel, FundingStreamEditor
from ssp_desktop.ui.forms.grids import GridModel
from ssp_desktop.ui.forms.link_lists import LinkListModel
from ssp_desktop.ui.forms.measure import (
    TRACKER_NOTE,
    MeasureEditor,
    MeasureValuesModel,
    TargetsModel,
)
from ssp_desktop.ui.forms.outcomes import OutcomesModel
from ssp_desktop.ui.forms.plan import ApprovalsModel, PlanEditor
from tests.ui.test_forms_helpers import (
    TODAY,
    FormsPlan,
    last_change,
    log_count,
    make_template,
    pick,
    set_field,
    store_copy,
    stored,
)

OFFSCREEN_SHOW = pytest.mark.qt_log_ignore("does not support propagateSizeHints")
EDIT = Qt.ItemDataRole.EditRole
DISPLAY = Qt.ItemDataRole.DisplayRole
CHECK = Qt.ItemDataRole.CheckStateRole


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FormsPlan]:
    return make_template(tmp_path_factory.mktemp("forms-grids"))


@pytest.fixture
def fp(template: tuple[Path, FormsPlan]) -> FormsPlan:
    return template[1]


@pytest.fixture
def doc(template: tuple[Path, FormsPlan], tmp_path: Path, qtbot: QtBot) -> Iterator[PlanDocument]:
    with store_copy(template[0], tmp_path) as store:
        yield PlanDocument(store)


def editor(qtbot: QtBot, doc: PlanDocument, entity: str, record_id: uuid.UUID) -> Any:
    widget = create_editor(doc, entity, record_id, today=TODAY)
    qtbot.addWidget(widget)
    return widget


def cell(model: QAbstractItemModel, row_header: str, column_header: str) -> QModelIndex:
    rows = [model.headerData(r, Qt.Orientation.Vertical) for r in range(model.rowCount())]
    columns = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    return model.index(rows.index(row_header), columns.index(column_header))


def value_record(doc: PlanDocument, measure_id: uuid.UUID, quarter: Quarter) -> MeasureValue | None:
    with doc.read() as session:
        return session.get(MeasureValue, MeasureValue.make_id(measure_id, quarter))


# --------------------------------------------------------------------------- quarterly values


def test_the_values_grid_has_a_row_per_quarter_and_a_column_per_comparator(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument, fp: FormsPlan
) -> None:
    model = MeasureValuesModel(doc, fp.mini.measure.id)
    qtmodeltester.check(model)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == [
        "Value",
        "GM average",
        "Status",
        "Significant",
        "Significantly different from GM average",
        "Rank",
        "Note",
    ]
    quarters = [model.headerData(r, Qt.Orientation.Vertical) for r in range(model.rowCount())]
    assert quarters[0] == "2022/23 Q1" and quarters[-1] == "2024/25 Q4" and len(quarters) == 12
    assert all(
        model.flags(cell(model, "2022/23 Q1", h)) & Qt.ItemFlag.ItemIsEditable for h in headers
    )


def test_values_are_entered_in_place_as_undoable_edits(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "measure", fp.mini.measure.id)
    assert isinstance(form, MeasureEditor)
    model = form.values_model
    q = Quarter(2023, 1)
    value = cell(model, q.label, "Value")
    assert model.setData(value, "45", EDIT)
    record = value_record(doc, fp.mini.measure.id, q)
    assert record is not None and record.value == 45.0
    assert record.status is ValueStatus.PROVISIONAL
    assert doc.undo_stack.undoText() == "Change 2023/24 Q1 value"
    assert model.setData(value, "47.5", EDIT)
    assert last_change(doc, record.id) == ("value", 45.0, 47.5)
    assert model.setData(cell(model, q.label, "GM average"), "50", EDIT)
    assert last_change(doc, record.id) == ("comparator_values", {}, {"GM average": 50.0})
    assert model.setData(cell(model, q.label, "Status"), "Final", EDIT)
    assert last_change(doc, record.id) == ("status", "provisional", "final")
    assert model.setData(cell(model, q.label, "Significant"), "Yes", EDIT)
    assert last_change(doc, record.id) == ("significant", None, True)
    assert model.setData(cell(model, q.label, "Note"), "Survey wave 3", EDIT)
    assert last_change(doc, record.id) == ("note", "", "Survey wave 3")
    # The other cells of the row were carried, not reset.
    record = value_record(doc, fp.mini.measure.id, q)
    assert record is not None
    assert (record.value, record.comparator_values, record.status) == (
        47.5,
        {"GM average": 50.0},
        ValueStatus.FINAL,
    )
    assert value.data(DISPLAY) == "47.5"
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert cell(model, q.label, "Status").data(DISPLAY) == "Provisional"
    doc.undo_stack.undo()
    assert cell(model, q.label, "GM average").data(DISPLAY) == ""
    doc.undo_stack.undo()
    assert value.data(DISPLAY) == "45"
    doc.undo_stack.redo()
    assert value.data(DISPLAY) == "47.5"
    qtmodeltester.check(model)


@pytest.mark.parametrize(
    ("column", "typed", "message"),
    [
        ("Value", "abc", "'abc' is not a number (2023/24 Q2, Value)"),
        ("Value", "120", "A percentage cannot be over 100 (2023/24 Q2, Value)"),
        ("GM average", "-3", "A percentage cannot be below 0 (2023/24 Q2, GM average)"),
        (
            "Status",
            "Maybe",
            "'Maybe' is not one of: Provisional, Final, Withheld (2023/24 Q2, Status)",
        ),
    ],
)
def test_a_mistaken_value_is_explained_and_not_saved(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan, column: str, typed: str, message: str
) -> None:
    form = editor(qtbot, doc, "measure", fp.mini.measure.id)
    model = form.values_model
    logged = log_count(doc)
    assert not model.setData(cell(model, "2023/24 Q2", column), typed, EDIT)
    assert form.values.error.text() == f"Error: {message}"
    assert not form.values.error.isHidden()
    assert value_record(doc, fp.mini.measure.id, Quarter(2023, 2)) is None
    assert log_count(doc) == logged and doc.undo_stack.count() == 0
    assert model.setData(cell(model, "2023/24 Q2", "Value"), "88", EDIT)
    assert form.values.error.isHidden()


def test_significance_rank_and_a_withheld_value_are_edited_in_the_grid(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "measure", fp.mini.measure.id)
    assert isinstance(form, MeasureEditor)
    model = form.values_model
    q = Quarter(2023, 1)
    assert model.setData(cell(model, q.label, "Value"), "45", EDIT)
    record = value_record(doc, fp.mini.measure.id, q)
    assert record is not None
    assert model.setData(
        cell(model, q.label, "Significantly different from GM average"), "Yes", EDIT
    )
    assert last_change(doc, record.id) == ("comparator_significant", None, True)
    assert model.setData(cell(model, q.label, "Rank"), " 3rd of 10  in GM ", EDIT)
    assert last_change(doc, record.id) == ("rank", "", "3rd of 10 in GM")
    # A value another column's edit carries keeps its rank and significance.
    assert model.setData(cell(model, q.label, "Value"), "46", EDIT)
    record = value_record(doc, fp.mini.measure.id, q)
    assert record is not None
    assert (record.comparator_significant, record.rank) == (True, "3rd of 10 in GM")
    # Withheld needs its reason: refused without one, taken with one.
    q2 = Quarter(2023, 2)
    assert not model.setData(cell(model, q2.label, "Status"), "Withheld", EDIT)
    assert value_record(doc, fp.mini.measure.id, q2) is None
    assert model.setData(cell(model, q2.label, "Note"), "GMP data not validated", EDIT)
    assert model.setData(cell(model, q2.label, "Status"), "Withheld", EDIT)
    withheld = value_record(doc, fp.mini.measure.id, q2)
    assert withheld is not None and withheld.status is ValueStatus.WITHHELD


def test_a_count_measure_takes_values_over_100(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "measure", fp.mini.measure.id)
    set_field(qtbot, form, "unit", "Count")
    assert form.values_model.setData(cell(form.values_model, "2022/23 Q4", "Value"), "1,250", EDIT)
    record = value_record(doc, fp.mini.measure.id, Quarter(2022, 4))
    assert record is not None and record.value == 1250.0
    # And it cannot go back to being a percentage while it holds such a value.
    set_field(qtbot, form, "unit", "Percentage (%)")
    assert "cannot be a percentage" in form.errors["unit"].text()
    assert form.editors["unit"].combo.currentText() == "Count"


def test_a_comparator_with_figures_cannot_be_removed(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "measure", fp.mini.measure.id)
    model = form.values_model
    assert model.setData(cell(model, "2023/24 Q1", "GM average"), "51", EDIT)
    set_field(qtbot, form, "comparator_names", "England")
    assert "GM average has figures for 1 quarter" in form.errors["comparator_names"].text()
    assert stored(doc, Measure, fp.mini.measure.id, "comparator_names") == ["GM average"]
    set_field(qtbot, form, "comparator_names", "GM average; England")
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers[:3] == ["Value", "GM average", "England"]


@OFFSCREEN_SHOW
def test_a_cell_is_typed_into_through_the_view(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "measure", fp.mini.measure.id)
    form.show()
    qtbot.waitExposed(form)
    view = form.values.view
    index = cell(form.values_model, "2024/25 Q1", "Value")
    view.setCurrentIndex(index)
    view.edit(index)
    line = view.findChild(QLineEdit)
    assert line is not None and line.accessibleName() == "Value"
    line.setText("61.5")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    # The view commits a cell editor's data from the event loop, just after the key.
    qtbot.waitUntil(lambda: value_record(doc, fp.mini.measure.id, Quarter(2024, 1)) is not None)
    record = value_record(doc, fp.mini.measure.id, Quarter(2024, 1))
    assert record is not None and record.value == 61.5
    assert index.data(DISPLAY) == "61.5"


# --------------------------------------------------------------------------- targets


def test_targets_per_year_are_set_cleared_and_checked(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "measure", fp.mini.measure.id)
    model = form.targets_model
    qtmodeltester.check(model)
    years = [model.headerData(r, Qt.Orientation.Vertical) for r in range(model.rowCount())]
    assert years == ["2022/23", "2023/24", "2024/25"]
    index = cell(model, "2023/24", "Target")
    assert model.setData(index, "85", EDIT)
    target_id = MeasureTarget.make_id(fp.mini.measure.id, FinancialYear(2023))
    assert stored(doc, MeasureTarget, target_id, "value") == 85.0
    assert model.setData(index, "87.5", EDIT)
    assert last_change(doc, target_id) == ("value", 85.0, 87.5)
    assert not model.setData(index, "101", EDIT)
    assert form.targets.error.text() == "Error: A percentage cannot be over 100 (2023/24, Target)"
    assert model.setData(index, "", EDIT)
    assert stored(doc, MeasureTarget, target_id, "deleted_at") is not None
    assert index.data(DISPLAY) == ""
    doc.undo_stack.undo()
    assert index.data(DISPLAY) == "87.5"


def test_a_tracker_has_no_targets_and_says_why(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "measure", fp.mini.measure.id)
    model = form.targets_model
    index = cell(model, "2022/23", "Target")
    assert model.flags(index) & Qt.ItemFlag.ItemIsEditable
    set_field(qtbot, form, "polarity", "Tracker (no target)")
    assert form.targets.note.text() == TRACKER_NOTE
    assert not form.targets.view.isEnabled()
    assert not model.flags(index) & Qt.ItemFlag.ItemIsEditable
    assert not model.setData(index, "50", EDIT)
    doc.undo_stack.undo()
    assert model.flags(index) & Qt.ItemFlag.ItemIsEditable and form.targets.view.isEnabled()


# --------------------------------------------------------------------------- funding


def test_allocations_per_year_and_the_awards_list(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "funding_stream", fp.stream.id)
    assert isinstance(form, FundingStreamEditor)
    model = form.allocations_model
    qtmodeltester.check(model)
    qtmodeltester.check(form.awards_model)
    years = [model.headerData(r, Qt.Orientation.Vertical) for r in range(model.rowCount())]
    assert years == ["2022/23", "2023/24", "2024/25", "2025/26"]
    index = cell(model, "2022/23", "Allocation")
    assert model.setData(index, "£25,000", EDIT)
    alloc_id = FundingAllocation.make_id(fp.stream.id, FinancialYear(2022))
    assert stored(doc, FundingAllocation, alloc_id, "amount") == Decimal("25000.00")
    assert index.data(DISPLAY) == "£25,000.00"
    assert not model.setData(index, "-1", EDIT)
    assert form.allocations.error.text().startswith("Error: An amount cannot be negative")
    assert model.setData(index, " ", EDIT)
    assert stored(doc, FundingAllocation, alloc_id, "deleted_at") is not None

    awards = form.awards_model
    assert awards.rowCount() == 1
    assert [awards.index(0, c).data(DISPLAY) for c in range(awards.columnCount())] == [
        "2022/23",
        "Youth diversion",
        "",
        "£12,000.00",
        "",
    ]
    assert not awards.flags(awards.index(0, 1)) & Qt.ItemFlag.ItemIsEditable
    with qtbot.waitSignal(form.record_activated) as opened:
        form.awards.view.activated.emit(awards.index(0, 1))
    assert opened.args == ["funding_award", fp.award.id]
    award = editor(qtbot, doc, "funding_award", fp.award.id)
    set_field(qtbot, award, "recipient_organisation_id", "Council (SMBC)")
    set_field(qtbot, award, "project", "Youth diversion scheme")
    assert awards.index(0, 1).data(DISPLAY) == "Youth diversion scheme"
    assert awards.index(0, 2).data(DISPLAY) == "Council (SMBC)"


# --------------------------------------------------------------------------- approvals


def test_the_approval_trail_is_edited_in_place(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "plan", fp.mini.plan.id)
    assert isinstance(form, PlanEditor)
    model = form.approvals
    qtmodeltester.check(model)
    assert model.rowCount() == 1
    assert model.index(0, 1).data(DISPLAY) == "1 March 2022"
    new_id = form.add_approval()
    assert new_id is not None and model.rowCount() == 2
    row = next(i for i, r in enumerate(model.rows) if r.record_id == new_id)
    assert form.approvals_section.view.currentIndex().row() == row
    assert model.setData(model.index(row, 0), "Cabinet", EDIT)
    assert last_change(doc, new_id) == ("body", "New approval", "Cabinet")
    assert model.setData(model.index(row, 1), QDate(2022, 3, 15), EDIT)
    assert stored(doc, PlanApproval, new_id, "meeting_date") == dt.date(2022, 3, 15)
    assert model.setData(model.index(row, 2), "CAB/22/15", EDIT)
    assert not model.setData(model.index(row, 0), "  ", EDIT)
    assert form.approvals_section.error.text() == "Error: Body is required (Body)"
    assert stored(doc, PlanApproval, new_id, "body") == "Cabinet"
    # Sorted by meeting date, the Cabinet comes after the Board.
    assert [model.index(r, 0).data(DISPLAY) for r in range(2)] == ["SSP Board", "Cabinet"]
    form.approvals_section.view.setCurrentIndex(model.index(1, 0))
    assert form.remove_approval()
    assert stored(doc, PlanApproval, new_id, "deleted_at") is not None
    assert model.rowCount() == 1
    doc.undo_stack.undo()
    assert model.rowCount() == 2
    qtmodeltester.check(model)


# --------------------------------------------------------------------------- links


def test_partners_are_ticked_and_unticked(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    assert isinstance(form, ActionEditor)
    model = form.partners.model
    qtmodeltester.check(model)
    labels = [model.index(r).data(DISPLAY) for r in range(model.rowCount())]
    assert labels == ["Council (SMBC)", "Police"]
    council = model.index(0)
    assert council.data(CHECK) == Qt.CheckState.Unchecked
    assert model.setData(council, Qt.CheckState.Checked, CHECK)
    assert council.data(CHECK) == Qt.CheckState.Checked
    assert doc.undo_stack.undoText() == "Add partner Council (SMBC)"
    with doc.read() as session:
        link = session.scalars(
            select(ActionPartner).where(ActionPartner.action_id == fp.mini.action.id)
        ).one()
    assert link.organisation_id == fp.org2.id and link.deleted_at is None
    assert model.setData(council, Qt.CheckState.Unchecked.value, CHECK)
    assert stored(doc, ActionPartner, link.id, "deleted_at") is not None
    doc.undo_stack.undo()
    assert council.data(CHECK) == Qt.CheckState.Checked
    assert model.linked() == ["Council (SMBC)"]
    qtmodeltester.check(model)


@pytest.mark.parametrize("entity", ["priority", "measure", "action", "funding_award"])
def test_outcomes_are_linked_from_priorities_measures_actions_and_awards(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument, fp: FormsPlan, entity: str
) -> None:
    ids = {
        "priority": fp.mini.priority.id,
        "measure": fp.mini.measure.id,
        "action": fp.mini.action.id,
        "funding_award": fp.award.id,
    }
    form = editor(qtbot, doc, entity, ids[entity])
    model = form.outcomes.model
    assert isinstance(model, LinkListModel)
    qtmodeltester.check(model)
    labels = [model.index(r).data(DISPLAY) for r in range(model.rowCount())]
    assert labels == ["GM-01 Fewer victims (GM)", "GM-02 Safer streets (GM)"]
    assert model.setData(model.index(1), Qt.CheckState.Checked, CHECK)
    assert model.linked() == ["GM-02 Safer streets (GM)"]
    assert doc.undo_stack.undoText() == "Add outcome GM-02 Safer streets (GM)"
    if entity == "priority":
        with doc.read() as session:
            links = session.scalars(select(PriorityOutcome)).all()
        assert [(x.priority_id, x.outcome_id) for x in links] == [
            (fp.mini.priority.id, fp.outcome2.id)
        ]
    # A new outcome appears in every open list at once.
    framework = editor(qtbot, doc, "outcome_framework", fp.framework.id)
    framework.add_outcome()
    assert model.rowCount() == 3


def test_a_plan_is_aligned_to_outcome_frameworks(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "plan", fp.mini.plan.id)
    model = form.frameworks.model
    qtmodeltester.check(model)
    assert [model.index(r).data(DISPLAY) for r in range(model.rowCount())] == ["Standing Together"]
    assert model.setData(model.index(0), Qt.CheckState.Checked, CHECK)
    assert doc.undo_stack.undoText() == "Add framework Standing Together"
    with doc.read() as session:
        [link] = session.scalars(select(PlanFramework)).all()
    assert (link.plan_id, link.framework_id) == (fp.mini.plan.id, fp.framework.id)


def test_measures_are_linked_from_an_action(qtbot: QtBot, doc: PlanDocument, fp: FormsPlan) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    model = form.measures.model
    assert [model.index(r).data(DISPLAY) for r in range(model.rowCount())] == ["M01 Feel safe"]
    assert model.setData(model.index(0), Qt.CheckState.Checked, CHECK)
    assert model.linked() == ["M01 Feel safe"]


# --------------------------------------------------------------------------- updates


def _current(doc: PlanDocument, action_id: uuid.UUID) -> list[ActionUpdate]:
    with doc.read() as session:
        return list(
            session.scalars(
                select(ActionUpdate)
                .where(ActionUpdate.action_id == action_id, ActionUpdate.is_current.is_(True))
                .order_by(ActionUpdate.quarter)
            )
        )


def test_an_update_is_written_for_the_reporting_quarter_and_replaced_keeping_history(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    section = form.updates
    assert section.quarter.currentText() == "2023/24 Q2"  # the quarter before TODAY's
    assert section.status.text() == "2023/24 Q2 has no update yet."
    pick(section.rag, "\u25c6 Amber")
    pick(section.state, "Submitted")
    section.narrative.set_text("One IDVA in post; a second is being recruited.")
    assert section.save()
    [update] = _current(doc, fp.mini.action.id)
    assert (update.quarter, update.rag, update.state, update.written_on) == (
        Quarter(2023, 2),
        Rag.AMBER,
        UpdateState.SUBMITTED,
        TODAY,
    )
    assert doc.undo_stack.undoText() == "Write update for 2023/24 Q2"
    # The action's RAG follows its newest update, and the form shows it.
    assert form.editors["rag"].combo.currentText() == "\u25c6 Amber"
    assert form.rag_badge.text() == "RAG: \u25c6 Amber"
    assert "written on 15 October 2023" in section.status.text()

    # An earlier quarter, then a replacement of the newest.
    section.select_quarter(Quarter(2023, 1))
    assert section.narrative.toPlainText() == ""
    section.narrative.set_text("Funding agreed.")
    pick(section.rag, "\u25cf Green")
    assert section.save()
    section.select_quarter(Quarter(2023, 2))
    assert section.narrative.toPlainText().startswith("One IDVA")
    section.narrative.set_text("Both IDVAs in post.")
    pick(section.rag, "\u25cf Green")
    assert section.save()
    assert doc.undo_stack.undoText() == "Replace update for 2023/24 Q2"
    with doc.read() as session:
        q2 = session.scalars(
            select(ActionUpdate).where(ActionUpdate.quarter == Quarter(2023, 2))
        ).all()
    assert sorted((u.is_current, u.narrative) for u in q2) == [
        (False, "One IDVA in post; a second is being recruited."),
        (True, "Both IDVAs in post."),
    ]
    model = section.model
    assert isinstance(model, UpdatesModel)
    qtmodeltester.check(model)
    rows = [
        [model.index(r, c).data(DISPLAY) for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]
    assert rows == [
        ["2023/24 Q2", "\u25cf Green", "Submitted", "15 October 2023", "2", "Both IDVAs in post."],
        ["2023/24 Q1", "\u25cf Green", "Draft", "15 October 2023", "1", "Funding agreed."],
    ]
    # Choosing a row puts its update in the form, ready to replace.
    section.view.setCurrentIndex(model.index(1, 0))
    assert section.quarter.currentText() == "2023/24 Q1"
    assert section.narrative.toPlainText() == "Funding agreed."
    doc.undo_stack.undo()
    assert model.rowCount() == 2
    assert model.index(0, 5).data(DISPLAY).startswith("One IDVA")


def test_an_update_needs_a_narrative_and_an_unchanged_one_is_not_saved_again(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    section = form.updates
    section.narrative.set_text("   ")
    assert not section.save()
    assert section.error.text() == "Error: Progress narrative is required"
    assert _current(doc, fp.mini.action.id) == []
    section.narrative.set_text("Recruiting.")
    assert section.save()
    assert section.error.isHidden()
    assert not section.save()
    assert section.status.text().startswith("Nothing to save")
    assert len(_current(doc, fp.mini.action.id)) == 1 and doc.undo_stack.count() == 1


def test_an_action_lists_what_needs_checking(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    # Due 31 March 2023, not complete, and no update for 2023/24 Q2.
    assert form.flags.text() == (
        "Check: Past its due date and not complete\nCheck: No update for 2023/24 Q2"
    )
    set_field(qtbot, form, "rag", "\u25cf Green")
    assert form.flags.text().startswith("Check: Past its due date and not complete, but marked")
    set_field(qtbot, form, "status", "Complete")
    assert form.flags.isHidden()


def test_the_factory_opens_an_update_at_its_quarter(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = editor(qtbot, doc, "action", fp.mini.action.id)
    form.updates.select_quarter(Quarter(2022, 3))
    form.updates.narrative.set_text("Started.")
    assert form.updates.save()
    [update] = _current(doc, fp.mini.action.id)
    opened = editor(qtbot, doc, "action_update", update.id)
    assert isinstance(opened, ActionEditor)
    assert opened.updates.quarter.currentText() == "2022/23 Q3"
    assert opened.updates.narrative.toPlainText() == "Started."


# --------------------------------------------------------------------------- every model


def test_every_item_model_passes_the_model_tester(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument, fp: FormsPlan
) -> None:
    models: list[GridModel | LinkListModel] = [
        ApprovalsModel(doc, fp.mini.plan.id),
        UpdatesModel(doc, fp.mini.action.id),
        TargetsModel(doc, fp.mini.measure.id),
        MeasureValuesModel(doc, fp.mini.measure.id),
        AllocationsModel(doc, fp.stream.id),
        AwardsModel(doc, fp.stream.id),
        OutcomesModel(doc, fp.framework.id),
        editor(qtbot, doc, "action", fp.mini.action.id).partners.model,
    ]
    for model in models:
        qtmodeltester.check(model)
