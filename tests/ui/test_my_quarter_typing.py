"""My quarter never drops typing silently: changing the quarter or the role, closing the
store or quitting asks to save it as a draft, discard it, or stay.

Before, a lead who typed a progress narrative and then looked at another quarter (or
quit) lost it, while the status bar said "All changes saved"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop.app import configure_settings
from ssp_desktop.domain.enums import UpdateState
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, ActionUpdate
from ssp_desktop.sample.plan import SAMPLE_QUARTER, write_sample
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.my_quarter import MyQuarterView

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

EDU = "Education Safeguarding Lead"  # leads PVP-09, which has no 2024/25 Q2 update
TYPED = "MARAC referrals reviewed with schools"


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    with Store.open(path, create=True) as store:
        write_sample(store)
    return path


class Answers:
    """What the user will click in each question box, in turn; the questions asked."""

    def __init__(self) -> None:
        self.queue: list[QMessageBox.StandardButton] = []
        self.asked: list[str] = []

    def append(self, button: QMessageBox.StandardButton) -> None:
        self.queue.append(button)

    def exec_box(self, box: QMessageBox) -> int:
        self.asked.append(box.text())
        button = self.queue.pop(0) if self.queue else QMessageBox.StandardButton.Cancel
        return int(button.value)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Answers:
    given = Answers()
    monkeypatch.setattr(QMessageBox, "exec", lambda box: given.exec_box(box))
    return given


@pytest.fixture
def window(qtbot: QtBot, sample_file: Path, tmp_path: Path) -> Iterator[MainWindow]:
    configure_settings()
    path = tmp_path / "plan.sqlite"
    sqlite_backup(sample_file, path)
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.open_store(path)
    w.show()
    qtbot.waitExposed(w)
    yield w
    # Leave nothing to ask about when the window is closed after the test.
    view = w.workspace.my_quarter if w.workspace is not None else None
    for card in view.unsaved_cards() if view is not None else []:
        card.narrative.setPlainText("")  # type: ignore[union-attr]
    w.close_store()


def _my_quarter(window: MainWindow, qtbot: QtBot) -> MyQuarterView:
    ws = window.workspace
    assert ws is not None and ws.my_quarter is not None
    ws.tabs.setCurrentWidget(ws.my_quarter)
    view = ws.my_quarter
    with qtbot.waitSignal(view.refreshed):
        view.person_combo.setCurrentIndex(view.person_combo.findText(EDU))
    return view


def _type_narrative(view: MyQuarterView, qtbot: QtBot) -> None:
    card = view.action_card("PVP-09")
    card.narrative.setFocus()
    qtbot.keyClicks(card.narrative, TYPED)
    assert card.is_dirty()


def _stored_narrative(window: MainWindow, quarter: Quarter) -> tuple[str, UpdateState] | None:
    assert window.document is not None
    with window.document.read() as s:
        row = s.execute(
            select(ActionUpdate.narrative, ActionUpdate.state)
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(
                Action.ref == "PVP-09",
                ActionUpdate.quarter == quarter,
                ActionUpdate.is_current.is_(True),
            )
        ).first()
    return (row[0], row[1]) if row else None


def _previous_quarter_by_keyboard(view: MyQuarterView, qtbot: QtBot) -> None:
    view.quarter_combo.setFocus()
    qtbot.keyClick(view.quarter_combo, Qt.Key.Key_Up)


def test_changing_quarter_asks_and_cancel_keeps_the_typing(
    window: MainWindow, qtbot: QtBot, answers: Answers
) -> None:
    view = _my_quarter(window, qtbot)
    _type_narrative(view, qtbot)
    answers.append(QMessageBox.StandardButton.Cancel)
    _previous_quarter_by_keyboard(view, qtbot)
    asked = answers.asked
    assert len(asked) == 1 and "PVP-09" in asked[0] and SAMPLE_QUARTER.label in asked[0]
    assert view.quarter() == SAMPLE_QUARTER  # stayed
    assert view.action_card("PVP-09").typed_narrative() == TYPED
    assert _stored_narrative(window, SAMPLE_QUARTER) is None


def test_changing_quarter_and_choosing_save_keeps_a_draft_then_moves(
    window: MainWindow, qtbot: QtBot, answers: Answers
) -> None:
    view = _my_quarter(window, qtbot)
    _type_narrative(view, qtbot)
    answers.append(QMessageBox.StandardButton.Save)
    _previous_quarter_by_keyboard(view, qtbot)
    assert _stored_narrative(window, SAMPLE_QUARTER) == (TYPED, UpdateState.DRAFT)
    assert view.quarter() != SAMPLE_QUARTER  # then went where the user asked
    assert view.status is not None and view.status.quarter == view.quarter()


def test_discard_is_a_choice_the_user_makes(
    window: MainWindow, qtbot: QtBot, answers: Answers
) -> None:
    view = _my_quarter(window, qtbot)
    _type_narrative(view, qtbot)
    answers.append(QMessageBox.StandardButton.Discard)
    _previous_quarter_by_keyboard(view, qtbot)
    assert len(answers.asked) == 1
    assert view.quarter() != SAMPLE_QUARTER
    assert _stored_narrative(window, SAMPLE_QUARTER) is None


def test_quitting_with_typing_asks_and_save_keeps_it(
    window: MainWindow, qtbot: QtBot, answers: Answers
) -> None:
    view = _my_quarter(window, qtbot)
    _type_narrative(view, qtbot)
    assert window.store is not None
    path = window.store.path
    answers.append(QMessageBox.StandardButton.Cancel)
    window.close()  # Alt+F4, the close box, or File > Quit
    assert window.isVisible() and window.store is not None  # stayed; nothing lost
    answers.append(QMessageBox.StandardButton.Save)
    window.close()
    assert not window.isVisible()
    with Store.open(path) as store, store.session() as s:
        narrative = s.scalar(
            select(ActionUpdate.narrative)
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(Action.ref == "PVP-09", ActionUpdate.quarter == SAMPLE_QUARTER)
        )
    assert narrative == TYPED


def test_closing_the_store_from_the_menu_asks_too(
    window: MainWindow, qtbot: QtBot, answers: Answers
) -> None:
    view = _my_quarter(window, qtbot)
    _type_narrative(view, qtbot)
    answers.append(QMessageBox.StandardButton.Cancel)
    window.close_action.trigger()
    assert window.store is not None
    assert view.action_card("PVP-09").typed_narrative() == TYPED


def test_choosing_another_plan_asks_too(window: MainWindow, qtbot: QtBot, answers: Answers) -> None:
    view = _my_quarter(window, qtbot)
    _type_narrative(view, qtbot)
    ws = window.workspace
    assert ws is not None and ws.plan_combo.count() > 1
    shown = ws.plan_combo.currentIndex()
    answers.append(QMessageBox.StandardButton.Cancel)
    ws.plan_combo.setCurrentIndex(1 - shown if shown in (0, 1) else 0)
    assert len(answers.asked) == 1
    assert ws.plan_combo.currentIndex() == shown  # stayed on the plan being typed in
    assert ws.my_quarter is view and view.action_card("PVP-09").typed_narrative() == TYPED


def test_the_status_bar_tells_the_truth_about_typing_not_yet_saved(
    window: MainWindow, qtbot: QtBot
) -> None:
    from ssp_desktop.ui.main_window import SAVED, UNSAVED_TYPING

    view = _my_quarter(window, qtbot)
    assert window.saved_label.text() == SAVED
    _type_narrative(view, qtbot)
    assert window.saved_label.text() == UNSAVED_TYPING
    # An edit saved elsewhere does not make the typing saved.
    assert window.document is not None
    window.document.changed.emit("action", None)
    assert window.saved_label.text() == UNSAVED_TYPING
    card = view.action_card("PVP-09")
    qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    assert _stored_narrative(window, SAMPLE_QUARTER) == (TYPED, UpdateState.DRAFT)
    assert window.saved_label.text() == SAVED
    # Typing the saved words away and back is not unsaved typing either.
    card = view.action_card("PVP-09")
    card.narrative.setFocus()
    qtbot.keyClick(card.narrative, Qt.Key.Key_End)
    qtbot.keyClicks(card.narrative, "!")
    assert window.saved_label.text() == UNSAVED_TYPING
    qtbot.keyClick(card.narrative, Qt.Key.Key_Backspace)
    assert window.saved_label.text() == SAVED
