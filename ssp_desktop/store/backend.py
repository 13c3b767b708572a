"""What differs between the store's two database engines, kept in one place.

A master copy lives either in one SQLite file (the default: a laptop, a single office)
or in a PostgreSQL database on a council's server (a region, or a strategy team of
several officers at once). :class:`Backend` is everything engine-specific: making the
SQLAlchemy engine (SQLite's pragmas and WAL; PostgreSQL's connection options), reading
the schema revision without changing anything, backing up to a file (SQLite's online
backup API; ``pg_dump``), the integrity check (SQLite's ``integrity_check`` and
``foreign_key_check``; PostgreSQL's catalog and constraint checks), a consistent
snapshot for the board pack, and turning the driver's failures into errors in plain
words. ``Store`` (engine.py) holds one and asks it; nothing outside ``store/`` knows
which engine it talks to.

A server address is a libpq URL, ``postgresql://user@host:port/database``. Passwords
are never stored by the app and never shown: libpq's own ``~/.pgpass`` or service file
(``postgresql:///?service=NAME``) supplies one (psycopg reads them itself), else the
operating system's keyring (:func:`server_password`); :func:`redact` is the form shown
in titles, logs and messages.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, event, insert, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool, StaticPool

from ssp_desktop.domain.base import Base
from ssp_desktop.domain.errors import (
    CorruptStoreError,
    DomainError,
    NotAStoreError,
    ReadOnlyLocationError,
    StoreAccessDeniedError,
    StoreBusyError,
    StoreError,
    StoreFullError,
    StoreNotFoundError,
    StoreUnreachableError,
    WriteRaceError,
)
from ssp_desktop.domain.records import give_postgresql_conditions
from ssp_desktop.store import background

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
NOTHING_CHANGED = "The store was not changed."
RESTORE_ADVICE = (
    "Restore it from a backup (ssp-desktop keeps one beside the store before every upgrade) "
    "or ask the strategy team for a fresh copy. " + NOTHING_CHANGED
)
SERVER_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
APPLICATION_NAME = "ssp-desktop"
# The keyring entry a server password may be kept under (service name; the user name
# is "user@host:port/database").
KEYRING_SERVICE = "ssp-desktop server store"

SspErrorLike = StoreError | DomainError


# -- telling the two apart, and showing a location ------------------------------------


def is_server_location(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names a PostgreSQL database rather than a file."""
    if not isinstance(location, str) or "://" not in location:
        return False
    return location.split("://", 1)[0].lower() in SERVER_SCHEMES


_PASSWORD_IN_URL = re.compile(r"(://[^/@:\s]*):[^@/\s]*@")
_PASSWORD_PARAM = re.compile(r"([?&]password=)[^&\s]*", re.I)


def redact(location: str | os.PathLike[str]) -> str:
    """``location`` as it may be shown or logged: a server URL loses its password."""
    text = os.fspath(location)
    if not is_server_location(text):
        return text
    text = _PASSWORD_IN_URL.sub(r"\1@", text)
    return _PASSWORD_PARAM.sub(r"\1…", text)


def server_url(
    *,
    host: str,
    database: str,
    user: str = "",
    port: int | None = None,
) -> str:
    """The URL of a server store from its parts, never with a password. A host that is
    a folder (``/var/run/postgresql``) is a unix socket, passed as ``?host=``."""
    socket = host.startswith("/")
    url = URL.create(
        "postgresql",
        username=user or None,
        host=None if socket or not host else host,
        port=port,
        database=database,
        query={"host": host} if socket else {},
    )
    return url.render_as_string(hide_password=False)


