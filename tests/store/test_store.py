"""The store: opening, migrating, one writer, and every way a bad file is refused.

Each failure test checks the user's side of it: a clear message, and the file on
disk exactly as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, inspect, select

from ssp_desktop import services
from ssp_desktop.domain.errors import (
    CorruptStoreError,
    NotAStoreError,
    ReadOnlyLocationError,
    StoreError,
    StoreFullError,
    StoreLockedError,
    StoreNotFoundError,
    StoreTooNewError,
)
from ssp_desktop.domain.records import Action, Organisation, Partnership
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.store.engine import MIGRATIONS, Store, head_revision
from tests.factories import mini_plan

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "ssp_desktop" / "store" / "migrations"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_store(path: Path) -> None:
    with Store.open(path, create=True) as s:
        mini_plan(s)
    # Fold the WAL into the file so a byte-level comparison sees the whole store.
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


# --------------------------------------------------------------------------- opening


def test_new_store_has_foreign_keys_wal_and_an_identity(store_path: Path) -> None:
    with Store.open(store_path, create=True) as s:
        site = s.site_id
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    with Store.open(store_path) as s:
        assert s.site_id == site  # the identity survives a reopen
        assert not s.is_sample


def test_schema_made_by_migrations_matches_the_models(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from ssp_desktop.domain.base import Base
    from ssp_desktop.store import search

    def records_only(name: str | None, kind: str, _parent: object) -> bool:
        # The search index (FTS5 and its shadow tables) is derived, not a record table.
        return not (kind == "table" and (name or "").startswith(search.TABLE_PREFIX))

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": records_only})
        diff = compare_metadata(context, Base.metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == []
    # The full-text index is SQLite's FTS5; a server store's search scans the records.
    assert (search.TABLE in tables) == (store.backend.kind == "sqlite")


def test_partial_unique_indexes_have_their_condition_in_the_models_and_the_store(
    store: Store,
) -> None:
    """The models give PostgreSQL's conditions only once a server store is opened (so
    the app does not load the PostgreSQL dialect to start); alembic's comparison above
    does not look at conditions, so this does: each partial index of the models has its
    condition on this store's engine, and the store's index has the same one."""
    from sqlalchemy import Index

    from ssp_desktop.domain.base import Base

    kind = store.backend.kind
    partial = {
        index.name: str(index.dialect_options[kind]["where"])
        for table in Base.metadata.tables.values()
        for index in table.indexes
        if isinstance(index, Index) and index.dialect_options["sqlite"]["where"] is not None
    }
    assert "uq_action_update_current" in partial and "uq_action_ref" in partial
    assert all(where != "None" for where in partial.values()), partial
    with store.engine.connect() as conn:
        sql = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
            if kind == "sqlite"
            else "SELECT indexname, indexdef FROM pg_indexes"
        )
        found = {name: text for name, text in conn.exec_driver_sql(sql)}
    for name, where in partial.items():
        stored = " ".join(str(found[name]).split()).lower()
        words = where.lower().replace("(", " ").replace(")", " ").split()
        assert " where " in stored, (name, stored)
        assert all(word in stored for word in words if word not in {"and", "is"}), (name, stored)


def test_missing_store_is_not_created_unless_asked(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="There is no store"):
        Store.open(tmp_path / "nope.sqlite")
    assert not (tmp_path / "nope.sqlite").exists()


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "minutes.sqlite"
    path.write_text("Minutes of the SSP Board, 17 March 2022\n" * 50)
    before = digest(path)
    with pytest.raises(NotAStoreError, match="not a SQLite database"):
        Store.open(path)
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minutes.sqlite"]


def test_a_new_store_that_cannot_be_finished_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic import command

    def full_disk(*_args: object, **_kw: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(command, "upgrade", full_disk)
    with pytest.raises(StoreFullError, match="disk is full"):
        Store.open(tmp_path / "new.sqlite", create=True)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    with pytest.raises(NotAStoreError, match="empty file"):
        Store.open(path)
    assert path.stat().st_size == 0


def test_another_programs_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(NotAStoreError, match="not an ssp-desktop store"):
        Store.open(path)
    assert digest(path) == before


def test_a_truncated_store_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite"
    make_store(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    before = digest(path)
    with pytest.raises(CorruptStoreError, match="damaged.*should be"):
        Store.open(path)
    assert digest(path) == before


def test_a_store_whose_last_checkpoint_ran_out_of_disk_opens_whole(tmp_path: Path) -> None:
    """The app's close after an import folds the write-ahead log into the file; when the
    disk fills meanwhile, the file is left shorter than its header says and the log
    keeps every page. That store is whole (SQLite reads the pages from the log): it
    opens with everything written, and the next close finishes the checkpoint."""
    path = tmp_path / "plan.sqlite"
    make_store(path)
    with Store.open(path) as store, store.session() as s:
        organisations = s.scalar(select(func.count()).select_from(Organisation))
    # The log as it stood when the checkpoint began: made by a writer that never folds
    # it in (a reader's snapshot holds the checkpoint back), copied as the crash left it.
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM sqlite_master").fetchall()
    with Store.open(path) as store, store.transaction(actor="test") as tx:
        partnership = tx.session.scalars(select(Partnership)).one()
        for i in range(300):
            services.create(
                tx,
                Organisation(
                    partnership_id=partnership.id,
                    name=f"Agency {i:03d}, named at length so that the store needs new pages",
                    responsible_authority=False,
                ),
            )
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for name in ("plan.sqlite", "plan.sqlite-wal"):
        shutil.copyfile(tmp_path / name, crashed / name)
    reader.close()
    wal = crashed / "plan.sqlite-wal"
    assert wal.stat().st_size > 32
    # The checkpoint wrote the new first page (the longer length) before the disk filled.
    data = bytearray((crashed / "plan.sqlite").read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    pages = len(data) // page_size
    data[28:32] = (pages + 40).to_bytes(4, "big")
    data[92:96] = data[24:28]  # the count is marked valid for this change counter
    (crashed / "plan.sqlite").write_bytes(bytes(data))

    with Store.open(crashed / "plan.sqlite") as store, store.session() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == organisations + 300
    assert not wal.exists() or wal.stat().st_size == 0  # folded in at the close

    # Without a log, the same short file is a copy that did not finish: refused.
    short = tmp_path / "short.sqlite"
    short.write_bytes(bytes(data))
    with pytest.raises(CorruptStoreError, match="damaged.*should be"):
        Store.open(short)


def test_a_store_with_damaged_pages_is_reported_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite"
    make_store(path)
    data = bytearray(path.read_bytes())
    page = 4096
    data[page : page * 3] = b"\xff" * (page * 2)  # smash the schema's pages
    path.write_bytes(bytes(data))
    with pytest.raises((CorruptStoreError, NotAStoreError)):
        Store.open(path)


def test_a_store_from_a_newer_app_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite"
    make_store(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.execute("UPDATE store_meta SET value = '9.0.0' WHERE key = 'last_opened_by'")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = digest(path)
    with pytest.raises(StoreTooNewError) as err:
        Store.open(path)
    message = str(err.value)
    assert "ssp-desktop 9.0.0" in message and "Update ssp-desktop" in message
    assert "was not changed" in message
    assert digest(path) == before
    assert not list(tmp_path.glob("*.backup-*"))


# --------------------------------------------------------------------------- migrations


@pytest.fixture
def migrations_v2(tmp_path: Path) -> Iterator[Path]:
    """A copy of the real migrations plus a revision 9002 after the current head."""
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    yield target


def add_revision(migrations: Path, body: str) -> None:
    code = textwrap.indent(textwrap.dedent(body).strip(), "    ")
    (migrations / "versions" / "9002_test.py").write_text(
        '"""test revision"""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        'revision = "9002"\n'
        f"down_revision = {head_revision()!r}\n"
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade():\n{code}\n\n\n"
        "def downgrade():\n    pass\n"
    )


def test_an_older_store_is_backed_up_then_upgraded(tmp_path: Path, migrations_v2: Path) -> None:
    path = tmp_path / "plan.sqlite"
    make_store(path)
    add_revision(
        migrations_v2,
        """
        op.add_column("partnership", sa.Column("website", sa.String(200), nullable=True))
        op.execute("UPDATE partnership SET website = 'https://example.org'")
        """,
    )
    with Store.open(path, script_location=str(migrations_v2)) as s:
        assert s.backup_path is not None and s.backup_path.exists()
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == (
                "9002"
            )
            assert conn.exec_driver_sql("SELECT website FROM partnership").scalar() == (
                "https://example.org"
            )
        backup = s.backup_path
    # The backup is the store as it was: the old schema, the same plan.
    old = sqlite3.connect(backup)
    assert old.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)
    assert old.execute("SELECT ref FROM action").fetchall() == [("PVP-01",)]
    old.close()
    # And this app, which only knows the older schema, now refuses the upgraded store.
    with pytest.raises(StoreTooNewError, match="schema 9002"):
        Store.open(path)


def test_a_failing_upgrade_leaves_the_store_as_it_was(tmp_path: Path, migrations_v2: Path) -> None:
    path = tmp_path / "plan.sqlite"
    make_store(path)
    add_revision(
        migrations_v2,
        """
        op.execute("DELETE FROM action_partner")
        op.add_column("partnership", sa.Column("website", sa.String(200), nullable=True))
        raise RuntimeError("simulated bug in a migration")
        """,
    )
    with pytest.raises(RuntimeError, match="simulated"):
        Store.open(path, script_location=str(migrations_v2))
    with Store.open(path) as s, s.session() as session:
        assert session.scalar(select(func.count()).select_from(Action)) == 1
        with s.engine.connect() as conn:
            cols = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(partnership)")]
        assert "website" not in cols
    assert len(list(tmp_path.glob("plan.backup-*"))) == 1


def test_no_space_for_the_backup_means_no_upgrade(tmp_path: Path, migrations_v2: Path) -> None:
    path = tmp_path / "plan.sqlite"
    make_store(path)
    add_revision(migrations_v2, 'op.execute("DELETE FROM action")')
    before = digest(path)

    def full_disk(_src: Path, dst: Path) -> None:
        dst.write_bytes(b"partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(StoreFullError, match="disk is full.*not started"):
        Store.open(path, script_location=str(migrations_v2), backup=full_disk)
    assert digest(path) == before
    assert not list(tmp_path.glob("*.backup-*"))  # no half-written backup left behind


# --------------------------------------------------------------------------- writers


@pytest.mark.sqlite_only  # the writer lock file; a server keeps several writers apart
def test_a_second_open_in_this_process_is_refused(store: Store) -> None:
    with pytest.raises(StoreLockedError, match=f"process {os.getpid()}"):
        Store.open(store.path)


HOLDER = """
import sys
from ssp_desktop.store.engine import Store
s = Store.open(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
s.close()
"""


def test_a_second_app_is_told_who_holds_the_store(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite"
    make_store(path)
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
            with pytest.raises(StoreLockedError) as err:
                Store.open(path)
            holder_info = err.value.holder
            assert holder_info is not None and holder_info.pid == holder.pid
            message = str(err.value)
            assert f"process {holder.pid}" in message and holder_info.host in message
            assert holder_info.user in message
        finally:
            assert holder.stdin is not None
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(timeout=30)
    with Store.open(path) as s:  # once the other app has gone, the store opens
        assert s.lock is not None and s.lock.held


def test_a_crashed_app_does_not_leave_the_store_locked(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite"
    make_store(path)
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"ready"
        holder.kill()
        holder.wait(timeout=30)
    with Store.open(path) as s:
        assert s.lock is not None and s.lock.held


@pytest.mark.sqlite_only  # fills the SQLite file (max_page_count)
def test_the_disk_filling_during_a_write_loses_nothing(store: Store) -> None:
    plan = mini_plan(store)
    with store.session() as s:
        pages = s.connection().exec_driver_sql("PRAGMA page_count").scalar()

    # SQLite's page cap gives the same SQLITE_FULL a real full disk does.
    @event.listens_for(store.engine, "connect")
    def cap(dbapi_conn: sqlite3.Connection, _rec: object) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {int(pages or 0) + 2}")

    store.engine.dispose()
    with (
        pytest.raises(StoreFullError, match="disk is full.*as it was before"),
        store.transaction() as tx,
    ):
        for i in range(2000):
            services.create(
                tx, Organisation(partnership_id=plan.partnership.id, name=f"Org {i} " + "x" * 150)
            )
        services.edit(tx, tx.get(Action, plan.action.id), title="changed")  # type: ignore[arg-type]
    event.remove(store.engine, "connect", cap)
    store.engine.dispose()
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 1
        assert s.get(Action, plan.action.id).title == "Fund IDVAs"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- read-only folders


def _readonly_dir_attempt(script: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` where the folder really is read-only for the process.

    root ignores permission bits, so as root the attempt runs with every capability
    dropped (util-linux's setpriv), which makes the folder's bits apply to it too.
    """
    folder.chmod(0o555)
    prefix = (
        ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"] if os.geteuid() == 0 else []
    )
    try:
        return subprocess.run(
            [*prefix, sys.executable, "-c", script, str(folder)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
    finally:
        folder.chmod(0o755)


READONLY_SCRIPT = """
import sys
from pathlib import Path
from ssp_desktop.domain.errors import ReadOnlyLocationError
from ssp_desktop.store.engine import Store
folder = Path(sys.argv[1])
try:
    Store.open(folder / sys.argv[2] if len(sys.argv) > 2 else folder / "plan.sqlite", create=True)
except ReadOnlyLocationError as exc:
    print(exc)
    sys.exit(3)
sys.exit(0)
"""


@pytest.fixture
def shared_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    return folder


def test_an_existing_store_in_a_read_only_folder_is_refused(shared_dir: Path) -> None:
    make_store(shared_dir / "plan.sqlite")
    (shared_dir / "plan.sqlite").chmod(0o644)
    before = digest(shared_dir / "plan.sqlite")
    result = _readonly_dir_attempt(READONLY_SCRIPT, shared_dir)
    assert result.returncode == 3, result.stderr
    assert "read-only" in result.stdout and "copy the store" in result.stdout
    assert digest(shared_dir / "plan.sqlite") == before


def test_a_new_store_cannot_be_made_in_a_read_only_folder(shared_dir: Path) -> None:
    result = _readonly_dir_attempt(READONLY_SCRIPT, shared_dir)
    assert result.returncode == 3, result.stderr
    assert "read-only" in result.stdout
    assert list(shared_dir.iterdir()) == []


def test_readonly_open_needs_no_lock_and_refuses_writes(store_path: Path) -> None:
    make_store(store_path)
    with Store.open(store_path) as writer, Store.open(store_path, readonly=True) as reader:
        assert writer.lock is not None
        with pytest.raises(StoreError, match="read-only"), reader.transaction():
            pass


def test_unknown_failure_paths_keep_their_type() -> None:
    assert issubclass(ReadOnlyLocationError, StoreError)
    assert MIGRATIONS.endswith("migrations")


def test_store_ids_are_uuids(store: Store) -> None:
    assert isinstance(store.store_id, uuid.UUID) and store.store_id != store.site_id


def test_revision_counts_changes(store: Store) -> None:
    assert store.revision() == 0
    mini_plan(store)
    first = store.revision()
    with store.transaction() as tx:
        services.create(tx, Partnership(name="Another"))
    assert store.revision() == first + 1
    with store.session() as s:
        assert plan_queries.plans(s)[0].title == "Plan 2022-25"
