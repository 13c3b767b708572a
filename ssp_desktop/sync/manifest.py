"""``manifest.json``: what a bundle is, who sent it, for which plan, and its members.

Two version numbers (documented in ``docs/bundle-format.md``):

* ``format_version``: the container and manifest layout. A reader refuses a bundle whose
  ``min_reader_version`` is above its own :data:`FORMAT_VERSION` ("update the app").
* ``schema_version``: the shape of the records in the payload. A bundle with an older
  schema is upgraded line by line on import (:data:`PAYLOAD_UPGRADES`); a newer one is
  refused ("update the app").

The manifest is validated field by field (type, range, shape) before anything else in
the bundle is parsed, and every member's size and SHA-256 are checked against it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ssp_desktop import __version__
from ssp_desktop.domain.errors import BundleError, BundleTooNewError
from ssp_desktop.sync.container import (
    ACKS,
    CHANGES,
    DEFAULT_LIMITS,
    MANIFEST,
    RECORDS,
    Limits,
    dumps,
    loads_strict,
)

FORMAT = "ssp-desktop bundle"
# 2: the scope names an action set (``action_ids``, ``action_refs``). A compatible
# addition: a format 1 reader ignores it (the master, not the manifest, decides what a
# lead may change), so bundles still say they can be read from format 1.
FORMAT_VERSION = 2
MIN_READER_VERSION = 1
SCHEMA_VERSION = 2

KIND_CHANGES = "changes"  # lead -> master: the lead's changes
KIND_SNAPSHOT = "snapshot"  # master -> lead: the lead's scope, tombstones, acknowledgements

MEMBERS_BY_KIND = {
    KIND_CHANGES: frozenset({MANIFEST, CHANGES}),
    KIND_SNAPSHOT: frozenset({MANIFEST, RECORDS, ACKS}),
}

# schema_version n -> function turning one payload line of version n into version n+1.
# (member name, line) -> line. Version 1 is the first, so the table starts empty; a
# schema change adds a step here rather than refusing the bundles leads already sent.
PayloadUpgrade = Callable[[str, dict[str, Any]], dict[str, Any]]


# Fields that schema 2 added, with the value a record from an older app stands for.
_ADDED_IN_2: dict[str, dict[str, Any]] = {
    "measure_value": {"state": "accepted", "review_note": "", "rank": ""},
    "action_update": {"review_note": ""},
    "plan": {"status_reason": ""},
}


def _review_fields(member: str, line: dict[str, Any]) -> dict[str, Any]:
    """1 -> 2: review and sign-off: measure values gained a review state, updates and
    values the strategy team's reason for a return, plans the reason for a reopening;
    and values their rank among comparators ("3rd of 10 in GM"), none before.

    A value the master sends (a snapshot's records) was printed before review existed,
    so it counts as accepted, as migration 0005 has it. A value a lead sends (their
    changes) is theirs to submit, not to accept: it arrives awaiting review.
    """
    added = _ADDED_IN_2.get(str(line.get("entity")))
    if added is None:
        return line
    if member == CHANGES and "state" in added:
        added = {**added, "state": "submitted"}
    for key in ("fields", "new"):
        fields = line.get(key)
        if isinstance(fields, dict):
            missing = {k: v for k, v in added.items() if k not in fields}
            if missing:
                return {**line, key: {**fields, **missing}}
    return line


PAYLOAD_UPGRADES: dict[int, PayloadUpgrade] = {1: _review_fields}

_NOTHING = "Nothing was changed."
_UPDATE = "Update ssp-desktop to import it (ask whoever looks after the app). " + _NOTHING


@dataclass(frozen=True)
class MemberInfo:
    sha256: str
    size: int


@dataclass(frozen=True)
class Scope:
    """The plan, themes (priorities) and single actions a lead copy holds.

    Codes and refs are for people reading the bundle; ids decide.
    """

    plan_id: uuid.UUID
    priority_ids: tuple[uuid.UUID, ...]
    priority_codes: tuple[str, ...]
    action_ids: tuple[uuid.UUID, ...] = ()
    action_refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    kind: str
    bundle_id: uuid.UUID
    plan_id: uuid.UUID
    master_store_id: uuid.UUID
    sender_site_id: uuid.UUID
    sender_store_id: uuid.UUID
    lead_id: uuid.UUID
    person_id: uuid.UUID
    scope: Scope
    base_master_revision: int
    sequence: int
    created_at: dt.datetime
    created_by: str
    members: Mapping[str, MemberInfo]
    format_version: int = FORMAT_VERSION
    min_reader_version: int = MIN_READER_VERSION
    schema_version: int = SCHEMA_VERSION
    app_version: str = __version__
    counts: Mapping[str, int] = field(default_factory=dict)
    # The master copy is the built-in sample plan: a lead copy made from it is marked
    # as sample data too (banner, the sample's own dates). Absent in older bundles.
    sample: bool = False

    def to_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"sample": True} if self.sample else {}
        return {
            **extra,
            "format": FORMAT,
            "format_version": self.format_version,
            "min_reader_version": self.min_reader_version,
            "schema_version": self.schema_version,
            "app_version": self.app_version,
            "kind": self.kind,
            "bundle_id": str(self.bundle_id),
            "plan_id": str(self.plan_id),
            "master_store_id": str(self.master_store_id),
            "sender_site_id": str(self.sender_site_id),
            "sender_store_id": str(self.sender_store_id),
            "lead_id": str(self.lead_id),
            "person_id": str(self.person_id),
            "scope": {
                "plan_id": str(self.scope.plan_id),
                "priority_ids": [str(p) for p in self.scope.priority_ids],
                "priority_codes": list(self.scope.priority_codes),
                "action_ids": [str(a) for a in self.scope.action_ids],
                "action_refs": list(self.scope.action_refs),
            },
            "base_master_revision": self.base_master_revision,
            "sequence": self.sequence,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "counts": dict(self.counts),
            "members": {
                name: {"sha256": m.sha256, "size": m.size} for name, m in self.members.items()
            },
        }


def member_info(data: bytes) -> MemberInfo:
    return MemberInfo(hashlib.sha256(data).hexdigest(), len(data))


def manifest_bytes(manifest: Manifest) -> bytes:
    return dumps(manifest.to_json())


# --------------------------------------------------------------------------- reading


class _Reader:
    """Typed access to the manifest's JSON, with messages that name the bad field."""

    def __init__(self, data: Mapping[str, Any], where: str = "") -> None:
        self.data = data
        self.where = where

    def _bad(self, key: str, want: str) -> BundleError:
        return BundleError(
            f"The bundle's manifest is not valid: {self.where}{key} should be {want}. " + _NOTHING
        )

    def get(self, key: str) -> Any:
        if key not in self.data:
            raise BundleError(
                f"The bundle's manifest is not valid: {self.where}{key} is missing. " + _NOTHING
            )
        return self.data[key]

    def integer(self, key: str, *, minimum: int = 0) -> int:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._bad(key, f"a whole number of at least {minimum}")
        # A bundle's numbers are stored in INTEGER columns (32 bits on PostgreSQL); a
        # larger one is no honest count and would overflow there.
        if value > 2**31 - 1:
            raise self._bad(key, "a smaller number")
        return value

    def text(self, key: str, *, max_len: int = 500) -> str:
        value = self.get(key)
        if not isinstance(value, str) or len(value) > max_len:
            raise self._bad(key, f"text of at most {max_len} characters")
        return value

    def uuid(self, key: str) -> uuid.UUID:
        value = self.text(key, max_len=36)
        try:
            return uuid.UUID(value)
        except ValueError as exc:
            raise self._bad(key, "an id") from exc

    def when(self, key: str) -> dt.datetime:
        value = self.text(key, max_len=40)
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise self._bad(key, "a date and time") from exc
        if parsed.tzinfo is None:
            raise self._bad(key, "a date and time with its time zone")
        return parsed

    def obj(self, key: str) -> _Reader:
        value = self.get(key)
        if not isinstance(value, dict):
            raise self._bad(key, "an object")
        return _Reader(value, f"{self.where}{key}.")

    def items(self, key: str, *, max_len: int = 1000) -> list[Any]:
        value = self.get(key)
        if not isinstance(value, list) or len(value) > max_len:
            raise self._bad(key, f"a list of at most {max_len} items")
        return value


def parse_manifest(raw: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Manifest:
    """The manifest, validated; refuses newer formats and schemas with "update the app"."""
    data = loads_strict(
        raw,
        what="The bundle's manifest",
        max_bytes=limits.max_manifest_bytes,
        max_depth=limits.max_manifest_depth,
    )
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BundleError(
            "This file is not an ssp-desktop bundle (its manifest does not say so). " + _NOTHING
        )
    r = _Reader(data)
    format_version = r.integer("format_version", minimum=1)
    min_reader = r.integer("min_reader_version", minimum=1)
    app_version = r.text("app_version", max_len=40)
    if min_reader > FORMAT_VERSION:
        raise BundleTooNewError(
            f"This bundle was made by a newer ssp-desktop ({app_version}, bundle format "
            f"{format_version}) than this one understands (format {FORMAT_VERSION}). " + _UPDATE
        )
    schema_version = r.integer("schema_version", minimum=1)
    if schema_version > SCHEMA_VERSION:
        raise BundleTooNewError(
            f"This bundle was made by a newer ssp-desktop ({app_version}) whose records "
            f"have a newer shape (schema {schema_version}; this app knows {SCHEMA_VERSION}). "
            + _UPDATE
        )
    for version in range(schema_version, SCHEMA_VERSION):
        if version not in PAYLOAD_UPGRADES:
            raise BundleError(
                f"This bundle's records have an old shape (schema {schema_version}) that "
                "this app can no longer read. Ask the sender to update ssp-desktop and "
                "export it again. " + _NOTHING
            )
    kind = r.text("kind", max_len=20)
    if kind not in MEMBERS_BY_KIND:
        raise r._bad("kind", f"one of {', '.join(sorted(MEMBERS_BY_KIND))}")
    scope = r.obj("scope")
    ids = scope.items("priority_ids")
    codes = scope.items("priority_codes")
    try:
        priority_ids = tuple(uuid.UUID(str(i)) if isinstance(i, str) else None for i in ids)
    except ValueError as exc:
        raise scope._bad("priority_ids", "a list of ids") from exc
    if any(p is None for p in priority_ids) or not all(
        isinstance(c, str) and len(c) <= 40 for c in codes
    ):
        raise scope._bad("priority_ids", "a list of ids, with a list of codes")
    action_ids, action_refs = _action_set(scope, format_version)
    members_reader = r.obj("members")
    members: dict[str, MemberInfo] = {}
    for name in members_reader.data:
        info = members_reader.obj(name)
        digest = info.text("sha256", max_len=64)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise info._bad("sha256", "64 hexadecimal digits")
        members[name] = MemberInfo(digest, info.integer("size"))
    expected = MEMBERS_BY_KIND[kind] - {MANIFEST}
    if set(members) != expected:
        raise BundleError(
            f"The bundle's manifest lists the files {sorted(members)}, but a {kind} bundle "
            f"has {sorted(expected)}. " + _NOTHING
        )
    counts_reader = r.obj("counts")
    counts = {k: counts_reader.integer(k) for k in counts_reader.data}
    return Manifest(
        kind=kind,
        bundle_id=r.uuid("bundle_id"),
        plan_id=r.uuid("plan_id"),
        master_store_id=r.uuid("master_store_id"),
        sender_site_id=r.uuid("sender_site_id"),
        sender_store_id=r.uuid("sender_store_id"),
        lead_id=r.uuid("lead_id"),
        person_id=r.uuid("person_id"),
        scope=Scope(
            plan_id=scope.uuid("plan_id"),
            priority_ids=tuple(p for p in priority_ids if p is not None),
            priority_codes=tuple(codes),
            action_ids=action_ids,
            action_refs=action_refs,
        ),
        base_master_revision=r.integer("base_master_revision"),
        sequence=r.integer("sequence", minimum=1),
        created_at=r.when("created_at"),
        created_by=r.text("created_by", max_len=254),
        members=members,
        format_version=format_version,
        min_reader_version=min_reader,
        schema_version=schema_version,
        app_version=app_version,
        counts=counts,
        sample=r.data.get("sample") is True,
    )


def _action_set(
    scope: _Reader, format_version: int
) -> tuple[tuple[uuid.UUID, ...], tuple[str, ...]]:
    """The scope's single actions: ids (each once) and their refs, one per id.

    Format 1 bundles have none; from format 2 on, both lists are always written.
    """
    if format_version < 2 and "action_ids" not in scope.data and "action_refs" not in scope.data:
        return (), ()
    ids = scope.items("action_ids")
    refs = scope.items("action_refs")
    parsed: list[uuid.UUID] = []
    for value in ids:
        if not isinstance(value, str) or len(value) > 36:
            raise scope._bad("action_ids", "a list of different ids")
        try:
            parsed.append(uuid.UUID(value))
        except ValueError as exc:
            raise scope._bad("action_ids", "a list of different ids") from exc
    if len(set(parsed)) != len(parsed):
        raise scope._bad("action_ids", "a list of different ids")
    if len(refs) != len(ids) or not all(isinstance(r, str) and 0 < len(r) <= 20 for r in refs):
        raise scope._bad("action_refs", "a list of action refs, one for each of action_ids")
    return tuple(parsed), tuple(refs)


def verify_members(manifest: Manifest, members: Mapping[str, bytes]) -> None:
    """Every member present, exactly as the manifest describes it (size and SHA-256)."""
    present = set(members) - {MANIFEST}
    expected = set(manifest.members)
    if present != expected:
        extra = sorted(present - expected)
        missing = sorted(expected - present)
        why = f"unexpected files {extra}" if extra else f"missing files {missing}"
        raise BundleError(f"The bundle does not match its manifest ({why}). " + _NOTHING)
    for name, info in manifest.members.items():
        data = members[name]
        if len(data) != info.size or hashlib.sha256(data).hexdigest() != info.sha256:
            raise BundleError(
                f"The bundle's {name} does not match its checksum: the file was changed or "
                "damaged after it was made. Ask the sender to export it again. " + _NOTHING
            )


def upgrade_line(member: str, line: dict[str, Any], from_version: int) -> dict[str, Any]:
    """A payload line of ``from_version`` in the current schema's shape."""
    for version in range(from_version, SCHEMA_VERSION):
        line = PAYLOAD_UPGRADES[version](member, line)
    return line


__all__ = [
    "FORMAT_VERSION",
    "KIND_CHANGES",
    "KIND_SNAPSHOT",
    "MIN_READER_VERSION",
    "PAYLOAD_UPGRADES",
    "SCHEMA_VERSION",
    "Manifest",
    "MemberInfo",
    "Scope",
    "manifest_bytes",
    "member_info",
    "parse_manifest",
    "upgrade_line",
    "verify_members",
]
