"""A whole bundle: read (every check passed, every line parsed) or written.

Reading is all-or-nothing and happens before the store is touched: the file through
``container`` (size, zip, members, streamed caps), the manifest through ``manifest``
(strict JSON, fields, versions), then every member's SHA-256 against the manifest,
and only then the payload lines through ``codec``. Whatever is wrong raises
:class:`~ssp_desktop.domain.errors.BundleError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ssp_desktop.domain.errors import BundleError
from ssp_desktop.sync import codec
from ssp_desktop.sync import manifest as manifest_module
from ssp_desktop.sync.container import (
    ACKS,
    CHANGES,
    DEFAULT_LIMITS,
    MANIFEST,
    PLAIN,
    RECORDS,
    Envelope,
    Limits,
    dump_lines,
    iter_jsonl,
    read_bundle_file,
    write_bundle_file,
)
from ssp_desktop.sync.manifest import (
    KIND_CHANGES,
    Manifest,
    manifest_bytes,
    member_info,
    parse_manifest,
    upgrade_line,
    verify_members,
)
from ssp_desktop.sync.seal import Opened

T = TypeVar("T")


@dataclass
class Bundle:
    manifest: Manifest
    changes: list[codec.ChangeLine] = field(default_factory=list)
    records: list[codec.RecordLine] = field(default_factory=list)
    acks: list[codec.AckLine] = field(default_factory=list)
    # What the envelope vouched for (signer, claims, rotation); None for a plain zip.
    sealed: Opened | None = None


def _parse_member(
    members: dict[str, bytes],
    name: str,
    parse: Callable[[Any], T],
    schema_version: int,
    limits: Limits,
) -> list[T]:
    out: list[T] = []
    for number, raw in iter_jsonl(members[name], member=name, limits=limits):
        try:
            if schema_version < manifest_module.SCHEMA_VERSION:
                if not isinstance(raw, dict):
                    raise codec.LineError("each line should be an object")
                raw = upgrade_line(name, raw, schema_version)
            out.append(parse(raw))
        except codec.LineError as exc:
            raise codec.refuse(name, number, exc) from exc
    return out


def read_bundle(
    path: Path, *, envelope: Envelope = PLAIN, limits: Limits = DEFAULT_LIMITS
) -> Bundle:
    """The bundle at ``path``, or :class:`BundleError` saying why not."""
    members = read_bundle_file(Path(path), envelope=envelope, limits=limits)
    manifest = parse_manifest(members[MANIFEST], limits=limits)
    envelope.vouch(manifest)
    verify_members(manifest, members)
    opened = getattr(envelope, "opened", None)
    bundle = Bundle(manifest, sealed=opened if isinstance(opened, Opened) else None)
    version = manifest.schema_version
    if manifest.kind == KIND_CHANGES:
        bundle.changes = _parse_member(members, CHANGES, codec.parse_change, version, limits)
        counted = {"changes": len(bundle.changes)}
    else:
        bundle.records = _parse_member(members, RECORDS, codec.parse_record, version, limits)
        bundle.acks = _parse_member(members, ACKS, codec.parse_ack, version, limits)
        counted = {"records": len(bundle.records), "acks": len(bundle.acks)}
    for key, count in counted.items():
        if manifest.counts.get(key, count) != count:
            raise BundleError(
                f"The bundle's manifest says it holds {manifest.counts[key]} {key} but it "
                f"holds {count}. Nothing was changed."
            )
    return bundle


def write_bundle(
    path: Path,
    manifest: Manifest,
    payload: dict[str, Iterable[dict[str, Any]]],
    *,
    envelope: Envelope = PLAIN,
) -> tuple[Manifest, int]:
    """Write ``payload`` (member name -> JSON lines) under ``manifest``; the manifest's
    members and counts are filled in here. Returns the manifest written and the size."""
    members = {name: dump_lines(list(lines)) for name, lines in payload.items()}
    counts = {
        {CHANGES: "changes", RECORDS: "records", ACKS: "acks"}[name]: data.count(b"\n")
        for name, data in members.items()
    }
    manifest = dataclasses.replace(
        manifest,
        members={name: member_info(data) for name, data in members.items()},
        counts=counts,
    )
    size = write_bundle_file(
        Path(path), {MANIFEST: manifest_bytes(manifest), **members}, envelope=envelope
    )
    return manifest, size
