"""The master's "To review" tab walked as the strategy team would, on the sample plan:
move down the list with the keys, accept with Ctrl+Enter, return with a reason typed into
the dialog, correct then accept; and no such tab on a lead's copy."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import Rag, UpdateState
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    Measure,
    MeasureValue,
    Plan,
    StoreMeta,
)
from ssp_desktop.domain.sync_records import ROLE_LEAD
from ssp_desktop.sample.plan import SAMPLE_MEETING_DATE, SAMPLE_QUARTER, write_sample
from ssp_desktop.services import review
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.review import (
    EditThenAcceptDialog,
    ReturnDialog,
    ReviewView,
    tab_title,
)
from ssp_desktop.ui.workspace import Workspace

# The offscreen platform (the tests' display) warns on showing a window; nothing is wrong.
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

# Submitted in the sample for 2024/25 Q2, in the list's order: the first three updates.
FIRST, SECOND, THIRD = "PVP-01", "PVP-03", "PVP-05"
VALUE_REF = "PVP-M2"  # a percentage, with an England comparator and a target


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, uuid.UUID]:
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    with Store.open(path, create=True) as store:
        plan_id = write_sample(store).current_plan_id
        # The sample's values are the strategy team's own (accepted); make one a lead's.
        # Most of the sample's 2024/25 Q2 updates are accepted (the pack prints them):
        # put them back to awaiting review, as they stood when their leads sent them.
        with store.transaction() as tx:
            for update in tx.session.scalars(
                select(ActionUpdate)
                .join(Action)
                .where(
                    Action.plan_id == plan_id,
                    ActionUpdate.quarter == SAMPLE_QUARTER,
                    ActionUpdate.is_current.is_(True),
                    ActionUpdate.state == UpdateState.ACCEPTED,
                )
            ):
                services.edit(tx, update, state=UpdateState.SUBMITTED)
            measure = tx.session.scalars(select(Measure).where(Measure.ref == VALUE_REF)).one()
            value = tx.get(MeasureValue, MeasureValue.make_id(measure.id, SAMPLE_QUARTER))
            assert value is not None
            services.edit(tx, value, state=UpdateState.SUBMITTED)
    return path, plan_id


@pytest.fixture
def doc(sample_file: tuple[Path, uuid.UUID], tmp_path: Path) -> Iterator[PlanDocument]:
    path = tmp_path / "plan.sqlite"
    sqlite_backup(sample_file[0], path)
    store = Store.open(path)
    yield PlanDocument(store)
    store.close()


@pytest.fixture
def view(doc: PlanDocument, sample_file: tuple[Path, uuid.UUID], qtbot: QtBot) -> ReviewView:
    widget = ReviewView(doc, sample_file[1])
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    widget.tree.setFocus()
    return widget


def _update(doc: PlanDocument, ref: str) -> ActionUpdate:
    """The action's current update for the sample quarter."""
    with doc.read() as session:
        update = session.scalars(
            select(ActionUpdate)
            .join(Action)
            .where(
                Action.ref == ref,
                ActionUpdate.quarter == SAMPLE_QUARTER,
                ActionUpdate.is_current.is_(True),
            )
        ).one()
        session.expunge(update)
        return update


def _value(doc: PlanDocument, ref: str) -> MeasureValue:
    with doc.read() as session:
        value = session.scalars(
            select(MeasureValue)
            .join(Measure)
            .where(Measure.ref == ref, MeasureValue.period == SAMPLE_QUARTER)
        ).one()
        session.expunge(value)
        return value


def _refs(view: ReviewView) -> list[str]:
    queue = view._queue
    assert queue is not None
    return [item.ref for item in queue.items]


def _current_ref(view: ReviewView) -> str | None:
    item = view.current_item()
    return item.ref if item is not None else None


PENDING = "no dialog was handled"


def _in_dialog(qtbot: QtBot, handle: Callable[[QWidget], None]) -> list[str]:
    """Run ``handle`` on the modal dialog that opens next; returns the problems seen.

    It holds :data:`PENDING` until a dialog has been handled, so a dialog that never
    opens fails the test. A button's mnemonic clicks it a moment later (an animated
    click), so the dialog is waited for rather than expected at once.
    """
    problems: list[str] = [PENDING]
    tries = [0]

    def run() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            tries[0] += 1
            if tries[0] < 200:
                QTimer.singleShot(10, run)
            return
        problems.clear()
        try:
            handle(dialog)
        except AssertionError as exc:  # reported after exec returns, not lost in the loop
            problems.append(str(exc) or "assertion failed")
            dialog.close()

    QTimer.singleShot(0, run)
    return problems


