"""Importing a bundle: preview, backup, one transaction, integrity check.

:func:`import_bundle` is the one way a bundle's content reaches a store:

1. the bundle has already been read whole and checked (``bundle.read_bundle``), its
   envelope opened with this install's keys and its signer trusted by the store
   (:func:`read_sealed`);
2. the merge is planned against the store without writing (the preview; a dry run
   stops here, and so does a bundle already imported or older than one imported).
   Meanwhile SQLite's integrity check reads the store in a second thread; a damaged
   store is refused once the plan is made, before anything is written;
3. a backup copy of the store is taken beside it (or in its ``backup_folder``): of a
   file store, by a second thread from inside the import's transaction while the plan
   is applied (so it is exactly the store the import was applied to), and the import
   waits for it before it commits; of a server store, before the transaction. Once
   the import is done, older import backups are pruned (``store/backup.py``: the
   newest few and those under a month old are kept, never this one);
4. the previewed plan is applied inside ONE transaction whose change-log source is
   ``bundle:<id>`` (so every change says which bundle it came from); a cancel before
   the commit rolls everything back. The plan is made once: the transaction first
   checks that nothing was committed to the store since the preview began
   (``Store.watch``) and plans again only if something was, so what is applied always
   matches the store at that moment;
5. the store is checked (``store/integrity.check_integrity``: SQLite's integrity check,
   on two cores where there are two, the same tests either way, and foreign keys; and no
   record the import touched left under a deleted one); if it is
   damaged the backup is copied back and the import refused. The slower whole-store
   checks stay with ``ssp-desktop check``.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.errors import BundleError
from ssp_desktop.domain.records import ChangeLog
from ssp_desktop.domain.sync_records import ROLE_MASTER
from ssp_desktop.progress import Progress
from ssp_desktop.services import authority
from ssp_desktop.store import backup as backups
from ssp_desktop.store.backend import is_server_location
from ssp_desktop.store.backup import BackupError, BackupReport, RetentionChoice
from ssp_desktop.store.engine import Store, fewer_collections, serialize
from ssp_desktop.store.integrity import check_integrity, refuse_if_damaged_meanwhile
from ssp_desktop.store.partnerships import other_partnership_refusal, partnership_of_plan
from ssp_desktop.sync import merge, state, trust
from ssp_desktop.sync.bundle import Bundle, read_bundle
from ssp_desktop.sync.container import Envelope
from ssp_desktop.sync.keys import Identity, this_install
from ssp_desktop.sync.manifest import KIND_CHANGES, KIND_SNAPSHOT
from ssp_desktop.sync.merge_changes import plan_changes
from ssp_desktop.sync.merge_plan import MergePlan
from ssp_desktop.sync.merge_snapshot import plan_snapshot
from ssp_desktop.sync.preview import DUPLICATE, HELD, NOTHING, OLDER, Preview
from ssp_desktop.sync.seal import Opener

_FATAL = ("integrity", "foreign key")


@dataclass
class ImportResult:
    preview: Preview
    applied: bool = False
    dry_run: bool = False
    backup_path: Path | None = None
    conflicts_waiting: int = 0
    problems: list[str] = field(default_factory=list)
    touched: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    created_store: bool = False
    # Where the backup is and how much space import backups use (None: no backup).
    backups: BackupReport | None = None


def _plan(
    session: Session,
    store: Store,
    bundle: Bundle,
    *,
    new_store: bool,
    progress: Progress | None,
    confirm_deletions: bool = False,
) -> MergePlan:
    _refuse_other_partnership(session, store, bundle)
    # A lead's changes are judged with the lead's authority (only the master sets
    # targets...); the master's snapshot is applied with the master's. Planning keeps
    # thousands of records and change lines alive until it is done, which the
    # collector would otherwise scan again and again (about a sixth of the planning).
    with authority.acting_as(session, _authority_of(bundle)), fewer_collections():
        if bundle.manifest.kind == KIND_CHANGES:
            return plan_changes(
                session,
                bundle,
                store_id=store.store_id,
                progress=progress,
                confirm_deletions=confirm_deletions,
            )
        return plan_snapshot(session, bundle, new_store=new_store, progress=progress)


def _refuse_other_partnership(session: Session, store: Store, bundle: Bundle) -> None:
    """A store holding several partnerships takes a bundle only for the one it is open
    for: the same ids must never be merged into another partnership's plan."""
    if store.partnership is None:
        return
    theirs = partnership_of_plan(session, bundle.manifest.plan_id)
    if theirs is not None and theirs.id != store.partnership.id:
        raise BundleError(other_partnership_refusal("This bundle", theirs, store.partnership))


