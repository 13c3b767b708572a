"""``ssp-desktop bundle export`` and ``bundle import``: output and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssp_desktop import cli
from ssp_desktop.models.entities import Action
from ssp_desktop.models.store import Store
from tests.sync.helpers import LEAD_A, make_world


@pytest.fixture
def master(tmp_path: Path) -> tuple[Path, object]:
    world = make_world(tmp_path)
    action_id = world.plan.action.id
    world.close()
    return world.master.path, action_id


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_round_trip_through_the_command_line(
    tmp_path: Path, master: tuple[Path, object], capsys: pytest.CaptureFixture[str]
) -> None:
    master_path, action_id = master
    starter = tmp_path / "alice.sspbundle"
    lead = tmp_path / "alice.sqlite"
    code, out, _ = run(
        capsys, "bundle", "export", "--store", str(master_path), "--out", str(starter),
        "--for", LEAD_A, "--themes", "PVP",
    )  # fmt: skip
    assert code == 0 and "records of PVP for alice@example.org" in out

    code, out, _ = run(capsys, "bundle", "import", "--store", str(lead), str(starter), "--dry-run")
    assert code == 0 and "Dry run: nothing was changed." in out and "new" in out
    assert not lead.exists()

    code, out, _ = run(capsys, "bundle", "import", "--store", str(lead), str(starter))
    assert code == 0 and "Made the lead copy" in out and lead.exists()

    for path, title in ((lead, "Lead title"), (master_path, "Master title")):
        with Store.open(path) as store, store.transaction() as tx:
            action = tx.get(Action, action_id)  # type: ignore[arg-type]
            assert action is not None
            action.title = title
    changes = tmp_path / "from-alice.sspbundle"
    code, out, _ = run(capsys, "bundle", "export", "--store", str(lead), "--out", str(changes))
    assert code == 0 and "1 change for the master copy" in out

    code, out, _ = run(capsys, "bundle", "import", "--store", str(master_path), str(changes))
    assert code == 1  # applied, with a conflict waiting
    assert "1 conflict to resolve" in out and "'Master title'" in out and "'Lead title'" in out
    assert "before the import" in out

    code, out, _ = run(capsys, "bundle", "import", "--store", str(master_path), str(changes))
    assert code == 0 and "already imported" in out


def test_a_damaged_bundle_is_refused_with_exit_2(
    tmp_path: Path, master: tuple[Path, object], capsys: pytest.CaptureFixture[str]
) -> None:
    master_path, _ = master
    bad = tmp_path / "bad.sspbundle"
    bad.write_bytes(b"PK\x03\x04 not really")
    code, out, err = run(capsys, "bundle", "import", "--store", str(master_path), str(bad))
    assert code == 2 and out == ""
    assert "not an ssp-desktop bundle" in err and "Traceback" not in err


def test_export_needs_a_lead_copy_or_a_person(
    tmp_path: Path, master: tuple[Path, object], capsys: pytest.CaptureFixture[str]
) -> None:
    master_path, _ = master
    out_file = tmp_path / "x.sspbundle"
    code, _, err = run(
        capsys, "bundle", "export", "--store", str(master_path), "--out", str(out_file)
    )
    assert code == 2 and "not a lead copy" in err
    code, _, err = run(
        capsys, "bundle", "export", "--store", str(master_path), "--out", str(out_file),
        "--themes", "PVP",
    )  # fmt: skip
    assert code == 2 and "--themes goes with --for" in err
    code, _, err = run(
        capsys, "bundle", "export", "--store", str(master_path), "--out", str(tmp_path / "x.zip"),
        "--for", LEAD_A,
    )  # fmt: skip
    assert code == 2 and ".sspbundle" in err
    assert not out_file.exists()
