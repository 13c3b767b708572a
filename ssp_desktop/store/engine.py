"""The plan store: a SQLite file (the default) or a PostgreSQL database, opened
safely, migrated, written one transaction at a time.

Opening a store (``Store.open``) checks, in this order, before anything is written:
for a file, it is a whole SQLite database (not another file, not a truncated copy), the
folder is writable and no other app holds the writer lock; for either engine, the
schema is not from a newer app. Then it takes a backup copy and applies Alembic
migrations if the schema is older. Everything that differs between the two engines
(pragmas, WAL, backups, integrity checks, snapshots, error messages) is in
``backend.py``; a location that is a ``postgresql://`` URL opens a server store.

Writes go through :meth:`Store.transaction`, which logs every change (see
``changes.py``), raises the store revision in commit order (:func:`raise_revision`) and
turns low-level database failures (disk full, locked, read-only, constraint, a server
that cannot be reached) into errors that tell the user what happened and that nothing
was saved. Several writers (two windows, :meth:`Store.another_writer`, or several
officers on a server) take turns: on SQLite a write transaction begins ``IMMEDIATE``,
so it waits for the other's commit rather than failing on it.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import functools
import gc
import getpass
import logging
import os
import re
import sqlite3
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, case, delete, func, insert, inspect, select, text, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from ssp_desktop import __version__
from ssp_desktop.domain import changes, events, sync_records  # noqa: F401 - registers the sync tables
from ssp_desktop.domain.errors import (
    NotAStoreError,
    ReadOnlyLocationError,
    StoreError,
    StoreFullError,
    StoreNotFoundError,
    StoreTooNewError,
)
from ssp_desktop.domain.records import ChangeLog, StoreMeta, StoreRevision
from ssp_desktop.store import backend as _backend
from ssp_desktop.store import background, partnerships, search
from ssp_desktop.store.backend import (
    NOTHING_CHANGED,
    RESTORE_ADVICE,
    Backend,
    PostgresBackend,
    Probe,
    SqliteBackend,
    SspErrorLike,
    inspect_header,
    is_server_location,
    redact,
    translate_sqlite,
)
from ssp_desktop.store.lock import StoreLock

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
MIGRATIONS = "ssp_desktop.store:migrations"
_NOTHING_CHANGED = NOTHING_CHANGED
_RESTORE = RESTORE_ADVICE
__all__ = [
    "MIGRATIONS",
    "RESTORE_ADVICE",
    "Store",
    "default_actor",
    "head_revision",
    "inspect_header",
    "is_server_location",
    "redact",
    "revisions",
    "translate",
]


def _alembic_config(script_location: str = MIGRATIONS) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    return cfg


@dataclass(frozen=True)
class Revisions:
    """The schema revisions this app knows, and the newest."""

    head: str
    known: frozenset[str]


_REVISION = re.compile(r"^revision(?:\s*:\s*[\w| ]+)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision(?:\s*:\s*[\w| ]+)?\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M)


@functools.cache
def revisions(script_location: str = MIGRATIONS) -> Revisions:
    """Read the migration scripts' ids without importing Alembic.

    Opening a current store then needs no Alembic at all (about a third of a second of
    start-up on a slow laptop); Alembic is imported only to upgrade. Scripts this simple
    parser cannot read (a branch, a merge) fall back to Alembic's own reading.
    """
    package, _, folder = script_location.partition(":")
    if folder:
        from importlib import resources

        base = Path(str(resources.files(package).joinpath(folder)))
    else:
        base = Path(script_location)
    known: set[str] = set()
    downs: set[str] = set()
    for script in sorted((base / "versions").glob("*.py")):
        text = script.read_text(encoding="utf-8")
        rev, down = _REVISION.search(text), _DOWN.search(text)
        if rev is None or down is None:
            return _alembic_revisions(script_location)
        known.add(rev.group(1))
        if down.group(1):
            downs.add(down.group(1))
    heads = known - downs
    if len(heads) != 1:
        return _alembic_revisions(script_location)
    return Revisions(heads.pop(), frozenset(known))


def _alembic_revisions(script_location: str) -> Revisions:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(script_location))
    head = script.get_current_head()
    assert head is not None
    return Revisions(head, frozenset(rev.revision for rev in script.walk_revisions()))


def head_revision(script_location: str = MIGRATIONS) -> str:
    return revisions(script_location).head


def _check_folder_writable(folder: Path) -> None:
    if not folder.is_dir():
        raise StoreNotFoundError(f"The folder {folder} does not exist.")
    if not folder_writable(folder):
        raise ReadOnlyLocationError(
            f"The folder {folder} is read-only. ssp-desktop writes its journal and lock "
            "beside the store, so it needs a folder you can write to: copy the store "
            "somewhere writable (e.g. your Documents folder) and open it there."
        )


def folder_writable(folder: Path) -> bool:
    """Whether files can be made in ``folder`` (``backend.folder_writable``)."""
    return _backend.folder_writable(folder)


def translate(exc: BaseException, path: Path | None = None) -> SspErrorLike:
    """The user-facing error for a low-level SQLite failure (``path``: the store, to
    tell a full disk behind a bare "disk I/O error"); a server store's ``Store``
    translates through its backend."""
    return translate_sqlite(exc, path)


# The execution option Store.transaction's connection carries: begin as a writer,
# waiting up to this many milliseconds for another writer's commit (backend.py).
IMMEDIATE = _backend.IMMEDIATE
BUSY_WAIT_MS = _backend.BUSY_WAIT_MS
# The PostgreSQL channel each commit that raises the revision notifies, with the new
# revision as its payload (other open windows listen: ui/watch.py).
REVISION_CHANNEL = "ssp_revision"


def raise_revision(session: Session, change_set: uuid.UUID) -> int:
    """Give this transaction's change-log rows the store's next revision; returns it.

    Called last in the writing transaction. The UPDATE of the one store_revision row
    waits for any other writer's commit (its row lock, or SQLite's writer lock), so
    revisions are handed out in commit order. The new revision is at least the
    transaction's own newest ``seq``, so with one writer it equals the newest ``seq``
    as it always has, and every revision recorded before (a pack's, a bundle's) keeps
    naming the same data.
    """
    newest = session.scalar(
        select(func.max(ChangeLog.seq)).where(ChangeLog.change_set == change_set)
    )
    following = StoreRevision.revision + 1
    bump = update(StoreRevision).where(StoreRevision.id == 1)
    if newest is not None:
        bump = bump.values(revision=case((following > newest, following), else_=newest))
    else:
        bump = bump.values(revision=following)
    session.execute(bump, execution_options={"synchronize_session": False})
    revision = int(session.scalar(select(StoreRevision.revision).where(StoreRevision.id == 1)))
    session.execute(
        update(ChangeLog).where(ChangeLog.change_set == change_set).values(revision=revision),
        execution_options={"synchronize_session": False},
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_notify(:channel, :revision)"),
            {"channel": REVISION_CHANNEL, "revision": str(revision)},
        )
    return revision


def serialize(session: Session, what: str) -> None:
    """Hold the store's lock for ``what`` (e.g. "bundle-import") until the transaction
    ends: two such transactions run one after the other, each reading what the other
    committed. On PostgreSQL a transaction-level advisory lock; on SQLite every write
    transaction already holds the one writer lock (BEGIN IMMEDIATE), so nothing more."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"ssp-desktop:{what}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def read_revision(session: Session) -> int:
    """The store's newest committed revision (0 for a store with no changes)."""
    return int(session.scalar(select(StoreRevision.revision).where(StoreRevision.id == 1)) or 0)


