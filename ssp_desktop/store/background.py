"""SQLite work a bulk write hands to a thread of its own while Python goes on.

An import is Python building, judging and logging records (most of its time) and SQLite
writing them (about a third). SQLite runs without Python's global interpreter lock, so
on a machine with two cores the two can overlap:

* :class:`BackgroundInserts`: a bulk transaction's plain INSERTs (the records a flush
  writes, their change-log rows, each batch's search documents: ``search.Indexer``,
  which FTS5 tokenizes as it writes them) are handed to a thread that runs them on the
  transaction's own connection, while the import goes on building the next batch. The
  rows, their order and the transaction are exactly those of the inline writes; only
  the moment each statement runs moves. Before anything else runs on that connection
  (any statement, the commit, the rollback) everything handed over is written first
  (:func:`install` hooks the engine), so a read in the transaction sees every row
  before it, and an error in one (a full disk) is raised there, as SQLAlchemy would
  have raised it, and the transaction rolls back. A statement is never run outside
  the transaction: if the connection is no longer in one, nothing more is written.

  The rows go as multi-row INSERTs (``VALUES (...), (...)``, two thousand rows at a
  time): SQLite's step of one statement runs without the interpreter lock, whereas
  ``executemany`` takes the lock back for every row and would make the thread wait
  for it thousands of times.

* :class:`Checkpointer`: a bulk transaction is committed without SQLite's automatic
  checkpoint (which copies the write-ahead log back into the store file before the
  commit returns: a tenth of a second after a large import), and the checkpoint is
  made on a connection of its own, on a thread, while the app shows the result.
  Nothing waits for it but closing the store. A checkpoint that fails (a full disk)
  leaves the log whole: the data is safe in it, and the next checkpoint finishes.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

__all__ = ["ROWS_PER_STATEMENT", "BackgroundInserts", "Checkpointer", "install", "writes_behind"]

# Rows per multi-row INSERT (fewer where SQLite allows fewer parameters per statement).
ROWS_PER_STATEMENT: Final = 2000

# The connections (by id of the driver's connection) with inserts handed over: read by
# the engine's hooks on every statement, changed when a bulk transaction begins or ends.
_ACTIVE: dict[int, BackgroundInserts] = {}

_STOP: Final = object()


class BackgroundInserts:
    """A bulk transaction's INSERTs, run in order on a thread of their own on the
    transaction's SQLite connection ``raw`` (see the module's text)."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw
        self._limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._jobs: queue.Queue[Any] = queue.Queue()
        self._error: tuple[BaseException, str] | None = None
        self._thread = threading.Thread(
            target=self._run, name="ssp-desktop bulk inserts", daemon=True
        )
        self._thread.start()
        _ACTIVE[id(raw)] = self

    def write(self, sql: str, rows: list[tuple[Any, ...]]) -> bool:
        """Hand over ``sql`` (one table's plain ``INSERT ... VALUES (?, ...)``) for each
        of ``rows``; False (nothing handed over) for a statement of another shape,
        which the caller runs itself."""
        if not rows:
            return True
        width = len(rows[0])
        group = "(" + ", ".join("?" * width) + ")"
        head, values, tail = sql.rpartition(" VALUES ")
        if not values or tail != group or width == 0:
            return False
        per = max(1, min(ROWS_PER_STATEMENT, self._limit // width))
        for at in range(0, len(rows), per):
            chunk = rows[at : at + per]
            many = f"{head} VALUES {', '.join([group] * len(chunk))}"
            self._jobs.put((many, [value for row in chunk for value in row], sql))
        return True

    def _run(self) -> None:
        raw, jobs = self._raw, self._jobs
        while True:
            job = jobs.get()
            try:
                if job is _STOP:
                    return
                if self._error is not None:
                    continue  # the transaction will roll back: write nothing more
                sql, params, one = job
                try:
                    if not raw.in_transaction:
                        # Its transaction ended (rolled back) before this ran: never
                        # write a row outside it.
                        raise sqlite3.OperationalError("the transaction ended before this insert")
                    raw.execute(sql, params)
                except BaseException as exc:  # raised in the transaction's own thread
                    self._error = (exc, one)
            finally:
                jobs.task_done()

    def drain(self, *, raising: bool = True) -> None:
        """Wait until everything handed over is written; raise the first failure as
        SQLAlchemy raises a driver's error (``raising``: not when rolling back)."""
        self._jobs.join()
        if raising and self._error is not None:
            exc, sql = self._error
            if not isinstance(exc, sqlite3.Error):
                raise exc  # not the driver's (out of memory, say): as it was raised
            raise sa_exc.DBAPIError.instance(
                sql, None, exc, sqlite3.Error, hide_parameters=True
            ) from exc

    def close(self) -> None:
        """Wait for what was handed over, forget the connection and end the thread."""
        _ACTIVE.pop(id(self._raw), None)
        self.drain(raising=False)
        self._jobs.put(_STOP)
        self._thread.join()


def _wait_for(dbapi_connection: Any, *, raising: bool = True) -> None:
    """Wait for the inserts handed over on ``dbapi_connection``, if any."""
    if _ACTIVE:
        writer = _ACTIVE.get(id(dbapi_connection))
        if writer is not None:
            writer.drain(raising=raising)


def _wait_for_connection(conn: Any, *, raising: bool = True) -> None:
    """:func:`_wait_for` a SQLAlchemy connection's driver connection."""
    if not _ACTIVE:
        return  # the usual case: not even the driver connection is asked for
    try:
        dbapi_connection = conn.connection.driver_connection
    except sa_exc.SQLAlchemyError:
        return  # closed or invalidated: it holds no transaction of ours
    _wait_for(dbapi_connection, raising=raising)


_INSTALLED: weakref.WeakSet[Engine] = weakref.WeakSet()

# Always on. A module attribute so a test can write the same import both ways (inserts
# and checkpoint behind, and inline) and compare the stores.
WRITE_BEHIND = True


def writes_behind(engine: Engine) -> bool:
    """Whether a bulk transaction on ``engine`` hands its inserts and its checkpoint to
    threads of their own (a SQLite file's writing engine: :func:`install`)."""
    return WRITE_BEHIND and engine in _INSTALLED


def install(engine: Engine) -> None:
    """Make every statement, commit and rollback on ``engine``'s connections wait for
    the inserts handed over on that connection first."""
    _INSTALLED.add(engine)

    @event.listens_for(engine, "before_cursor_execute")
    def _before_statement(
        conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: bool
    ) -> None:
        _wait_for(cursor.connection)

    @event.listens_for(engine, "commit")
    def _before_commit(conn: Any) -> None:
        _wait_for_connection(conn)

    # A rollback or a connection's reset throws the rows away: a failure among them
    # changes nothing.
    @event.listens_for(engine, "rollback")
    def _before_rollback(conn: Any) -> None:
        _wait_for_connection(conn, raising=False)

    @event.listens_for(engine.pool, "reset")
    def _before_reset(dbapi_connection: Any, record: Any, state: Any) -> None:
        _wait_for(dbapi_connection, raising=False)


class Checkpointer:
    """Checkpoints of one SQLite store on a thread of their own (see the module's
    text), one at a time: asked for while one runs, another follows it (the commit
    that asked may have come after the running one began)."""

    def __init__(self, path: Path) -> None:
        self._uri = path.resolve().as_uri()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False

    def start(self) -> None:
        """Checkpoint the store's log soon."""
        with self._lock:
            if self._thread is not None:
                self._again = True
                return
            self._thread = threading.Thread(
                target=self._run, name="ssp-desktop checkpoint", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            # Either way the data is safe in the log, and the next checkpoint finishes;
            # the thread's bookkeeping below must never be skipped.
            try:
                self._checkpoint()
            except sqlite3.Error as exc:
                log.info("checkpoint of %s left for later (%s)", self._uri, exc)
            except Exception:
                log.exception("checkpoint of %s failed", self._uri)
            with self._lock:
                if not self._again:
                    self._thread = None
                    return
                self._again = False

    def _checkpoint(self) -> None:
        conn = sqlite3.connect(self._uri, uri=True, timeout=0.5)
        try:
            # PASSIVE: copies what no reader still needs, never waits for a writer.
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()

    def wait(self) -> None:
        """Wait for the checkpoints asked for (before the store is closed)."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join()
