"""Sealed bundles: signed by the sender, then encrypted to each recipient.

The :class:`~ssp_desktop.sync.container.Envelope` that every bundle passes through.
A sealed file is (all integers big-endian; see ``docs/bundle-format.md``)::

    "SSPBNDL1"  u32 header length  clear header (JSON)  AES-256-GCM ciphertext

The **clear header** holds the protective marking (OFFICIAL-SENSITIVE) and only what
a reader needs to find its key: per recipient a
key id (a hash of its X25519 public key), a one-off X25519 public key and the bundle's
content key wrapped for it (X25519, HKDF-SHA256, AES-256-GCM); and the body's nonce. No
plan, person, theme or file name. The ciphertext's associated data is the magic and the
whole clear header, so changing either fails authentication.

The **plaintext** is ``u32 length, signed header (JSON), 64-byte Ed25519 signature,
the bundle zip``. The signed header names the signer's public keys, the recipients'
key ids, the claims copied from the manifest (kind, plan, bundle id, sequence, lead,
person, master store, sender site), the zip's SHA-256 (and so, through the manifest,
every member's hash), the signer's key rotation statements and, in the master's
bundles, the recovery keys the lead should also encrypt to.

:meth:`Opener.open` refuses, in this order and before the zip is looked at: a file that
is not sealed; a bundle with no recipient entry for this install's keys; a key or body
that fails authentication (altered or damaged); a signature that does not verify with
the key it names, or a zip that is not the one signed; recipients other than those the
sender signed for (re-addressed); then whatever :class:`Trust` refuses (unknown signer,
a person not enrolled, a bundle from A claiming to be from B). :meth:`Opener.vouch` then
checks the manifest against the signed claims.
"""

from __future__ import annotations

import hashlib
import os
import struct
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ssp_desktop.domain.errors import BundleError, SecurityError
from ssp_desktop.sync.container import dumps, loads_strict
from ssp_desktop.sync.keys import Identity, PublicKeys, b64, canonical, key_id, unb64

MAGIC = b"SSPBNDL1"
# Every bundle says how it must be handled, in the clear (it says nothing of the plan).
MARKING = "OFFICIAL-SENSITIVE"
_SIGNED_FORMAT = "ssp-desktop signed bundle"
_SIGN_CONTEXT = b"ssp-desktop bundle signature v1\0"
_WRAP_INFO = b"ssp-desktop bundle v1 key wrap"
_MAX_HEADER = 64 * 1024
_MAX_SIGNED = 256 * 1024
_MAX_RECIPIENTS = 16
_NOTHING = "Nothing was changed."
CLAIM_KEYS = (
    "kind",
    "plan_id",
    "bundle_id",
    "sequence",
    "lead_id",
    "person_id",
    "master_store_id",
    "sender_site_id",
)


@dataclass(frozen=True)
class Opened:
    """What the envelope vouched for."""

    signer: PublicKeys
    claims: Mapping[str, Any]
    recipients: tuple[str, ...]
    rotations: tuple[dict[str, Any], ...]
    recovery_keys: tuple[bytes, ...]
    # The trusted key the signer's rotation statements start from (None: no rotation).
    rotated_from: PublicKeys | None = None


class Trust(Protocol):
    """Decides whether a verified signer may send this bundle here (raises if not) and
    returns the trusted key it rotated from, if any."""

    def check(self, opened: Opened) -> PublicKeys | None: ...


class TrustAnyone:
    """Trusts any valid signature: only for reading with the recovery key, where the
    point is to get the data back, not to import it."""

    def check(self, opened: Opened) -> PublicKeys | None:
        return None


# --------------------------------------------------------------------------- sealing


def _kek(shared: bytes, epk: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + recipient, info=_WRAP_INFO).derive(
        shared
    )


