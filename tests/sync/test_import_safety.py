"""An import that is cancelled, or sent to the wrong kind of copy, changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, func, select

from ssp_desktop import services
from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.records import Action, ChangeLog
from ssp_desktop.progress import Cancelled, Progress
from ssp_desktop.sync.importer import import_bundle
from tests.sync.helpers import LEAD_A, World, bundle_count, lead_change


def test_a_cancelled_import_leaves_the_store_and_no_backup(world: World) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Never arrives")
    bundle = world.read(world.export(LEAD_A))
    before = (world.master.revision(), bundle_count(world.master))

    def cancel_when_saving(_done: int, _total: int, text: str) -> None:
        if text.startswith("Saving"):  # the user presses Cancel at the last moment
            progress.cancel()
            progress.check()

    progress = Progress(cancel_when_saving)
    with pytest.raises(Cancelled):
        import_bundle(world.master, bundle, progress=progress)
    assert (world.master.revision(), bundle_count(world.master)) == before
    assert not list(world.folder.glob("*.backup-*"))
    with world.master.session() as s:
        found = s.get(Action, world.plan.action.id)
        assert found is not None and found.title == "Fund IDVAs"


def test_bundles_sent_the_wrong_way_are_refused(world: World) -> None:
    lead = world.starter(LEAD_A, ["PVP"])
    snapshot = world.read(world.snapshot(LEAD_A), LEAD_A)
    with pytest.raises(BundleError, match="this store is the master copy"):
        import_bundle(world.master, snapshot)
    changes = world.read(world.export(LEAD_A))
    with pytest.raises(BundleError, match="this store is a lead copy"):
        import_bundle(lead, changes)


def _checks_find_after_the_import(
    world: World, monkeypatch: pytest.MonkeyPatch, kind: str, finding: str
) -> list[bool]:
    """The store's own checks (SQLite's integrity and foreign-key checks) find
    ``finding`` once the store holds changes from a bundle, as they would if the import
    had left it damaged; before that, they find what they find. Returns, per check run,
    whether the import's changes were there."""
    store = world.master
    real = store.backend.integrity_problems
    runs: list[bool] = []

    def checks(conn: Connection) -> list[tuple[str, str]]:
        found = real(conn)
        imported = bool(
            conn.scalar(
                select(func.count())
                .select_from(ChangeLog)
                .where(ChangeLog.source.startswith("bundle:"))
            )
        )
        runs.append(imported)
        return [*found, (kind, finding)] if imported else found

    monkeypatch.setattr(store.backend, "integrity_problems", checks)
    return runs


def test_an_import_that_leaves_the_store_damaged_is_undone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check after the import is what undoes a bad import: without it the broken
    store would stay, and this test fails."""
    bundle = world.read(lead_change(world, "Title from the lead"))
    before = (world.master.revision(), bundle_count(world.master))
    runs = _checks_find_after_the_import(
        world, monkeypatch, "foreign key", "action_partner row 7 refers to a missing organisation"
    )
    if world.master.is_server:
        # Others may have saved work since the import: the dump is not put back over it.
        with pytest.raises(BundleError, match="The import was saved; it was not undone"):
            import_bundle(world.master, bundle)
    else:
        with pytest.raises(BundleError) as refused:
            import_bundle(world.master, bundle)
        message = str(refused.value)
        assert message.startswith(
            "After the import the store failed its integrity check (foreign key: "
            "action_partner row 7 refers to a missing organisation). The store was put back "
            "as it was before, from "
        )
        (backup,) = world.folder.glob("*.backup-*")
        assert backup.name in message
        assert (world.master.revision(), bundle_count(world.master)) == before
        with world.master.session() as s:
            action = s.get(Action, world.plan.action.id)
            assert action is not None and action.title == "Fund IDVAs"
    # Checked once before anything was written (nothing imported yet) and once after.
    assert runs == [False, True]


def test_reading_a_damaged_store_is_refused_as_damage_before_anything_is_written(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The integrity check runs while the merge is planned; when the planning stops on
    a page it cannot read, the user hears that the store is damaged (what ``check``
    finds), not the database error, and no backup is taken."""
    from sqlalchemy.exc import DatabaseError

    from ssp_desktop.domain.errors import CorruptStoreError
    from ssp_desktop.sync import importer

    bundle = world.read(lead_change(world, "Title from the lead"))
    before = (world.master.revision(), bundle_count(world.master))
    monkeypatch.setattr(
        world.master.backend,
        "integrity_problems",
        lambda conn: [("integrity", "Tree 12 page 34: btreeInitPage() returns error code 11")],
    )

    def unreadable(*_args: object, **_kwargs: object) -> None:
        raise DatabaseError("SELECT", None, Exception("database disk image is malformed"))

    monkeypatch.setattr(importer, "_plan", unreadable)
    with pytest.raises(CorruptStoreError, match="is damaged, so importing the bundle was not"):
        import_bundle(world.master, bundle)
    assert not list(world.folder.glob("*.backup-*"))
    assert (world.master.revision(), bundle_count(world.master)) == before


def test_a_store_that_reads_well_but_is_damaged_is_refused_before_the_backup(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan was made, but the check (finishing after it) found damage: nothing is
    written, a dry run included."""
    from ssp_desktop.domain.errors import CorruptStoreError

    bundle = world.read(lead_change(world, "Title from the lead"))
    before = (world.master.revision(), bundle_count(world.master))
    monkeypatch.setattr(
        world.master.backend,
        "integrity_problems",
        lambda conn: [("integrity", "Page 7: never used")],
    )
    for dry_run in (True, False):
        with pytest.raises(CorruptStoreError, match="finds: integrity: Page 7: never used"):
            import_bundle(world.master, bundle, dry_run=dry_run)
    assert not list(world.folder.glob("*.backup-*"))
    assert (world.master.revision(), bundle_count(world.master)) == before


def test_the_import_marks_each_change_processed_once_with_its_outcome(world: World) -> None:
    """The bookkeeping rows (written with one driver executemany): one per change of the
    bundle, with the lead, the bundle, the outcome and one time, read back as written."""
    from ssp_desktop.domain.sync_records import SyncProcessed

    path = lead_change(world, "Title from the lead")
    bundle = world.read(path)
    import_bundle(world.master, bundle)
    with world.master.session() as s:
        rows = list(s.scalars(select(SyncProcessed)))
    assert sorted(r.change_id for r in rows) == sorted(c.id for c in bundle.changes)
    assert {(r.lead_id, r.bundle_id, r.outcome) for r in rows} == {
        (bundle.manifest.lead_id, bundle.manifest.bundle_id, "applied")
    }
    (at,) = {r.processed_at for r in rows}
    assert at.tzinfo is not None
    # The same changes again (their acknowledgement not yet back): no second row.
    again = world.read(lead_change(world, "Title from the lead, again"))
    import_bundle(world.master, again)
    with world.master.session() as s:
        ids = list(s.scalars(select(SyncProcessed.change_id)))
    assert (
        len(ids)
        == len(set(ids))
        == len({c.id for c in again.changes} | {c.id for c in bundle.changes})
    )