def test_the_model_passes_the_model_tester(view: ReviewView, qtmodeltester: ModelTester) -> None:
    qtmodeltester.check(view.model)
    assert view.model.rowCount() == 3  # the three priorities, each with something waiting


def test_the_list_is_grouped_by_priority_with_the_leads_text_beside_last_quarters(
    view: ReviewView,
) -> None:
    model = view.model
    headings = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert headings[0].startswith("PVP Protecting Vulnerable People (")
    assert view.count == 30 and _refs(view)[:3] == [FIRST, SECOND, THIRD]
    assert VALUE_REF in _refs(view)
    # The first item is selected; the detail shows its words and the previous quarter's.
    assert _current_ref(view) == FIRST
    current = view.current_pane.toPlainText()
    previous = view.previous_pane.toPlainText()
    assert "Submitted for 2024/25 Q2" in current and "Submitted · written" in current
    assert "Previous: 2024/25 Q1" in previous and "Accepted" in previous
    assert _update(view._document, FIRST).narrative.split(";")[0] in current
    # RAG as a word and a symbol, in the list and the detail.
    row = model.index_of(_update(view._document, FIRST).id)
    rag_cell = row.siblingAtColumn(3).data()
    assert rag_cell in ("\u25cf Green", "\u25c6 Amber", "\u25b2 Red")
    assert rag_cell in current
    assert "Domestic Abuse Strategic Lead" in view.heading.text()


def test_ctrl_enter_accepts_and_moves_to_the_next_item(view: ReviewView, qtbot: QtBot) -> None:
    doc = view._document
    qtbot.keyClick(view.tree, Qt.Key.Key_Down)
    assert _current_ref(view) == SECOND
    # Ctrl+Enter decides; it does not also open the action (plain Enter does).
    with qtbot.waitSignal(doc.committed), qtbot.assertNotEmitted(view.record_activated):
        qtbot.keyClick(view.tree, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert _update(doc, SECOND).state is UpdateState.ACCEPTED
    assert SECOND not in _refs(view) and view.count == 29
    assert _current_ref(view) == THIRD  # the reviewer keeps their place
    assert view.message.text().startswith(f"Accepted the update {SECOND} for 2024/25 Q2.")
    # The keypad's Enter does the same; and an undo puts the first decision back.
    with qtbot.waitSignal(doc.committed):
        qtbot.keyClick(view.tree, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    assert _update(doc, THIRD).state is UpdateState.ACCEPTED
    with qtbot.waitSignal(view.refreshed):
        doc.undo()
    assert _update(doc, THIRD).state is UpdateState.SUBMITTED
    assert THIRD in _refs(view) and view.count == 29


def test_return_asks_for_a_reason_and_sends_it_back(view: ReviewView, qtbot: QtBot) -> None:
    doc = view._document
    seen: dict[str, bool] = {}

    def answer(dialog: QWidget) -> None:
        assert isinstance(dialog, ReturnDialog)
        seen["empty"] = dialog.ok.isEnabled()
        qtbot.keyClicks(dialog.reason, "   ")
        seen["spaces"] = dialog.ok.isEnabled()
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)  # refused: still open
        seen["open"] = dialog.isVisible()
        qtbot.keyClicks(dialog.reason, "Say how many referrals came from MARAC.")
        seen["typed"] = dialog.ok.isEnabled()
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)

    problems = _in_dialog(qtbot, answer)
    qtbot.mouseClick(view.return_button, Qt.MouseButton.LeftButton)
    assert problems == []
    assert seen == {"empty": False, "spaces": False, "open": True, "typed": True}
    returned = _update(doc, FIRST)
    assert returned.state is UpdateState.RETURNED
    assert returned.review_note == "Say how many referrals came from MARAC."
    assert FIRST not in _refs(view) and _current_ref(view) == SECOND


def test_enter_opens_the_action_in_the_editor(view: ReviewView, qtbot: QtBot) -> None:
    with qtbot.waitSignal(view.record_activated) as opened:
        qtbot.keyClick(view.tree, Qt.Key.Key_Return)
    assert opened.args == ["action", _update(view._document, FIRST).action_id]
    assert _update(view._document, FIRST).state is UpdateState.SUBMITTED


