"""This install's keys: where they are kept, their fingerprint, join requests, rotation."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest

from ssp_desktop import paths
from ssp_desktop.domain.errors import SecurityError
from ssp_desktop.sync import keys

FINGERPRINT = re.compile(r"^([A-Z2-7]{4}-){7}[A-Z2-7]{4}$")


def test_keys_are_made_once_and_kept_in_a_file_only_the_user_can_read(
    isolated_home: Path,
) -> None:
    assert not keys.has_identity()
    first = keys.this_install()
    assert FINGERPRINT.match(first.fingerprint)
    assert keys.this_install().fingerprint == first.fingerprint
    private = paths.keys_dir() / "private.json"
    assert private.is_relative_to(isolated_home)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    public = json.loads((paths.keys_dir() / "identity.json").read_text())
    assert public["fingerprint"] == first.fingerprint and public["private_in"] == "file"
    assert "sign" not in public and "enc" not in public  # no private key beside the public
    assert keys.key_location() == str(private)


def test_another_home_is_another_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = keys.this_install().fingerprint
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "second"))
    assert keys.this_install().fingerprint != first


class _FakeKeyring:
    def __init__(self) -> None:
        self.secrets: dict[tuple[str, str], str] = {}

    def set_password(self, service: str, user: str, secret: str) -> None:
        self.secrets[(service, user)] = secret

    def get_password(self, service: str, user: str) -> str | None:
        return self.secrets.get((service, user))


def test_private_keys_go_to_the_system_keyring_when_there_is_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _FakeKeyring()
    monkeypatch.setattr(keys, "_keyring", lambda: fake)
    identity = keys.this_install()
    assert not (paths.keys_dir() / "private.json").exists()
    (((service, _), secret),) = fake.secrets.items()
    assert identity.fingerprint not in secret  # the private keys, not the public file
    assert service.startswith("ssp-desktop:")  # one entry per SSP_DESKTOP_HOME
    assert keys.load_identity() is not None
    assert keys.this_install().fingerprint == identity.fingerprint
    assert keys.key_location() == "the system keyring"
    fake.secrets.clear()  # e.g. a locked keyring
    with pytest.raises(SecurityError, match="system keyring"):
        keys.load_identity()


def test_a_failing_keyring_backend_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.delenv(keys.KEYRING_ENV)
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    assert keys._keyring() is None
    monkeypatch.setenv(keys.KEYRING_ENV, "off")
    monkeypatch.setattr(keyring, "get_keyring", lambda: _FakeKeyring())
    assert keys._keyring() is None


def test_fingerprints_are_accepted_as_read_aloud() -> None:
    fp = keys.Identity.generate().fingerprint
    assert keys.normalise_fingerprint(fp.lower().replace("-", " ")) == fp
    assert keys.normalise_fingerprint(fp.replace("O", "0").replace("I", "1")) == fp
    assert keys.normalise_fingerprint(fp[:-1]) == ""


def test_a_join_request_carries_public_keys_and_is_signed(tmp_path: Path) -> None:
    identity = keys.this_install()
    out = tmp_path / "alice"
    request = keys.write_join_request(
        out, name="Alice", email="alice@example.org", identity=identity
    )
    path = tmp_path / "alice.sspjoin"
    data: dict[str, Any] = json.loads(path.read_text())
    assert set(data) == {
        "format",
        "version",
        "name",
        "email",
        "sign_key",
        "enc_key",
        "created_at",
        "signature",
    }
    read = keys.read_join_request(path)
    assert read.fingerprint == identity.fingerprint == request.fingerprint
    data["email"] = "mallory@example.org"
    path.write_text(json.dumps(data))
    with pytest.raises(SecurityError, match="changed after it was made"):
        keys.read_join_request(path)
    with pytest.raises(SecurityError, match="not an email"):
        keys.write_join_request(out, name="Alice", email="alice", identity=identity)


def test_rotation_is_kept_with_the_old_encryption_key() -> None:
    old = keys.this_install()
    new = keys.rotate_identity()
    loaded = keys.load_identity()
    assert loaded is not None and loaded.fingerprint == new.fingerprint != old.fingerprint
    assert len(loaded.decryption_keys()) == 2 and len(loaded.rotations) == 1
    step = keys.verify_rotation(loaded.rotations[0])
    assert step is not None
    assert (step[0].fingerprint, step[1].fingerprint) == (old.fingerprint, new.fingerprint)
    forged = {**loaded.rotations[0], "new_enc_key": keys.b64(b"\x01" * 32)}
    assert keys.verify_rotation(forged) is None


def test_damaged_keys_point_to_keys_new_which_starts_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ssp_desktop import cli

    assert cli.main(["keys"]) == cli.EXIT_OK
    old = capsys.readouterr().out
    (paths.keys_dir() / "private.json").write_text("{}", encoding="utf-8")
    assert cli.main(["keys"]) == cli.EXIT_REFUSED
    assert "ssp-desktop keys --new" in capsys.readouterr().err
    assert cli.main(["keys", "--rotate"]) == cli.EXIT_REFUSED  # rotation needs the old key
    capsys.readouterr()
    assert cli.main(["keys", "--new"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "Join again" in out
    new_fingerprint = out.split("This install's fingerprint: ")[1].split()[0]
    assert new_fingerprint not in old
    assert cli.main(["keys"]) == cli.EXIT_OK
    assert new_fingerprint in capsys.readouterr().out


def test_old_encryption_keys_are_destroyed_after_their_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 22: every replaced X25519 key was kept forever beside the current one, so
    whoever got the key file read every bundle ever sent to this install."""
    import datetime as dt

    from cryptography.hazmat.primitives import serialization

    def raw(key: Any) -> bytes:
        return key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    first = keys.this_install()
    second = keys.rotate_identity()
    third = keys.rotate_identity()
    fourth = keys.rotate_identity()
    loaded = keys.load_identity()
    assert loaded is not None and loaded.fingerprint == fourth.fingerprint
    # At most OLD_KEYS replaced keys are kept: the first one is gone from the file.
    assert len(loaded.previous_enc) == keys.OLD_KEYS == 2
    kept = {raw(k) for k in loaded.decryption_keys()}
    assert raw(first.enc) not in kept
    assert raw(second.enc) in kept and raw(third.enc) in kept
    text = (paths.keys_dir() / "private.json").read_text()
    assert keys.b64(raw(first.enc)) not in text
    # After OLD_KEY_DAYS the rest go too, the next time the keys are read.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=keys.OLD_KEY_DAYS + 1)
    assert loaded.pruned(later).previous_enc == ()
    real = keys.Identity.pruned
    monkeypatch.setattr(keys.Identity, "pruned", lambda self, now=None: real(self, later))
    reread = keys.load_identity()
    assert reread is not None and reread.previous_enc == ()
    assert keys.b64(raw(third.enc)) not in (paths.keys_dir() / "private.json").read_text()


def test_keys_kept_by_an_older_version_get_their_time_started() -> None:
    old = keys.this_install()
    new = keys.rotate_identity()
    path = paths.keys_dir() / "private.json"
    data = json.loads(path.read_text())
    data["previous_enc"] = [item["key"] for item in data["previous_enc"]]  # the old format
    path.write_text(json.dumps(data))
    loaded = keys.load_identity()
    assert loaded is not None and loaded.fingerprint == new.fingerprint
    assert len(loaded.decryption_keys()) == 2  # still opens bundles sealed to ``old``
    assert old.fingerprint != new.fingerprint
    rewritten = json.loads(path.read_text())["previous_enc"]
    assert isinstance(rewritten[0], dict) and rewritten[0]["retired_at"]


def test_the_keys_folder_is_private_whatever_the_umask() -> None:
    import os

    previous = os.umask(0)
    try:
        keys.this_install()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(paths.keys_dir().stat().st_mode) == 0o700
    paths.keys_dir().chmod(0o777)  # as an older version left it
    keys.load_identity()
    assert stat.S_IMODE(paths.keys_dir().stat().st_mode) == 0o700
