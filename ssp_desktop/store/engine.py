"""The plan store: one SQLite file, opened safely, migrated, one writer at a time.

Opening a store (``Store.open``) checks, in this order, before anything is written:
the file is a whole SQLite database (not another file, not a truncated copy), the
folder is writable, no other app holds the writer lock, the schema is not from a
newer app. Then it takes a backup copy and applies Alembic migrations if the schema
is older. Every connection has foreign keys on; the journal is WAL.

Writes go through :meth:`Store.transaction`, which logs every change (see
``changes.py``) and turns low-level SQLite failures (disk full, locked, read-only,
constraint) into errors that tell the user what happened and that nothing was saved.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import getpass
import logging
import os
import re
import sqlite3
import struct
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from ssp_desktop import __version__
from ssp_desktop.domain import changes, events, sync_records  # noqa: F401 - registers the sync tables
from ssp_desktop.domain.errors import (
    CorruptStoreError,
    DomainError,
    NotAStoreError,
    ReadOnlyLocationError,
    StoreBusyError,
    StoreError,
    StoreFullError,
    StoreNotFoundError,
    StoreTooNewError,
)
from ssp_desktop.domain.records import ChangeLog, StoreMeta
from ssp_desktop.store import partnerships, search
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.lock import StoreLock

if TYPE_CHECKING:
    from alembic.config import Config

SQLITE_MAGIC = b"SQLite format 3\x00"
log = logging.getLogger(__name__)
MIGRATIONS = "ssp_desktop.store:migrations"
_NOTHING_CHANGED = "The store was not changed."


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


def inspect_header(path: Path) -> None:
    """Refuse a file that is not SQLite, or is shorter than its own header says."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            header = f.read(100)
    except PermissionError as exc:
        raise ReadOnlyLocationError(f"Cannot read {path}: permission denied.") from exc
    if size == 0:
        raise NotAStoreError(f"{path} is an empty file, not an ssp-desktop store.")
    if not header.startswith(SQLITE_MAGIC):
        raise NotAStoreError(
            f"{path} is not an ssp-desktop store: it is not a SQLite database. "
            "Check that you chose the right file. " + _NOTHING_CHANGED
        )
    if len(header) < 100:
        raise CorruptStoreError(f"{path} is damaged: its header is incomplete. {_RESTORE}")
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    change_counter, page_count = struct.unpack(">II", header[24:32])
    (valid_for,) = struct.unpack(">I", header[92:96])
    # The in-header page count is only trustworthy when this matches (SQLite file format).
    if valid_for == change_counter and page_count and size < page_count * page_size:
        raise CorruptStoreError(
            f"{path} is damaged: it is {size:,} bytes but should be "
            f"{page_count * page_size:,} (a copy that did not finish?). {_RESTORE}"
        )


_RESTORE = RESTORE_ADVICE = (
    "Restore it from a backup (ssp-desktop keeps one beside the store before every upgrade) "
    "or ask the strategy team for a fresh copy. " + _NOTHING_CHANGED
)


def _check_folder_writable(folder: Path) -> None:
    if not folder.is_dir():
        raise StoreNotFoundError(f"The folder {folder} does not exist.")
    if not folder_writable(folder):
        raise ReadOnlyLocationError(
            f"The folder {folder} is read-only. ssp-desktop writes its journal and lock "
            "beside the store, so it needs a folder you can write to: copy the store "
            "somewhere writable (e.g. your Documents folder) and open it there."
        )


# Below this much free space, a write that failed with an I/O error failed for want of
# room: SQLite says "disk I/O error", not "full", when growing the WAL or its index fails.
_NEARLY_FULL = 4 << 20


