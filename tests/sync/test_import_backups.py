"""A bundle import's backup: where it goes, what is pruned, and a backup folder that
cannot take it refuses the import with nothing changed."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from ssp_desktop import services
from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.records import Action
from ssp_desktop.progress import Progress
from ssp_desktop.store.backup import store_anchor
from ssp_desktop.sync.importer import import_bundle
from tests.sync.helpers import World, lead_change, revision


def test_the_import_names_its_backup_and_prunes_old_ones(world: World) -> None:
    bundle = lead_change(world, "Title from the lead")
    now = time.time()
    # Beside the file, or in the data folder's backups/ for a server store (pg_dump).
    anchor = store_anchor(world.master)
    suffix = ".sqlite" if world.master.path is not None else ".pgdump"
    anchor.parent.mkdir(parents=True, exist_ok=True)
    old = anchor.parent / f"{anchor.stem}.backup-20250101-000000-before-bundle-0badf00d{suffix}"
    old.write_bytes(b"old")
    os.utime(old, (now - 90 * 86400, now - 90 * 86400))
    world.master.set_meta(backup_keep_last="1")
    result = world.to_master(bundle)
    assert result.applied and result.backups is not None
    assert result.backups.path == result.backup_path and result.backup_path.is_file()
    assert result.backups.removed == [old] and not old.exists()
    assert result.backups.count == 1
    assert result.backups.total_bytes == result.backup_path.stat().st_size


def test_a_backup_folder_that_is_not_there_refuses_the_import(world: World) -> None:
    bundle = lead_change(world, "Title from the lead")
    world.master.set_meta(backup_folder=str(world.folder / "gone"))
    before = revision(world.master)
    with pytest.raises(BundleError, match=r"backup folder .*gone does not exist\. Nothing was"):
        world.to_master(bundle)
    assert revision(world.master) == before
    assert list(world.folder.rglob("*.backup-*")) == []


def test_a_backup_folder_can_be_elsewhere(world: World, tmp_path: Path) -> None:
    bundle = lead_change(world, "Title from the lead")
    elsewhere = tmp_path / "backups"
    elsewhere.mkdir()
    world.master.set_meta(backup_folder=str(elsewhere))
    result = world.to_master(bundle)
    assert result.backups is not None and result.backups.path.parent == elsewhere
    assert f"Import backups in {elsewhere}: 1" in "\n".join(result.backups.lines())


def _action_in_backup(backup: Path, action_id: uuid.UUID) -> tuple[str, str, int]:
    """The action's title and description in a backup file, and how many change-log rows
    there came from bundles; the file must pass SQLite's integrity check."""
    con = sqlite3.connect(backup)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        title, description = con.execute(
            "SELECT title, description FROM action WHERE id = ?", (action_id.hex,)
        ).fetchone()
        (merged,) = con.execute(
            "SELECT count(*) FROM change_log WHERE source LIKE 'bundle:%'"
        ).fetchone()
        return str(title), str(description), int(merged)
    finally:
        con.close()


@pytest.mark.sqlite_only  # reads the backup file itself
def test_the_backup_is_the_store_the_import_was_applied_to(world: World) -> None:
    """The copy is made while the import applies its plan: it holds what the store held
    when the import began (an edit saved after the preview included), none of the
    import's own writes."""
    bundle = world.read(lead_change(world, "Title from the lead"))

    def strategy_team_edits(_done: int, _total: int, text: str) -> None:
        if text.startswith("Taking a backup"):  # after the preview, before the import
            with world.master.transaction(actor="strategy") as tx:
                action = tx.get(Action, world.plan.action.id)
                assert action is not None
                services.edit(tx, action, description="Saved by the strategy team")

    result = import_bundle(world.master, bundle, progress=Progress(strategy_team_edits))
    assert result.applied and result.backup_path is not None
    assert _action_in_backup(result.backup_path, world.plan.action.id) == (
        "Fund IDVAs",
        "Saved by the strategy team",
        0,
    )
    with world.master.session() as s:
        action = s.get(Action, world.plan.action.id)
        assert action is not None and action.title == "Title from the lead"