def default_actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown user"


def _fold_wal(path: Path) -> None:
    """Fold the WAL into the store and remove it, as SQLite's last connection does.

    While the app holds the store (lock.py), SQLite's own last close cannot take the
    exclusive lock it needs for this, so the store would be left with a -wal beside it;
    one short connection after letting go does it, unless another program has the store
    open (then that program's last close does it).
    """
    try:
        conn = sqlite3.connect(path.resolve().as_uri(), uri=True, timeout=0.5)
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:  # the data is safe in the WAL; the next open folds it
        log.info("left the WAL of %s for later (%s)", path, exc)


def _wanted(partnership: str | None) -> str | None:
    """The partnership asked for, else the one the command line asked for."""
    return partnership if partnership is not None else partnerships.requested()


# How many allocations between collections of the youngest generation during a bulk
# write (the interpreter's default is 700).
_YOUNG_COLLECTION_EVERY = 20_000


@contextlib.contextmanager
def fewer_collections(*, collect_after: bool = False) -> Iterator[None]:
    """Run the cyclic garbage collector less often while an import writes or a board
    pack is drawn (``reports.render``).

    An import builds tens of thousands of records, attribute states and change-log rows
    that all stay alive until the commit; with the default thresholds the collector
    scans them again and again. The objects that exist before (the app, the store) are
    moved out of its sight (``gc.freeze``) and the young generation is collected every
    20,000 allocations, so garbage that dies young is still collected.

    An import's objects outlive the young collections, and those older generations were
    the cost: a collection of the middle one, and the young collection that came as soon
    as the thresholds were put back, each scanned every record the import had made
    (0.15 s of a 5,000-row spreadsheet's 1.7 s, for no garbage: an import leaves none in
    cycles). So while the block runs the middle generation is not collected, and as it
    ends what it made and still holds joins what existed before (frozen too, then both
    given back to the oldest generation together) without a scan; Python's next full
    collection looks at them as at everything else.

    ``collect_after``, for work that leaves much garbage in cycles (a drawn pack's
    structure tree and PDF objects, some 60,000 objects and 38 MB at the benchmark plan):
    no full collection runs during the block, and as it ends one collection frees its
    garbage, scanning only what the block made (what existed before is still frozen).
    Without it that garbage went back with the frozen objects to the oldest generation,
    which Python scans only once many objects have survived the younger collections:
    one more pack's worth at every export, each later export slower."""
    thresholds = gc.get_threshold()
    gc.freeze()
    if thresholds[0]:  # 0: the caller has turned automatic collection off; leave it
        young, middle, oldest = thresholds
        if collect_after:
            gc.set_threshold(max(young, _YOUNG_COLLECTION_EVERY), middle, _NEVER)
        else:
            gc.set_threshold(max(young, _YOUNG_COLLECTION_EVERY), _NEVER, oldest)
    try:
        yield
    finally:
        if not collect_after:
            gc.freeze()  # what the block made, unscanned (see above)
        gc.set_threshold(*thresholds)
        if collect_after:
            gc.collect()
        gc.unfreeze()


