"""File > Open server store…, driven as a person does: the menu action, typing into
the fields, clicking Open; the store opens off the UI thread on the test server."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QWidget
from pytestqt.qtbot import QtBot

from ssp_desktop.app import configure_settings, ensure_sample_store
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.server_store import ServerStoreDialog
from tests.factories import mini_plan

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    configure_settings()
    w = MainWindow(open_sample=ensure_sample_store)
    qtbot.addWidget(w)
    return w


def _parts(url: str) -> tuple[str, str, str]:
    """Socket folder, database and user of a test server URL."""
    split = urlsplit(url)
    return parse_qs(split.query)["host"][0], split.path.lstrip("/"), split.username or ""


def _dialog(window: MainWindow) -> ServerStoreDialog:
    window.open_server_action.trigger()
    dialog = window.server_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def _fill(qtbot: QtBot, dialog: ServerStoreDialog, host: str, database: str, user: str) -> None:
    for field, text in ((dialog.host, host), (dialog.database, database), (dialog.user, user)):
        field.clear()
        qtbot.keyClicks(field, text)


def test_opening_a_server_store_from_the_file_menu_shows_its_plan(
    window: MainWindow, qtbot: QtBot, pg_store_url: str
) -> None:
    with Store.open(pg_store_url) as store:
        mini_plan(store)
    host, database, user = _parts(pg_store_url)
    window.show()
    dialog = _dialog(window)
    _fill(qtbot, dialog, host, database, user)
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.store is not None, timeout=30000)
    assert window.store is not None and window.store.is_server
    assert database in window.windowTitle()
    assert window.workspace is not None  # the plan is shown, as for a file
    assert not dialog.isVisible()


def test_a_server_that_refuses_says_why_in_the_dialog_and_keeps_the_fields(
    window: MainWindow, qtbot: QtBot, pg_store_url: str
) -> None:
    host, _database, user = _parts(pg_store_url)
    window.show()
    dialog = _dialog(window)
    _fill(qtbot, dialog, host, "no_such_plans", user)
    qtbot.keyClicks(dialog.password, "typed-secret")
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "no such database" in dialog.status.text(), timeout=30000)
    qtbot.waitUntil(lambda: dialog.open_button.isEnabled(), timeout=5000)
    assert dialog.isVisible() and window.store is None
    assert dialog.database.text() == "no_such_plans"
    assert "typed-secret" not in dialog.status.text()
    dialog.reject()


def test_the_dialog_asks_for_host_and_database_first(window: MainWindow, qtbot: QtBot) -> None:
    window.show()
    dialog = _dialog(window)
    dialog.host.clear()
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert "host" in dialog.status.text() and window.store is None
    dialog.reject()


def test_every_field_has_an_accessible_name_and_the_password_is_never_kept(
    window: MainWindow,
) -> None:
    dialog = _dialog(window)
    # A spin box's own line edit is Qt's, named through the spin box.
    ours = [
        w
        for w in dialog.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus
        and not isinstance(w.parentWidget(), QAbstractSpinBox)
    ]
    assert len(ours) >= 7  # five fields and two buttons
    unnamed = [
        w.metaObject().className()
        for w in ours
        if not (w.accessibleName() or (isinstance(w, QAbstractButton) and w.text()))
    ]
    assert unnamed == []
    assert dialog.password.echoMode() == dialog.password.EchoMode.Password
    assert "never saved" in dialog.password.accessibleName()
    dialog.reject()
