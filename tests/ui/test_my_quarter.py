"""The "My quarter" view walked as a theme lead would, on the sample plan: pick a role
and quarter, update actions, enter measures, undo, and move around by keyboard."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import Rag, UpdateState, ValueStatus
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, ActionUpdate, Measure, MeasureValue
from ssp_desktop.sample.plan import SAMPLE_MEETING_DATE, SAMPLE_QUARTER, write_sample
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.my_quarter import ActionCard, MeasureCard, MyQuarterView

EDU = "Education Safeguarding Lead"  # leads PVP-09, which has no 2024/25 Q2 update
DA = "Domestic Abuse Strategic Lead"  # owns PVP-M2, a percentage with an England comparator
CI = "Chief Inspector, Neighbourhood Policing"  # owns PSP-M3, with no figure for 2024/25 Q2


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, uuid.UUID]:
    # Writing the sample takes about a second; each test gets a copy of one made once.
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    with Store.open(path, create=True) as store:
        plan_id = write_sample(store).current_plan_id
    return path, plan_id


@pytest.fixture
def doc(sample_file: tuple[Path, uuid.UUID], tmp_path: Path) -> Iterator[PlanDocument]:
    path = tmp_path / "plan.sqlite"
    sqlite_backup(sample_file[0], path)
    store = Store.open(path)
    yield PlanDocument(store)
    store.close()


@pytest.fixture
def view(doc: PlanDocument, sample_file: tuple[Path, uuid.UUID], qtbot: QtBot) -> MyQuarterView:
    widget = MyQuarterView(doc, sample_file[1], today=SAMPLE_MEETING_DATE)
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    return widget


def _pick(view: MyQuarterView, qtbot: QtBot, role: str) -> None:
    index = view.person_combo.findText(role)
    assert index >= 0, role
    with qtbot.waitSignal(view.refreshed):
        view.person_combo.setCurrentIndex(index)


def _pick_quarter(view: MyQuarterView, qtbot: QtBot, quarter: Quarter) -> None:
    with qtbot.waitSignal(view.refreshed):
        view.quarter_combo.setCurrentIndex(view.quarter_combo.findData(quarter.label))


def _click(qtbot: QtBot, button: QAbstractButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _choose_rag(card: ActionCard, rag: Rag | None) -> None:
    card.rag_combo.setCurrentIndex(card.rag_combo.findData(rag.value if rag else ""))


def _current_update(doc: PlanDocument, ref: str) -> ActionUpdate | None:
    with doc.read() as s:
        return s.scalar(
            select(ActionUpdate)
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(
                Action.ref == ref,
                ActionUpdate.quarter == SAMPLE_QUARTER,
                ActionUpdate.is_current.is_(True),
                ActionUpdate.deleted_at.is_(None),
            )
        )


def _update_rows(doc: PlanDocument) -> int:
    with doc.read() as s:
        return int(s.scalar(select(func.count()).select_from(ActionUpdate)) or 0)


def _measure(doc: PlanDocument, ref: str) -> Measure:
    with doc.read() as s:
        measure = s.scalar(select(Measure).where(Measure.ref == ref))
        assert measure is not None
        return measure


def _stored_value(doc: PlanDocument, ref: str) -> MeasureValue | None:
    measure = _measure(doc, ref)
    with doc.read() as s:
        return s.get(MeasureValue, MeasureValue.make_id(measure.id, SAMPLE_QUARTER))


# --------------------------------------------------------------------------- pickers


def test_it_opens_on_the_quarter_being_reported(view: MyQuarterView) -> None:
    assert view.quarter() == SAMPLE_QUARTER
    assert view.quarter_combo.currentText() == "2024/25 Q2 (Jul-Sep 2024)"
    quarters = [view.quarter_combo.itemData(i) for i in range(view.quarter_combo.count())]
    assert quarters[0] == "2024/25 Q4" and quarters[-1] == "2022/23 Q1" and len(quarters) == 12
    # Nobody is assumed: the lead says who they are.
    assert view.person_id() is None and view.status is None
    assert "Choose your role" in view.progress_label.text()
    roles = [view.person_combo.itemText(i) for i in range(view.person_combo.count())]
    assert roles == sorted(roles, key=str.casefold) and EDU in roles


# --------------------------------------------------------------------------- actions


def test_a_lead_writes_saves_and_submits_the_missing_update(
    view: MyQuarterView, doc: PlanDocument, qtbot: QtBot
) -> None:
    _pick(view, qtbot, EDU)
    card = view.action_card("PVP-09")
    assert card.state_label.text() == "Update: Missing"
    assert "No update for 2024/25 Q2" in card.details_label.text()
    assert "Due 31 March 2025" in card.details_label.text()
    assert view.missing_label.text() == "Still missing: PVP-09 update."
    assert view.progress_label.text() == (
        "2024/25 Q2: 1 of 2 actions updated · no measures due · 1 submitted"
    )

    # Save a draft.
    _choose_rag(card, Rag.AMBER)
    assert (
        card.rag_chip.text() == "\u25c6 Amber" and "background-color" in card.rag_chip.styleSheet()
    )
    qtbot.keyClicks(card.narrative, "Sessions for parents were delayed by the summer break.")
    _click(qtbot, card.save_button)
    update = _current_update(doc, "PVP-09")
    assert update is not None
    assert (update.state, update.rag) == (UpdateState.DRAFT, Rag.AMBER)
    assert update.narrative == "Sessions for parents were delayed by the summer break."
    assert update.written_on == SAMPLE_MEETING_DATE
    assert view.progress_label.text() == (
        "2024/25 Q2: 2 of 2 actions updated · no measures due · 1 submitted"
    )
    assert view.missing_label.text() == "Nothing missing for 2024/25 Q2."
    card = view.action_card("PVP-09")
    assert card.state_label.text() == "Update: Draft"
    assert card.message.text() == "Update saved as a draft."

    # Submitting with no narrative is refused in the card, and nothing is written.
    rows, steps = _update_rows(doc), doc.undo_stack.count()
    card.narrative.clear()
    _click(qtbot, card.submit_button)
    assert card.message.text().startswith("Error: ")
    assert "write a progress narrative" in card.message.text()
    assert (_update_rows(doc), doc.undo_stack.count()) == (rows, steps)

    # Submitting properly.
    qtbot.keyClicks(card.narrative, "Parent sessions now booked for October.")
    _click(qtbot, card.submit_button)
    update = _current_update(doc, "PVP-09")
    assert update is not None and update.state is UpdateState.SUBMITTED
    assert update.narrative == "Parent sessions now booked for October."
    assert view.action_card("PVP-09").state_label.text() == "Update: Submitted"
    assert view.progress_label.text().endswith("2 submitted")

    # Undo goes back through the draft to nothing, and the view follows.
    with qtbot.waitSignal(view.refreshed):
        doc.undo_stack.undo()
    card = view.action_card("PVP-09")
    assert card.state_label.text() == "Update: Draft"
    assert card.typed_narrative() == "Sessions for parents were delayed by the summer break."
    assert card.chosen_rag() is Rag.AMBER
    with qtbot.waitSignal(view.refreshed):
        doc.undo_stack.undo()
    card = view.action_card("PVP-09")
    assert card.state_label.text() == "Update: Missing"
    assert card.typed_narrative() == "" and card.chosen_rag() is None
    assert view.missing_label.text() == "Still missing: PVP-09 update."
    assert _current_update(doc, "PVP-09") is None


def test_submitting_needs_a_rag(view: MyQuarterView, doc: PlanDocument, qtbot: QtBot) -> None:
    _pick(view, qtbot, EDU)
    card = view.action_card("PVP-09")
    qtbot.keyClicks(card.narrative, "Written but not rated.")
    _click(qtbot, card.submit_button)
    assert card.message.text() == (
        "Error: Before marking the update submitted, choose a RAG rating."
    )
    assert _current_update(doc, "PVP-09") is None


def test_an_empty_or_unchanged_update_is_not_saved(
    view: MyQuarterView, doc: PlanDocument, qtbot: QtBot
) -> None:
    _pick(view, qtbot, EDU)
    card = view.action_card("PVP-09")
    _click(qtbot, card.save_button)
    assert card.message.text().startswith("Error: Nothing to save")
    psp06 = view.action_card("PSP-06")  # already submitted and accepted for the quarter
    _click(qtbot, psp06.submit_button)
    assert psp06.message.text() == "Nothing to do: this update is already accepted."
    _click(qtbot, psp06.save_button)  # would otherwise turn it back into a draft
    assert psp06.message.text() == "Nothing to save: the update is unchanged."
    assert doc.undo_stack.count() == 0


def test_a_refused_save_is_explained_in_the_card(
    view: MyQuarterView, doc: PlanDocument, qtbot: QtBot
) -> None:
    _pick(view, qtbot, EDU)
    card = view.action_card("PVP-09")
    # Deleted behind the view's back (no change signal), as another window might.
    with doc.store.transaction(actor="test") as tx:
        action = tx.session.scalar(select(Action).where(Action.ref == "PVP-09"))
        assert action is not None
        services.delete(tx, action, cascade=True)
    _choose_rag(card, Rag.GREEN)
    qtbot.keyClicks(card.narrative, "On track.")
    with qtbot.waitSignal(doc.failed):
        _click(qtbot, card.save_button)
    assert card.message.text().startswith("Error: ") and "deleted" in card.message.text()
    assert card.typed_narrative() == "On track."  # the lead's words are kept


def test_unsaved_typing_survives_a_save_elsewhere(
    view: MyQuarterView, doc: PlanDocument, qtbot: QtBot
) -> None:
    _pick(view, qtbot, EDU)
    psp06 = view.action_card("PSP-06")
    psp06.narrative.setPlainText("Half-written thought")
    card = view.action_card("PVP-09")
    _choose_rag(card, Rag.GREEN)
    qtbot.keyClicks(card.narrative, "On track.")
    _click(qtbot, card.save_button)
    assert view.action_card("PSP-06").narrative.toPlainText() == "Half-written thought"


def test_an_update_written_elsewhere_shows_here(
    view: MyQuarterView, doc: PlanDocument, qtbot: QtBot
) -> None:
    _pick(view, qtbot, EDU)

    def work(tx: Transaction) -> None:
        action = tx.session.scalar(select(Action).where(Action.ref == "PVP-09"))
        assert action is not None
        services.write_update(
            tx,
            action,
            SAMPLE_QUARTER,
            rag=Rag.RED,
            narrative="Written in the full editor.",
            written_on=SAMPLE_MEETING_DATE,
        )

    with qtbot.waitSignal(view.refreshed):
        assert doc.edit("Update PVP-09 for 2024/25 Q2", work)
    card = view.action_card("PVP-09")
    assert card.typed_narrative() == "Written in the full editor."
    assert card.chosen_rag() is Rag.RED and card.state_label.text() == "Update: Draft"


def test_switching_quarter_shows_that_quarters_data(view: MyQuarterView, qtbot: QtBot) -> None:
    _pick(view, qtbot, EDU)
    _pick_quarter(view, qtbot, Quarter(2024, 1))
    card = view.action_card("PVP-09")
    assert card.state_label.text() == "Update: Accepted"
    assert card.typed_narrative() and card.chosen_rag() is Rag.GREEN
    assert view.progress_label.text().startswith("2024/25 Q1: 2 of 2 actions updated")
    assert view.missing_label.text() == "Nothing missing for 2024/25 Q1."
    _pick_quarter(view, qtbot, Quarter(2022, 1))
    assert [c.item.ref for c in view.action_cards] == ["PSP-06"]  # PVP-09 began later
    _pick_quarter(view, qtbot, SAMPLE_QUARTER)
    assert view.action_card("PVP-09").state_label.text() == "Update: Missing"


def test_the_ref_opens_the_record_in_the_editor(view: MyQuarterView, qtbot: QtBot) -> None:
    _pick(view, qtbot, EDU)
    card = view.action_card("PVP-09")
    with qtbot.waitSignal(view.record_activated) as blocker:
        _click(qtbot, card.ref_button)
    assert blocker.args == ["action", card.item.id]
    measure = view.measure_card("PVP-M6")
    with qtbot.waitSignal(view.record_activated) as blocker:
        _click(qtbot, measure.ref_button)
    assert blocker.args == ["measure", measure.item.id]


# --------------------------------------------------------------------------- measures


def test_a_lead_enters_a_measure_value(
    view: MyQuarterView, doc: PlanDocument, qtbot: QtBot
) -> None:
    _pick(view, qtbot, DA)
    card = view.measure_card("PVP-M2")
    assert card.value_edit.text() == "29.3"
    assert "Target for 2024/25: 28" in card.details_label.text()
    assert "Previous: 29.5 (2024/25 Q1)" in card.details_label.text()
    assert card.state_label.text() == "Value: Entered (provisional)"
    steps = doc.undo_stack.count()

    for typed, message in (
        ("abc", "Error: 'abc' is not a number"),
        ("105", "Error: A percentage cannot be over 100"),
    ):
        card.value_edit.setText(typed)
        _click(qtbot, card.save_button)
        assert card.message.text().startswith(message)
        assert doc.undo_stack.count() == steps
    stored = _stored_value(doc, "PVP-M2")
    assert stored is not None and stored.value == 29.3

    card.value_edit.setText("27.5")
    card.comparator_edits["England"].setText("30")
    card.status_combo.setCurrentIndex(card.status_combo.findData(ValueStatus.FINAL.value))
    card.note_edit.setText("Validated by the MARAC co-ordinator.")
    _click(qtbot, card.save_button)
    stored = _stored_value(doc, "PVP-M2")
    assert stored is not None
    assert (stored.value, stored.comparator_values, stored.status, stored.note) == (
        27.5,
        {"England": 30.0},
        ValueStatus.FINAL,
        "Validated by the MARAC co-ordinator.",
    )
    card = view.measure_card("PVP-M2")
    assert card.message.text() == "Value for 2024/25 Q2 saved."
    assert card.state_label.text() == "Value: Entered (final)"
    assert card.rag_chip.text() == "\u25cf Green"

    with qtbot.waitSignal(view.refreshed):
        doc.undo_stack.undo()
    card = view.measure_card("PVP-M2")
    assert card.value_edit.text() == "29.3" and card.chosen_status() is ValueStatus.PROVISIONAL
    assert card.message.text() == ""


def test_enter_saves_a_missing_value_and_keeps_it(
    view: MyQuarterView, doc: PlanDocument, qtbot: QtBot
) -> None:
    _pick(view, qtbot, CI)
    assert view.missing_label.text() == "Still missing: PSP-M3 value."
    card = view.measure_card("PSP-M3")
    assert card.state_label.text() == "Value: Missing"
    assert card.value_edit.text() == "" and "Not yet available" in card.note_edit.text()
    card.value_edit.setFocus()
    qtbot.keyClicks(card.value_edit, "1.48")
    qtbot.keyClick(card.value_edit, Qt.Key.Key_Return)
    measure = _measure(doc, "PSP-M3")
    stored = _stored_value(doc, "PSP-M3")
    # One record per measure and quarter: the id comes from both.
    assert stored is not None and stored.id == MeasureValue.make_id(measure.id, SAMPLE_QUARTER)
    assert stored.value == 1.48
    card = view.measure_card("PSP-M3")
    assert card.value_edit.text() == "1.48"
    assert card.state_label.text() == "Value: Entered (provisional)"
    assert view.missing_label.text() == "Nothing missing for 2024/25 Q2."
    assert "3 of 3 measures entered" in view.progress_label.text()


def test_a_blank_value_needs_a_note(view: MyQuarterView, doc: PlanDocument, qtbot: QtBot) -> None:
    _pick(view, qtbot, DA)
    card = view.measure_card("PVP-M2")
    card.value_edit.clear()
    card.note_edit.clear()
    _click(qtbot, card.save_button)
    assert card.message.text() == ("Error: Enter a value, or a note saying why there is none yet.")
    card.comparator_edits["England"].setText("lots")
    card.value_edit.setText("20")
    _click(qtbot, card.save_button)
    assert card.message.text() == "Error: England figure: 'lots' is not a number"
    assert doc.undo_stack.count() == 0


def test_an_annual_measure_is_not_asked_for_outside_q4(view: MyQuarterView, qtbot: QtBot) -> None:
    _pick(view, qtbot, EDU)
    card = view.measure_card("PVP-M6")
    assert card.state_label.text() == "Value: Not due: annual, entered for 2024/25 Q4"
    assert not card.editor.isVisibleTo(view)
    _pick_quarter(view, qtbot, Quarter(2023, 4))
    card = view.measure_card("PVP-M6")
    assert card.editor.isVisibleTo(view) and card.value_edit.text() != ""


# --------------------------------------------------------------------------- access


def _controls(view: MyQuarterView) -> list[QWidget]:
    kinds = (QComboBox, QLineEdit, QPlainTextEdit, QAbstractButton)
    return [w for w in view.findChildren(QWidget) if isinstance(w, kinds)]


def test_every_control_has_an_accessible_name(view: MyQuarterView, qtbot: QtBot) -> None:
    for role in (EDU, DA, CI):
        _pick(view, qtbot, role)
        controls = _controls(view)
        assert controls
        unnamed = [
            f"{type(w).__name__} {w.objectName()}" for w in controls if not w.accessibleName()
        ]
        assert unnamed == []
    card = view.measure_card("PSP-M2")
    assert card.comparator_edits["GM average"].accessibleName() == (
        "GM average figure for PSP-M2 for 2024/25 Q2"
    )


# The offscreen platform warns on every show(); the warning says nothing about the view.
@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_tab_order_follows_the_visual_order(view: MyQuarterView, qtbot: QtBot) -> None:
    _pick(view, qtbot, CI)
    view.show()
    qtbot.waitExposed(view)
    body = view.scroll_area.widget()
    assert body is not None

    def tab_stops() -> list[QWidget]:
        # Walk Qt's own focus chain from the first picker, as Tab would.
        stops, widget = [], view.person_combo.nextInFocusChain()
        stops.append(view.person_combo)
        while widget is not view.person_combo:
            if (
                widget.focusPolicy() & Qt.FocusPolicy.TabFocus
                and widget.isVisibleTo(view)
                and widget.isEnabled()
                and view.isAncestorOf(widget)
            ):
                stops.append(widget)
            widget = widget.nextInFocusChain()
        return stops

    stops = tab_stops()
    assert stops == [w for w in view.focus_chain() if w.isVisibleTo(view)]

    def box(w: QWidget) -> tuple[int, int, int]:
        parent = body if body.isAncestorOf(w) else view
        top_left = w.mapTo(parent, QPoint(0, 0))
        offset = 0 if parent is view else 10_000  # the body sits below the pickers
        return top_left.y() + offset, top_left.y() + offset + w.height(), top_left.x()

    for a, b in itertools.pairwise(stops):
        (a_top, a_bottom, a_x), (b_top, b_bottom, b_x) = box(a), box(b)
        same_row = b_top < a_bottom and a_top < b_bottom
        assert (same_row and b_x > a_x) or b_top >= a_bottom - 2, (
            a.accessibleName(),
            b.accessibleName(),
        )


def test_narrative_tab_moves_on_rather_than_typing_a_tab(view: MyQuarterView, qtbot: QtBot) -> None:
    _pick(view, qtbot, EDU)
    card = view.action_card("PVP-09")
    assert card.narrative.tabChangesFocus()
    assert isinstance(view.measure_card("PVP-M6"), MeasureCard)


def test_a_pasted_narrative_is_held_to_the_domain_limit_and_saves(
    view: MyQuarterView, doc: PlanDocument, qtbot: QtBot
) -> None:
    """Issue 22: 100,000 pasted characters used to be accepted here and then refused by
    the master for good; the field keeps what the store and the pack can hold."""
    from PySide6.QtWidgets import QApplication

    from ssp_desktop.domain.validation import MAX_TEXT

    _pick(view, qtbot, EDU)
    card = view.action_card("PVP-09")
    assert "At most 10,000 characters" in card.narrative.accessibleDescription()
    QApplication.clipboard().setText("Long. " * 20_000)
    card.narrative.setFocus()
    qtbot.keyClick(card.narrative, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(card.narrative.toPlainText()) == MAX_TEXT
    qtbot.keyClicks(card.narrative, "more")  # typing past the limit does nothing
    assert len(card.narrative.toPlainText()) == MAX_TEXT
    _choose_rag(card, Rag.GREEN)
    _click(qtbot, card.save_button)
    update = _current_update(doc, "PVP-09")
    assert update is not None and len(update.narrative) == MAX_TEXT
