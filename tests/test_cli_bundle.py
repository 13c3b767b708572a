"""``ssp-desktop join``, ``enrol``, ``keys``, ``bundle export`` and ``bundle import``:
output and exit codes, between two installs (two ``SSP_DESKTOP_HOME`` folders)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ssp_desktop import cli, services
from ssp_desktop.domain.records import Action
from ssp_desktop.store.engine import Store
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


def _fingerprint(out: str) -> str:
    (found,) = re.findall(r"(?:[A-Z2-7]{4}-){7}[A-Z2-7]{4}", out)
    return found


def test_round_trip_through_the_command_line(
    tmp_path: Path,
    master: tuple[Path, object],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    master_path, action_id = master
    starter = tmp_path / "alice.sspbundle"
    lead = tmp_path / "alice.sqlite"
    master_home, lead_home = tmp_path / "master-home", tmp_path / "lead-home"

    def on(home: Path) -> None:
        monkeypatch.setenv("SSP_DESKTOP_HOME", str(home))

    on(lead_home)  # Alice's laptop
    request = tmp_path / "alice.sspjoin"
    code, out, _ = run(capsys, "join", "--out", str(request), "--name", "Alice", "--email", LEAD_A)
    assert code == 0 and request.exists()
    read_aloud = _fingerprint(out)
    code, out, _ = run(capsys, "keys")
    assert code == 0 and _fingerprint(out) == read_aloud

    on(master_home)  # the strategy team's PC
    code, _, err = run(
        capsys, "bundle", "export", "--store", str(master_path), "--out", str(starter),
        "--for", LEAD_A, "--themes", "PVP",
    )  # fmt: skip
    assert code == 2 and "not enrolled" in err and "ssp-desktop enrol" in err
    wrong = _fingerprint(run(capsys, "keys")[1])  # the master's own, not Alice's
    master_read_aloud = wrong  # what the strategy team reads to Alice
    code, _, err = run(
        capsys, "enrol", "--store", str(master_path), str(request), "--fingerprint", wrong
    )
    assert code == 2 and "does not match" in err
    code, out, _ = run(
        capsys, "enrol", "--store", str(master_path), str(request),
        "--fingerprint", read_aloud.lower().replace("-", " "),
    )  # fmt: skip
    assert code == 0 and "Enrolled Superintendent (alice@example.org)" in out
    code, out, _ = run(
        capsys, "bundle", "export", "--store", str(master_path), "--out", str(starter),
        "--for", LEAD_A, "--themes", "PVP",
    )  # fmt: skip
    assert code == 0 and "records of PVP for alice@example.org" in out
    code, _, err = run(capsys, "bundle", "import", "--store", str(lead), str(starter))
    assert code == 2 and "not addressed to this install" in err  # the master cannot read it

    on(lead_home)
    code, out, _ = run(capsys, "bundle", "import", "--store", str(lead), str(starter), "--dry-run")
    assert code == 0 and "Dry run: nothing was changed." in out and "new" in out
    assert not lead.exists()

    # A first starter is trusted only with the fingerprint the strategy team reads out.
    code, _, err = run(capsys, "bundle", "import", "--store", str(lead), str(starter))
    assert code == 2 and "--master-fingerprint" in err and not lead.exists()
    code, _, err = run(
        capsys, "bundle", "import", "--store", str(lead), str(starter),
        "--master-fingerprint", read_aloud,
    )  # fmt: skip
    assert code == 2 and "does not match" in err and not lead.exists()
    code, out, _ = run(
        capsys, "bundle", "import", "--store", str(lead), str(starter),
        "--master-fingerprint", master_read_aloud.lower(),
    )  # fmt: skip
    assert code == 0 and "Made the lead copy" in out and lead.exists()

    for path, title in ((lead, "Lead title"), (master_path, "Master title")):
        with Store.open(path) as store, store.transaction() as tx:
            action = tx.get(Action, action_id)  # type: ignore[arg-type]
            assert action is not None
            services.edit(tx, action, title=title)
    changes = tmp_path / "from-alice.sspbundle"
    code, out, _ = run(capsys, "bundle", "export", "--store", str(lead), "--out", str(changes))
    assert code == 0 and "1 change for the master copy" in out

    on(master_home)
    code, out, _ = run(capsys, "bundle", "import", "--store", str(master_path), str(changes))
    assert code == 1  # applied, with a conflict waiting
    assert "1 conflict to resolve" in out and "'Master title'" in out and "'Lead title'" in out
    assert f"A copy of the store from before the import: {tmp_path}" in out
    assert f"Import backups in {tmp_path}: 1, using " in out
    (first_backup,) = tmp_path.glob("master.backup-*-before-bundle-*.sqlite")

    code, out, _ = run(capsys, "bundle", "import", "--store", str(master_path), str(changes))
    assert code == 0 and "already imported" in out

    on(lead_home)  # Alice rotates her keys; her next bundle still goes through
    code, out, _ = run(capsys, "keys", "--rotate")
    assert code == 0 and _fingerprint(out.splitlines()[-2]) != read_aloud
    with Store.open(lead) as store, store.transaction() as tx:
        action = tx.get(Action, action_id)  # type: ignore[arg-type]
        assert action is not None
        services.edit(tx, action, description="After rotation")
    again = tmp_path / "from-alice-2.sspbundle"
    assert run(capsys, "bundle", "export", "--store", str(lead), "--out", str(again))[0] == 0
    on(master_home)
    code, out, err = run(
        capsys, "bundle", "import", "--store", str(master_path), str(again),
        "--keep-backups", "1", "--keep-backup-days", "0",
    )  # fmt: skip
    assert code in (0, 1), err
    # Only this import's backup is kept: the first one is removed, and the summary says so.
    (kept,) = tmp_path.glob("master.backup-*-before-bundle-*.sqlite")
    assert kept != first_backup and not first_backup.exists()
    assert f"A copy of the store from before the import: {kept}" in out
    assert f"Import backups in {tmp_path}: 1, using " in out
    assert "1 older one removed (keeping the newest 1 and any under 0 days old)" in out
    code, out, _ = run(capsys, "backups", "--store", str(master_path), "--keep-last", "3")
    assert code == 0 and kept.name in out and "keeps the newest 3 and any under 30" in out
    with Store.open(master_path) as store, store.session() as s:
        found = s.get(Action, action_id)
        assert found is not None and found.description == "After rotation"


def test_a_damaged_bundle_is_refused_with_exit_2(
    tmp_path: Path, master: tuple[Path, object], capsys: pytest.CaptureFixture[str]
) -> None:
    master_path, _ = master
    bad = tmp_path / "bad.sspbundle"
    bad.write_bytes(b"PK\x03\x04 not really")
    code, out, err = run(capsys, "bundle", "import", "--store", str(master_path), str(bad))
    assert code == 2 and out == ""
    assert "not sealed" in err and "export it again" in err and "Traceback" not in err
    bad.write_bytes(b"Minutes of the board")
    code, out, err = run(capsys, "bundle", "import", "--store", str(master_path), str(bad))
    assert code == 2 and "not an ssp-desktop bundle" in err


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


def test_the_recovery_key_from_the_command_line(
    tmp_path: Path, master: tuple[Path, object], capsys: pytest.CaptureFixture[str]
) -> None:
    import zipfile

    from ssp_desktop.sync.keys import Identity
    from tests.sync.helpers import enrol_identity

    master_path, _ = master
    code, out, _ = run(capsys, "keys", "--make-recovery-key", str(tmp_path / "rk"))
    assert code == 0 and "OFFLINE" in out
    public, private = tmp_path / "rk.ssprecovery-public", tmp_path / "rk.ssprecovery"
    assert run(capsys, "keys", "--make-recovery-key", str(tmp_path / "rk"))[0] == 2  # no overwrite
    code, out, _ = run(
        capsys, "enrol", "--store", str(master_path), str(public),
        "--fingerprint", _fingerprint(out),
    )  # fmt: skip
    assert code == 0 and "Enrolled the recovery key" in out
    with Store.open(master_path) as store:
        enrol_identity(store, LEAD_A, Identity.generate())
    starter = tmp_path / "starter.sspbundle"
    assert run(
        capsys, "bundle", "export", "--store", str(master_path), "--out", str(starter),
        "--for", LEAD_A, "--themes", "PVP",
    )[0] == 0  # fmt: skip
    opened = tmp_path / "opened.zip"
    import os
    import stat

    previous = os.umask(0)  # the plaintext is the user's alone from the moment it exists
    try:
        code, out, _ = run(
            capsys, "bundle", "recover", "--key", str(private), "--out", str(opened), str(starter)
        )
    finally:
        os.umask(previous)
    assert code == 0 and "NOT encrypted" in out
    assert stat.S_IMODE(opened.stat().st_mode) == 0o600
    code, _, err = run(
        capsys, "bundle", "recover", "--key", str(private), "--out", str(opened), str(starter)
    )
    assert code == 2 and "exists" in err
    with zipfile.ZipFile(opened) as zf:
        assert b"Fund IDVAs" in zf.read("records.jsonl")
    code, _, err = run(
        capsys, "bundle", "recover", "--key", str(public), "--out", str(tmp_path / "x.zip"),
        str(starter),
    )  # fmt: skip
    assert code == 2 and "not a recovery private key" in err


def test_export_for_an_action_lead(
    tmp_path: Path, master: tuple[Path, object], capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import select

    from ssp_desktop.domain.sync_records import SyncLead
    from ssp_desktop.sync.keys import Identity
    from tests.sync.helpers import enrol_identity

    master_path, action_id = master
    with Store.open(master_path) as store:
        enrol_identity(store, LEAD_A, Identity.generate())
    out_file = tmp_path / "alice.sspbundle"

    def export(*scope: str) -> tuple[int, str, str]:
        return run(
            capsys, "bundle", "export", "--store", str(master_path), "--out", str(out_file),
            "--for", LEAD_A, *scope,
        )  # fmt: skip

    def scope() -> tuple[list[str], list[str]]:
        with Store.open(master_path) as store, store.session() as s:
            lead = s.scalars(select(SyncLead)).one()
            return lead.themes, lead.actions

    code, _, err = run(
        capsys, "bundle", "export", "--store", str(master_path), "--out", str(out_file),
        "--actions", "PVP-01",
    )  # fmt: skip
    assert code == 2 and "--actions goes with --for" in err
    code, _, err = export("--actions", "PVP-01,PVP-99")
    assert code == 2 and "actions PVP-01, PVP-99" in err and not out_file.exists()
    # Alice leads no theme, only action PVP-01: by default her copy holds that.
    code, out, _ = export()
    assert code == 0 and "records of action PVP-01 for alice@example.org" in out
    assert scope() == ([], [str(action_id)])
    code, out, _ = export("--themes", "RCH", "--actions", "pvp-01")
    assert code == 0 and "records of RCH and action PVP-01 for" in out
    themes, actions = scope()
    assert len(themes) == 1 and actions == [str(action_id)]
    code, out, _ = export("--themes", "PVP")  # themes alone: the action set is cleared
    assert code == 0 and "records of PVP for" in out and scope()[1] == []
