"""This install's keys, their fingerprints, join requests, rotation and recovery keys.

Every install has an Ed25519 key (it signs the bundles it writes) and an X25519 key
(bundles for it are encrypted to it). The public halves travel in join requests and
bundles; the private halves never leave the install:

* in the operating system's keyring (``keyring``) when a usable one exists, under a
  service name that depends on ``SSP_DESKTOP_HOME`` (so a second profile has its own);
* otherwise in ``<settings>/keys/private.json``, created readable and writable by the
  user only (0600). ``SSP_DESKTOP_KEYRING=off`` forces the file (the tests do; so can
  a locked-down desktop whose keyring prompts at every start).

The **fingerprint** of an install is SHA-256 of both public keys, first 160 bits, in
base32 (letters A-Z and digits 2-7, which do not sound alike in pairs), as eight groups
of four: ``K7QF-WX2M-...``. People read it aloud by phone; :func:`normalise_fingerprint`
accepts it typed in any case, with spaces or dashes, and 0/1/8 for O/I/B.

**Rotation** (:meth:`Identity.rotated`) makes new keys and a statement, signed by the
old signing key, naming the new public keys. Every later bundle carries the statements,
so a master that still knows only the old key learns the new one from a message the old
key signed (see ``docs/security.md``). The old encryption key is kept for a while
(``OLD_KEY_DAYS``; at most ``OLD_KEYS`` of them), so bundles the master encrypted to it
before it learned the new one still open; then it is destroyed, so whoever later gets
this install's keys cannot read the bundles sent long ago (forward secrecy).

The keys folder is made readable by the user only (0700), whatever the umask.

A **recovery key** is an X25519 key pair made once for the partnership: its public half
is enrolled on the master and added as a recipient of every bundle; its private half is
kept offline (printed, or on a USB stick in a safe) and opens any bundle if the master's
own key is lost.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ssp_desktop import paths
from ssp_desktop.domain.errors import SecurityError

KEYRING_ENV = "SSP_DESKTOP_KEYRING"
JOIN_EXTENSION = ".sspjoin"
RECOVERY_PUBLIC_EXTENSION = ".ssprecovery-public"
RECOVERY_PRIVATE_EXTENSION = ".ssprecovery"

_PUBLIC_FILE = "identity.json"
_PRIVATE_FILE = "private.json"
_KEYRING_USER = "install-keys"
_MAX_FILE = 64 * 1024
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

_log = logging.getLogger(__name__)

# How long, and how many, replaced encryption keys are kept after a rotation: long
# enough for bundles already on their way (sealed before the master heard of the new
# key) to open, short enough that a stolen key file does not open years of bundles.
OLD_KEY_DAYS = 90
OLD_KEYS = 2


# --------------------------------------------------------------------------- encoding


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, what: str, size: int = 32) -> bytes:
    if not isinstance(text, str) or len(text) > 200:
        raise SecurityError(f"{what} is not a key.")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise SecurityError(f"{what} is not a key.") from exc
    if len(raw) != size:
        raise SecurityError(f"{what} is not a key of the right size.")
    return raw


def canonical(value: Any) -> bytes:
    """JSON as it is signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def _raw_public(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _raw_private(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def _group(digest: bytes) -> str:
    bits = int.from_bytes(digest[:20], "big")
    chars = [_B32[(bits >> (155 - 5 * i)) & 31] for i in range(32)]
    return "-".join("".join(chars[i : i + 4]) for i in range(0, 32, 4))


def fingerprint(sign_key: bytes, enc_key: bytes) -> str:
    """An install's fingerprint: eight groups of four letters or digits."""
    return _group(hashlib.sha256(b"ssp-desktop install key v1\0" + sign_key + enc_key).digest())


def recovery_fingerprint(enc_key: bytes) -> str:
    return _group(hashlib.sha256(b"ssp-desktop recovery key v1\0" + enc_key).digest())


def key_id(enc_key: bytes) -> str:
    """How a bundle's clear header names a recipient: a hash of its encryption key, so
    it says which key can open it and nothing about the plan."""
    return hashlib.sha256(b"ssp-desktop recipient v1\0" + enc_key).hexdigest()[:32]


def normalise_fingerprint(text: str) -> str:
    """A fingerprint as typed or read back (any case, spaces, dashes) in its printed form,
    or "" when it cannot be one."""
    cleaned = re.sub(r"[\s\-_.:]", "", text.upper())
    cleaned = cleaned.translate(str.maketrans("018", "OIB"))
    if len(cleaned) != 32 or any(c not in _B32 for c in cleaned):
        return ""
    return "-".join(cleaned[i : i + 4] for i in range(0, 32, 4))


# --------------------------------------------------------------------------- public keys


@dataclass(frozen=True)
class PublicKeys:
    """An install's public keys (what a join request carries and a master enrols)."""

    sign: bytes
    enc: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign, self.enc)

    @property
    def key_id(self) -> str:
        return key_id(self.enc)

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.sign).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_json(self) -> dict[str, str]:
        return {"sign_key": b64(self.sign), "enc_key": b64(self.enc)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], what: str = "The key") -> PublicKeys:
        return cls(
            unb64(data.get("sign_key"), f"{what}'s signing key"),
            unb64(data.get("enc_key"), f"{what}'s encryption key"),
        )