def _authority_of(bundle: Bundle) -> str:
    return authority.LEAD if bundle.manifest.kind == KIND_CHANGES else authority.MASTER


def preview_bundle(
    store: Store,
    bundle: Bundle,
    *,
    new_store: bool = False,
    progress: Progress | None = None,
    confirm_deletions: bool = False,
) -> Preview:
    """What importing ``bundle`` into ``store`` would do; nothing is written."""
    with store.session() as s:
        return _plan(
            s,
            store,
            bundle,
            new_store=new_store,
            progress=progress,
            confirm_deletions=confirm_deletions,
        ).preview


def _refused_if_damaged(
    store: Store, *, new_store: bool
) -> contextlib.AbstractContextManager[Callable[[], None]]:
    """The store's integrity check (``store/integrity.py``), run while the merge is
    planned; calling what this gives refuses a damaged store before anything is written.
    A store this import is making has nothing to check."""
    if new_store:
        return contextlib.nullcontext(lambda: None)
    return refuse_if_damaged_meanwhile(store, "importing the bundle")


def _take_backup(store: Store, bundle: Bundle) -> Path:
    what = f"bundle-{bundle.manifest.bundle_id.hex[:8]}"
    try:
        return backups.take_store_backup(store, what)
    except BackupError as exc:
        raise BundleError(str(exc)) from exc


def _prune(store: Store, backup: Path, retention: RetentionChoice | None) -> BackupReport:
    return backups.prune_store_backups(store, backup, retention)


def _restore(store: Store, backup: Path) -> None:
    store.backend.restore(store.engine, backup)


def needs_master_fingerprint(store: Store | None, bundle: Bundle) -> bool:
    """Whether importing ``bundle`` would make ``store`` (None: a store still to be made)
    trust a master copy for the first time: a starter, whose signer nobody has vouched
    for yet."""
    if bundle.manifest.kind != KIND_SNAPSHOT or bundle.sealed is None:
        return False
    if store is None:
        return True
    known = trust.StoreTrust.of_store(store)
    # The master copy refuses a snapshot in the merge, with its own message.
    return not known.masters and known.role != ROLE_MASTER


def confirm_master(store: Store | None, bundle: Bundle, typed: str | None) -> None:
    """Refuse a first starter unless ``typed`` is its signer's fingerprint (as read out
    by the strategy team); other bundles are checked against the keys already trusted."""
    if needs_master_fingerprint(store, bundle):
        assert bundle.sealed is not None
        trust.check_master_fingerprint(bundle.sealed.signer.fingerprint, typed)


# How long an import waits for another officer's import (or edit) to commit first.
IMPORT_WAIT = 600.0


