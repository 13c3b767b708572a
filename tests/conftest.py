"""Shared fixtures: every test gets its own settings and data folders, and the session
fails if anything was written to the real user's folders (tests/isolation.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import isolation

# Done on import, before any test module is collected or any fixture of any scope runs:
# a module-scoped fixture that starts the app or the CLI must find the sandbox already.
_REAL_FOLDERS = isolation.real_user_folders()
_SANDBOX = isolation.new_sandbox()
isolation.redirect(_SANDBOX)
_GUARD = isolation.WriteGuard(
    forbidden=_REAL_FOLDERS,
    allowed=[_SANDBOX.resolve(), Path(tempfile.gettempdir()).resolve()],
)
_GUARD.install()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from ssp_desktop.store.engine import Store  # noqa: E402 - after the folders are moved


@pytest.fixture(scope="session", autouse=True)
def nothing_written_to_real_user_folders() -> Iterator[None]:
    """Fails the session (as an error in the last test's teardown) if any test wrote
    under the real home or XDG folders."""
    yield
    _GUARD.active = False
    shutil.rmtree(_SANDBOX, ignore_errors=True)
    if _GUARD.writes:
        listing = "\n  ".join(sorted(set(_GUARD.writes))[:50])
        pytest.fail(
            "tests wrote to the real user folders "
            f"({', '.join(map(str, _REAL_FOLDERS))}):\n  {listing}",
            pytrace=False,
        )


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
