"""Start-up stays light: the window's modules do not pull in the heavy libraries, and the
app comes up and says so in smoke mode (what the packaged app's smoke test runs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_the_window_frame_is_built_before_the_store_and_orm_load() -> None:
    """The frame is painted first: the window's module leaves the store, SQLAlchemy and
    the sync code to be imported when a store is opened."""
    code = (
        "import sys, ssp_desktop.cli, ssp_desktop.app, ssp_desktop.ui.main_window;"
        "print(','.join(m for m in ('sqlalchemy', 'ssp_desktop.store.engine',"
        " 'ssp_desktop.ui.sync_ui', 'cryptography') if m in sys.modules))"
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
    assert "main window shown: sample-plan.sqlite" in out.stdout
    # The frame is painted before the plan is loaded into it.
    lines = out.stdout.splitlines()
    painted = next(i for i, t in enumerate(lines) if t.startswith("main window painted at "))
    usable = next(i for i, t in enumerate(lines) if t.startswith("main window usable at "))
    assert painted < usable
    assert float(lines[painted].split()[-1]) <= float(lines[usable].split()[-1])
    assert (tmp_path / "logs" / "ssp-desktop.log").exists()


def test_opening_a_current_store_does_not_import_alembic(tmp_path: Path) -> None:
    from ssp_desktop.store.engine import Store, _alembic_revisions, revisions

    assert revisions() == _alembic_revisions("ssp_desktop.store:migrations")
    path = tmp_path / "plan.sqlite"
    Store.open(path, create=True).close()
    code = (
        "import sys; from pathlib import Path; from ssp_desktop.store.engine import Store;"
        f"Store.open(Path({str(path)!r})).close();"
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "False"


def test_smoke_mode_with_a_bundle_opens_the_import_wizard_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a double-click runs: ``ssp-desktop --store MASTER FILE`` shows the wizard,
    which reads the bundle and previews it (here, a lead's change of one title)."""
    from ssp_desktop import services
    from ssp_desktop.domain.records import Action
    from ssp_desktop.store.engine import Store
    from ssp_desktop.sync.export import export_changes
    from ssp_desktop.sync.keys import this_install
    from tests.sync.helpers import LEAD_A, make_world, remember

    # The app below runs as the master's install: its keys are in this home.
    monkeypatch.setenv("SSP_DESKTOP_HOME", str(tmp_path / "home"))
    world = make_world(tmp_path)
    world.master_keys = this_install()
    remember(world.master_keys)
    lead = world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Changed on the lead's laptop")
    bundle = tmp_path / "alice.sspbundle"
    export_changes(lead, bundle, identity=world.keys[LEAD_A])
    master = world.master.path
    world.close()
    env = {
        **os.environ,
        "SSP_DESKTOP_SMOKE": "1",
        "SSP_DESKTOP_HOME": str(tmp_path / "home"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    out = subprocess.run(
        [sys.executable, "-m", "ssp_desktop", "--store", str(master), str(bundle)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr
    assert "main window shown: " in out.stdout
    assert "import wizard shown: " in out.stdout
    assert "1 updated" in out.stdout, out.stdout
    with Store.open(master) as store, store.session() as s:  # previewed, not yet imported
        action = s.get(Action, world.plan.action.id)
        assert action is not None and action.title != "Changed on the lead's laptop"
