"""Opening a bundle file with the app: double-click, ``ssp-desktop FILE``, or a second
launch handing the file to the window already open."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from ssp_desktop import cli, paths
from ssp_desktop.app import configure_settings
from ssp_desktop.domain.records import Action
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.export import export_snapshot
from ssp_desktop.sync.keys import this_install
from ssp_desktop.ui.keys_ui import JoinDialog, MasterFingerprintDialog
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.single_instance import InstanceServer, pass_to_running
from ssp_desktop.ui.sync_ui import ImportBundleWizard
from tests.sync.helpers import (
    LEAD_A,
    World,
    enrol_identity,
    lead_change,
    make_world,
    master_on_this_install,
    remember,
)

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The window runs as this install: here, the master's install."""
    w = master_on_this_install(tmp_path)
    yield w
    w.close()


@pytest.fixture
def lead_world(tmp_path: Path) -> Iterator[World]:
    """The window runs as this install: here, a lead's laptop the master has enrolled."""
    w = make_world(tmp_path)
    w.keys[LEAD_A] = this_install()
    remember(w.keys[LEAD_A])
    enrol_identity(w.master, LEAD_A, w.keys[LEAD_A])
    yield w
    w.close()


def starter_for_this_install(world: World, out: Path) -> Path:
    export_snapshot(world.master, out, person=LEAD_A, themes=["PVP"], identity=world.master_keys)
    return out


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    messages: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: messages.append(text))
    return messages


def test_a_bundle_opened_on_the_master_goes_straight_to_its_preview(
    qtbot: QtBot, world: World
) -> None:
    bundle = lead_change(world, "Title from the lead")
    path = world.master.path
    world.master.close()
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.open_store(path)
    try:
        window.open_file(bundle)
        wizard = window.findChild(ImportBundleWizard)
        assert isinstance(wizard, ImportBundleWizard) and wizard.isVisible()
        assert wizard.file_page.path.text() == str(bundle)
        # No "Next" press: the preview is already being read.
        qtbot.waitUntil(wizard.preview_page.isComplete, timeout=10000)
        table = wizard.preview_page.table.model
        assert [table.line(r).record for r in range(table.rowCount())] == ["action PVP-01"]
        wizard.next()  # Import
        qtbot.waitUntil(wizard.summary_page.isComplete, timeout=10000)
        assert window.store is not None
        with window.store.session() as s:
            action = s.get(Action, world.plan.action.id)
            assert action is not None and action.title == "Title from the lead"
    finally:
        window.close_store()
        world.master = Store.open(path)


def test_a_starter_bundle_with_no_store_open_makes_the_lead_copy_and_opens_it(
    qtbot: QtBot, lead_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starter = starter_for_this_install(lead_world, tmp_path / "starter.sspbundle")
    suggested: list[str] = []

    def save_name(_parent: object, _title: str, suggestion: str, _filter: str) -> tuple[str, str]:
        suggested.append(suggestion)
        return suggestion, ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.store is None
    window.open_file(starter)
    # The copy goes where the next start looks for it, so the lead is never asked again.
    assert suggested == [str(paths.default_store_path())]
    # Before the copy is made, the lead types the fingerprint the strategy team reads.
    dialog = wait_for_master_check(qtbot, window)
    assert dialog.fingerprint.text() == lead_world.master_keys.fingerprint
    assert not dialog.import_button.isEnabled()
    dialog.typed.setFocus()
    qtbot.keyClicks(dialog.typed, lead_world.master_keys.fingerprint.lower().replace("-", " "))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.store is not None, timeout=15000)
    assert window.store is not None
    assert window.store.path == paths.default_store_path()
    assert "lead copy" in window.store_label.text()
    window.close_store()


def wait_for_master_check(qtbot: QtBot, window: MainWindow) -> MasterFingerprintDialog:
    qtbot.waitUntil(
        lambda: (
            isinstance(window.master_check, MasterFingerprintDialog)
            and window.master_check.isVisible()
        ),
        timeout=15000,
    )
    assert window.master_check is not None
    return window.master_check


