"""A bulk transaction's inserts are written on a thread of their own, and its checkpoint
after it (store/background.py, issue 18): every read in the transaction still sees every
row written before it, an insert's failure still fails the transaction and saves
nothing, nothing is ever written outside the transaction, and the write-ahead log is
still folded into the store."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import StaticPool

from ssp_desktop import services
from ssp_desktop.domain import changes
from ssp_desktop.domain.errors import StoreFullError
from ssp_desktop.domain.records import ChangeLog, Organisation, Partnership
from ssp_desktop.store import background
from ssp_desktop.store.engine import Store


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file's engine with the hooks a store's writing engine has, one
    connection, and a table whose every insert takes a while (so the thread is still
    writing when the test reads)."""
    path = tmp_path / "t.sqlite"

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.create_function("pause", 0, lambda: time.sleep(0.002))
        return conn

    made = create_engine("sqlite+pysqlite://", creator=connect, poolclass=StaticPool)
    background.install(made)
    with made.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TRIGGER slow AFTER INSERT ON t BEGIN SELECT pause(); END")
        conn.commit()
    yield made
    made.dispose()


@contextlib.contextmanager
def _writing(
    engine: Engine, *, begin: bool = True
) -> Iterator[tuple[Connection, background.BackgroundInserts]]:
    """A connection in a transaction (``begin``) and its inserts' thread, ended after."""
    with engine.connect() as conn:
        if begin:
            conn.exec_driver_sql("BEGIN")
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        writer = background.BackgroundInserts(raw)
        try:
            yield conn, writer
        finally:
            writer.close()


INSERT = "INSERT INTO t (n) VALUES (?)"


def test_a_read_in_the_transaction_sees_every_row_handed_over_before_it(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(background, "ROWS_PER_STATEMENT", 10)  # many statements queued
    with _writing(engine) as (conn, writer):
        assert writer.write(INSERT, [(n,) for n in range(200)])
        # 20 statements of 10 slow rows: the thread is far from done.
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 200
        assert writer.write(INSERT, [(n,) for n in range(200, 250)])
        conn.commit()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*), max(n) FROM t").one() == (250, 249)


def test_a_failed_insert_fails_the_next_statement_as_sqlalchemy_would(engine: Engine) -> None:
    with _writing(engine) as (conn, writer):
        # The second statement repeats a key: the rows of the first are written,
        # the third statement is never run.
        assert writer.write(INSERT, [(1,), (2,)])
        assert writer.write(INSERT, [(2,)])
        assert writer.write(INSERT, [(3,)])
        with pytest.raises(sa_exc.IntegrityError, match="UNIQUE constraint failed"):
            conn.exec_driver_sql("SELECT count(*) FROM t").scalar()
        conn.rollback()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0


def test_nothing_is_written_outside_a_transaction(engine: Engine) -> None:
    with _writing(engine, begin=False) as (conn, writer):
        assert writer.write(INSERT, [(1,)])
        with pytest.raises(sa_exc.OperationalError, match="transaction ended"):
            writer.drain()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0


def test_a_rollback_waits_for_the_rows_handed_over_then_undoes_them(engine: Engine) -> None:
    with _writing(engine) as (conn, writer):
        assert writer.write(INSERT, [(n,) for n in range(100)])
        conn.rollback()  # while the thread is still writing
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0


def test_a_statement_of_another_shape_is_left_to_the_caller(engine: Engine) -> None:
    with _writing(engine) as (conn, writer):
        assert not writer.write("INSERT INTO t (n) SELECT ?", [(1,)])
        assert not writer.write("INSERT INTO t (n) VALUES (?, ?)", [(1,)])
        assert writer.write(INSERT, [])
        conn.commit()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0


def _partners(tx: changes.Transaction, count: int) -> None:
    partnership = services.create(tx, Partnership(name="Test CSP", area="Testshire"))
    services.create_many(
        tx,
        [
            Organisation.new(partnership_id=partnership.id, name=f"Partner {n}")
            for n in range(count)
        ],
    )


