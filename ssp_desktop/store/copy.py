"""``ssp-desktop store copy``: move a master copy between a SQLite file and a
PostgreSQL database (either way), with its whole history.

Every table goes across as it is: the records, the change log (revision numbers kept),
the sync tables (the keys this copy trusts, the leads, the bundles it has received and
the changes it has processed) and the store's identity (``store_meta``: store and site
ids), so leads' bundles made against the old copy keep importing into the new one.

The source is read in one consistent snapshot (a read transaction on SQLite; REPEATABLE
READ on a server), so a copy taken while someone writes is still one revision. The
target is written in one transaction, refused if it already holds records unless
``replace`` is given, and the row counts of every table are compared with the
source's before it commits: a copy that does not match is not kept.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, delete, func, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from ssp_desktop.domain.errors import StoreError
from ssp_desktop.domain.records import PartnershipRole, StoreMeta, StoreRevision
from ssp_desktop.progress import Progress
from ssp_desktop.store import search
from ssp_desktop.store.backend import copy_rows, is_server_location, record_tables, redact
from ssp_desktop.store.engine import Store

__all__ = ["CopyResult", "copy_store"]


@dataclass(frozen=True)
class CopyResult:
    source: str
    target: str
    rows: dict[str, int]
    revision: int

    def describe(self) -> str:
        total = sum(self.rows.values())
        changes = self.rows.get("change_log", 0)
        return (
            f"Copied {self.source} to {self.target}: {total:,} rows in {len(self.rows)} "
            f"tables, {changes:,} changes of history (revision {self.revision}); every "
            "table's row count matches."
        )


@contextlib.contextmanager
def _snapshot_read(engine: Engine) -> Iterator[Connection]:
    """A connection that sees one state of the store for as long as it is open."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield conn
        else:
            with conn.begin():  # SQLite's read transaction: a snapshot under WAL
                yield conn


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


# The server's access list (migration 0011: which role reads which partnership) belongs
# to the server it names roles of, not to the plan: never copied, never counted.
_NOT_COPIED = frozenset({PartnershipRole.__tablename__})


def _copied_tables() -> list[Table]:
    return [t for t in record_tables() if t.name not in _NOT_COPIED]


# Rows every migrated store holds, empty or not: its metadata and its revision counter.
_BOOKKEEPING = frozenset({StoreMeta.__tablename__, StoreRevision.__tablename__})


def _records_in(conn: Connection) -> int:
    return sum(_count(conn, t) for t in _copied_tables() if t.name not in _BOOKKEEPING)


def copy_store(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> CopyResult:
    """Copy the store at ``source`` to ``target`` (a file or a ``postgresql://`` URL;
    a new file is made, a server database must exist). Raises StoreError, and changes
    nothing, if the target already holds records and ``replace`` is not given."""
    if not is_server_location(source) and not is_server_location(target):
        if Path(source).expanduser().absolute() == Path(target).expanduser().absolute():
            raise StoreError("The source and the target are the same store. Nothing was copied.")
    elif str(source) == str(target):
        raise StoreError("The source and the target are the same store. Nothing was copied.")
    made_file: Path | None = None
    if not is_server_location(target) and not Path(target).expanduser().exists():
        made_file = Path(target).expanduser().absolute()
    tables = _copied_tables()
    try:
        with (
            Store.open(source, readonly=True, all_partnerships=True) as src,
            Store.open(target, create=True, all_partnerships=True) as dst,
        ):
            try:
                result = _copy(src, dst, tables, replace=replace, progress=progress)
            except (sa_exc.DBAPIError, OSError) as exc:
                raise dst.backend.translate(exc) from exc
    except BaseException:
        if made_file is not None:  # a file this copy made must not survive half-made
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(f"{made_file}{suffix}").unlink(missing_ok=True)
        raise
    return result


def _copy(
    src: Store,
    dst: Store,
    tables: list[Table],
    *,
    replace: bool,
    progress: Progress | None,
) -> CopyResult:
    with _snapshot_read(src.engine) as read, dst.engine.begin() as write:
        if dst.is_server:
            # Another app opening the same database waits until the copy is in.
            dst.backend.lock_migration(write)
        held = _records_in(write)
        if held and not replace:
            raise StoreError(
                f"{dst.location} already holds a plan store ({held:,} rows). Copy into a new "
                "file or an empty database, or give --replace to overwrite it. Nothing was "
                "copied."
            )
        for table in reversed(tables):
            write.execute(delete(table))
        total = len(tables)
        done = 0

        def step(name: str) -> None:
            nonlocal done
            if progress is not None:
                progress.step(done, total, f"Copying {name.replace('_', ' ')}…")
            done += 1

        rows = copy_rows(read, write, tables, step=step)
        if dst.backend.kind == "sqlite":
            with Session(bind=write) as session:
                search.rebuild(session)
                session.flush()
        else:
            # change_log.seq keeps counting from the copied history.
            write.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('change_log', 'seq'), "
                    "COALESCE(MAX(seq), 0) + 1, false) FROM change_log"
                )
            )
        wrong = []
        for table in tables:
            name = table.name
            expected = _count(read, table)
            got = _count(write, table)
            if not expected == got == rows[name]:
                wrong.append(f"{name}: {expected} in the source, {got} copied")
        if wrong:
            raise StoreError(
                "The copy did not match the source (" + "; ".join(wrong[:5]) + "), so it was "
                "not kept. Nothing was changed."
            )
        revision = int(
            read.exec_driver_sql("SELECT COALESCE(MAX(revision), 0) FROM store_revision").scalar()
            or 0
        )
        if progress is not None:
            progress.step(total, total, "Saving the copy…")
    return CopyResult(redact(src.location), redact(dst.location), rows, revision)
