"""The sync tables arrive by migration: a store made before them upgrades in place."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import inspect, select

from ssp_desktop.domain.records import Action
from ssp_desktop.domain.sync_records import SyncConflict, SyncKey
from ssp_desktop.store.engine import Store
from tests.factories import mini_plan

MIGRATIONS_DIR = Path(__file__).parents[2] / "ssp_desktop" / "store" / "migrations"


def test_a_store_from_before_sync_upgrades_and_keeps_its_plan(tmp_path: Path) -> None:
    only_0001 = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, only_0001, ignore=shutil.ignore_patterns("__pycache__"))
    for script in (only_0001 / "versions").glob("*.py"):
        if not script.name.startswith("0001"):
            script.unlink()
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True, script_location=str(only_0001)) as old:
        mini_plan(old)
        assert "sync_conflict" not in inspect(old.engine).get_table_names()

    with Store.open(path) as store:
        assert store.backup_path is not None and store.backup_path.exists()
        tables = set(inspect(store.engine).get_table_names())
        assert {"sync_lead", "sync_bundle", "sync_conflict", "sync_processed"} <= tables
        with store.session() as s:
            assert s.scalars(select(Action.ref)).all() == ["PVP-01"]
            assert s.scalars(select(SyncConflict)).all() == []


def test_a_store_from_issue_6_upgrades_to_hold_keys(tmp_path: Path) -> None:
    only_0002 = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, only_0002, ignore=shutil.ignore_patterns("__pycache__"))
    for script in (only_0002 / "versions").glob("*.py"):
        if not script.name.startswith(("0001", "0002")):
            script.unlink()
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True, script_location=str(only_0002)) as old:
        mini_plan(old)
        assert "sync_key" not in inspect(old.engine).get_table_names()
    with Store.open(path) as store:
        assert "sync_key" in inspect(store.engine).get_table_names()
        with store.session() as s:
            assert s.scalars(select(Action.ref)).all() == ["PVP-01"]
            assert s.scalars(select(SyncKey)).all() == []
