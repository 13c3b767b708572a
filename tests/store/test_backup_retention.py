"""Import backups are pruned after each import: the newest few and those under a month
old are kept, the one just made never goes, and a backup that cannot be made or removed
is explained without losing anything."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ssp_desktop.store.backup import (
    BackupError,
    Retention,
    RetentionChoice,
    import_backups,
    prune_import_backups,
    take_import_backup,
)
from ssp_desktop.store.engine import Store

DAY = 86400.0


def fake_backup(folder: Path, name: str, age_days: float, now: float, size: int = 100) -> Path:
    path = folder / f"plan.backup-{name}-before-bundle-1234abcd.sqlite"
    path.write_bytes(b"x" * size)
    os.utime(path, (now - age_days * DAY, now - age_days * DAY))
    return path


def test_keeps_the_newest_few_and_those_under_a_month_old(tmp_path: Path) -> None:
    now = time.time()
    store = tmp_path / "plan.sqlite"
    current = fake_backup(tmp_path, "a-now", 0, now)
    recent = [fake_backup(tmp_path, f"b{i}", 1 + i * 3, now) for i in range(8)]  # 1..22 days
    old = [fake_backup(tmp_path, f"c{i}", 40 + i * 10, now) for i in range(4)]  # 40..70 days
    schema = tmp_path / "plan.backup-20260101-000000-schema-0008.sqlite"
    schema.write_bytes(b"s")
    os.utime(schema, (now - 400 * DAY, now - 400 * DAY))
    other_store = fake_backup(tmp_path, "z", 90, now)
    other_store = other_store.rename(tmp_path / other_store.name.replace("plan.", "other."))

    report = prune_import_backups(store, current, Retention(keep_last=5, keep_days=30), now)

    # Nine backups are under 30 days old (so more than the newest five are kept); every
    # one older than that goes; upgrade backups and other stores' backups are not touched.
    assert sorted(report.removed) == sorted(old)
    assert set(import_backups(store, tmp_path)) == {current, *recent}
    assert schema.exists() and other_store.exists()
    assert (report.count, report.total_bytes) == (9, 900)


def test_the_newest_are_kept_however_old(tmp_path: Path) -> None:
    now = time.time()
    store = tmp_path / "plan.sqlite"
    backups = [fake_backup(tmp_path, f"{i:02d}", 100 + i, now) for i in range(7)]
    current = backups[0]
    report = prune_import_backups(store, current, Retention(keep_last=3, keep_days=30), now)
    assert set(import_backups(store, tmp_path)) == set(backups[:3])
    assert sorted(report.removed) == sorted(backups[3:])


def test_the_backup_just_made_is_never_removed(tmp_path: Path) -> None:
    now = time.time()
    store = tmp_path / "plan.sqlite"
    newer = [fake_backup(tmp_path, f"n{i}", 50 + i, now) for i in range(3)]
    # A backup whose clock says it is the oldest (a copied file, a clock put right).
    current = fake_backup(tmp_path, "current", 365, now)
    report = prune_import_backups(store, current, Retention(keep_last=1, keep_days=0), now)
    assert current.exists()
    assert current not in report.removed
    assert set(import_backups(store, tmp_path)) == {current, newer[0]}


def test_a_backup_that_cannot_be_removed_is_kept_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = time.time()
    store = tmp_path / "plan.sqlite"
    current = fake_backup(tmp_path, "current", 0, now)
    stuck = fake_backup(tmp_path, "stuck", 60, now)
    real_unlink = Path.unlink

    def refuse(self: Path, missing_ok: bool = False) -> None:
        if self == stuck:
            raise PermissionError(13, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse)
    report = prune_import_backups(store, current, Retention(keep_last=1, keep_days=30), now)
    assert stuck.exists() and current.exists() and report.removed == []
    assert report.problem is not None
    assert f"Could not remove 1 old backup: {stuck.name} (Permission denied)" in report.problem
    assert any("Could not remove 1 old backup" in line for line in report.lines())


def test_a_missing_backup_folder_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    store_path = tmp_path / "plan.sqlite"
    with Store.open(store_path, create=True):
        pass
    with pytest.raises(BackupError, match="the backup folder .*missing does not exist"):
        take_import_backup(store_path, tmp_path / "missing", "tracker")
    assert list(tmp_path.glob("*.backup-*")) == []


def test_settings_give_the_retention_and_options_win() -> None:
    meta = {"backup_keep_last": "8", "backup_keep_days": "", "backup_folder": ""}
    assert RetentionChoice().resolve(meta) == Retention(keep_last=8, keep_days=30)
    assert RetentionChoice(keep_days=3).resolve(meta) == Retention(keep_last=8, keep_days=3)
    # At least this import's own backup is always kept.
    assert RetentionChoice(keep_last=0).resolve({}) == Retention(keep_last=1, keep_days=30)
    assert RetentionChoice().resolve({"backup_keep_last": "many"}) == Retention()
