"""SQLite's integrity check as the store runs it (``backend.sqlite_integrity_findings``):
for a caller with nothing else to do (the check after an import), on two cores, it is
split into ``quick_check`` and a check of each table by name, and together they must
find exactly what the one ``PRAGMA integrity_check`` finds, on a sound store and on
damaged ones (an index page, a table page, the change log's own index), with the whole
file's findings first."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import QueuePool

from ssp_desktop import services
from ssp_desktop.domain.records import Action
from ssp_desktop.store import backend
from ssp_desktop.store.backend import sqlite_integrity_findings
from ssp_desktop.store.engine import Store
from tests.factories import mini_plan


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as store:
        plan = mini_plan(store)
        for n in range(60):
            with store.transaction(actor="test") as tx:
                action = tx.get(Action, plan.action.id)
                assert action is not None
                services.edit(tx, action, title=f"Title number {n} " + "x" * (n % 7))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    return path


def _pages_of(path: Path, name: str) -> list[int]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
            (name,),
        ).fetchall()
    except sqlite3.OperationalError:
        pytest.skip("this SQLite has no dbstat table to find a page by")
    finally:
        conn.close()
    return [int(page) for (page,) in rows]


def _damage(path: Path, page: int) -> None:
    """Overwrite the cell content of one page, as a failing disk would."""
    data = bytearray(path.read_bytes())
    start = (page - 1) * 4096
    data[start + 1024 : start + 4096] = b"\x5a" * (4096 - 1024)
    path.write_bytes(bytes(data))


def _one_check(path: Path) -> list[str] | str:
    """The findings of the one check, or the error it stops with."""
    conn = sqlite3.connect(path)
    try:
        rows = [str(r) for (r,) in conn.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        return f"error: {exc}"
    finally:
        conn.close()
    return [r for r in rows if r != "ok"]


def _as_the_store_checks(
    path: Path, monkeypatch: pytest.MonkeyPatch, cores: int, *, waiting: bool = True
) -> list[str] | str:
    monkeypatch.setattr(backend.os, "cpu_count", lambda: cores)
    engine = create_engine(
        "sqlite+pysqlite://",
        poolclass=QueuePool,
        creator=lambda: sqlite3.connect(path, check_same_thread=False),
    )
    try:
        with engine.connect() as conn:
            if waiting:
                conn = conn.execution_options(**{backend.INTEGRITY_ON_TWO_CORES: True})
            return sqlite_integrity_findings(conn)
    except sa_exc.DBAPIError as exc:
        return f"error: {exc.orig}"
    finally:
        engine.dispose()


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_a_sound_store_has_no_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int
) -> None:
    path = _store(tmp_path)
    assert _one_check(path) == []
    assert _as_the_store_checks(path, monkeypatch, cores) == []


@pytest.mark.parametrize("cores", [1, 2])
def test_damage_in_two_tables_is_found_as_the_one_check_finds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int
) -> None:
    path = _store(tmp_path)
    for name in ("ix_change_log_record", "sqlite_autoindex_store_meta_1"):
        _damage(path, _pages_of(path, name)[0])
    expected = _one_check(path)
    assert isinstance(expected, list) and expected
    found = _as_the_store_checks(path, monkeypatch, cores)
    assert isinstance(found, list)
    assert sorted(found) == sorted(expected)
    assert found[0] == expected[0]  # the whole file's findings first


@pytest.mark.parametrize(
    "damaged",
    ["ix_change_log_record", "change_log", "action", "store_meta", "sqlite_autoindex_store_meta_1"],
)
@pytest.mark.parametrize("cores", [1, 2])
def test_the_split_check_finds_what_the_one_check_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damaged: str, cores: int
) -> None:
    path = _store(tmp_path)
    pages = _pages_of(path, damaged)
    _damage(path, pages[len(pages) // 2])
    expected = _one_check(path)
    assert expected, "the damage was not found at all"
    found = _as_the_store_checks(path, monkeypatch, cores)
    if isinstance(expected, str):  # the check stops at a page it cannot read
        assert found == expected
        return
    assert len(expected) < backend.INTEGRITY_FINDINGS
    assert isinstance(found, list)
    assert sorted(found) == sorted(expected)
    if cores == 1:
        assert found == expected  # the one check, as it is


def test_a_check_beside_other_work_is_the_one_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run beside other work (an import's plan), the check stays the one PRAGMA, in its
    own order, however many cores there are."""
    path = _store(tmp_path)
    for name in ("ix_change_log_record", "sqlite_autoindex_store_meta_1"):
        _damage(path, _pages_of(path, name)[0])
    expected = _one_check(path)
    assert _as_the_store_checks(path, monkeypatch, 8, waiting=False) == expected
