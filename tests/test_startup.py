"""Start-up stays light: the window's modules do not pull in the heavy libraries, and the
app comes up and says so in smoke mode (what the packaged app's smoke test runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("pyqtgraph", "reportlab", "pandas", "openpyxl", "pypdf", "pikepdf", "keyring")


def test_the_main_window_imports_no_heavy_library() -> None:
    code = (
        "import sys, ssp_desktop.cli, ssp_desktop.app, ssp_desktop.ui.main_window;"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""


def test_smoke_mode_shows_the_window_and_exits(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SSP_DESKTOP_SMOKE": "1",
        "SSP_DESKTOP_HOME": str(tmp_path),
        "QT_QPA_PLATFORM": "offscreen",
    }
    out = subprocess.run(
        [sys.executable, "-m", "ssp_desktop", "--sample"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr
    assert "main window shown: " in out.stdout
    assert (tmp_path / "logs" / "ssp-desktop.log").exists()


def test_opening_a_current_store_does_not_import_alembic(tmp_path: Path) -> None:
    from ssp_desktop.models.store import Store, _alembic_revisions, revisions

    assert revisions() == _alembic_revisions("ssp_desktop.models:migrations")
    path = tmp_path / "plan.sqlite"
    Store.open(path, create=True).close()
    code = (
        "import sys; from pathlib import Path; from ssp_desktop.models.store import Store;"
        f"Store.open(Path({str(path)!r})).close();"
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"
