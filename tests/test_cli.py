"""The command line as a script or a newcomer uses it: output, exit codes, refusals."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ssp_desktop import __version__
from ssp_desktop.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, main
from ssp_desktop.models.store import Store


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "sample.sqlite"
    assert main(["demo", "--store", str(path)]) == EXIT_OK
    return path


def test_version_is_printed_by_the_installed_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ssp_desktop", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0
    assert out.stdout.strip() == f"ssp-desktop {__version__}"


def test_demo_writes_a_sample_store_that_checks_clean(
    demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--store", str(demo_store)]) == EXIT_OK
    assert "no problems found" in capsys.readouterr().out
    with Store.open(demo_store, readonly=True) as s:
        assert s.is_sample
    # Only the store is left behind: no temp file, journal or lock.
    assert sorted(p.name for p in demo_store.parent.iterdir()) == ["sample.sqlite"]


def test_demo_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.sqlite"
    path.write_bytes(b"precious")
    assert main(["demo", "--store", str(path)]) == EXIT_REFUSED
    assert "already exists" in capsys.readouterr().err
    assert path.read_bytes() == b"precious"


def test_demo_force_replaces_a_store(tmp_path: Path, demo_store: Path) -> None:
    path = tmp_path / "plan.sqlite"
    path.write_bytes(demo_store.read_bytes())
    assert main(["demo", "--store", str(path), "--force"]) == EXIT_OK
    assert main(["check", "--store", str(path)]) == EXIT_OK


def test_demo_force_refuses_a_store_that_is_open(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.sqlite"
    path.write_bytes(demo_store.read_bytes())
    with Store.open(path):
        assert main(["demo", "--store", str(path), "--force"]) == EXIT_REFUSED
    assert "already open for editing" in capsys.readouterr().err


def test_demo_into_a_missing_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--store", str(tmp_path / "no" / "such.sqlite")]) == EXIT_REFUSED
    assert "does not exist" in capsys.readouterr().err


def test_check_lists_problems_and_exits_1(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.sqlite"
    path.write_bytes(demo_store.read_bytes())
    conn = sqlite3.connect(path)
    # A second live action with an existing ref (the index is dropped first, as an old
    # or hand-edited store might lack it), a record dated next year, and an orphan.
    conn.execute("DROP INDEX uq_action_ref")
    conn.execute(
        "INSERT INTO action (id, plan_id, priority_area_id, ref, title, description, status, "
        "position, created_at, updated_at) SELECT lower(hex(randomblob(16))), plan_id, "
        "priority_area_id, ref, 'copy', '', status, 0, created_at, updated_at "
        "FROM action LIMIT 1"
    )
    conn.execute("UPDATE person SET updated_at = '2999-01-01 00:00:00' WHERE rowid = 1")
    conn.execute(
        "UPDATE priority_area SET deleted_at = '2024-01-01 00:00:00' WHERE id = "
        "(SELECT priority_area_id FROM action LIMIT 1)"
    )
    conn.commit()
    conn.close()
    assert main(["check", "--store", str(path)]) == EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert "duplicate: 2 live action records share" in out
    assert "clock: 1 person record(s) have updated_at in the future" in out
    assert "orphan: live action" in out


def test_check_reports_broken_foreign_keys(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.sqlite"
    path.write_bytes(demo_store.read_bytes())
    conn = sqlite3.connect(path)  # foreign keys off, as in any other SQLite tool
    conn.execute("UPDATE action SET lead_person_id = 'ffffffffffffffffffffffffffffffff'")
    conn.commit()
    conn.close()
    assert main(["check", "--store", str(path)]) == EXIT_PROBLEMS
    assert "foreign key: action row" in capsys.readouterr().out


def test_check_on_a_file_that_is_not_a_store_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("hello")
    assert main(["check", "--store", str(path)]) == EXIT_REFUSED
    assert "not a SQLite database" in capsys.readouterr().err


def test_check_on_a_damaged_store_reports_integrity(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "plan.sqlite"
    data = bytearray(demo_store.read_bytes())
    # Corrupt a page in the middle of the data, leaving the schema readable.
    middle = (len(data) // 4096 // 2) * 4096
    data[middle + 100 : middle + 4000] = b"\x00\x13" * 1950
    path.write_bytes(bytes(data))
    assert main(["check", "--store", str(path)]) == EXIT_PROBLEMS
    assert "integrity: " in capsys.readouterr().out


def test_store_and_sample_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--store", "x.sqlite", "--sample"]) == EXIT_REFUSED
    assert "either --store or --sample" in capsys.readouterr().err
