"""The command line as a script or a newcomer uses it: output, exit codes, refusals."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ssp_desktop import __version__
from ssp_desktop.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, main
from ssp_desktop.store.engine import Store


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


def test_demo_force_over_a_store_with_a_leftover_wal_checks_clean(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crash leaves ``-wal``/``-shm`` beside the old store; the new file must not
    inherit them (SQLite would replay the old WAL onto the new file's pages)."""
    path = tmp_path / "plan.sqlite"
    path.write_bytes(demo_store.read_bytes())
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE action SET title = title || ' (edited)'")
    conn.commit()
    # Copy the WAL as a crash would leave it, before close() checkpoints it away.
    wal = Path(f"{path}-wal").read_bytes()
    assert wal
    conn.close()
    Path(f"{path}-wal").write_bytes(wal)
    assert main(["demo", "--store", str(path), "--force"]) == EXIT_OK
    capsys.readouterr()
    assert main(["check", "--store", str(path)]) == EXIT_OK, capsys.readouterr()


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


# --------------------------------------------------------------------------- xlsx


def test_xlsx_export_then_import_changes_nothing(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "plan.sqlite"
    store.write_bytes(demo_store.read_bytes())
    out = tmp_path / "plan.xlsx"
    assert main(["xlsx", "export", "--store", str(store), "--out", str(out)]) == EXIT_OK
    assert "Actions 37" in capsys.readouterr().out
    with Store.open(store, readonly=True) as s:
        before = s.revision()
    assert main(["xlsx", "import", "--store", str(store), str(out)]) == EXIT_OK
    assert "0 new, 0 updated, 37 unchanged, 0 refused" in capsys.readouterr().out
    code = main(["xlsx", "import", "--store", str(store), str(out), "--kind", "measures"])
    assert code == EXIT_OK
    with Store.open(store, readonly=True) as s:
        assert s.revision() == before


def test_xlsx_import_dry_run_writes_nothing_and_a_saved_mapping_is_reused(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "plan.sqlite"
    store.write_bytes(demo_store.read_bytes())
    csv_file = tmp_path / "q3.csv"
    csv_file.write_text("Our no.,RAG\nPVP-NEW,Red\n")
    mapping = tmp_path / "mapping.json"
    args = ["xlsx", "import", "--store", str(store), str(csv_file), "--kind", "actions"]
    assert main([*args, "--dry-run", "--save-mapping", str(mapping)]) == EXIT_REFUSED
    assert "No column is the action's Ref" in capsys.readouterr().err
    text = mapping.read_text().replace('"Our no.": "ignore"', '"Our no.": "ref"')
    mapping.write_text(text)
    with Store.open(store, readonly=True) as s:
        before = s.revision()
    assert main([*args, "--mapping", str(mapping), "--dry-run"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "row 2 PVP-NEW: a new action needs its title" in err
    with Store.open(store, readonly=True) as s:
        assert s.revision() == before


def test_xlsx_import_refuses_a_file_that_is_not_a_workbook(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "plan.sqlite"
    store.write_bytes(demo_store.read_bytes())
    bad = tmp_path / "tracker.xlsx"
    bad.write_text("hello")
    assert main(["xlsx", "import", "--store", str(store), str(bad)]) == EXIT_REFUSED
    assert "is not an Excel workbook" in capsys.readouterr().err


def test_xlsx_import_applies_a_tracker_and_says_what_it_did(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "plan.sqlite"
    store.write_bytes(demo_store.read_bytes())
    tracker = tmp_path / "tracker.csv"
    tracker.write_text(
        "Ref,Action,Priority,Area for action,Lead,Due date,RAG,Latest update\n"
        "NEW-1,Street lighting audit,PVP,Domestic abuse,Stockport Homes,31/03/2025,Green,Begun\n"
    )
    args = ["xlsx", "import", "--store", str(store), str(tracker), "--quarter", "2024/25 Q2"]
    assert main(args) == EXIT_OK
    out = capsys.readouterr().out
    assert "Imported tracker.csv. Actions: 1 new" in out
    with Store.open(store, readonly=True) as s, s.session() as session:
        from sqlalchemy import select

        from ssp_desktop.domain.records import Action, ChangeLog

        assert session.scalar(select(Action.title).where(Action.ref == "NEW-1")) == (
            "Street lighting audit"
        )
        assert "import:tracker.csv" in set(session.scalars(select(ChangeLog.source)))


def test_spreadsheet_libraries_are_not_loaded_at_start_up() -> None:
    code = (
        "import sys, ssp_desktop.cli, ssp_desktop.app, ssp_desktop.ui.main_window; "
        "print(sorted(m for m in ('pandas', 'openpyxl', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- pack


def test_pack_writes_the_pdf_and_records_it(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import select

    from ssp_desktop.domain.records import BoardPack, PackExport

    store = tmp_path / "plan.sqlite"
    store.write_bytes(demo_store.read_bytes())
    out = tmp_path / "pack.pdf"
    argv = ["pack", "--store", str(store), "--quarter", "2024/25 Q2", "--out", str(out)]
    assert main([*argv, "--plan", "Safer Stockport Partnership Plan 2022-25"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert out.read_bytes().startswith(b"%PDF")
    assert "2024/25 Q2 (SSP Board, 21 November 2024)" in printed
    with Store.open(store, readonly=True) as s, s.session() as session:
        exports = session.scalars(select(PackExport)).all()
        assert [e.file_name for e in exports] == [str(out)]
        assert exports[0].sha256 in printed
        # The sample's own pack for the quarter was reused, not a second one made.
        assert len(session.scalars(select(BoardPack)).all()) == 1


def test_pack_with_a_password_file_writes_a_protected_pdf(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pikepdf

    store = tmp_path / "plan.sqlite"
    store.write_bytes(demo_store.read_bytes())
    out = tmp_path / "pack.pdf"
    password = tmp_path / "password.txt"
    password.write_text("board-pack-secret\n")
    argv = ["pack", "--store", str(store), "--quarter", "2024/25 Q2", "--out", str(out)]
    assert main([*argv, "--password-file", str(password)]) == EXIT_OK
    assert "opens only with the password" in capsys.readouterr().out
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(out)
    with pikepdf.open(out, password="board-pack-secret") as pdf:
        assert len(pdf.pages) > 3
        # Encryption keeps the accessible structure (issue 8) for whoever opens it.
        assert pdf.Root.MarkInfo.Marked is True
        assert str(pdf.Root.Lang) == "en-GB"
        assert len(pdf.Root.StructTreeRoot.ParentTree.Nums) > 0
    password.write_text("short\n")
    assert main([*argv, "--password-file", str(password)]) == EXIT_REFUSED
    assert "at least 8 characters" in capsys.readouterr().err


def test_pack_makes_a_meeting_and_pack_for_a_new_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import select

    from ssp_desktop.domain.records import BoardMeeting, BoardPack
    from tests.factories import mini_plan

    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as s:
        mini_plan(s)
    out = tmp_path / "pack.pdf"
    argv = ["pack", "--store", str(path), "--quarter", "2023-24 Q2", "--out", str(out)]
    assert main([*argv, "--meeting-date", "2023-11-20"]) == EXIT_OK
    assert out.exists()
    with Store.open(path, readonly=True) as s, s.session() as session:
        meeting = session.scalars(select(BoardMeeting)).one()
        assert (meeting.title, meeting.meeting_date.isoformat()) == ("TC Board", "2023-11-20")
        assert session.scalars(select(BoardPack)).one().quarter.label == "2023/24 Q2"
    capsys.readouterr()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--quarter", "2023/24 Q9"], "as a quarter"),
        (["--quarter", "2019/20 Q1"], "outside the plan"),
        (["--quarter", "2023/24 Q2", "--plan", "No such plan"], "no plan 'No such plan'"),
        (["--quarter", "2023/24 Q2", "--meeting-date", "20/11/2023"], "YYYY-MM-DD"),
    ],
)
def test_pack_refuses_unknown_plans_quarters_and_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    from tests.factories import mini_plan

    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as s:
        mini_plan(s)
    out = tmp_path / "pack.pdf"
    assert main(["pack", "--store", str(path), "--out", str(out), *extra]) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_pack_refuses_an_unwritable_path_and_a_file_that_is_not_a_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("hello")
    argv = ["pack", "--quarter", "2023/24 Q2"]
    out = str(tmp_path / "pack.pdf")
    assert main([*argv, "--store", str(not_a_store), "--out", out]) == EXIT_REFUSED
    assert "not an ssp-desktop store" in capsys.readouterr().err
    missing = str(tmp_path / "no-folder" / "pack.pdf")
    assert main([*argv, "--store", str(not_a_store), "--out", missing]) == EXIT_REFUSED
    assert "does not exist" in capsys.readouterr().err
    assert main([*argv, "--store", str(not_a_store), "--out", str(tmp_path)]) == EXIT_REFUSED
    assert "is a folder" in capsys.readouterr().err


def test_pack_publish_and_as_published_from_the_command_line(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ssp_desktop import services
    from ssp_desktop.domain.records import Action

    store = tmp_path / "plan.sqlite"
    store.write_bytes(demo_store.read_bytes())
    out = tmp_path / "pack.pdf"
    argv = ["pack", "--store", str(store)]
    assert main([*argv, "--quarter", "2024/25 Q2", "--out", str(out)]) == EXIT_OK
    capsys.readouterr()
    assert main([*argv, "--list-exports"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert "2024/25 Q2" in listed and "not published" in listed and str(out) in listed
    assert main([*argv, "--publish", str(out)]) == EXIT_OK
    assert "quarter's updates and values are locked" in capsys.readouterr().out
    assert main([*argv, "--publish", str(out)]) == EXIT_REFUSED
    assert "already published" in capsys.readouterr().err
    with Store.open(store) as s, s.transaction() as tx:
        action = tx.session.scalars(_first_action()).first()
        assert isinstance(action, Action)
        services.edit(tx, action, title="Retitled after publication")
    remade = tmp_path / "remade.pdf"
    assert main([*argv, "--as-published", str(out), "--out", str(remade)]) == EXIT_OK
    assert "byte-identical" in capsys.readouterr().out
    assert remade.read_bytes() == out.read_bytes()
    assert main([*argv, "--as-published", "no-such-export"]) == EXIT_REFUSED
    assert "no recorded export 'no-such-export'" in capsys.readouterr().err
    assert main([*argv, "--out", str(out)]) == EXIT_REFUSED
    assert "give --quarter and --out" in capsys.readouterr().err


def _first_action() -> Any:
    from sqlalchemy import select

    from ssp_desktop.domain.enums import PlanStatus
    from ssp_desktop.domain.records import Action, Plan

    # An action of a plan that can still be changed (the sample's 2018-21 is archived).
    return (
        select(Action)
        .join(Plan, Plan.id == Action.plan_id)
        .where(Action.deleted_at.is_(None), Plan.status != PlanStatus.ARCHIVED)
        .order_by(Action.ref)
    )


def test_the_command_line_starts_without_reportlab() -> None:
    code = "import sys, ssp_desktop.cli; print('reportlab' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=Path.cwd()
    )
    assert out.stdout.strip() == "False"


@pytest.fixture
def damaged_store(tmp_path: Path, demo_store: Path) -> Path:
    """The sample store with bytes overwritten mid-file (a failing disk, a bad copy)."""
    path = tmp_path / "damaged.sqlite"
    data = bytearray(demo_store.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page
    data[middle + 200 : middle + page - 200] = b"\xa5" * (page - 400)
    path.write_bytes(bytes(data))
    return path


def test_writers_refuse_a_damaged_store_with_what_check_finds(
    damaged_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 22: check found the damage, but xlsx import wrote to it and pack died with a
    traceback. Every writer now checks first and refuses with check's findings."""
    assert main(["check", "--store", str(damaged_store)]) == EXIT_PROBLEMS
    found = capsys.readouterr().out
    first = found.splitlines()[1].removeprefix("  - ")
    assert first.startswith("integrity:")
    before = damaged_store.read_bytes()
    sheet = tmp_path / "tracker.csv"
    sheet.write_text("Ref,Action\nPVP-01,Fund IDVAs\n", encoding="utf-8")
    for args in (
        ["xlsx", "import", "--store", str(damaged_store), str(sheet)],
        ["pack", "--store", str(damaged_store), "--quarter", "2024/25 Q2", "--out",
         str(tmp_path / "pack.pdf")],
    ):  # fmt: skip
        assert main(args) == EXIT_REFUSED, args
        err = capsys.readouterr().err
        assert "is damaged" in err and first in err and "Traceback" not in err
    assert not (tmp_path / "pack.pdf").exists()
    # Nothing was written: every page is as it was (opening a store for writing switches
    # its journal to WAL, which changes only the 100-byte file header).
    assert damaged_store.read_bytes()[100:] == before[100:]
    assert not list(tmp_path.glob("damaged*.backup-*"))


def test_read_only_commands_work_in_a_read_only_folder(
    tmp_path: Path,
    demo_store: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 22: ``check`` and ``xlsx export`` in a read-only folder said the store
    "could not be written": reading a WAL store makes SQLite create files beside it."""
    import os

    from ssp_desktop.store import backend

    folder = tmp_path / "share"
    folder.mkdir()
    path = folder / "plan.sqlite"
    path.write_bytes(demo_store.read_bytes())
    Store.open(path).close()  # now in WAL mode, as every store the app has opened
    before = sorted(p.name for p in folder.iterdir())
    real = backend.folder_writable
    monkeypatch.setattr(backend, "folder_writable", lambda f: f != folder and real(f))
    if os.geteuid() != 0:  # root writes anywhere; the stand-in above says what it can't
        folder.chmod(0o555)
    try:
        assert main(["check", "--store", str(path)]) == EXIT_OK, capsys.readouterr()
        out = tmp_path / "plan.xlsx"
        assert main(["xlsx", "export", "--store", str(path), "--out", str(out)]) == EXIT_OK
        assert out.exists()
        assert sorted(p.name for p in folder.iterdir()) == before  # no -shm, -wal, lock
        # Writing is refused, with the reason.
        assert main(["demo", "--store", str(folder / "new.sqlite")]) == EXIT_REFUSED
    finally:
        folder.chmod(0o755)