def test_an_import_writes_its_inserts_behind_and_reads_them_back(store: Store) -> None:
    if store.is_server:
        pytest.skip("a SQLite file's")
    with store.transaction(bulk=True) as tx:
        assert isinstance(tx.session.info.get(changes.ROW_WRITER), background.BackgroundInserts)
        _partners(tx, 3000)
        tx.flush()
        assert tx.session.scalar(select(func.count()).select_from(Organisation)) == 3000
        assert (tx.session.scalar(select(func.count()).select_from(ChangeLog)) or 0) >= 3001
    # The thread ended with the transaction.
    assert not [t for t in threading.enumerate() if t.name == "ssp-desktop bulk inserts"]
    with store.transaction() as tx:
        assert changes.ROW_WRITER not in tx.session.info  # an ordinary write writes inline
        assert tx.session.scalar(select(func.count()).select_from(Organisation)) == 3000


def test_a_full_disk_met_by_an_insert_behind_says_so_and_saves_nothing(store: Store) -> None:
    if store.is_server:
        pytest.skip("a SQLite file's")
    revision = store.revision()
    with pytest.raises(StoreFullError, match="disk is full"):
        with store.transaction(bulk=True) as tx:
            conn = tx.session.connection()
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
            # The store may not grow: as a disk with no room left.
            conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
            _partners(tx, 3000)
    store.engine.dispose()  # no connection keeps the limit
    assert store.revision() == revision
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 0


def _log_frames(path: Path) -> tuple[int, int]:
    """How many frames the store's write-ahead log holds, and how many of them a
    checkpoint has copied into the store file, read without checkpointing: the log
    index's header (``mxFrame``, offset 16) and its checkpoint information
    (``nBackfill``, offset 96), in the machine's byte order (SQLite's wal.c)."""
    head = Path(f"{path}-shm").read_bytes()[:100]
    return (
        int.from_bytes(head[16:20], sys.byteorder),
        int.from_bytes(head[96:100], sys.byteorder),
    )


def _autocheckpoint(tx: changes.Transaction) -> int:
    value = tx.session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert isinstance(value, int)
    return value


def test_an_import_leaves_its_checkpoint_to_a_thread_and_the_log_is_folded(
    store: Store,
) -> None:
    if store.is_server or store.path is None:
        pytest.skip("a SQLite file's")
    with store.transaction(bulk=True) as tx:
        assert _autocheckpoint(tx) == 0  # its commit does not checkpoint
        _partners(tx, 3000)
    assert store._checkpoints is not None
    store._checkpoints.wait()
    # Everything the import wrote to the log is in the store file now.
    logged, copied = _log_frames(store.path)
    assert logged > 0 and copied == logged
    with store.transaction() as tx:
        assert _autocheckpoint(tx) == 1000  # every other write checkpoints as SQLite does
    path = store.path
    store.close()
    assert not Path(f"{path}-wal").exists()
    with Store.open(path) as again, again.session() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 3000


def test_a_checkpoint_asked_for_while_one_runs_follows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second import can commit while the first one's checkpoint runs: its log is
    checkpointed too, by one more checkpoint after the running one (not one each)."""
    made: list[int] = []
    running = threading.Event()
    release = threading.Event()

    def checkpoint(self: background.Checkpointer) -> None:
        made.append(1)
        if len(made) == 1:
            running.set()
            assert release.wait(10)

    monkeypatch.setattr(background.Checkpointer, "_checkpoint", checkpoint)
    checkpoints = background.Checkpointer(tmp_path / "s.sqlite")
    checkpoints.start()
    assert running.wait(10)
    checkpoints.start()
    checkpoints.start()
    release.set()
    checkpoints.wait()
    assert len(made) == 2
    checkpoints.start()  # none running: a new one
    checkpoints.wait()
    assert len(made) == 3