def test_a_forged_starter_is_stopped_by_the_fingerprint_the_lead_is_read(
    qtbot: QtBot, lead_world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22: anyone with the lead's join request could enrol it on their own store
    and send a starter; the lead's copy trusted it. Now the lead compares the signer's
    fingerprint with the one the strategy team reads out, and a mismatch stops it."""
    from tests.sync.helpers import new_identity

    impostor = new_identity()
    out = tmp_path / "starter.sspbundle"
    export_snapshot(lead_world.master, out, person=LEAD_A, themes=["PVP"], identity=impostor)
    target = tmp_path / "copy.sqlite"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(target), ""))
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_file(out)
    dialog = wait_for_master_check(qtbot, window)
    assert dialog.fingerprint.text() == impostor.fingerprint
    # The strategy team reads their real fingerprint: it is not the one that signed this.
    dialog.typed.setFocus()
    qtbot.keyClicks(dialog.typed, lead_world.master_keys.fingerprint)
    qtbot.keyClick(dialog.import_button, Qt.Key.Key_Space)
    assert "does not match" in dialog.message.text() and dialog.isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Cancel
    assert not dialog.isVisible()
    qtbot.wait(50)
    assert window.store is None and not target.exists()


def test_a_starter_never_replaces_an_existing_file(
    qtbot: QtBot,
    lead_world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shown: list[str],
) -> None:
    starter = starter_for_this_install(lead_world, tmp_path / "starter.sspbundle")
    existing = tmp_path / "mine.sqlite"
    existing.write_bytes(b"precious")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(existing), ""))
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.import_starter(starter) is None
    assert existing.read_bytes() == b"precious"
    assert shown and "already exists" in shown[0]


def test_a_damaged_starter_is_explained_and_no_store_is_left(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shown: list[str]
) -> None:
    this_install()  # this laptop has joined, so it may have been sent a starter
    bad = tmp_path / "bad.sspbundle"
    bad.write_text("not a bundle")
    target = tmp_path / "copy.sqlite"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(target), ""))
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_file(bad)
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert "not an ssp-desktop bundle" in shown[0]
    assert window.store is None and not target.exists()


def test_a_laptop_that_has_not_joined_is_shown_how_to_join_first(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ssp_desktop import paths as paths_module

    starter = tmp_path / "starter.sspbundle"
    starter.write_bytes(b"sealed for someone")
    monkeypatch.setenv("SSP_DESKTOP_HOME", str(tmp_path / "new-laptop"))
    assert not paths_module.keys_dir().exists()
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    window.open_file(starter)
    dialog = window.findChild(JoinDialog)
    assert isinstance(dialog, JoinDialog) and dialog.isVisible()
    assert window.store is None


def test_files_that_are_not_bundles_are_refused_with_a_reason(
    qtbot: QtBot, tmp_path: Path, shown: list[str]
) -> None:
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    sheet = tmp_path / "tracker.xlsx"
    sheet.write_bytes(b"x")
    window.open_file(sheet)
    window.open_file(tmp_path / "gone.sspbundle")
    assert "not an ssp-desktop bundle" in shown[0] and "Import spreadsheet" in shown[0]
    assert "There is no file" in shown[1]
    assert window.findChild(ImportBundleWizard) is None


def test_a_second_launch_hands_its_file_to_the_running_app(qtbot: QtBot, tmp_path: Path) -> None:
    name = f"ssp-desktop-test-{uuid.uuid4().hex[:12]}"
    server = InstanceServer(name=name)
    assert server.listen()
    received: list[Path] = []
    server.file_received.connect(received.append)
    bundle = tmp_path / "from the lead.sspbundle"
    # The second launch is another process, as it is when a file is double-clicked.
    code = (
        "import sys; from pathlib import Path; "
        "from ssp_desktop.ui.single_instance import pass_to_running; "
        "sys.exit(0 if pass_to_running([Path(sys.argv[1])], name=sys.argv[2]) else 3)"
    )
    second = subprocess.Popen([sys.executable, "-c", code, str(bundle), name])
    qtbot.waitUntil(lambda: second.poll() is not None, timeout=20000)
    assert received == [bundle.absolute()]
    assert second.returncode == 0  # the first app answered: the launch exits quietly
    server.close()


def test_with_no_app_running_the_launch_opens_the_file_itself(qtbot: QtBot) -> None:
    assert pass_to_running([Path("x.sspbundle")], name=f"nobody-{uuid.uuid4().hex}") is False


def test_a_garbled_message_is_ignored(qtbot: QtBot) -> None:
    from PySide6.QtNetwork import QLocalSocket

    name = f"ssp-desktop-test-{uuid.uuid4().hex[:12]}"
    server = InstanceServer(name=name)
    assert server.listen()
    received: list[Path] = []
    server.file_received.connect(received.append)
    socket = QLocalSocket()
    socket.connectToServer(name)
    assert socket.waitForConnected(2000)
    socket.write(b'{"open": "not a list"}\n')
    socket.flush()
    qtbot.waitUntil(lambda: socket.state() == QLocalSocket.LocalSocketState.UnconnectedState)
    assert received == []
    server.close()


# -- the command line -------------------------------------------------------------------


@pytest.fixture
def gui_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    calls: list[dict[str, object]] = []

    def fake_run_gui(**kwargs: object) -> int:
        calls.append(kwargs)
        return 0

    import ssp_desktop.app

    monkeypatch.setattr(ssp_desktop.app, "run_gui", fake_run_gui)
    return calls


def test_ssp_desktop_file_opens_the_app_on_the_bundle(
    tmp_path: Path, gui_calls: list[dict[str, object]]
) -> None:
    bundle = tmp_path / "alice.sspbundle"
    bundle.write_bytes(b"x")
    assert cli.main([str(bundle)]) == 0
    assert gui_calls == [{"store": None, "sample": False, "open_file": bundle}]
    store = tmp_path / "master.sqlite"
    assert cli.main(["--store", str(store), str(bundle)]) == 0
    assert gui_calls[1] == {"store": store, "sample": False, "open_file": bundle}


def test_ssp_desktop_file_refuses_other_files_and_missing_ones(
    tmp_path: Path, gui_calls: list[dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "tracker.xlsx"
    sheet.write_bytes(b"x")
    assert cli.main([str(sheet)]) == cli.EXIT_REFUSED
    assert "xlsx import" in capsys.readouterr().err
    assert cli.main([str(tmp_path / "gone.sspbundle")]) == cli.EXIT_REFUSED
    assert "there is no bundle" in capsys.readouterr().err
    assert gui_calls == []


def test_commands_are_not_taken_for_files(tmp_path: Path) -> None:
    store = tmp_path / "demo.sqlite"
    assert cli.main(["demo", "--store", str(store)]) == 0
    assert store.exists()


def test_a_starter_into_an_empty_open_store_asks_for_the_masters_fingerprint(
    qtbot: QtBot, lead_world: World, tmp_path: Path
) -> None:
    starter = starter_for_this_install(lead_world, tmp_path / "starter.sspbundle")
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.open_store(tmp_path / "empty.sqlite", create=True)
    try:
        wizard = window.import_bundle()
        assert isinstance(wizard, ImportBundleWizard)
        wizard.file_page.path.setText(str(starter))
        wizard.next()
        qtbot.waitUntil(wizard.preview_page.isComplete, timeout=10000)
        wizard.next()  # Import: first the fingerprint check
        qtbot.waitUntil(
            lambda: wizard.master_check is not None and wizard.master_check.isVisible(),
            timeout=10000,
        )
        dialog = wizard.master_check
        assert dialog is not None
        dialog.confirm.setFocus()
        qtbot.keyClick(dialog.confirm, Qt.Key.Key_Space)  # compared group for group
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(wizard.summary_page.isComplete, timeout=15000)
        assert wizard.result_ is not None and wizard.result_.applied
        assert window.store is not None
        with window.store.session() as s:
            assert s.get(Action, lead_world.plan.action.id) is not None
    finally:
        window.close_store()
