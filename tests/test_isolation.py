"""The test suite's own promise: nothing it runs writes to the real user's folders."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import platformdirs
import pytest

from ssp_desktop import paths
from tests import conftest, isolation


def test_every_user_folder_points_into_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    # Even with the per-test SSP_DESKTOP_HOME gone, platformdirs' answers are the
    # sandbox's: HOME and the XDG folders were moved before any test module was loaded.
    monkeypatch.delenv("SSP_DESKTOP_HOME")
    for folder in (paths.data_dir(), paths.config_dir(), paths.log_dir()):
        assert not any(
            str(folder.resolve()).startswith(str(real)) for real in conftest._REAL_FOLDERS
        ), folder
        assert str(folder).startswith(str(conftest._SANDBOX))
    assert Path(platformdirs.user_config_dir("QtProject")).is_relative_to(conftest._SANDBOX)


def test_the_guard_catches_writes_and_lets_reads_through(tmp_path: Path) -> None:
    real = tmp_path / "someone's home"
    real.mkdir()
    (real / "notes.txt").write_text("theirs", encoding="utf-8")
    guard = isolation.WriteGuard(forbidden=[real], allowed=[real / "scratch"])
    guard.install()
    try:
        assert (real / "notes.txt").read_text(encoding="utf-8") == "theirs"
        os.close(os.open(real / "notes.txt", os.O_RDONLY))
        (real / "scratch").mkdir()
        (real / "scratch" / "ok.txt").write_text("allowed", encoding="utf-8")
        assert guard.writes == [], "reads and allowed folders are not writes"

        (real / "log.txt").write_text("written", encoding="utf-8")
        os.close(os.open(real / "raw.bin", os.O_WRONLY | os.O_CREAT))
        (real / "settings").mkdir()
        sqlite3.connect(real / "store.sqlite").close()
    finally:
        guard.active = False
    assert [w.split(" ", 1)[0] for w in guard.writes] == [
        "open",
        "open",
        "os.mkdir",
        "sqlite3.connect",
    ]
    assert all(str(real) in w for w in guard.writes)
