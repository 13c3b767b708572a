"""A keyboard and screen-reader pass over every screen, at the council laptop's size.

Each tab, each kind of record's editor, the start page and each dialog is walked by
pressing Tab as a person does. It fails on a control Tab reaches that Qt's
accessibility tree (what AT-SPI gives a screen reader) has no name for, on a control Tab
never reaches (a trap: before, the history table took Tab cell by cell for ever), on a
Tab order that jumps back up the page, and on one Alt+letter doing two things."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QCoreApplication, QModelIndex
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings, ensure_sample_store
from ssp_desktop.ui.dialogs import NewPlanDialog
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.navigator import ENTITY_ROLE, ID_ROLE
from ssp_desktop.ui.workspace import Workspace
from tests.ui import keyboard as kb

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

LAPTOP = (1366, 768)


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    configure_settings()
    w = MainWindow(open_sample=ensure_sample_store)
    qtbot.addWidget(w)
    w.resize(*LAPTOP)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def sample(window: MainWindow) -> Workspace:
    window.sample_action.trigger()
    assert window.workspace is not None
    return window.workspace


def assert_walkable(qtbot: QtBot, screen: str, root: QWidget, start: QWidget) -> list[QWidget]:
    """Walk ``root`` from ``start`` with Tab and check names, reach, order and keys."""
    QCoreApplication.processEvents()
    stops = kb.focusable(root)
    assert stops, f"{screen}: nothing to reach by keyboard"
    assert kb.unnamed(root) == [], f"{screen}: controls without an accessible name"
    walk = kb.press_tab(qtbot, start, 2 * len(kb.focusable(root.window())) + 4)
    assert kb.trapped(walk, stops) == [], f"{screen}: Tab never reaches these"
    sequence = walk.one_pass()
    assert kb.out_of_reading_order(sequence, root) == [], f"{screen}: Tab jumps back up"
    assert kb.shared_mnemonics(root.window()) == {}, f"{screen}: one Alt+letter, two things"
    assert kb.literal_ampersands(root.window()) == [], f"{screen}: a literal & in a label"
    assert kb.clipped_labels(root.window()) == [], f"{screen}: text cut off"
    return sequence


def record_kinds(ws: Workspace) -> dict[str, object]:
    """The first record of each kind in the navigator."""
    model = ws.navigator_model
    kinds: dict[str, object] = {}

    def visit(parent: QModelIndex) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            entity = index.data(ENTITY_ROLE)
            if entity and entity not in kinds:
                kinds[entity] = index.data(ID_ROLE)
            visit(index)

    visit(QModelIndex())
    return kinds


def test_the_start_page_is_walkable(window: MainWindow, qtbot: QtBot) -> None:
    page = window.pages.currentWidget()
    assert page is not None
    assert_walkable(qtbot, "start page", page, window.sample_button)


def test_every_editor_in_the_plan_tab_is_walkable_in_reading_order(
    window: MainWindow, sample: Workspace, qtbot: QtBot
) -> None:
    kinds = record_kinds(sample)
    assert {"plan", "priority", "action", "measure", "funding_award", "person"} <= set(kinds)
    for entity, record_id in kinds.items():
        sample.select_record(record_id)  # type: ignore[arg-type]
        sequence = assert_walkable(qtbot, f"{entity} editor", window, sample.plan_combo)
        editor = sample.editor
        assert editor is not None
        # Navigator, then the editor's fields from the top, then the history.
        after_navigator = sequence[sequence.index(sample.navigator) + 1]
        assert editor.isAncestorOf(after_navigator), (entity, kb.describe(after_navigator))
        fields = [w for w in sequence if editor.isAncestorOf(w)]
        assert sequence.index(sample.history.view) > sequence.index(fields[-1])


def test_tab_leaves_the_history_table_at_once(sample: Workspace, qtbot: QtBot) -> None:
    """Before: navigator -> editor scroll area -> history, then cell by cell for ever."""
    kinds = record_kinds(sample)
    sample.select_record(kinds["action"])  # type: ignore[arg-type]
    walk = kb.press_tab(qtbot, sample.history.view, 1)
    assert walk.visited[0] is not sample.history.view
    walk = kb.press_tab(qtbot, sample.navigator, 1)
    assert walk.visited[0].objectName() == "refInput"  # the action's first field


def test_every_tab_is_walkable(window: MainWindow, sample: Workspace, qtbot: QtBot) -> None:
    for index in range(1, sample.tabs.count()):
        sample.tabs.setCurrentIndex(index)
        page = sample.tabs.currentWidget()
        if page is sample.my_quarter:
            view = sample.my_quarter
            assert view is not None
            with qtbot.waitSignal(view.refreshed):
                view.person_combo.setCurrentIndex(
                    view.person_combo.findText("Domestic Abuse Strategic Lead")
                )
        assert_walkable(qtbot, sample.tabs.tabText(index), page, sample.plan_combo)


def _open_dialog(window: MainWindow, open_it: Callable[[], object]) -> QDialog:
    before = set(QApplication.topLevelWidgets())
    open_it()
    QCoreApplication.processEvents()
    dialogs = [
        w
        for w in QApplication.topLevelWidgets()
        if w not in before and isinstance(w, QDialog) and w.isVisible()
    ]
    assert len(dialogs) == 1, dialogs
    return dialogs[0]


def test_every_dialog_is_walkable(window: MainWindow, sample: Workspace, qtbot: QtBot) -> None:
    openers: dict[str, Callable[[], object]] = {
        "board pack": window.board_pack_action.trigger,
        "import bundle": window.import_action.trigger,
        "export bundle": window.export_action.trigger,
        "enrol": window.enrol_action.trigger,
        "conflicts": window.conflicts_action.trigger,
        "keys": window.keys_action.trigger,
        "import spreadsheet": window.import_sheet_action.trigger,
        "new plan": lambda: NewPlanDialog("Safer Stockport", parent=window).show(),
        "join": lambda: window.join(),
        "search": window.search_action.trigger,
    }
    for name, open_it in openers.items():
        dialog = _open_dialog(window, open_it)
        stops = kb.focusable(dialog)
        assert_walkable(qtbot, name, dialog, stops[0])
        dialog.reject()
        QCoreApplication.processEvents()


def test_the_accessibility_tree_names_every_control_tab_reaches(
    window: MainWindow, sample: Workspace
) -> None:
    """Walk Qt's accessibility tree from the window, as AT-SPI does, and find each
    focusable control in it with a name and a role."""
    kinds = record_kinds(sample)
    sample.select_record(kinds["action"])  # type: ignore[arg-type]
    QCoreApplication.processEvents()
    found: dict[int, tuple[str, QAccessible.Role]] = {}

    def visit(interface: QAccessible.QAccessibleInterface, depth: int) -> None:
        if interface is None or not interface.isValid() or depth > 40:
            return
        obj = interface.object()
        if isinstance(obj, QWidget):
            found[id(obj)] = (interface.text(QAccessible.Text.Name), interface.role())
        for i in range(interface.childCount()):
            visit(interface.child(i), depth + 1)

    root = QAccessible.queryAccessibleInterface(window)
    assert root is not None
    visit(root, 0)
    editor = sample.editor
    assert editor is not None
    for widget in kb.focusable(editor):
        assert id(widget) in found, f"{kb.describe(widget)} is not in the accessibility tree"
        name, role = found[id(widget)]
        assert name.strip(), kb.describe(widget)
        assert role != QAccessible.Role.NoRole, kb.describe(widget)


def test_alt_p_is_the_plan_tab_only(window: MainWindow, sample: Workspace) -> None:
    """Alt+P is the Plan tab only; the plan picker has its own key."""
    keys = kb.mnemonics(window)
    assert len(keys["p"]) == 1 and "Plan" in keys["p"][0]
    assert "l" in keys
