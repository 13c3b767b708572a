"""The sync tables arrive by migration: a store made before them upgrades in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import inspect, select

from ssp_desktop.domain.records import Action
from ssp_desktop.domain.sync_records import SyncConflict, SyncKey
from ssp_desktop.store.engine import Store, _alembic_config
from tests.factories import mini_plan


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()


def _old_store(path: Path, revision: str) -> None:
    """A store holding the mini plan, taken back to an older schema by its migrations'
    own downgrades (today's records cannot be written into an old schema directly)."""
    from alembic import command

    with Store.open(path, create=True) as store:
        mini_plan(store)
        cfg = _alembic_config()
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)


def test_a_store_from_before_sync_upgrades_and_keeps_its_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite"
    _old_store(path, "0001")
    assert "sync_conflict" not in _tables(path)
    with Store.open(path) as store:
        assert store.backup_path is not None and store.backup_path.exists()
        tables = set(inspect(store.engine).get_table_names())
        assert {"sync_lead", "sync_bundle", "sync_conflict", "sync_processed"} <= tables
        with store.session() as s:
            assert s.scalars(select(Action.ref)).all() == ["PVP-01"]
            assert s.scalars(select(SyncConflict)).all() == []


def test_a_store_from_issue_6_upgrades_to_hold_keys(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite"
    _old_store(path, "0002")
    assert "sync_key" not in _tables(path)
    with Store.open(path) as store:
        assert "sync_key" in inspect(store.engine).get_table_names()
        with store.session() as s:
            assert s.scalars(select(Action.ref)).all() == ["PVP-01"]
            assert s.scalars(select(SyncKey)).all() == []
