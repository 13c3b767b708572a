"""The workspace builds only the tab in view: the others when a person first shows one,
from the store as it is then, with their titles (and the review count) there from the
start and kept current, also when another writer commits."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.app import configure_settings, ensure_sample_store
from ssp_desktop.domain.enums import UpdateState
from ssp_desktop.domain.records import Action, ActionUpdate
from ssp_desktop.services import review
from ssp_desktop.ui.dashboard import DashboardView
from ssp_desktop.ui.lists import ActionListWidget, MeasureListWidget
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.my_quarter import MyQuarterView
from ssp_desktop.ui.review import ReviewView
from ssp_desktop.ui.review_tab import tab_title
from ssp_desktop.ui.workspace import Workspace

VIEWS = (ActionListWidget, MeasureListWidget, MyQuarterView, DashboardView, ReviewView)
TITLES = ["&Plan", "&Actions", "&Measures", "My &quarter", "&Dashboard"]


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    configure_settings()
    w = MainWindow(open_sample=ensure_sample_store)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.sample_action.trigger()
    return w


def _workspace(window: MainWindow) -> Workspace:
    assert window.workspace is not None
    return window.workspace


def built(window: MainWindow) -> list[str]:
    """The tabs' views that exist in the window, by class name."""
    return sorted(type(w).__name__ for w in window.findChildren(QWidget) if isinstance(w, VIEWS))


def titles(ws: Workspace) -> list[str]:
    return [ws.tabs.tabText(i) for i in range(ws.tabs.count())]


def waiting(ws: Workspace) -> int:
    last = titles(ws)[-1]
    assert last.startswith("To revie&w (")
    return int(last.removeprefix("To revie&w (").removesuffix(")"))


def test_opening_a_plan_builds_the_plan_tab_alone_and_each_tab_when_shown(
    window: MainWindow, qtbot: QtBot
) -> None:
    ws = _workspace(window)
    # Every tab is there to choose, the review count too; no view is built yet.
    assert titles(ws)[:-1] == TITLES
    assert waiting(ws) > 0
    assert built(window) == []
    assert ws.tabs.currentIndex() == 0 and ws.navigator.isVisible()

    # A click on the Actions tab: its list is built, shown and filled, in the tab's place.
    bar = ws.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    page = ws.tabs.currentWidget()
    assert isinstance(page, ActionListWidget) and page.isVisible()
    assert page.view.model().rowCount() > 0
    assert ws.tabs.currentIndex() == 1 and titles(ws)[1] == "&Actions"
    assert built(window) == ["ActionListWidget"]

    # Keys as a person presses them: Ctrl+Tab to the next tab builds that one.
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(ws.tabs.currentWidget(), MeasureListWidget)
    assert ws.tabs.currentWidget().isVisible()
    assert built(window) == ["ActionListWidget", "MeasureListWidget"]

    # The review list, once built, counts for its tab's title as before.
    count = waiting(ws)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(ws.tabs.count() - 1).center())
    view = ws.tabs.currentWidget()
    assert isinstance(view, ReviewView) and view.count == count
    assert titles(ws)[-1] == tab_title(count)
    # Back to the plan: what was built stays built, the rest still waits.
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(0).center())
    assert ws.tabs.currentIndex() == 0
    assert built(window) == ["ActionListWidget", "MeasureListWidget", "ReviewView"]
    assert titles(ws)[:-1] == TITLES


def test_tabs_not_yet_shown_follow_another_writers_commit(window: MainWindow, qtbot: QtBot) -> None:
    ws = _workspace(window)
    store = window.store
    assert store is not None and ws.plan_id is not None
    before = waiting(ws)
    with store.session() as s:
        update_id, action_id = s.execute(
            select(ActionUpdate.id, Action.id)
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(
                Action.plan_id == ws.plan_id,
                ActionUpdate.state == UpdateState.SUBMITTED,
                ActionUpdate.is_current.is_(True),
            )
            .limit(1)
        ).one()
    assert isinstance(update_id, uuid.UUID)

    # Another officer accepts an update and renames its action.
    second = store.another_writer()
    try:
        with second.transaction(actor="Jane Other") as tx:
            update = tx.get(ActionUpdate, update_id)
            action = tx.get(Action, action_id)
            assert update is not None and action is not None
            review.accept(tx, update)
            services.edit(tx, action, title="Renamed by another officer")
    finally:
        second.close()

    # The unbuilt review tab's count follows (the window polls every two seconds)...
    qtbot.waitUntil(lambda: waiting(ws) == before - 1, timeout=6000)
    assert built(window) == []
    # ...and the Actions tab, first shown now, lists the action as it is now.
    bar = ws.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    page = ws.tabs.currentWidget()
    assert isinstance(page, ActionListWidget)
    model = page.view.model()
    shown = {model.index(r, c).data() for r in range(model.rowCount()) for c in range(3)}
    assert "Renamed by another officer" in shown


def test_a_tab_asked_for_by_the_window_is_built_without_coming_into_view(
    window: MainWindow,
) -> None:
    ws = _workspace(window)
    my_quarter = ws.my_quarter
    assert isinstance(my_quarter, MyQuarterView)
    assert ws.tabs.indexOf(my_quarter) == 3 and ws.tabs.currentIndex() == 0
    assert not my_quarter.isVisible()
    assert built(window) == ["MyQuarterView"]
    assert ws.my_quarter is my_quarter  # built once
    assert not ws.has_unsaved_typing()
