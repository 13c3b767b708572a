"""Shared fixtures: every test gets its own settings and data folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ssp_desktop.store.engine import Store

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point SSP_DESKTOP_HOME (data, config, logs, QSettings, keys) at a fresh folder,
    and keep install keys in its file store: tests never touch the real OS keyring."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SSP_DESKTOP_HOME", str(home))
    monkeypatch.setenv("SSP_DESKTOP_KEYRING", "off")
    return home


@pytest.fixture(autouse=True)
def fresh_log() -> Iterator[None]:
    """A command run through ``cli.main`` starts the log file in that test's home; detach
    it afterwards, or a later test's log would still go to the earlier (deleted) home."""
    yield
    from ssp_desktop.logs import stop_logging

    stop_logging()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "plan.sqlite"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    s = Store.open(store_path, create=True)
    yield s
    s.close()