def import_bundle(
    store: Store,
    bundle: Bundle,
    *,
    file_name: str = "",
    dry_run: bool = False,
    new_store: bool = False,
    actor: str | None = None,
    progress: Progress | None = None,
    confirm_deletions: bool = False,
    master_fingerprint: str | None = None,
    retention: RetentionChoice | None = None,
) -> ImportResult:
    """Import an already-read ``bundle`` into ``store`` (see the module docstring).

    A lead's bundle deleting many records is held (``preview.status`` ``held``, nothing
    written) unless ``confirm_deletions``. A first starter bundle is imported only when
    ``master_fingerprint`` (read out by the strategy team) is its signer's; a dry run
    previews it without."""
    with store.watch() as store_changed:
        with _refused_if_damaged(store, new_store=new_store) as refuse_if_damaged:
            if not dry_run:
                confirm_master(store, bundle, master_fingerprint)
            with store.session() as s:
                plan = _plan(
                    s,
                    store,
                    bundle,
                    new_store=new_store,
                    progress=progress,
                    confirm_deletions=confirm_deletions,
                )
            # Before anything is written (the backup, the transaction) and before even a
            # dry run answers: a damaged store is refused as if checked before the plan.
            refuse_if_damaged()
        result = ImportResult(plan.preview)
        result.dry_run = dry_run
        if dry_run or result.preview.status in (DUPLICATE, OLDER, HELD):
            return result
        if progress is not None:
            progress.step(0, 0, "Taking a backup copy of the store…")
        # A backup only when records will change: an import whose every item is refused
        # writes only its receipt (and the acknowledgements), which need no copy of the
        # store.
        wanted = (
            not new_store and result.preview.status != NOTHING and result.preview.changes_anything
        )
        copying = backups.BackupCopy(lambda: _take_backup(store, bundle)) if wanted else None
        source = f"bundle:{bundle.manifest.bundle_id}"
        try:
            if copying is not None and store.is_server:
                copying.take()  # pg_dump: before the import's transaction, as it always was
            with store.transaction(
                actor=actor, source=source, wait_seconds=IMPORT_WAIT, bulk=True
            ) as tx:
                # Two officers importing at once: one import's write phase after the
                # other, each applied against what the other has committed.
                serialize(tx.session, "bundle-import")
                # A read first fixes the state this transaction sees: a commit after it
                # would make this transaction's first write fail, never apply a stale plan.
                tx.session.scalar(select(func.max(ChangeLog.seq)))
                if copying is not None and not store.is_server:
                    copying.start(tx.session)
                if store_changed():
                    # Someone wrote between the preview and now: judge again against the
                    # store as it is inside this transaction.
                    plan = _plan(
                        tx.session,
                        store,
                        bundle,
                        new_store=new_store,
                        progress=progress,
                        confirm_deletions=confirm_deletions,
                    )
                with authority.acting_as(tx.session, _authority_of(bundle)):
                    merge.apply_plan(tx, plan, file_name=file_name, progress=progress)
                if bundle.sealed is not None:
                    trust.learn(tx.session, bundle.sealed, sender=bundle.manifest.created_by)
                if copying is not None:
                    copying.finish()  # never a commit without its backup
                if progress is not None:
                    progress.step(1, 1, "Saving…")  # a cancel up to here rolls everything back
                result.touched = merge.touched_records(tx.session, tx.context.change_set)
        except BaseException:
            if copying is not None:
                copying.discard()
            raise
        backup = copying.path if copying is not None else None
    result.preview = plan.preview
    result.applied = True
    result.backup_path = backup
    # Nothing else runs now: SQLite's check may use two cores (the same tests).
    problems = check_integrity(store, waiting=True)
    fatal = [p for p in problems if p.kind in _FATAL]
    if fatal and backup is not None and store.is_server:
        # Other officers may have committed since the import: putting the whole
        # database back from the dump would undo their work too. The server enforces
        # its constraints itself, so this is damage from elsewhere; say so and stop.
        raise BundleError(
            "After the import the server store failed its integrity check ("
            + "; ".join(str(p) for p in fatal[:3])
            + "). The import was saved; it was not undone because other officers may "
            f"have saved work since. A copy from before the import is in {backup}. "
            "Please ask whoever looks after the server to run ssp-desktop check."
        )
    if fatal and backup is not None:
        _restore(store, backup)
        raise BundleError(
            "After the import the store failed its integrity check ("
            + "; ".join(str(p) for p in fatal[:3])
            + f"). The store was put back as it was before, from {backup.name}. "
            "Please report this bundle to whoever looks after the app."
        )
    result.problems = [str(p) for p in problems] + _orphans(store, result.touched)
    if backup is not None:
        result.backups = _prune(store, backup, retention)
    result.conflicts_waiting = state.open_conflict_count(store)
    return result


