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


# Runs the app in smoke mode and notes, as it prints that the window is painted and then
# usable, what is loaded and whether Python's garbage collector is on.
WATCHED_START = """
import gc, sys, runpy
class Out:
    def __init__(self, real):
        self.real = real
    def write(self, text):
        if text.startswith(("main window painted at", "main window usable at")):
            when = text.split()[2]
            for name in ("sqlalchemy", "sqlalchemy.dialects.postgresql", "ssp_desktop.ui.lists"):
                self.real.write(f"{when}: {name} {name in sys.modules}\\n")
            self.real.write(f"{when}: collector {gc.isenabled()}\\n")
        return self.real.write(text)
    def flush(self):
        self.real.flush()
sys.stdout = Out(sys.stdout)
sys.argv = ["ssp-desktop", "--sample"]
runpy.run_module("ssp_desktop", run_name="__main__")
"""


def test_the_frame_is_painted_before_sqlalchemy_and_the_plan_needs_no_more(
    tmp_path: Path,
) -> None:
    """What a start with the sample plan loads, and when: nothing of SQLAlchemy before
    the frame is painted; neither PostgreSQL's dialect nor the tabs not in view by the
    time the plan is shown; the garbage collector off while starting, on after."""
    env = {
        **os.environ,
        "SSP_DESKTOP_SMOKE": "1",
        "SSP_DESKTOP_HOME": str(tmp_path),
        "QT_QPA_PLATFORM": "offscreen",
    }
    # The first start writes the sample store (its migrations load every dialect they
    # name); the second opens it, as every later start does.
    for _ in range(2):
        out = subprocess.run(
            [sys.executable, "-c", WATCHED_START],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            cwd=tmp_path,
        )
        assert out.returncode == 0, out.stderr
    seen = set(out.stdout.splitlines())
    assert {
        "painted: sqlalchemy False",
        "painted: collector False",
        "usable: sqlalchemy True",
        "usable: sqlalchemy.dialects.postgresql False",
        "usable: ssp_desktop.ui.lists False",
        "usable: collector True",
    } <= seen, out.stdout


def test_the_paused_collector_comes_back_once_and_never_against_the_callers_wish() -> None:
    import gc

    from ssp_desktop.app import pause_collector

    assert gc.isenabled()
    try:
        resume = pause_collector()
        assert not gc.isenabled()
        resume()
        assert gc.isenabled() and gc.get_freeze_count() > 0
        gc.disable()
        resume()  # a second call does nothing
        assert not gc.isenabled()
        # Off already (the caller's choice): left off.
        pause_collector()()
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


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