def test_cancelling_the_return_changes_nothing(view: ReviewView, qtbot: QtBot) -> None:
    def cancel(dialog: QWidget) -> None:
        assert isinstance(dialog, ReturnDialog)
        qtbot.keyClicks(dialog.reason, "Half a thought")
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Escape)

    problems = _in_dialog(qtbot, cancel)
    qtbot.keyClick(view.tree, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)  # Re&turn...
    qtbot.waitUntil(lambda: problems != [PENDING])
    assert problems == []
    assert _update(view._document, FIRST).state is UpdateState.SUBMITTED
    assert view.count == 30 and _current_ref(view) == FIRST


def test_edit_then_accept_an_update(view: ReviewView, qtbot: QtBot) -> None:
    doc = view._document
    original = _update(doc, FIRST)

    def correct(dialog: QWidget) -> None:
        assert isinstance(dialog, EditThenAcceptDialog)
        assert dialog.rag_combo is not None and dialog.narrative is not None
        assert dialog.narrative.toPlainText() == original.narrative  # prefilled
        dialog.rag_combo.setFocus()
        for key in (Qt.Key.Key_Home, Qt.Key.Key_Down, Qt.Key.Key_Down):  # Not rated, Red, Amber
            qtbot.keyClick(dialog.rag_combo, key)
        assert dialog.rag_combo.currentText() == "\u25c6 Amber"
        dialog.narrative.selectAll()
        qtbot.keyClicks(dialog.narrative, "52 referrals; audit done.")
        ok = dialog.buttons.buttons()[0]
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    problems = _in_dialog(qtbot, correct)
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)
    assert problems == []
    new = _update(doc, FIRST)
    assert new.id != original.id  # a new version; the lead's words stay in the history
    assert (new.state, new.rag, new.narrative) == (
        UpdateState.ACCEPTED,
        Rag.AMBER,
        "52 referrals; audit done.",
    )
    with doc.read() as session:
        old = session.get(ActionUpdate, original.id)
        assert old is not None and not old.is_current and old.narrative == original.narrative
    assert FIRST not in _refs(view) and _current_ref(view) == SECOND


def test_an_update_accepted_as_edited_still_needs_a_narrative(
    view: ReviewView, qtbot: QtBot
) -> None:
    seen: list[str] = []

    def clear_then_cancel(dialog: QWidget) -> None:
        assert isinstance(dialog, EditThenAcceptDialog) and dialog.narrative is not None
        dialog.narrative.setFocus()
        dialog.narrative.selectAll()
        qtbot.keyClick(dialog.narrative, Qt.Key.Key_Delete)
        qtbot.mouseClick(dialog.buttons.buttons()[0], Qt.MouseButton.LeftButton)
        seen.append(dialog.error.text())
        assert dialog.isVisible() and dialog.focusWidget() is dialog.narrative
        qtbot.keyClick(dialog.narrative, Qt.Key.Key_Escape)

    problems = _in_dialog(qtbot, clear_then_cancel)
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)
    assert problems == []
    assert seen == ["Error: To accept the update, write a progress narrative."]
    assert _update(view._document, FIRST).state is UpdateState.SUBMITTED
    assert view.count == 30


def test_edit_then_accept_a_value_checks_the_figure_first(view: ReviewView, qtbot: QtBot) -> None:
    doc = view._document
    value = _value(doc, VALUE_REF)
    view._select(value.id)
    assert "England" in view.current_pane.toPlainText()  # the comparator is shown
    errors: list[str] = []

    def correct(dialog: QWidget) -> None:
        assert isinstance(dialog, EditThenAcceptDialog)
        assert dialog.value_edit is not None and dialog.note is not None
        dialog.value_edit.selectAll()
        qtbot.keyClicks(dialog.value_edit, "130")  # not a percentage
        qtbot.keyClick(dialog.value_edit, Qt.Key.Key_Return)
        errors.append(dialog.error.text())
        assert dialog.isVisible()
        dialog.value_edit.selectAll()
        qtbot.keyClicks(dialog.value_edit, "30.1")
        dialog.note.selectAll()
        qtbot.keyClicks(dialog.note, "Validated")
        qtbot.keyClick(dialog.value_edit, Qt.Key.Key_Return)

    problems = _in_dialog(qtbot, correct)
    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)
    assert problems == []
    assert errors and errors[0].startswith("Error:") and "100" in errors[0]
    stored = _value(doc, VALUE_REF)
    assert (stored.state, stored.value, stored.note) == (UpdateState.ACCEPTED, 30.1, "Validated")
    assert VALUE_REF not in _refs(view)


