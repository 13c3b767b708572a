"""Other programs beside the open app: a database browser, a backup tool, ``sqlite3``.

The hazard (issue 21): POSIX drops all of a process's locks on a file when any of its
descriptors on that file is closed. Qt's file dialog listing the store's folder does
exactly that, and afterwards an outside SQLite reader, on closing, believed it was the
last user and deleted the WAL the app was still writing: later edits were invisible to
everyone else and lost on a crash. These tests do what a user does, in that order.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.records import Action
from ssp_desktop.store import lock as lock_module
from ssp_desktop.store.engine import Store
from ssp_desktop.store.integrity import check_store
from tests.factories import mini_plan

pytestmark = pytest.mark.skipif(
    not lock_module.ofd_locks_available(),
    reason="the hazard and its cure are POSIX-lock specific (Linux); Windows locks per handle",
)

OUTSIDE_READER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1])
    print(conn.execute("SELECT title FROM action WHERE ref = 'PVP-01'").fetchone()[0])
    conn.close()
    """
)


def outside_read_title(path: Path) -> str:
    """What a separate program (here: another Python with the stdlib sqlite3) reads."""
    done = subprocess.run(
        [sys.executable, "-c", OUTSIDE_READER, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def rename_action(store: Store, title: str) -> None:
    with store.transaction(actor="test") as tx:
        action = tx.session.scalars(select(Action).where(Action.ref == "PVP-01")).one()
        services.edit(tx, action, title=title)


def list_folder_in_file_dialog(qtbot: QtBot, folder: Path) -> None:
    """Show Qt's own file dialog on the folder and wait until it has listed (and so
    sniffed) the store's files, as the app's Open and Save dialogs do."""
    from PySide6.QtWidgets import QFileDialog, QFileSystemModel

    dialog = QFileDialog(None, "Open a plan store", str(folder), "Plan stores (*.sqlite)")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    qtbot.addWidget(dialog)
    dialog.show()
    model = dialog.findChild(QFileSystemModel)
    assert model is not None
    qtbot.waitUntil(lambda: model.rowCount(model.index(str(folder))) >= 1, timeout=10_000)
    qtbot.wait(300)  # the icon and type columns are filled in after the listing
    dialog.close()


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the offscreen platform's own remark
def test_file_dialog_then_outside_reader_loses_nothing(qtbot: QtBot, store_path: Path) -> None:
    store = Store.open(store_path, create=True)
    try:
        mini_plan(store)
        rename_action(store, "Before the dialog")
        # Qt 6 opens and closes the store, its -wal and its -shm while listing them.
        list_folder_in_file_dialog(qtbot, store_path.parent)

        assert outside_read_title(store_path) == "Before the dialog"
        assert Path(f"{store_path}-wal").exists(), "the outside reader deleted the app's WAL"

        rename_action(store, "After the outside reader")
        assert outside_read_title(store_path) == "After the outside reader"
        assert check_store(store) == []
    finally:
        store.close()
    with Store.open(store_path) as again:
        with again.session() as s:
            assert s.scalars(select(Action.title).where(Action.ref == "PVP-01")).one() == (
                "After the outside reader"
            )
        assert check_store(again) == []


APP_THAT_CRASHES = textwrap.dedent(
    """
    import os, sys
    from sqlalchemy import select
    from ssp_desktop import services
    from ssp_desktop.domain.records import Action
    from ssp_desktop.store.engine import Store

    path = sys.argv[1]
    store = Store.open(path)
    for suffix in ("", "-wal", "-shm"):  # what a file dialog does to the locks
        os.close(os.open(path + suffix, os.O_RDONLY))
    print("ready", flush=True)
    sys.stdin.readline()  # the outside reader runs now
    with store.transaction(actor="test") as tx:
        action = tx.session.scalars(select(Action).where(Action.ref == "PVP-01")).one()
        services.edit(tx, action, title="Saved before the crash")
    print("saved", flush=True)
    sys.stdin.readline()  # killed here, never closed
    """
)


def test_an_edit_after_an_outside_reader_survives_a_crash(store_path: Path) -> None:
    with Store.open(store_path, create=True) as store:
        mini_plan(store)
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(
        [sys.executable, "-c", APP_THAT_CRASHES, str(store_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    ) as app:
        try:
            assert app.stdout is not None and app.stdin is not None
            assert app.stdout.readline().strip() == "ready"
            outside_read_title(store_path)
            app.stdin.write("\n")
            app.stdin.flush()
            assert app.stdout.readline().strip() == "saved"
            app.send_signal(signal.SIGKILL)
            app.wait(timeout=30)
        finally:
            if app.poll() is None:
                app.kill()
    assert outside_read_title(store_path) == "Saved before the crash"
    with Store.open(store_path) as again:
        assert check_store(again) == []


def test_without_the_hold_the_outside_reader_deletes_the_wal(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hazard itself, so the tests above cannot pass for a reason of their own: with
    the hold switched off, the same steps lose the edit."""
    monkeypatch.setattr(lock_module.StoreLock, "hold", lambda self: None)
    store = Store.open(store_path, create=True)
    try:
        mini_plan(store)
        rename_action(store, "Before")
        for suffix in ("", "-wal", "-shm"):
            os.close(os.open(f"{store_path}{suffix}", os.O_RDONLY))
        outside_read_title(store_path)
        assert not Path(f"{store_path}-wal").exists()
        rename_action(store, "Lost")
        assert outside_read_title(store_path) == "Before"
    finally:
        store.close()
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{store_path}{suffix}").unlink(missing_ok=True)


def test_closing_folds_the_wal_and_leaves_only_the_store(store_path: Path) -> None:
    with Store.open(store_path, create=True) as store:
        mini_plan(store)
    leftovers = sorted(p.name for p in store_path.parent.iterdir())
    assert leftovers == ["plan.sqlite", "plan.sqlite.lock"]
    conn = sqlite3.connect(store_path)
    try:
        assert conn.execute("SELECT count(*) FROM action").fetchone() == (1,)
    finally:
        conn.close()