_ROTATION_CONTEXT = b"ssp-desktop key rotation v1\0"


def rotation_statement(old: Ed25519PrivateKey, old_enc: bytes, new: PublicKeys) -> dict[str, str]:
    """The old key's signed word that ``new`` replaces it."""
    body = {
        "old_sign_key": b64(_raw_public(old)),
        "old_enc_key": b64(old_enc),
        "new_sign_key": b64(new.sign),
        "new_enc_key": b64(new.enc),
        "at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    return {**body, "signature": b64(old.sign(_ROTATION_CONTEXT + canonical(body)))}


def verify_rotation(statement: Mapping[str, Any]) -> tuple[PublicKeys, PublicKeys] | None:
    """(old, new) public keys if the statement is signed by its old key, else None."""
    try:
        body = {
            k: statement[k]
            for k in ("old_sign_key", "old_enc_key", "new_sign_key", "new_enc_key", "at")
        }
        if not isinstance(body["at"], str):
            return None
        old = PublicKeys(unb64(body["old_sign_key"], "old"), unb64(body["old_enc_key"], "old"))
        new = PublicKeys(unb64(body["new_sign_key"], "new"), unb64(body["new_enc_key"], "new"))
        signature = unb64(statement["signature"], "signature", 64)
    except (KeyError, TypeError, SecurityError):
        return None
    if not old.verify(signature, _ROTATION_CONTEXT + canonical(body)):
        return None
    return old, new


# --------------------------------------------------------------------------- identity


@dataclass(frozen=True)
class Identity:
    """This install's private keys (and the rotation statements that vouch for them)."""

    sign: Ed25519PrivateKey
    enc: X25519PrivateKey
    previous_enc: tuple[X25519PrivateKey, ...] = ()
    rotations: tuple[dict[str, str], ...] = field(default=())
    # When each of ``previous_enc`` was replaced (UTC, ISO), index for index.
    previous_retired: tuple[str, ...] = ()

    @classmethod
    def generate(cls) -> Identity:
        return cls(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    @property
    def public(self) -> PublicKeys:
        return PublicKeys(_raw_public(self.sign), _raw_public(self.enc))

    @property
    def fingerprint(self) -> str:
        return self.public.fingerprint

    def decryption_keys(self) -> list[X25519PrivateKey]:
        """The current encryption key first, then those it replaced."""
        return [self.enc, *self.previous_enc]

    def rotated(self, now: dt.datetime | None = None) -> Identity:
        """New keys, with the old encryption key kept (for a while) and the old key's
        signed word."""
        fresh = Identity.generate()
        statement = rotation_statement(self.sign, self.public.enc, fresh.public)
        stamp = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
        return replace(
            fresh,
            previous_enc=(self.enc, *self.previous_enc),
            previous_retired=(stamp, *self._retired()),
            rotations=(*self.rotations, statement),
        ).pruned(now)

    def _retired(self) -> tuple[str, ...]:
        missing = len(self.previous_enc) - len(self.previous_retired)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        return (*self.previous_retired, *([now] * max(missing, 0)))

    def pruned(self, now: dt.datetime | None = None) -> Identity:
        """Without the replaced encryption keys past ``OLD_KEY_DAYS`` or beyond the
        newest ``OLD_KEYS``. A key whose retirement time is unknown (kept by an older
        version) starts its time now."""
        now = now or dt.datetime.now(dt.UTC)
        keep: list[tuple[X25519PrivateKey, str]] = []
        for key, stamp in zip(self.previous_enc, self._retired(), strict=True):
            try:
                when = dt.datetime.fromisoformat(stamp)
            except ValueError:
                when = now
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            if now - when <= dt.timedelta(days=OLD_KEY_DAYS) and len(keep) < OLD_KEYS:
                keep.append((key, stamp))
        return replace(
            self,
            previous_enc=tuple(k for k, _ in keep),
            previous_retired=tuple(t for _, t in keep),
        )

    def private_json(self) -> dict[str, Any]:
        return {
            "format": "ssp-desktop private keys",
            "version": 1,
            "sign": b64(_raw_private(self.sign)),
            "enc": b64(_raw_private(self.enc)),
            "previous_enc": [
                {"key": b64(_raw_private(k)), "retired_at": t}
                for k, t in zip(self.previous_enc, self._retired(), strict=True)
            ],
        }

    @classmethod
    def from_private_json(
        cls, data: Mapping[str, Any], rotations: tuple[dict[str, str], ...] = ()
    ) -> Identity:
        try:
            previous = data.get("previous_enc", [])
            if not isinstance(previous, list):
                raise SecurityError("bad list")
            keys: list[X25519PrivateKey] = []
            retired: list[str] = []
            now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
            for item in previous:
                # An older version kept bare keys, with no time: their time starts now.
                text, stamp = (
                    (item.get("key"), item.get("retired_at"))
                    if isinstance(item, dict)
                    else (item, None)
                )
                keys.append(X25519PrivateKey.from_private_bytes(unb64(text, "key")))
                retired.append(stamp if isinstance(stamp, str) else now)
            return cls(
                Ed25519PrivateKey.from_private_bytes(unb64(data.get("sign"), "key")),
                X25519PrivateKey.from_private_bytes(unb64(data.get("enc"), "key")),
                tuple(keys),
                rotations,
                tuple(retired),
            )
        except (SecurityError, ValueError) as exc:
            raise SecurityError(
                "This install's private keys are damaged. Make new ones with "
                "'ssp-desktop keys --new' and ask the strategy team to enrol you again."
            ) from exc


# --------------------------------------------------------------------------- key store


def _keyring() -> Any | None:
    """The OS keyring backend if one is usable here, else None (use the file)."""
    if os.environ.get(KEYRING_ENV, "").strip().lower() in {"0", "off", "no", "false", "file"}:
        return None
    try:
        import keyring
        from keyring.backends import chainer, fail

        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring) or type(backend).__module__.startswith(
        "keyring.backends.null"
    ):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def private_folder(folder: Path) -> Path:
    """Make ``folder`` (and its missing parents) and keep it readable by the user only:
    ``mkdir``'s mode follows the umask (0777 under umask 000), so it is set afterwards,
    also on a folder an older version made."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(folder, 0o700)
    return folder


def _write_private_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".private.", dir=path.parent)
    try:
        os.chmod(tmp, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        if path.stat().st_size > _MAX_FILE:
            raise SecurityError(f"{path.name} is too large to be {what}.")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SecurityError(f"There is no file {path}.") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SecurityError(f"{path.name} is not {what} ({exc}).") from exc
    if not isinstance(data, dict):
        raise SecurityError(f"{path.name} is not {what}.")
    return data


@dataclass(frozen=True)
class KeyLocation:
    fingerprint: str
    where: str  # "the system keyring" or the private file's path


def load_identity() -> Identity | None:
    """This install's keys, or None if it has none yet."""
    folder = paths.keys_dir()
    public_path = folder / _PUBLIC_FILE
    if not public_path.exists():
        return None
    public = _read_json(public_path, "this install's public keys")
    rotations = public.get("rotations", [])
    if not isinstance(rotations, list):
        rotations = []
    rotations_t = tuple(r for r in rotations if isinstance(r, dict))
    if public.get("private_in") == "keyring":
        backend = _keyring()
        secret = None
        if backend is not None:
            try:
                secret = backend.get_password(paths.keyring_service(), _KEYRING_USER)
            except Exception as exc:
                _log.warning("keyring read failed: %s", type(exc).__name__)
        if secret is None:
            raise SecurityError(
                "This install's private keys are kept in the system keyring, which cannot "
                "be read now (is your desktop session unlocked?). Unlock it and try again."
            )
        try:
            data = json.loads(secret)
        except ValueError as exc:
            raise SecurityError("The private keys in the system keyring are damaged.") from exc
    else:
        data = _read_json(folder / _PRIVATE_FILE, "this install's private keys")
    identity = Identity.from_private_json(data, rotations_t)
    if identity.fingerprint != public.get("fingerprint"):
        raise SecurityError(
            "This install's private and public keys do not belong together. Make new keys "
            "with 'ssp-desktop keys --new' and ask the strategy team to enrol you again."
        )
    kept = identity.pruned()
    stored = data.get("previous_enc")
    stamped = isinstance(stored, list) and all(isinstance(i, dict) for i in stored)
    if len(kept.previous_enc) != len(identity.previous_enc) or not stamped:
        # Old encryption keys past their time are destroyed (rewritten without them);
        # keys kept by an older version get their retirement time written down.
        try:
            save_identity(kept)
        except OSError as exc:
            _log.warning("could not rewrite the keys without old ones: %s", exc)
    if os.name == "posix" and folder.stat().st_mode & 0o077:
        private_folder(folder)
    return kept


def save_identity(identity: Identity) -> KeyLocation:
    """Keep ``identity``: private keys in the keyring if usable, else a 0600 file."""
    folder = private_folder(paths.keys_dir())
    secret = canonical(identity.private_json())
    where = ""
    backend = _keyring()
    if backend is not None:
        try:
            backend.set_password(paths.keyring_service(), _KEYRING_USER, secret.decode("utf-8"))
            where = "the system keyring"
            (folder / _PRIVATE_FILE).unlink(missing_ok=True)
        except Exception as exc:
            _log.warning("keyring write failed, using the key file: %s", type(exc).__name__)
    if not where:
        _write_private_file(folder / _PRIVATE_FILE, secret)
        where = str(folder / _PRIVATE_FILE)
    public = {
        "format": "ssp-desktop public keys",
        "version": 1,
        **identity.public.to_json(),
        "fingerprint": identity.fingerprint,
        "private_in": "keyring" if where == "the system keyring" else "file",
        "rotations": list(identity.rotations),
    }
    tmp = folder / f".{_PUBLIC_FILE}.partial"
    tmp.write_text(json.dumps(public, indent=2), encoding="utf-8")
    os.replace(tmp, folder / _PUBLIC_FILE)
    _log.info("install keys saved (%s)", "keyring" if where == "the system keyring" else "file")
    return KeyLocation(identity.fingerprint, where)


def this_install(*, create: bool = True) -> Identity:
    """This install's keys, made (and kept) the first time they are needed."""
    identity = load_identity()
    if identity is None:
        if not create:
            raise SecurityError(
                "This install has no keys yet. Run 'ssp-desktop keys --new' or join a "
                "partnership (ssp-desktop join)."
            )
        identity = Identity.generate()
        save_identity(identity)
    return identity


def has_identity() -> bool:
    return (paths.keys_dir() / _PUBLIC_FILE).exists()


def key_location() -> str:
    """Where this install's private keys are kept (for the Keys dialog and ``keys``)."""
    public_path = paths.keys_dir() / _PUBLIC_FILE
    if not public_path.exists():
        return "nowhere yet (no keys)"
    try:
        kept = json.loads(public_path.read_text(encoding="utf-8")).get("private_in")
    except (OSError, ValueError):
        kept = None
    return "the system keyring" if kept == "keyring" else str(paths.keys_dir() / _PRIVATE_FILE)


def replace_identity() -> Identity:
    """Start again with new keys, whatever state the old ones are in (damaged, or their
    keyring entry lost). Unlike :func:`rotate_identity` nothing vouches for the new
    keys: the person joins again and the master enrols the new request."""
    identity = Identity.generate()
    save_identity(identity)
    return identity


def rotate_identity() -> Identity:
    """Replace this install's keys (see the module docstring)."""
    new = this_install().rotated()
    save_identity(new)
    return new


# --------------------------------------------------------------------------- join requests

_JOIN_FORMAT = "ssp-desktop join request"
_JOIN_CONTEXT = b"ssp-desktop join request v1\0"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class JoinRequest:
    """Who asks to join (name, email) and their install's public keys; no plan data."""

    name: str
    email: str
    keys: PublicKeys
    created_at: str

    @property
    def fingerprint(self) -> str:
        return self.keys.fingerprint


def write_join_request(out: Path, *, name: str, email: str, identity: Identity) -> JoinRequest:
    name, email = name.strip(), email.strip()
    if not name or len(name) > 200:
        raise SecurityError("Give your name (as the strategy team knows you).")
    if not _EMAIL.match(email) or len(email) > 254:
        raise SecurityError(f"{email!r} is not an email address.")
    out = Path(out).expanduser().absolute()
    if out.suffix != JOIN_EXTENSION:
        out = out.with_name(out.name + JOIN_EXTENSION)
    if not out.parent.is_dir():
        raise SecurityError(f"The folder {out.parent} does not exist.")
    body = {
        "format": _JOIN_FORMAT,
        "version": 1,
        "name": name,
        "email": email,
        **identity.public.to_json(),
        "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
    # Signed, so the request shows its sender holds the private key (not someone
    # passing on another's public key under their own name).
    signed = {**body, "signature": b64(identity.sign.sign(_JOIN_CONTEXT + canonical(body)))}
    out.write_text(json.dumps(signed, indent=2, ensure_ascii=False), encoding="utf-8")
    return JoinRequest(name, email, identity.public, str(body["created_at"]))


def read_join_request(path: Path) -> JoinRequest:
    path = Path(path)
    data = _read_json(path, "a join request")
    if data.get("format") != _JOIN_FORMAT:
        raise SecurityError(
            f"{path.name} is not an ssp-desktop join request. Ask the person to make one "
            "with Join a partnership (or 'ssp-desktop join')."
        )
    body = {k: v for k, v in data.items() if k != "signature"}
    name, email, created = body.get("name"), body.get("email"), body.get("created_at")
    if not all(isinstance(v, str) for v in (name, email, created)):
        raise SecurityError(f"{path.name} is not a complete join request.")
    keys = PublicKeys.from_json(body, "The join request")
    signature = unb64(data.get("signature"), "The join request's signature", 64)
    if not keys.verify(signature, _JOIN_CONTEXT + canonical(body)):
        raise SecurityError(
            f"{path.name} was changed after it was made (its signature does not match). "
            "Ask the person to make a new join request."
        )
    return JoinRequest(str(name), str(email), keys, str(created))


# --------------------------------------------------------------------------- recovery key

_RECOVERY_PUBLIC = "ssp-desktop recovery public key"
_RECOVERY_PRIVATE = "ssp-desktop recovery private key"


@dataclass(frozen=True)
class RecoveryPublic:
    enc: bytes

    @property
    def fingerprint(self) -> str:
        return recovery_fingerprint(self.enc)

    @property
    def key_id(self) -> str:
        return key_id(self.enc)


def make_recovery_key(public_out: Path, private_out: Path) -> RecoveryPublic:
    """A new recovery key pair: the public file to enrol, the private file to keep offline."""
    key = X25519PrivateKey.generate()
    public = RecoveryPublic(_raw_public(key))
    _write_private_file(
        Path(private_out),
        canonical({"format": _RECOVERY_PRIVATE, "version": 1, "enc": b64(_raw_private(key))}),
    )
    Path(public_out).write_text(
        json.dumps(
            {
                "format": _RECOVERY_PUBLIC,
                "version": 1,
                "enc_key": b64(public.enc),
                "fingerprint": public.fingerprint,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return public


def read_recovery_public(path: Path) -> RecoveryPublic:
    data = _read_json(Path(path), "a recovery public key")
    if data.get("format") != _RECOVERY_PUBLIC:
        raise SecurityError(f"{Path(path).name} is not a recovery public key file.")
    return RecoveryPublic(unb64(data.get("enc_key"), "The recovery key"))


def read_recovery_private(path: Path) -> X25519PrivateKey:
    data = _read_json(Path(path), "a recovery private key")
    if data.get("format") != _RECOVERY_PRIVATE:
        raise SecurityError(f"{Path(path).name} is not a recovery private key file.")
    return X25519PrivateKey.from_private_bytes(unb64(data.get("enc"), "The recovery key"))
