"""A full disk is named as such, even when SQLite only says "disk I/O error".

Growing the WAL or its index on a full filesystem fails in SQLite as an I/O error, not
SQLITE_FULL (found by benchmarks/crash_suite.py on a full tmpfs); the user must still
read that the disk is full and that nothing was saved.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from ssp_desktop.domain.errors import StoreError, StoreFullError
from ssp_desktop.store import engine
from ssp_desktop.store.engine import translate


def fake_free_space(monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    def statvfs(path: str | os.PathLike[str]) -> SimpleNamespace:
        return SimpleNamespace(f_bavail=free // 4096, f_frsize=4096)

    monkeypatch.setattr(engine.os, "statvfs", statvfs)


def test_an_io_error_on_a_nearly_full_disk_says_the_disk_is_full(
    monkeypatch: pytest.MonkeyPatch, store_path: Path
) -> None:
    fake_free_space(monkeypatch, 64 * 1024)
    error = translate(sqlite3.OperationalError("disk I/O error"), store_path)
    assert isinstance(error, StoreFullError)
    assert "disk is full" in str(error) and "not saved" in str(error)


def test_an_io_error_with_room_to_spare_is_not_called_a_full_disk(
    monkeypatch: pytest.MonkeyPatch, store_path: Path
) -> None:
    fake_free_space(monkeypatch, 10 << 30)
    error = translate(sqlite3.OperationalError("disk I/O error"), store_path)
    assert not isinstance(error, StoreFullError)
    assert isinstance(error, StoreError) and "not saved" in str(error)


def test_sqlite_full_is_a_full_disk_without_looking(store_path: Path) -> None:
    error = translate(sqlite3.OperationalError("database or disk is full"))
    assert isinstance(error, StoreFullError)