def _nearly_full(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        st = os.statvfs(path.parent)
    except (OSError, AttributeError):  # no statvfs on Windows; SQLite says "full" there
        return False
    return st.f_bavail * st.f_frsize < _NEARLY_FULL


def translate(exc: BaseException, path: Path | None = None) -> SspErrorLike:
    """The user-facing error for a low-level database failure (``path``: the store, to
    tell a full disk behind a bare "disk I/O error")."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "full" in text or ("i/o error" in text and _nearly_full(path)):
        return StoreFullError(
            "The disk is full, so the change was not saved. Free some space and try again; "
            "the store is as it was before the change."
        )
    if "locked" in text or "busy" in text:
        return StoreBusyError(
            "The store is busy (another program is writing to it). Try again in a moment; "
            "the change was not saved."
        )
    if "readonly" in text or "read-only" in text:
        return ReadOnlyLocationError(
            "The store cannot be written (read-only file or folder); the change was not saved."
        )
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return CorruptStoreError(f"The store is damaged ({text}). {_RESTORE}")
    if isinstance(exc, sa_exc.IntegrityError):
        return DomainError(_explain_integrity(text))
    return StoreError(f"The store could not be written ({text}). The change was not saved.")


SspErrorLike = StoreError | DomainError


def _explain_integrity(text: str) -> str:
    m = re.search(r"unique constraint failed: ([\w.]+(?:, [\w.]+)*)", text)
    if m:
        cols = [c.split(".")[-1] for c in m.group(1).split(", ")]
        table = m.group(1).split(".")[0].replace("_", " ")
        key = [c for c in cols if not c.endswith("_id")] or cols
        return f"Another {table} already has this {' and '.join(key)}. Nothing was saved."
    if "foreign key" in text:
        return "That change refers to a record that does not exist. Nothing was saved."
    if "check constraint" in text:
        if "due_after_start" in text:
            return "The due date is before the start date. Nothing was saved."
        return f"A value is out of range ({text}). Nothing was saved."
    if "not null" in text:
        field = text.rsplit(".", 1)[-1]
        return f"The {field.replace('_', ' ')} is required. Nothing was saved."
    return f"The change breaks a rule of the store ({text}). Nothing was saved."


def folder_writable(folder: Path) -> bool:
    """Whether files can be made in ``folder`` (a probe, as permissions alone do not
    say: a read-only share, a CD, a folder the user may only read)."""
    probe = folder / f".ssp-write-test-{uuid.uuid4().hex}"
    try:
        probe.touch()
        probe.unlink()
    except OSError:
        return False
    return True


def _read_query(path: Path) -> str:
    """The URI query that opens ``path`` for reading only.

    Reading a store in WAL mode makes SQLite create its ``-shm`` index beside it, which
    a read-only folder refuses ("could not be written" for a command that writes
    nothing). There, with no write-ahead log left beside the store, it is opened as
    immutable: nobody can be writing to a file in a folder nobody can write to.
    """
    if folder_writable(path.parent):
        return "?mode=ro"
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise ReadOnlyLocationError(
            f"{path} is in a read-only folder and still has unsaved changes in "
            f"{wal.name} beside it, which only a writable folder lets SQLite read. Copy "
            "the store and that file together to a folder you can write to and open it "
            "there. " + _NOTHING_CHANGED
        )
    return "?mode=ro&immutable=1"


def _make_engine(path: Path, *, readonly: bool) -> Engine:
    uri = path.resolve().as_uri() + (_read_query(path) if readonly else "")
    # The file URI form always opens an existing file with mode=ro, and otherwise
    # creates; timeout is sqlite3's busy wait when a reader holds a checkpoint.
    engine = create_engine(
        "sqlite+pysqlite://",
        # The bare URL would make SQLAlchemy assume an in-memory database and share
        # one connection per thread; a file store wants an ordinary pool.
        poolclass=QueuePool,
        # Exception messages must not carry plan content into logs and crash reports.
        hide_parameters=True,
        creator=lambda: sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so
        # migrations' DDL and our writes are really atomic.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 5000")
        if not readonly:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


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


class Store:
    """An open plan store. Use :meth:`open`; close with :meth:`close` or ``with``."""

    def __init__(self, path: Path, engine: Engine, lock: StoreLock | None) -> None:
        self.path = path
        self.engine = engine
        self.lock = lock
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
        self._meta = self._read_meta()
        self.backup_path: Path | None = None

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
        partnership: str | None = None,
        all_partnerships: bool = False,
    ) -> Store:
        """Open (or with ``create`` make) the store at ``path``.

        ``readonly`` opens without the writer lock and without migrating (used by
        ``check``). ``backup`` is the copy function, replaceable in tests.
        ``partnership``: the name (or id) of the partnership to open the store for;
        needed when the store holds several (``PartnershipChoiceError`` lists them).
        ``all_partnerships``: read every partnership (the region summary, ``check``).
        """
        path = Path(path).expanduser().absolute()
        exists = path.exists()
        if exists and path.is_dir():
            raise NotAStoreError(f"{path} is a folder, not an ssp-desktop store.")
        if not readonly and (exists or create):
            _check_folder_writable(path.parent)
        if exists:
            inspect_header(path)
            try:
                probe = cls._probe(path)
            except sqlite3.DatabaseError as exc:
                raise translate(exc, path) from exc
            cls._judge(path, *probe, revisions(script_location))
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
            engine = _make_engine(path, readonly=readonly)
            backup_path = cls._prepare_schema(
                path,
                engine,
                readonly=readonly,
                script_location=script_location,
                backup=backup or sqlite_backup,
            )
            if lock is not None:
                # SQLite has the store open in WAL mode now (the -shm exists): from here
                # on no other process can delete the WAL or wipe its index (lock.py).
                lock.hold()
            store = cls(path, engine, lock)
            store.backup_path = backup_path
            if not all_partnerships:
                store.choose_partnership(
                    partnership if partnership is not None else partnerships.requested()
                )
            if not readonly:
                store._write_meta({"last_opened_by": __version__})
            log.info(
                "opened store %s (%s, site %s%s)",
                path,
                "read-only" if readonly else "read-write",
                store.site_id,
                f", schema backup {backup_path.name}" if backup_path else "",
            )
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

    @staticmethod
    def _probe(path: Path) -> tuple[set[str], str | None, str | None]:
        """Tables, schema revision and last writer, read without changing a byte."""
        conn = sqlite3.connect(path.resolve().as_uri() + _read_query(path), uri=True)
        try:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            current = writer = None
            if "alembic_version" in tables:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
                current = row[0] if row else None
            if "store_meta" in tables:
                row = conn.execute(
                    "SELECT value FROM store_meta WHERE key = 'last_opened_by'"
                ).fetchone()
                writer = row[0] if row else None
            return tables, current, writer
        finally:
            conn.close()

    @staticmethod
    def _judge(
        path: Path,
        tables: set[str],
        current: str | None,
        writer: str | None,
        script: Revisions,
    ) -> None:
        """Refuse a database that is not ours, or is from a newer app."""
        head, known = script.head, script.known
        if tables and ("alembic_version" not in tables or current is None):
            raise NotAStoreError(
                f"{path} is a SQLite database, but not an ssp-desktop store. " + _NOTHING_CHANGED
            )
        if current is not None and current not in known:
            by = f" by ssp-desktop {writer}" if writer else ""
            raise StoreTooNewError(
                f"{path} was written{by} with a newer store format (schema {current}) than "
                f"this app understands (ssp-desktop {__version__}, schema {head}). "
                "Update ssp-desktop to open it. " + _NOTHING_CHANGED
            )

    @classmethod
    def _prepare_schema(
        cls,
        path: Path,
        engine: Engine,
        *,
        readonly: bool,
        script_location: str,
        backup: Callable[[Path, Path], None],
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
        # Again under the lock: another app may have upgraded the file since the probe.
        cls._judge(path, tables, current, writer, script)
        if current == head:
            return None
        if readonly:
            raise StoreError(
                f"{path} uses an older store format (schema {current}); open it in "
                "ssp-desktop once to upgrade it, then try again. " + _NOTHING_CHANGED
            )
        backup_path: Path | None = None
        if tables:
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            backup_path = path.with_name(f"{path.stem}.backup-{stamp}-schema-{current}.sqlite")
            try:
                backup(path, backup_path)
            except (OSError, sqlite3.Error) as exc:
                backup_path.unlink(missing_ok=True)
                full = "full" in str(exc).lower() or getattr(exc, "errno", None) == 28
                reason = "the disk is full" if full else str(exc)
                raise (StoreFullError if full else StoreError)(
                    f"Could not back up {path} before upgrading its format ({reason}). "
                    "The upgrade was not started. " + _NOTHING_CHANGED
                ) from exc
        from alembic import command  # only here: a current store never needs Alembic

        cfg = _alembic_config(script_location)
        with engine.begin() as conn:
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
            raise translate(exc, self.path) from exc
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
    ) -> Iterator[changes.Transaction]:
        """One atomic, change-logged write. On any error nothing is saved.

        Records change only inside domain services (``ssp_desktop.services``) called
        with the transaction this yields. Once it commits, every listener
        (:meth:`subscribe`) hears what changed. ``keeps_history``: this write leaves the
        undo history alone (bookkeeping that cannot disturb an edit, such as a pack
        export's record or a bundle's sequence number); otherwise any write made outside
        the history ends it, even one that changes no plan record (keeping this copy's
        value in a conflict).
        """
        if self.lock is None:
            raise StoreError(f"{self.path} is open read-only; it cannot be changed here.")
        session = self._sessions()
        context = changes.ChangeContext(
            site_id=self.site_id,
            actor=actor or default_actor(),
            person_id=person_id,
            source=source,
        )
        session.info["change_context"] = context
        committed: events.Committed | None = None
        try:
            with session.begin():
                tx = changes.Transaction(session)
                yield tx
                touched = tx.changes()
                # The search index commits with the change it reflects, from every
                # writer alike (forms, imports, merges, undo).
                search.reindex(session, touched)
                if touched or session.info.get("wrote"):
                    committed = events.Committed(
                        change_set=context.change_set,
                        revision=int(session.scalar(select(func.max(ChangeLog.seq))) or 0),
                        source=source,
                        actor=context.actor,
                        records=touched,
                        keeps_history=keeps_history,
                    )
        except (sa_exc.DBAPIError, sqlite3.Error) as exc:
            raise translate(exc, self.path) from exc
        finally:
            session.close()
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

    def revision(self) -> int:
        """The newest change-log sequence number: names the data a snapshot saw."""
        with self.session() as s:
            return int(s.scalar(select(func.coalesce(func.max(ChangeLog.seq), 0))) or 0)

    def close(self) -> None:
        log.info("closed store %s", self.path)
        self.engine.dispose()
        if self.lock is not None:
            holding = self.lock.holding_store
            self.lock.release()
            self.lock = None
            if holding:
                _fold_wal(self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