def _raw(key: X25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def claims_of(manifest: Any) -> dict[str, Any]:
    """The manifest's fields the signature vouches for (as JSON values)."""
    return {
        "kind": manifest.kind,
        "plan_id": str(manifest.plan_id),
        "bundle_id": str(manifest.bundle_id),
        "sequence": manifest.sequence,
        "lead_id": str(manifest.lead_id),
        "person_id": str(manifest.person_id),
        "master_store_id": str(manifest.master_store_id),
        "sender_site_id": str(manifest.sender_site_id),
    }


@dataclass
class Sealer:
    """The envelope for writing: signs with ``identity``, encrypts to ``recipients``."""

    identity: Identity
    recipients: Sequence[bytes]  # X25519 public keys
    claims: Mapping[str, Any]
    recovery_keys: Sequence[bytes] = ()

    def seal(self, data: bytes) -> bytes:
        unique = list(dict.fromkeys(self.recipients))
        if not unique:
            raise SecurityError("A bundle needs at least one recipient. " + _NOTHING)
        return encrypt(self.signed(data, unique), unique)

    def signed(self, data: bytes, recipients: Sequence[bytes]) -> bytes:
        """The plaintext: signed header, signature, zip."""
        signed = {
            "format": _SIGNED_FORMAT,
            "version": 1,
            "signer": self.identity.public.to_json(),
            "recipients": [key_id(r) for r in recipients],
            "claims": dict(self.claims),
            "zip_sha256": hashlib.sha256(data).hexdigest(),
            "zip_size": len(data),
            "rotations": list(self.identity.rotations),
            "recovery_keys": [b64(k) for k in self.recovery_keys],
        }
        signed_bytes = canonical(signed)
        signature = self.identity.sign.sign(_SIGN_CONTEXT + signed_bytes)
        return struct.pack(">I", len(signed_bytes)) + signed_bytes + signature + data

    def open(self, data: bytes) -> bytes:  # pragma: no cover - a sealer only writes
        raise BundleError("A sealing envelope cannot open bundles.")

    def vouch(self, manifest: Any) -> None:  # pragma: no cover - a sealer only writes
        return None


def encrypt(plaintext: bytes, recipients: Sequence[bytes]) -> bytes:
    """A fresh content key encrypts ``plaintext``; it is wrapped for each recipient."""
    cek = AESGCM.generate_key(bit_length=256)
    entries = []
    for recipient in recipients:
        ephemeral = X25519PrivateKey.generate()
        epk = _raw(ephemeral.public_key())
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
        nonce = os.urandom(12)
        wrapped = AESGCM(_kek(shared, epk, recipient)).encrypt(nonce, cek, _WRAP_INFO)
        entries.append(
            {
                "key": key_id(recipient),
                "epk": b64(epk),
                "nonce": b64(nonce),
                "wrapped": b64(wrapped),
            }
        )
    body_nonce = os.urandom(12)
    header = dumps({"v": 1, "marking": MARKING, "nonce": b64(body_nonce), "recipients": entries})
    prefix = MAGIC + struct.pack(">I", len(header)) + header
    return prefix + AESGCM(cek).encrypt(body_nonce, plaintext, prefix)


# --------------------------------------------------------------------------- opening


def _altered(name: str) -> SecurityError:
    return SecurityError(
        f"{name} was changed or damaged after it was sealed (for example cut short while "
        "copying, or edited), so it cannot be trusted. Ask the sender to export it again. "
        + _NOTHING
    )


def _signed_text(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise SecurityError(f"The bundle's signed header is not valid ({what}). " + _NOTHING)
    return value


@dataclass
class Opener:
    """The envelope for reading, on an install with ``identity``, trusting ``trust``."""

    identity_keys: Sequence[X25519PrivateKey]
    trust: Trust
    name: str = "This bundle"
    fingerprint: str = ""
    opened: Opened | None = field(default=None, init=False)

    @classmethod
    def for_identity(cls, identity: Identity, trust: Trust, name: str = "This bundle") -> Opener:
        return cls(identity.decryption_keys(), trust, name, identity.fingerprint)

    def seal(self, data: bytes) -> bytes:  # pragma: no cover - an opener only reads
        raise BundleError("An opening envelope cannot seal bundles.")

    def _header(self, data: bytes) -> tuple[bytes, dict[str, Any]]:
        if not data.startswith(MAGIC):
            if data.startswith(b"PK\x03\x04"):
                raise SecurityError(
                    f"{self.name} is not sealed (signed and encrypted): it was made by an older "
                    "ssp-desktop, or by something else. Ask the sender to update ssp-desktop and "
                    "export it again. " + _NOTHING
                )
            raise BundleError(
                f"{self.name} is not an ssp-desktop bundle (or it was cut short while "
                "copying). " + _NOTHING
            )
        if len(data) < len(MAGIC) + 4:
            raise _altered(self.name)
        (size,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
        if size > _MAX_HEADER or len(MAGIC) + 4 + size > len(data):
            raise _altered(self.name)
        prefix = data[: len(MAGIC) + 4 + size]
        try:
            header = loads_strict(
                prefix[len(MAGIC) + 4 :],
                what="The bundle's header",
                max_bytes=_MAX_HEADER,
                max_depth=4,
            )
        except BundleError as exc:
            raise _altered(self.name) from exc
        if not isinstance(header, dict) or header.get("v") != 1:
            raise _altered(self.name)
        return prefix, header

    def _content_key(self, header: Mapping[str, Any]) -> bytes:
        entries = header.get("recipients")
        if not isinstance(entries, list) or not 0 < len(entries) <= _MAX_RECIPIENTS:
            raise _altered(self.name)
        mine = {key_id(_raw(k.public_key())): k for k in self.identity_keys}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("key") not in mine:
                continue
            key = mine[entry["key"]]
            try:
                epk = unb64(entry.get("epk"), "epk")
                nonce = unb64(entry.get("nonce"), "nonce", 12)
                wrapped = unb64(entry.get("wrapped"), "wrapped", 48)
                shared = key.exchange(X25519PublicKey.from_public_bytes(epk))
                kek = _kek(shared, epk, _raw(key.public_key()))
                return AESGCM(kek).decrypt(nonce, wrapped, _WRAP_INFO)
            except (SecurityError, InvalidTag, ValueError) as exc:
                raise _altered(self.name) from exc
        yours = f" (this install's fingerprint is {self.fingerprint})" if self.fingerprint else ""
        raise SecurityError(
            f"{self.name} is not addressed to this install: it was encrypted for other keys"
            f"{yours}. If it is meant for you, ask the sender to export it for you again "
            "(and, if you made new keys, to enrol your new join request). " + _NOTHING
        )

    def open(self, data: bytes) -> bytes:
        prefix, header = self._header(data)
        cek = self._content_key(header)
        try:
            nonce = unb64(header.get("nonce"), "nonce", 12)
            plaintext = AESGCM(cek).decrypt(nonce, data[len(prefix) :], prefix)
        except (SecurityError, InvalidTag, ValueError) as exc:
            raise _altered(self.name) from exc
        if len(plaintext) < 4:
            raise _altered(self.name)
        (size,) = struct.unpack(">I", plaintext[:4])
        if size > _MAX_SIGNED or 4 + size + 64 > len(plaintext):
            raise _altered(self.name)
        signed_bytes = plaintext[4 : 4 + size]
        signature = plaintext[4 + size : 4 + size + 64]
        zip_bytes = plaintext[4 + size + 64 :]
        signed = loads_strict(
            signed_bytes, what="The bundle's signed header", max_bytes=_MAX_SIGNED, max_depth=5
        )
        if not isinstance(signed, dict) or signed.get("format") != _SIGNED_FORMAT:
            raise _altered(self.name)
        signer_json = signed.get("signer")
        if not isinstance(signer_json, dict):
            raise _altered(self.name)
        signer = PublicKeys.from_json(signer_json, "The bundle's signer")
        if (
            not signer.verify(signature, _SIGN_CONTEXT + signed_bytes)
            or signed.get("zip_sha256") != hashlib.sha256(zip_bytes).hexdigest()
        ):
            raise SecurityError(
                f"{self.name} has a bad signature: its content is not what its sender signed "
                "(it was altered, or forged by someone holding the content key). Do not use "
                "it; ask the sender to export it again. " + _NOTHING
            )
        recipients = signed.get("recipients")
        clear = [e.get("key") for e in header["recipients"] if isinstance(e, dict)]
        if not isinstance(recipients, list) or sorted(map(str, recipients)) != sorted(
            map(str, clear)
        ):
            raise SecurityError(
                f"{self.name} is not addressed to this install as its sender signed it: "
                "someone re-addressed it. Do not use it; ask the sender to export it for "
                "you again. " + _NOTHING
            )
        claims = signed.get("claims")
        if not isinstance(claims, dict) or set(claims) != set(CLAIM_KEYS):
            raise _altered(self.name)
        rotations = signed.get("rotations", [])
        recovery = signed.get("recovery_keys", [])
        if not isinstance(rotations, list) or not isinstance(recovery, list):
            raise _altered(self.name)
        opened = Opened(
            signer=signer,
            claims=claims,
            recipients=tuple(str(r) for r in recipients),
            rotations=tuple(r for r in rotations if isinstance(r, dict)),
            recovery_keys=tuple(unb64(k, "recovery key") for k in recovery[:_MAX_RECIPIENTS]),
        )
        rotated_from = self.trust.check(opened)
        self.opened = Opened(**{**opened.__dict__, "rotated_from": rotated_from})
        return zip_bytes

    def vouch(self, manifest: Any) -> None:
        """The manifest says what the sender signed, or the bundle is refused."""
        if self.opened is None:
            raise BundleError("The bundle was not opened. " + _NOTHING)
        claims = claims_of(manifest)
        for key in CLAIM_KEYS:
            signed = self.opened.claims.get(key)
            if key != "sequence" and not isinstance(signed, str | int):
                signed = _signed_text(signed, key)
            if str(signed) != str(claims[key]):
                raise SecurityError(
                    f"{self.name}'s manifest does not match what its sender signed ({key}). "
                    "It was altered; ask the sender to export it again. " + _NOTHING
                )


def claim_uuid(opened: Opened, key: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(opened.claims.get(key)))
    except ValueError:
        return None