def _orphans(store: Store, touched: list[tuple[str, uuid.UUID]]) -> list[str]:
    """Live records this import touched that sit under a deleted record (the part of
    ``ssp-desktop check`` that an import could affect), a few queries per table."""
    from sqlalchemy.orm import aliased

    from ssp_desktop.domain.records import record_classes

    classes = record_classes()
    by_entity: dict[str, list[uuid.UUID]] = {}
    for entity, record_id in touched:
        by_entity.setdefault(entity, []).append(record_id)
    out: list[str] = []
    with store.session() as s:
        # Most tables hold no deleted record at all: then nothing can be under one, and
        # one query for the table says so instead of a join per child table and batch.
        has_deleted: dict[str, bool] = {}
        for entity, ids in by_entity.items():
            cls = classes[entity]
            for column in cls.__table__.columns:
                if not column.foreign_keys:
                    continue
                (fk,) = column.foreign_keys
                parent_cls = classes[fk.column.table.name]
                deleted = has_deleted.get(parent_cls.__tablename__)
                if deleted is None:
                    deleted = (
                        s.scalar(
                            select(parent_cls.id).where(parent_cls.deleted_at.is_not(None)).limit(1)
                        )
                        is not None
                    )
                    has_deleted[parent_cls.__tablename__] = deleted
                if not deleted:
                    continue
                parent = aliased(parent_cls)
                for first in range(0, len(ids), 500):
                    rows = s.execute(
                        select(cls.id, parent.id)
                        .join(parent, parent.id == getattr(cls, column.key))
                        .where(
                            cls.id.in_(ids[first : first + 500]),
                            cls.deleted_at.is_(None),
                            parent.deleted_at.is_not(None),
                        )
                    ).all()
                    out.extend(
                        f"orphan: live {entity} {child} is under deleted "
                        f"{fk.column.table.name} {parent_id}"
                        for child, parent_id in rows
                    )
    return out


def opener(store: Store | None, identity: Identity | None = None, name: str = "") -> Opener:
    """The envelope that opens bundles for ``store`` (None: a store to be made from a
    starter bundle) with this install's keys (or ``identity``)."""
    keys = identity or this_install()
    known = trust.StoreTrust.of_store(store) if store is not None else trust.StoreTrust()
    return Opener.for_identity(keys, known, name or "This bundle")


def read_sealed(path: Path, store: Store | None, identity: Identity | None = None) -> Bundle:
    """Read the bundle at ``path`` for ``store``: opened with this install's keys, its
    signer checked against the keys the store trusts, then every check of the zip."""
    return read_bundle(Path(path), envelope=opener(store, identity, Path(path).name))


def import_file(
    store_path: Path | str,
    bundle_path: Path,
    *,
    dry_run: bool = False,
    actor: str | None = None,
    identity: Identity | None = None,
    envelope: Envelope | None = None,
    progress: Progress | None = None,
    confirm_deletions: bool = False,
    master_fingerprint: str | None = None,
    retention: RetentionChoice | None = None,
) -> ImportResult:
    """Read ``bundle_path`` and import it into the store at ``store_path``.

    The bundle is opened and checked (signature, recipients, sender) before any of its
    content is parsed, with the keys the store trusts. A snapshot (starter) bundle may
    name a store that does not exist yet: it is created, and removed again if the import
    fails. ``envelope`` replaces the sealed one (tests of the zip layer only).
    ``store_path`` may be a server store's URL (it must exist there already).
    """
    name = Path(bundle_path).name
    server = is_server_location(store_path)
    if not server:
        store_path = Path(store_path).expanduser().absolute()
    if server or Path(store_path).exists():
        with Store.open(store_path) as store:
            bundle = read_bundle(bundle_path, envelope=envelope or opener(store, identity, name))
            return import_bundle(
                store,
                bundle,
                file_name=name,
                dry_run=dry_run,
                actor=actor,
                progress=progress,
                confirm_deletions=confirm_deletions,
                master_fingerprint=master_fingerprint,
                retention=retention,
            )
    bundle = read_bundle(bundle_path, envelope=envelope or opener(None, identity, name))
    if bundle.manifest.kind != KIND_SNAPSHOT:
        raise BundleError(
            f"There is no store at {store_path}. A bundle of a lead's changes is imported "
            "into the master copy; only a starter bundle makes a new store. Nothing was changed."
        )
    if dry_run:
        with (
            tempfile.TemporaryDirectory() as tmp,
            Store.open(Path(tmp) / "preview.sqlite", create=True) as scratch,
        ):
            return import_bundle(scratch, bundle, dry_run=True, new_store=True, progress=progress)
    confirm_master(None, bundle, master_fingerprint)  # before a file is made
    try:
        with Store.open(store_path, create=True) as store:
            result = import_bundle(
                store,
                bundle,
                file_name=name,
                new_store=True,
                actor=actor,
                progress=progress,
                master_fingerprint=master_fingerprint,
            )
            if bundle.manifest.sample:
                # A copy of the sample plan is sample data: same banner, same dates.
                store.set_meta(sample="1")
    except BaseException:
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{store_path}{suffix}").unlink(missing_ok=True)
        raise
    result.created_store = True
    return result