def server_password(url: URL) -> str | None:
    """The password the operating system's keyring keeps for this server and user, if
    the keyring is in use (``SSP_DESKTOP_KEYRING`` not ``off``, as for keys) and has
    one; otherwise None, and libpq reads ~/.pgpass or the service file itself."""
    if os.environ.get("SSP_DESKTOP_KEYRING", "").strip().lower() in _KEYRING_OFF:
        return None
    try:
        import keyring

        found = keyring.get_password(KEYRING_SERVICE, _keyring_user(url))
    except Exception as exc:  # no usable keyring here (none installed, locked, no D-Bus)
        log.info("no keyring for server passwords (%s)", type(exc).__name__)
        return None
    return found if isinstance(found, str) and found else None


_KEYRING_OFF = {"0", "off", "no", "false", "file"}


def _keyring_user(url: URL) -> str:
    return f"{url.username or ''}@{url.host or ''}:{url.port or 5432}/{url.database or ''}"


# -- errors in plain words ----------------------------------------------------------------

# Below this much free space, a write that failed with an I/O error failed for want of
# room: SQLite says "disk I/O error", not "full", when growing the WAL or its index fails.
NEARLY_FULL = 4 << 20


def nearly_full(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        st = os.statvfs(path.parent)
    except (OSError, AttributeError):  # no statvfs on Windows; SQLite says "full" there
        return False
    return st.f_bavail * st.f_frsize < NEARLY_FULL


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


def translate_sqlite(exc: BaseException, path: Path | None = None) -> SspErrorLike:
    """The user-facing error for a SQLite failure (``path``: the store, to tell a full
    disk behind a bare "disk I/O error")."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "full" in text or ("i/o error" in text and nearly_full(path)):
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
        return CorruptStoreError(f"The store is damaged ({text}). {RESTORE_ADVICE}")
    if isinstance(exc, sa_exc.IntegrityError):
        return DomainError(_explain_integrity(text))
    return StoreError(f"The store could not be written ({text}). The change was not saved.")


def _first_line(exc: BaseException) -> str:
    # PostgreSQL's DETAIL line may quote the values of a row: plan content stays out of
    # messages and logs, as with hide_parameters.
    text = str(getattr(exc, "orig", exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _unique_columns(constraint: str | None) -> list[str]:
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            if index.name == constraint:
                return [c.name for c in index.columns]
        for con in table.constraints:
            if con.name == constraint:
                return [c.name for c in getattr(con, "columns", ())]
    return []


def translate_postgres(exc: BaseException, where: str = "the server") -> SspErrorLike:
    """The user-facing error for a PostgreSQL failure, by its SQLSTATE where it has one
    (``where``: the redacted location, for connection errors)."""
    orig = getattr(exc, "orig", exc)
    state = str(getattr(orig, "sqlstate", "") or "")
    text = _first_line(exc)
    low = text.lower()
    diag = getattr(orig, "diag", None)
    if state in ("40001", "40P01"):
        return WriteRaceError(
            "Someone else changed the same records at the same moment, so this change was "
            "not saved. Try again; the store is as it was before the change."
        )
    if state in ("53100", "53200", "53000") or "no space left" in low:
        return StoreFullError(
            "The database server is out of space, so the change was not saved. Ask whoever "
            "runs the server to free some; the store is as it was before the change."
        )
    if state in ("55P03", "55006") or "lock timeout" in low:
        return StoreBusyError(
            "The store is busy (another officer is writing to the same records). Try again "
            "in a moment; the change was not saved."
        )
    if state == "25006":
        return ReadOnlyLocationError(
            "The store is open read-only here (or the server is a read-only standby); the "
            "change was not saved."
        )
    if state in ("28P01", "28000") or "password authentication failed" in low:
        return StoreAccessDeniedError(
            f"{where} refused the user name or password. Check them; ssp-desktop uses the "
            "password in your ~/.pgpass (pgpass.conf on Windows) or service file, or the "
            "one kept in your keyring. " + NOTHING_CHANGED
        )
    if state == "42501":
        return StoreAccessDeniedError(
            f"Your account on {where} may not do that ({text}). Ask whoever runs the "
            "server for access. " + NOTHING_CHANGED
        )
    if state == "3D000" or ("database" in low and "does not exist" in low):
        return StoreNotFoundError(
            f"There is no such database on {where}. Check the database name, or ask whoever "
            "runs the server to create it. " + NOTHING_CHANGED
        )
    if state.startswith("08") or any(
        s in low
        for s in (
            "connection refused",
            "could not connect",
            "could not translate host name",
            "timeout expired",
            "connection to server",
            "server closed the connection",
            "no such file or directory",
        )
    ):
        return StoreUnreachableError(
            f"Could not reach {where}: {text}. Check the host and port, and that the "
            "server is running and lets you in. " + NOTHING_CHANGED
        )
    if state == "23505":
        table = (getattr(diag, "table_name", None) or "record").replace("_", " ")
        cols = _unique_columns(getattr(diag, "constraint_name", None))
        key = [c for c in cols if not c.endswith("_id")] or cols or ["key"]
        return DomainError(
            f"Another {table} already has this {' and '.join(key)}. Nothing was saved."
        )
    if state == "23503":
        return DomainError("That change refers to a record that does not exist. Nothing was saved.")
    if state == "23514":
        constraint = getattr(diag, "constraint_name", None) or ""
        if "due_after_start" in constraint:
            return DomainError("The due date is before the start date. Nothing was saved.")
        return DomainError(f"A value is out of range ({constraint or text}). Nothing was saved.")
    if state == "23502":
        field = getattr(diag, "column_name", None) or "value"
        return DomainError(f"The {field.replace('_', ' ')} is required. Nothing was saved.")
    if state.startswith("XX"):
        return CorruptStoreError(
            f"The database on {where} reports damage ({text}). {RESTORE_ADVICE}"
        )
    return StoreError(f"The store could not be written ({text}). The change was not saved.")


# -- copying tables between engines (snapshots, store copy) ----------------------------

_BATCH = 2000


def _parents_first(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` ordered so a row referring to another row of the same table (an update
    that supersedes an earlier one) comes after it: the server checks each insert."""
    own = [
        (fk.columns[0].name, next(iter(fk.elements)).column.name)
        for fk in table.foreign_key_constraints
        if fk.referred_table is table and len(fk.columns) == 1
    ]
    if not own:
        return rows
    placed: set[Any] = set()
    ordered: list[dict[str, Any]] = []
    waiting = rows
    while waiting:
        later = []
        for row in waiting:
            if all(row[col] is None or row[col] in placed for col, _ in own):
                ordered.append(row)
                placed.update(row[key] for _, key in own)
            else:
                later.append(row)
        if len(later) == len(waiting):  # a cycle or a dangling reference: let the server say
            ordered.extend(later)
            break
        waiting = later
    return ordered


def copy_rows(
    source: Connection,
    target: Connection,
    tables: Sequence[Table],
    *,
    step: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Copy every row of ``tables`` (parents first) from ``source`` to ``target``
    through SQLAlchemy's typed columns, so UUIDs, timestamps and JSON arrive as the
    target engine stores them; returns rows copied per table. ``step(table)`` is called
    before each table (progress, cancel)."""
    counts: dict[str, int] = {}
    for table in tables:
        if step is not None:
            step(table.name)
        n = 0
        if any(fk.referred_table is table for fk in table.foreign_key_constraints):
            rows = _parents_first(
                table, [dict(r) for r in source.execute(select(table)).mappings()]
            )
            for start in range(0, len(rows), _BATCH):
                target.execute(insert(table), rows[start : start + _BATCH])
            counts[table.name] = len(rows)
            continue
        result = source.execution_options(yield_per=_BATCH).execute(select(table))
        for chunk in result.mappings().partitions(_BATCH):
            target.execute(insert(table), [dict(row) for row in chunk])
            n += len(chunk)
        counts[table.name] = n
    return counts


def record_tables(metadata: MetaData | None = None) -> list[Table]:
    """Every mapped table of the store, parents before children."""
    return list((metadata or Base.metadata).sorted_tables)


# -- the backends -------------------------------------------------------------------------


# The execution option Store.transaction's connection carries: begin as a writer,
# waiting up to this many milliseconds for another writer's commit (SQLite).
IMMEDIATE = "ssp_immediate"
# Execution option: this write transaction's commit makes no checkpoint (a bulk write's;
# the store makes it afterwards, on a thread of its own).
LATER_CHECKPOINT = "ssp_later_checkpoint"
AUTOCHECKPOINT_PAGES = 1000  # SQLite's default
BUSY_WAIT_MS = 5000


@dataclass(frozen=True)
class Probe:
    """What a store holds, read without changing a byte."""

    tables: set[str]
    revision: str | None
    writer: str | None


class Backend:
    """One engine's way of doing what ``Store`` needs (see the module docstring)."""

    kind: str = ""
    #: The store as shown to people and written to logs (never with a password).
    location: str = ""
    #: The store's file, for a SQLite store; None on a server.
    path: Path | None = None
    #: A short name for titles ("plan.sqlite", "plans on council-db").
    name: str = ""

    def make_engine(self, *, readonly: bool) -> Engine:
        raise NotImplementedError

    def probe(self) -> Probe:
        raise NotImplementedError

    def backup(self, target: Path) -> None:
        """A consistent copy of the whole store, written to the file ``target``."""
        raise NotImplementedError

    def backup_path(self, label: str, *, folder: Path | None = None) -> Path:
        """Where a backup taken before ``label`` ("schema-0006") goes."""
        raise NotImplementedError

    def integrity_problems(self, conn: Connection) -> list[tuple[str, str]]:
        """The engine's own checks: ``(kind, message)`` pairs, ``kind`` "integrity"
        (damage: stop) or "foreign key"."""
        raise NotImplementedError

    def snapshot(self, engine: Engine) -> contextlib.AbstractContextManager[Engine]:
        """A private, writable, in-memory SQLite copy of one consistent state of the
        store (the board pack winds it back and trims it)."""
        raise NotImplementedError

    def restore(self, engine: Engine, backup: Path) -> None:
        """Put the store back as ``backup`` (made by :meth:`backup`) holds it."""
        raise NotImplementedError

    def translate(self, exc: BaseException) -> SspErrorLike:
        raise NotImplementedError

    def lock_migration(self, conn: Connection) -> None:
        """Keep other apps from migrating the same store at the same time."""


def _scratch_engine(copy: sqlite3.Connection) -> Engine:
    scratch = create_engine("sqlite+pysqlite://", creator=lambda: copy, poolclass=StaticPool)

    @event.listens_for(scratch, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return scratch


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
            "Check that you chose the right file. " + NOTHING_CHANGED
        )
    if len(header) < 100:
        raise CorruptStoreError(f"{path} is damaged: its header is incomplete. {RESTORE_ADVICE}")
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    change_counter, page_count = struct.unpack(">II", header[24:32])
    (valid_for,) = struct.unpack(">I", header[92:96])
    # The in-header page count is only trustworthy when this matches (SQLite file format),
    # and only says how long the file must be when no write-ahead log holds pages for
    # it: a checkpoint that ran out of disk (at the app's close after an import, say)
    # leaves the file short of its header's count and the log whole, and SQLite reads
    # those pages from the log and finishes the checkpoint at the next close.
    if (
        valid_for == change_counter
        and page_count
        and size < page_count * page_size
        and not _holds_frames(path.with_name(path.name + "-wal"))
    ):
        raise CorruptStoreError(
            f"{path} is damaged: it is {size:,} bytes but should be "
            f"{page_count * page_size:,} (a copy that did not finish?). {RESTORE_ADVICE}"
        )


_WAL_HEADER = 32  # bytes before a write-ahead log's first frame (SQLite file format)


def _holds_frames(wal: Path) -> bool:
    """Whether ``wal`` is a write-ahead log with at least one frame in it."""
    try:
        return wal.stat().st_size > _WAL_HEADER
    except OSError:
        return False


def sqlite_backup(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite store (WAL content included): SQLite's online
    backup API, consistent even while the store is open, unlike copying the file."""
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


@contextlib.contextmanager
def _sqlite_snapshot(engine: Engine) -> Iterator[Engine]:
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        # The backup API copies one consistent state of the file, even while the
        # app's writer commits meanwhile (it restarts if the source changes under it).
        source.backup(copy)
        copy.isolation_level = None
    finally:
        raw.close()
    scratch = _scratch_engine(copy)
    try:
        yield scratch
    finally:
        scratch.dispose()
        copy.close()


@contextlib.contextmanager
def _postgres_snapshot(engine: Engine) -> Iterator[Engine]:
    """Copy one consistent revision (a REPEATABLE READ, READ ONLY transaction: every
    table read sees the same commit) into an in-memory SQLite database."""
    copy = sqlite3.connect(":memory:", check_same_thread=False)
    copy.isolation_level = None
    scratch = _scratch_engine(copy)
    try:
        Base.metadata.create_all(scratch)
        with (
            engine.connect() as source,
            scratch.begin() as target,
        ):
            source = source.execution_options(isolation_level="REPEATABLE READ")
            with source.begin():
                source.exec_driver_sql("SET TRANSACTION READ ONLY")
                copy_rows(source, target, record_tables())
        yield scratch
    finally:
        scratch.dispose()
        copy.close()


def finish_file(path: Path) -> None:
    """Fold a closed SQLite store's WAL into its file and leave it in rollback-journal
    mode, so the one file is the whole store (to move or hand on)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


# SQLite's integrity check stops after this many findings.
INTEGRITY_FINDINGS = 100
# The table whose check is most of the whole check's time: the change log, the biggest
# table, with four indexes to hold against every row (about three fifths at the
# region-scale master).
_CHECKED_ON_ITS_OWN = "change_log"


# A connection's execution option: its caller waits for the integrity check with nothing
# else to do (the check after an import), so the check may keep two cores busy. A check
# run beside other work (an import's plan, ``ssp-desktop check``'s own queries) would
# only take the core that work runs on.
INTEGRITY_ON_TWO_CORES = "ssp_integrity_on_two_cores"


def sqlite_integrity_findings(conn: Connection) -> list[str]:
    """What SQLite's ``PRAGMA integrity_check`` finds in the whole store (empty: "ok").

    When ``conn`` carries :data:`INTEGRITY_ON_TWO_CORES` and the computer has two cores
    or more, it runs as three checks that together make
    every test the one check makes: ``quick_check`` (every b-tree's structure, every
    page used exactly once, the free list, NOT NULL and CHECK constraints: all of it
    but the indexes), and ``integrity_check`` of each table by name (that table's
    b-trees, its rows' constraints, and each of its indexes entry by entry against
    the rows). The change log's table-by-name check runs on this connection while a
    second connection, in a second thread, runs the rest; SQLite works on both without
    Python's lock, so the check takes about as long as its larger part. Each finding is
    SQLite's own words; one found by two parts is reported once, the whole file's
    findings first, then each table's in the schema's order, at most as many as the
    one check reports."""
    tables = [
        str(name)
        for (name,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY rowid"
        )
    ]
    two_cores = bool(conn.get_execution_options().get(INTEGRITY_ON_TWO_CORES))
    if not two_cores or (os.cpu_count() or 1) < 2 or _CHECKED_ON_ITS_OWN not in tables:
        return _findings(conn, ["PRAGMA integrity_check"])[0]
    checks = {name: f"PRAGMA integrity_check({_quoted(name)})" for name in tables}
    rest = ["PRAGMA quick_check", *(checks[t] for t in tables if t != _CHECKED_ON_ITS_OWN)]
    engine = conn.engine
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ssp-check") as pool:
        others = pool.submit(_findings_apart, engine, rest)
        own = _findings(conn, [checks[_CHECKED_ON_ITS_OWN]])
        found = others.result()
    whole, by_table = found[0], dict(zip(rest[1:], found[1:], strict=True))
    by_table[checks[_CHECKED_ON_ITS_OWN]] = own[0]
    # An older SQLite reports its b-tree findings as one block per file; a table's own
    # block holds the part of the whole file's block about that table's trees.
    ordered = [
        *whole,
        *(f for t in tables for f in by_table[checks[t]] if not f.startswith(_FILE_BLOCK)),
    ]
    return list(dict.fromkeys(ordered))[:INTEGRITY_FINDINGS]


_FILE_BLOCK = "*** in database "


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _findings(conn: Connection, pragmas: Sequence[str]) -> list[list[str]]:
    out = []
    for pragma in pragmas:
        rows = [str(row) for (row,) in conn.exec_driver_sql(pragma).fetchall()]
        out.append([row for row in rows if row != "ok"])
    return out


def _findings_apart(engine: Engine, pragmas: Sequence[str]) -> list[list[str]]:
    with engine.connect() as conn:
        return _findings(conn, pragmas)


class SqliteBackend(Backend):
    """A store in one SQLite file: WAL, foreign keys on, one writer (lock.py)."""

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self.name = path.name

    def read_query(self) -> str:
        """The URI query that opens the store for reading only.

        Reading a store in WAL mode makes SQLite create its ``-shm`` index beside it,
        which a read-only folder refuses ("could not be written" for a command that
        writes nothing). There, with no write-ahead log left beside the store, it is
        opened as immutable: nobody can be writing to a file in a folder nobody can
        write to.
        """
        path = self._file
        if folder_writable(path.parent):
            return "?mode=ro"
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise ReadOnlyLocationError(
                f"{path} is in a read-only folder and still has unsaved changes in "
                f"{wal.name} beside it, which only a writable folder lets SQLite read. Copy "
                "the store and that file together to a folder you can write to and open it "
                "there. " + NOTHING_CHANGED
            )
        return "?mode=ro&immutable=1"

    @property
    def _file(self) -> Path:
        assert self.path is not None
        return self.path

    def make_engine(self, *, readonly: bool) -> Engine:
        uri = self._file.resolve().as_uri() + (self.read_query() if readonly else "")
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
            # A write transaction (Store.transaction) takes SQLite's write lock at once,
            # waiting for another writer's commit: a deferred one that read first and
            # then found another writer had committed could only fail. How long it
            # waits is the transaction's own: a form's edit gives up after a few
            # seconds ("busy, try again"), a bundle import waits for the other's turn.
            options = conn.get_execution_options()
            wait = options.get(IMMEDIATE)
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait or BUSY_WAIT_MS)}")
            if wait:
                # A bulk write's commit leaves the checkpoint to a thread of its own
                # (background.Checkpointer); every other write checkpoints as SQLite
                # does by default, once the log holds a thousand pages.
                pages = 0 if options.get(LATER_CHECKPOINT) else AUTOCHECKPOINT_PAGES
                conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {pages}")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if wait else "BEGIN")

        if not readonly:
            background.install(engine)
        return engine

    def probe(self) -> Probe:
        conn = sqlite3.connect(self._file.resolve().as_uri() + self.read_query(), uri=True)
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
            return Probe(tables, current, writer)
        finally:
            conn.close()

    def backup(self, target: Path) -> None:
        sqlite_backup(self._file, target)

    def backup_path(self, label: str, *, folder: Path | None = None) -> Path:
        import datetime as dt

        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        name = f"{self._file.stem}.backup-{stamp}-{label}.sqlite"
        return (folder or self._file.parent) / name

    def restore(self, engine: Engine, backup: Path) -> None:
        source = sqlite3.connect(backup)
        raw = engine.raw_connection()
        try:
            source.backup(raw.driver_connection)  # type: ignore[arg-type]
        finally:
            raw.close()
            source.close()

    def integrity_problems(self, conn: Connection) -> list[tuple[str, str]]:
        problems = [("integrity", finding) for finding in sqlite_integrity_findings(conn)]
        for table, rowid, parent, _fk in conn.exec_driver_sql("PRAGMA foreign_key_check"):
            problems.append(("foreign key", f"{table} row {rowid} refers to a missing {parent}"))
        return problems

    def snapshot(self, engine: Engine) -> contextlib.AbstractContextManager[Engine]:
        return _sqlite_snapshot(engine)

    def translate(self, exc: BaseException) -> SspErrorLike:
        return translate_sqlite(exc, self.path)


def _pg_tool(name: str) -> str | None:
    """A PostgreSQL client program (pg_dump): on the PATH, or Debian's newest."""
    found = shutil.which(name)
    if found:
        return found
    debian = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    return str(debian[0]) if debian else None


class PostgresBackend(Backend):
    """A store in a PostgreSQL database: many officers' apps at once, each a client."""

    kind = "postgresql"

    def __init__(self, location: str, *, password: str | None = None) -> None:
        give_postgresql_conditions()  # the records' partial indexes, as on the server
        try:
            url = make_url(location)
            if password:  # typed in for this session only: kept in memory, never shown
                url = url.set(password=password)
        except sa_exc.ArgumentError as exc:
            raise StoreNotFoundError(
                f"{redact(location)} is not a server address ssp-desktop can read; write it "
                "as postgresql://user@host:port/database. " + NOTHING_CHANGED
            ) from exc
        self.url = url.set(drivername="postgresql+psycopg")
        shown = self.url.set(drivername="postgresql", password=None)
        self.location = redact(unquote_plus(shown.render_as_string(hide_password=False)))
        host = self.url.host or self.url.query.get("host") or "this computer"
        if isinstance(host, tuple):
            host = host[0]
        self.name = f"{self.url.database or 'default database'} on {host}"
        self.path = None

    def _connect_args(self, *, readonly: bool) -> dict[str, Any]:
        args: dict[str, Any] = {"application_name": APPLICATION_NAME, "connect_timeout": 10}
        if readonly:
            args["options"] = "-c default_transaction_read_only=on"
        if self.url.password is None:
            password = server_password(self.url)
            if password:
                args["password"] = password
        return args

    def make_engine(self, *, readonly: bool) -> Engine:
        return create_engine(
            self.url,
            hide_parameters=True,
            pool_pre_ping=True,
            connect_args=self._connect_args(readonly=readonly),
        )

    def probe(self) -> Probe:
        engine = self.make_engine(readonly=True)
        try:
            with engine.connect() as conn:
                tables = {
                    r[0]
                    for r in conn.exec_driver_sql(
                        "SELECT tablename FROM pg_catalog.pg_tables "
                        "WHERE schemaname = current_schema()"
                    )
                }
                current = writer = None
                if "alembic_version" in tables:
                    current = conn.exec_driver_sql(
                        "SELECT version_num FROM alembic_version"
                    ).scalar()
                if "store_meta" in tables:
                    writer = conn.exec_driver_sql(
                        "SELECT value FROM store_meta WHERE key = 'last_opened_by'"
                    ).scalar()
                return Probe(tables, current, writer)
        finally:
            engine.dispose()

    def lock_migration(self, conn: Connection) -> None:
        # Held to the end of the migrating transaction: a second app opening the same
        # database waits, then finds it already at the head.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7309118450216)")

    def backup_path(self, label: str, *, folder: Path | None = None) -> Path:
        import datetime as dt

        from ssp_desktop.paths import data_dir

        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        safe = re.sub(r"[^\w.-]+", "-", self.name).strip("-") or "server-store"
        return (folder or data_dir() / "backups") / f"{safe}.backup-{stamp}-{label}.pgdump"

    def _client(self, program: str, *args: str) -> None:
        """Run one of PostgreSQL's client programs against this database; the password
        goes in its environment, never on the command line (where ps shows it)."""
        tool = _pg_tool(program)
        if tool is None:
            raise OSError(
                f"{program} (PostgreSQL's client programs) is not installed on this computer"
            )
        env = dict(os.environ)
        password = self.url.password or self._connect_args(readonly=True).get("password")
        if password:
            env["PGPASSWORD"] = str(password)
        env.setdefault("PGAPPNAME", APPLICATION_NAME)
        url = self.url.set(drivername="postgresql", password=None)
        done = subprocess.run(
            [tool, *args, f"--dbname={url.render_as_string(hide_password=False)}"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise OSError(f"{program} failed: {last}")

    def backup(self, target: Path) -> None:
        """``pg_dump`` in its custom format (``pg_restore`` reads it): one consistent
        snapshot of the database even while officers write."""
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._client("pg_dump", "--format=custom", "--no-owner", f"--file={target}")
        except OSError:
            target.unlink(missing_ok=True)
            raise

    def restore(self, engine: Engine, backup: Path) -> None:
        """``pg_restore`` of a :meth:`backup`, dropping what is there first, all in one
        transaction (a failure leaves the database as it was)."""
        engine.dispose()  # the app's own idle connections must not hold locks
        self._client(
            "pg_restore", "--clean", "--if-exists", "--single-transaction", "--no-owner",
            str(backup),
        )  # fmt: skip

    def integrity_problems(self, conn: Connection) -> list[tuple[str, str]]:
        """Constraints the server does not enforce right now: a foreign key or check
        left NOT VALID, an index left invalid by a failed concurrent build, and rows
        whose foreign keys point nowhere (possible only after one of those)."""
        problems: list[tuple[str, str]] = []
        for name, table in conn.exec_driver_sql(
            "SELECT c.conname, c.conrelid::regclass::text FROM pg_catalog.pg_constraint c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = current_schema() AND NOT c.convalidated"
        ):
            problems.append(("integrity", f"constraint {name} on {table} is not validated"))
        for (index,) in conn.exec_driver_sql(
            "SELECT i.indexrelid::regclass::text FROM pg_catalog.pg_index i "
            "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT (i.indisvalid AND i.indisready)"
        ):
            problems.append(("integrity", f"index {index} is invalid (rebuild it with REINDEX)"))
        if problems:
            for table in Base.metadata.sorted_tables:
                for fk in table.foreign_key_constraints:
                    parent = fk.referred_table
                    cols = list(fk.columns)
                    on = " AND ".join(
                        f"p.{e.column.name} = c.{col.name}"
                        for col, e in zip(cols, fk.elements, strict=True)
                    )
                    not_null = " AND ".join(f"c.{col.name} IS NOT NULL" for col in cols)
                    missing = conn.exec_driver_sql(
                        f"SELECT count(*) FROM {table.name} c WHERE {not_null} AND NOT EXISTS "
                        f"(SELECT 1 FROM {parent.name} p WHERE {on})"
                    ).scalar()
                    if missing:
                        problems.append(
                            (
                                "foreign key",
                                f"{missing} {table.name} rows refer to a missing {parent.name}",
                            )
                        )
        return problems

    def snapshot(self, engine: Engine) -> contextlib.AbstractContextManager[Engine]:
        return _postgres_snapshot(engine)

    def translate(self, exc: BaseException) -> SspErrorLike:
        return translate_postgres(exc, self.location)


def consistent_copy(engine: Engine) -> contextlib.AbstractContextManager[Engine]:
    """:meth:`Backend.snapshot` for the store behind ``engine``, whichever engine it is."""
    if engine.dialect.name == "postgresql":
        return _postgres_snapshot(engine)
    return _sqlite_snapshot(engine)


def backend_for(location: str | os.PathLike[str]) -> Backend:
    """The backend for a store location: a server URL or a file path."""
    if is_server_location(location):
        return PostgresBackend(str(location))
    return SqliteBackend(Path(location).expanduser().absolute())