def test_a_refused_decision_says_why_and_changes_nothing(view: ReviewView, qtbot: QtBot) -> None:
    doc = view._document
    plan_id = view._plan_id

    with qtbot.waitSignal(view.refreshed):
        doc.edit("Archive", lambda tx: review.archive_plan(tx, tx.get(Plan, plan_id)))
    qtbot.mouseClick(view.accept_button, Qt.MouseButton.LeftButton)
    assert view.message.text().startswith("Error: The plan") and "archived" in view.message.text()
    assert _update(doc, FIRST).state is UpdateState.SUBMITTED
    assert _current_ref(view) == FIRST


def test_the_tab_shows_the_count_on_the_master_only(
    doc: PlanDocument, qtbot: QtBot, tmp_path: Path, sample_file: tuple[Path, uuid.UUID]
) -> None:
    workspace = Workspace(doc, SAMPLE_MEETING_DATE, None)
    qtbot.addWidget(workspace)
    titles = [workspace.tabs.tabText(i) for i in range(workspace.tabs.count())]
    assert titles[-1] == tab_title(30) == "To revie&w (30)"
    review_view = workspace.review
    assert review_view is not None
    with qtbot.waitSignal(review_view.refreshed):
        doc.edit(
            "Accept",
            lambda tx: review.accept(tx, tx.get(ActionUpdate, _update(doc, FIRST).id)),
        )
    assert workspace.tabs.tabText(workspace.tabs.count() - 1) == "To revie&w (29)"

    # The same plan on a lead's copy: nothing there can accept, so no tab.
    lead_path = tmp_path / "lead.sqlite"
    sqlite_backup(sample_file[0], lead_path)
    with Store.open(lead_path) as store:
        with store.transaction(keeps_history=True) as tx:
            tx.session.add(StoreMeta(key="sync_role", value=ROLE_LEAD))
    lead_store = Store.open(lead_path)
    try:
        lead = Workspace(PlanDocument(lead_store), SAMPLE_MEETING_DATE, None)
        qtbot.addWidget(lead)
        titles = [lead.tabs.tabText(i) for i in range(lead.tabs.count())]
        assert titles == ["&Plan", "&Actions", "&Measures", "My &quarter", "&Dashboard"]
        assert lead.review is None
    finally:
        lead_store.close()


def test_nothing_to_review_says_so(view: ReviewView, qtbot: QtBot) -> None:
    doc = view._document
    plan_id = view._plan_id

    def accept_all(tx: Transaction) -> None:
        updates = tx.session.scalars(
            select(ActionUpdate)
            .join(Action)
            .where(
                Action.plan_id == plan_id,
                ActionUpdate.state == UpdateState.SUBMITTED,
                ActionUpdate.is_current.is_(True),
            )
        ).all()
        values = tx.session.scalars(
            select(MeasureValue).where(MeasureValue.state == UpdateState.SUBMITTED)
        ).all()
        for record in (*updates, *values):
            review.accept(tx, record)

    with qtbot.waitSignal(view.refreshed):
        assert doc.edit("Accept all", accept_all)
    assert view.count == 0 and view.model.rowCount() == 0
    assert view.summary.text().startswith("Nothing is waiting for review")
    assert not view.accept_button.isEnabled() and not view.return_button.isEnabled()
    assert view.current_pane.toPlainText() == ""


def test_an_item_changed_since_it_was_read_is_not_accepted_unseen(
    view: ReviewView, qtbot: QtBot
) -> None:
    """Another officer (or the lead's resubmission) changes the update after the list
    read it: Ctrl+Enter is refused, naming who and what changed, and nothing is
    written; the list shows the item as it now is, and accepting that goes through."""
    doc = view._document
    assert _current_ref(view) == FIRST
    other = doc.store.another_writer()
    try:
        with other.transaction(actor="Jane Other") as tx:
            update = tx.get(ActionUpdate, _update(doc, FIRST).id)
            assert update is not None
            services.edit(tx, update, narrative="Rewritten after the list was read.")
    finally:
        other.close()
    before = doc.store.revision()
    qtbot.keyClick(view.tree, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    message = view.message.text()
    assert message.startswith("Error: ")
    assert "was changed by Jane Other on " in message
    assert "\u201cRewritten after the list was read.\u201d" in message
    assert "Nothing was saved" in message
    assert doc.store.revision() == before
    assert _update(doc, FIRST).state is UpdateState.SUBMITTED
    assert _current_ref(view) == FIRST
    with qtbot.waitSignal(doc.committed):
        qtbot.keyClick(view.tree, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert _update(doc, FIRST).state is UpdateState.ACCEPTED
