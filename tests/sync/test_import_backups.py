"""A bundle import's backup: where it goes, what is pruned, and a backup folder that
cannot take it refuses the import with nothing changed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ssp_desktop.domain.errors import BundleError
from ssp_desktop.store.backup import store_anchor
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