# A generation threshold no count reaches.
_NEVER = 2**30


class Store:
    """An open plan store. Use :meth:`open`; close with :meth:`close` or ``with``.

    ``path`` is the store's file (None for a server store); ``location`` is what to
    show or log (a server URL without its password); ``backend`` does everything that
    differs between SQLite and PostgreSQL.
    """

    def __init__(
        self,
        backend: Backend,
        engine: Engine,
        lock: StoreLock | None,
        *,
        readonly: bool | None = None,
    ) -> None:
        self.backend = backend
        self.path: Path | None = backend.path
        self.location = backend.location
        self.engine = engine
        self.lock = lock
        # A file store is writable exactly when this app holds its writer lock; a server
        # store has no lock file (the server keeps writers apart).
        self.readonly = lock is None if readonly is None else readonly
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        changes.install(self._sessions)
        # The partnership this store is open for (see partnerships.py); None until
        # chosen, and for a store that holds none yet.
        self.partnership: partnerships.PartnershipRef | None = None
        self.partnership_count = 0
        partnerships.install_filter(self._sessions, self._filtered_partnership)
        partnerships.install_session_setting(engine, self._filtered_partnership)
        self._listeners: list[events.Listener] = []
        self._listeners_lock = threading.Lock()
        # The change sets this Store committed lately, told apart from other writers'
        # in changes_since (bounded: a window polls every few seconds).
        self._own: collections.deque[uuid.UUID] = collections.deque(maxlen=10_000)
        self._meta = self._read_meta()
        self.backup_path: Path | None = None
        # A SQLite file's checkpoints after a bulk write (background.py).
        self._checkpoints = (
            background.Checkpointer(self.path)
            if self.path is not None and not self.readonly
            else None
        )
        # A second writer on the file (another_writer) shares the first's writer lock
        # and must not let go of it on closing.
        self._borrowed_lock = False

    @property
    def name(self) -> str:
        """A short name for a title bar: the file's name, or "database on host"."""
        return self.backend.name

    @property
    def is_server(self) -> bool:
        return self.backend.kind == "postgresql"

    # -- opening -------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        readonly: bool = False,
        script_location: str = MIGRATIONS,
        backup: Callable[[Path, Path], None] | None = None,
        password: str | None = None,
        partnership: str | None = None,
        all_partnerships: bool = False,
    ) -> Store:
        """Open (or with ``create`` make) the store at ``path``: a file, or a
        ``postgresql://user@host:port/database`` URL (the database must exist; with
        ``create`` an empty one is given the store's tables). ``password`` is a server
        password typed in for this session (else libpq's ~/.pgpass or service file, or
        the keyring, supply one); it is never stored or shown.

        ``readonly`` opens without the writer lock and without migrating (used by
        ``check``). ``backup`` is the copy function, replaceable in tests.
        ``partnership``: the name (or id) of the partnership to open the store for;
        needed when the store holds several (``PartnershipChoiceError`` lists them).
        ``all_partnerships``: read every partnership (the region summary, ``check``).
        """
        if is_server_location(path):
            return cls._open_server(
                PostgresBackend(str(path), password=password),
                create=create,
                readonly=readonly,
                script_location=script_location,
                partnership=None if all_partnerships else _wanted(partnership),
                all_partnerships=all_partnerships,
            )
        path = Path(path).expanduser().absolute()
        files = SqliteBackend(path)
        exists = path.exists()
        if exists and path.is_dir():
            raise NotAStoreError(f"{path} is a folder, not an ssp-desktop store.")
        if not readonly and (exists or create):
            _check_folder_writable(path.parent)
        if exists:
            inspect_header(path)
            try:
                probe = files.probe()
            except sqlite3.DatabaseError as exc:
                raise translate(exc, path) from exc
            cls._judge(files, probe, revisions(script_location))
        elif not create:
            raise StoreNotFoundError(
                f"There is no store at {path}. Check the path, or create one "
                "(ssp-desktop demo --store PATH makes the sample plan)."
            )
        lock: StoreLock | None = None
        if not readonly:
            lock = StoreLock(path)
            lock.acquire()
        engine: Engine | None = None
        try:
            engine = files.make_engine(readonly=readonly)
            backup_path = cls._prepare_schema(
                files,
                engine,
                readonly=readonly,
                script_location=script_location,
                backup=backup,
            )
            if lock is not None:
                # SQLite has the store open in WAL mode now (the -shm exists): from here
                # on no other process can delete the WAL or wipe its index (lock.py).
                lock.hold()
            store = cls(files, engine, lock)
            store.backup_path = backup_path
            if not all_partnerships:
                store.choose_partnership(_wanted(partnership))
            if not readonly:
                store._write_meta({"last_opened_by": __version__})
            store._log_opened(readonly)
            return store
        except BaseException as exc:
            log.warning("could not open store %s: %s", path, type(exc).__name__)
            if engine is not None:
                engine.dispose()
            if lock is not None:
                lock.release()
            if not exists:  # a store we were making must not survive half-made
                for suffix in ("", "-wal", "-shm", ".lock"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            if isinstance(exc, sqlite3.DatabaseError | sa_exc.DBAPIError):
                raise translate(exc, path) from exc
            raise

    @classmethod
    def _open_server(
        cls,
        server: PostgresBackend,
        *,
        create: bool,
        readonly: bool,
        script_location: str,
        partnership: str | None = None,
        all_partnerships: bool = False,
    ) -> Store:
        engine: Engine | None = None
        try:
            probe = server.probe()
            cls._judge(server, probe, revisions(script_location))
            if not probe.tables and not create:
                raise StoreNotFoundError(
                    f"{server.location} holds no ssp-desktop store yet. Create one there "
                    "(ssp-desktop demo --store URL makes the sample plan, ssp-desktop store "
                    "copy moves a file's), or check the database name. " + NOTHING_CHANGED
                )
            engine = server.make_engine(readonly=readonly)
            backup_path = cls._prepare_schema(
                server,
                engine,
                readonly=readonly,
                script_location=script_location,
                backup=None,
            )
            store = cls(server, engine, None, readonly=readonly)
            store.backup_path = backup_path
            if not all_partnerships:
                store.choose_partnership(partnership)
            if not readonly:
                store._write_meta({"last_opened_by": __version__})
            store._log_opened(readonly)
            return store
        except BaseException as exc:
            log.warning("could not open store %s: %s", server.location, type(exc).__name__)
            if engine is not None:
                engine.dispose()
            if isinstance(exc, sa_exc.DBAPIError) or _is_driver_error(exc):
                raise server.translate(exc) from exc
            raise

    def _log_opened(self, readonly: bool) -> None:
        log.info(
            "opened store %s (%s, site %s%s)",
            self.location,
            "read-only" if readonly else "read-write",
            self.site_id,
            f", schema backup {self.backup_path.name}" if self.backup_path else "",
        )

    @staticmethod
    def _judge(where: Backend, probe: Probe, script: Revisions) -> None:
        """Refuse a database that is not ours, or is from a newer app."""
        head, known = script.head, script.known
        tables, current, writer = probe.tables, probe.revision, probe.writer
        what = "a SQLite database" if where.kind == "sqlite" else "a PostgreSQL database"
        if tables and ("alembic_version" not in tables or current is None):
            raise NotAStoreError(
                f"{where.location} is {what}, but not an ssp-desktop store. " + _NOTHING_CHANGED
            )
        if current is not None and current not in known:
            by = f" by ssp-desktop {writer}" if writer else ""
            raise StoreTooNewError(
                f"{where.location} was written{by} with a newer store format (schema "
                f"{current}) than this app understands (ssp-desktop {__version__}, schema "
                f"{head}). Update ssp-desktop to open it. " + _NOTHING_CHANGED
            )

    @classmethod
    def _prepare_schema(
        cls,
        where: Backend,
        engine: Engine,
        *,
        readonly: bool,
        script_location: str,
        backup: Callable[[Path, Path], None] | None,
    ) -> Path | None:
        script = revisions(script_location)
        head = script.head
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            current = (
                conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                if "alembic_version" in tables
                else None
            )
            writer = None
            if "store_meta" in tables:
                writer = conn.exec_driver_sql(
                    "SELECT value FROM store_meta WHERE key = 'last_opened_by'"
                ).scalar()
        # Again under the lock: another app may have upgraded the store since the probe.
        cls._judge(where, Probe(tables, current, writer), script)
        if current == head:
            return None
        if readonly:
            raise StoreError(
                f"{where.location} uses an older store format (schema {current}); open it in "
                "ssp-desktop once to upgrade it, then try again. " + _NOTHING_CHANGED
            )
        backup_path: Path | None = None
        if tables:
            backup_path = where.backup_path(f"schema-{current}")
            try:
                if backup is not None and where.path is not None:
                    backup(where.path, backup_path)
                else:
                    where.backup(backup_path)
            except (OSError, sqlite3.Error) as exc:
                backup_path.unlink(missing_ok=True)
                full = "full" in str(exc).lower() or getattr(exc, "errno", None) == 28
                reason = "the disk is full" if full else str(exc)
                raise (StoreFullError if full else StoreError)(
                    f"Could not back up {where.location} before upgrading its format "
                    f"({reason}). The upgrade was not started. " + _NOTHING_CHANGED
                ) from exc
        from alembic import command  # only here: a current store never needs Alembic

        cfg = _alembic_config(script_location)
        with engine.begin() as conn:
            where.lock_migration(conn)
            # Another app may have migrated it while this one waited for the lock.
            if "alembic_version" in set(inspect(conn).get_table_names()):
                now_at = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
                if now_at == head:
                    return backup_path
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            _finish_upgrade(conn)
            if not tables:
                now = dt.datetime.now(dt.UTC).isoformat()
                for key, value in (
                    ("store_id", str(uuid.uuid4())),
                    ("site_id", str(uuid.uuid4())),
                    ("created_at", now),
                    ("created_by", __version__),
                ):
                    conn.execute(insert(StoreMeta).values(key=key, value=value))
        return backup_path

    # -- partnership -----------------------------------------------------------------

    def held_partnerships(self) -> list[partnerships.PartnershipRef]:
        """Every partnership the store holds (that this connection may read)."""
        with self._sessions() as s:
            return partnerships.list_partnerships(s)

    def choose_partnership(self, wanted: str | None) -> partnerships.PartnershipRef | None:
        """Open the store for the partnership called ``wanted`` (see
        :func:`partnerships.choose`): from here on every read sees only its records."""
        available = self.held_partnerships()
        self.partnership = partnerships.choose(available, wanted)
        self.partnership_count = len(available)
        return self.partnership

    def _filtered_partnership(self) -> uuid.UUID | None:
        # A store of one partnership needs no filter (and pays nothing for one).
        if self.partnership is None or self.partnership_count < 2:
            return None
        return self.partnership.id

    # -- metadata ------------------------------------------------------------------

    def _read_meta(self) -> dict[str, str]:
        with self._sessions() as s:
            return {m.key: m.value for m in s.scalars(select(StoreMeta))}

    def _write_meta(self, values: dict[str, str]) -> None:
        try:
            with self._sessions.begin() as s:
                for key, value in values.items():
                    s.merge(StoreMeta(key=key, value=value))
        except sa_exc.DBAPIError as exc:
            raise self.backend.translate(exc) from exc
        self._meta.update(values)

    def meta(self, key: str, default: str = "") -> str:
        return self._meta.get(key, default)

    def set_meta(self, **values: str) -> None:
        self._write_meta(values)

    @property
    def site_id(self) -> uuid.UUID:
        return uuid.UUID(self._meta["site_id"])

    @property
    def store_id(self) -> uuid.UUID:
        return uuid.UUID(self._meta["store_id"])

    @property
    def is_sample(self) -> bool:
        return self._meta.get("sample") == "1"

    # -- sessions ------------------------------------------------------------------

    def session(self) -> Session:
        """A session for reading. Writes through it are refused by the change hook."""
        return self._sessions()

    @contextlib.contextmanager
    def transaction(
        self,
        *,
        actor: str | None = None,
        person_id: uuid.UUID | None = None,
        source: str = "local",
        keeps_history: bool = False,
        wait_seconds: float = BUSY_WAIT_MS / 1000,
        bulk: bool = False,
    ) -> Iterator[changes.Transaction]:
        """One atomic, change-logged write. On any error nothing is saved.

        Records change only inside domain services (``ssp_desktop.services``) called
        with the transaction this yields. Once it commits, every listener
        (:meth:`subscribe`) hears what changed. ``keeps_history``: this write leaves the
        undo history alone (bookkeeping that cannot disturb an edit, such as a pack
        export's record or a bundle's sequence number); otherwise any write made outside
        the history ends it, even one that changes no plan record (keeping this copy's
        value in a conflict). ``wait_seconds``: how long to wait for another writer's
        commit (another window, another officer) before giving up as busy. ``bulk``:
        the transaction writes thousands of records (an import), so the garbage
        collector runs less often while it does (:func:`fewer_collections`).
        """
        with (
            fewer_collections() if bulk else contextlib.nullcontext(),
            self._transaction(actor, person_id, source, keeps_history, wait_seconds, bulk) as tx,
        ):
            yield tx

    @contextlib.contextmanager
    def _transaction(
        self,
        actor: str | None,
        person_id: uuid.UUID | None,
        source: str,
        keeps_history: bool,
        wait_seconds: float,
        bulk: bool = False,
    ) -> Iterator[changes.Transaction]:
        if self.readonly:
            raise StoreError(f"{self.location} is open read-only; it cannot be changed here.")
        session = self._sessions()
        context = changes.ChangeContext(
            site_id=self.site_id,
            actor=actor or default_actor(),
            person_id=person_id,
            source=source,
        )
        changes.begin_writing(session, context)
        committed: events.Committed | None = None
        # A bulk write on a SQLite file: its inserts are written on a thread of their
        # own while it goes on, and its checkpoint after it (store/background.py).
        checkpoints = self._checkpoints if bulk and background.writes_behind(self.engine) else None
        inserts: background.BackgroundInserts | None = None
        indexer: search.Indexer | None = None
        try:
            with session.begin():
                connection = session.connection(
                    execution_options={
                        IMMEDIATE: max(1, round(wait_seconds * 1000)),
                        _backend.LATER_CHECKPOINT: checkpoints is not None,
                    }
                )
                if checkpoints is not None:
                    raw = connection.connection.driver_connection
                    assert isinstance(raw, sqlite3.Connection)
                    inserts = background.BackgroundInserts(raw)
                    session.info[changes.ROW_WRITER] = inserts
                    if search.has_index(session):
                        # Its search documents a batch at a time, as it goes.
                        indexer = search.Indexer(inserts, connection)
                        session.info[changes.AFTER_BATCH] = indexer
                tx = changes.Transaction(session)
                yield tx
                # The search index commits with the change it reflects, from every
                # writer alike (forms, imports, merges, undo).
                if indexer is not None:
                    indexer(tx)  # what came after its last batch (folded once, here)
                    touched = tx.changes()  # made from the batches' folds
                else:
                    touched = tx.changes()
                    search.reindex(session, touched)
                if touched or session.info.get("wrote"):
                    revision = (
                        raise_revision(session, context.change_set)
                        if touched
                        else read_revision(session)
                    )
                    self._own.append(context.change_set)
                    committed = events.Committed(
                        change_set=context.change_set,
                        revision=revision,
                        source=source,
                        actor=context.actor,
                        records=touched,
                        keeps_history=keeps_history,
                    )
        except (sa_exc.DBAPIError, sqlite3.Error) as exc:
            raise self.backend.translate(exc) from exc
        finally:
            if inserts is not None:
                session.info.pop(changes.ROW_WRITER, None)
                session.info.pop(changes.AFTER_BATCH, None)
                inserts.close()
            session.close()
        if checkpoints is not None:
            checkpoints.start()
        if committed is not None:
            self._publish(committed)

    def subscribe(self, listener: events.Listener) -> Callable[[], None]:
        """Call ``listener`` after every committed change; returns the unsubscriber."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _publish(self, committed: events.Committed) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(committed)
            except Exception:  # a listener's bug must not undo a committed write
                log.exception("a change listener failed")

    @contextlib.contextmanager
    def watch(self) -> Iterator[Callable[[], bool]]:
        """A test of whether anything was committed to the store since the ``with``
        began, by any connection, through any path (plan records, sync bookkeeping,
        metadata): an importer plans against the store, then applies that plan in its
        transaction only if this says nothing changed in between.

        SQLite's ``data_version`` of one connection held for the watch changes exactly
        when another connection commits; reading it costs no query of the data. A server
        store has no such counter that every path moves, so there the answer is always
        yes: the importer plans again inside its transaction (correct, and slower).
        """
        if self.backend.kind != "sqlite":
            yield lambda: True
            return
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()

            def version() -> object:
                cursor.execute("PRAGMA data_version")
                return cursor.fetchone()

            start = version()

            def changed() -> bool:
                return version() != start

            yield changed
        finally:
            raw.close()

    def revision(self) -> int:
        """The newest committed revision (in commit order): names the data a snapshot
        saw. One row read, cheap enough to poll."""
        with self.session() as s:
            return read_revision(s)

    def changes_since(self, revision: int) -> events.Committed | None:
        """What other writers committed after ``revision`` (another window, another
        officer's app), folded into one :class:`~ssp_desktop.domain.events.Committed`
        naming the newest revision; None if nothing. Change sets this Store committed
        itself are left out: its own listeners heard them already."""
        own = set(self._own)
        with self.session() as s:
            newest = read_revision(s)
            if newest <= revision:
                return None
            rows = s.execute(
                select(
                    ChangeLog.change_set,
                    ChangeLog.actor,
                    ChangeLog.entity,
                    ChangeLog.record_id,
                    ChangeLog.op,
                    ChangeLog.field,
                )
                .where(ChangeLog.revision > revision, ChangeLog.revision <= newest)
                .order_by(ChangeLog.revision, ChangeLog.seq)
            ).all()
        theirs = [r for r in rows if r.change_set not in own]
        actors = sorted({r.actor for r in theirs})
        return events.Committed(
            change_set=theirs[-1].change_set if theirs else uuid.UUID(int=0),
            revision=newest,
            source="remote",
            actor=", ".join(actors),
            records=events.record_changes((r.entity, r.record_id, r.op, r.field) for r in theirs),
            keeps_history=True,
        )

    def another_writer(self) -> Store:
        """A second Store on this store with its own connections: what a second window
        of the app on the same store holds, and how a test plays a second officer.

        On a file it writes under this app's writer lock (a second app is still
        refused) and SQLite's write lock orders the two stores' commits; close it before
        this one. On a server it is simply another connection to the same database."""
        if self.readonly:
            raise StoreError(f"{self.location} is open read-only; it cannot be changed here.")
        engine = self.backend.make_engine(readonly=False)
        if self.is_server:
            return type(self)(self.backend, engine, None, readonly=False)
        other = type(self)(self.backend, engine, self.lock)
        other._borrowed_lock = True
        return other

    def close(self) -> None:
        log.info("closed store %s", self.location)
        if self._checkpoints is not None:
            self._checkpoints.wait()
        self.engine.dispose()
        if self._borrowed_lock:
            self.lock = None
        if self.lock is not None:
            holding = self.lock.holding_store
            self.lock.release()
            self.lock = None
            if holding and self.path is not None:
                _fold_wal(self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_driver_error(exc: BaseException) -> bool:
    """Whether ``exc`` is psycopg's own (raised before SQLAlchemy wraps anything)."""
    return type(exc).__module__.split(".")[0] == "psycopg"


def _finish_upgrade(conn: Connection) -> None:
    """Work a migration asked for that needs the schema at its head: filling the search
    index from the records (migration 0008), in the upgrade's own transaction."""
    from ssp_desktop.store import search

    marker = conn.execute(
        select(StoreMeta.value).where(StoreMeta.key == search.REBUILD_KEY)
    ).scalar()
    if marker is None:
        return
    with Session(bind=conn) as session:
        search.rebuild(session)
        session.flush()
    conn.execute(delete(StoreMeta).where(StoreMeta.key == search.REBUILD_KEY))
