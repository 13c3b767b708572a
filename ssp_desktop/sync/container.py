"""The bundle file as bytes: a zip of known members, read as if it were hostile.

Bundles travel by email and shared drives, so the reader assumes nothing about a file
until it has checked it, in this order, before any plan data is parsed:

1. the file's size, against :attr:`Limits.max_file_bytes` (``stat``, before reading);
2. the envelope (:class:`Envelope`): bundles are signed and encrypted
   (:mod:`ssp_desktop.sync.seal`); the envelope refuses anything it cannot vouch for
   before the zip is looked at. :data:`PLAIN` (no envelope) is for tests of the zip
   layer and for tools; the app never writes or reads a plain bundle;
3. the zip's directory: a zip at all, at most :attr:`Limits.max_members` entries, only
   the exact member names in :data:`KNOWN_MEMBERS` (so no ``..``, absolute paths,
   folders or links), no duplicates, no encryption, only stored or deflated members,
   declared sizes within the caps;
4. each member decompressed as a stream, stopping as soon as it passes the absolute cap
   or the compression-ratio cap (a zip bomb never gets inflated into memory), and its
   CRC checked by ``zipfile`` at the end.

The JSON helpers are strict: a size cap, a nesting-depth cap checked before the parser
runs (so a deeply nested file cannot exhaust the stack), no NaN or Infinity, and no
duplicate keys. Everything refused raises :class:`BundleError` with a message for users.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ssp_desktop.domain.errors import BundleError
from ssp_desktop.strict_json import (
    find_lone_surrogate,
    reject_constant,
    reject_duplicate_keys,
)

EXTENSION = ".sspbundle"
MANIFEST = "manifest.json"
CHANGES = "changes.jsonl"
RECORDS = "records.jsonl"
ACKS = "acks.jsonl"
KNOWN_MEMBERS = frozenset({MANIFEST, CHANGES, RECORDS, ACKS})

_NOTHING = "Nothing was changed."
_CHUNK = 64 * 1024
# A fixed date for every member so the same content makes the same bytes.
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Limits:
    """How much a bundle may hold. Generous for a real plan (a region-scale 10,000-change
    bundle is a few megabytes), tiny next to what a hostile file would need."""

    max_file_bytes: int = 256 * 1024 * 1024
    max_members: int = 8
    max_manifest_bytes: int = 1024 * 1024
    max_member_bytes: int = 512 * 1024 * 1024
    max_total_bytes: int = 1024 * 1024 * 1024
    # JSON Lines compress about 10:1; 100:1 leaves room, a bomb needs thousands.
    max_ratio: int = 100
    # The ratio is judged only past this many bytes: tiny members compress oddly.
    ratio_floor: int = 1024 * 1024
    max_line_bytes: int = 1024 * 1024
    max_manifest_depth: int = 6
    max_line_depth: int = 8


DEFAULT_LIMITS = Limits()


class Envelope(Protocol):
    """Wraps the zip's bytes on the way out and unwraps them on the way in.

    ``open`` must refuse (raise :class:`BundleError`) anything it cannot vouch for,
    before the zip is looked at.
    """

    def seal(self, data: bytes) -> bytes: ...

    def open(self, data: bytes) -> bytes: ...

    def vouch(self, manifest: Any) -> None:
        """Refuse a manifest that says other than what the envelope vouched for."""


class PlainEnvelope:
    """No envelope: the zip as it is (tests of the zip layer, tools)."""

    def seal(self, data: bytes) -> bytes:
        return data

    def open(self, data: bytes) -> bytes:
        return data

    def vouch(self, manifest: Any) -> None:
        return None


PLAIN = PlainEnvelope()


# --------------------------------------------------------------------------- writing


def pack(members: Mapping[str, bytes]) -> bytes:
    """A zip of ``members`` (deflated, fixed dates, plain files)."""
    unknown = set(members) - KNOWN_MEMBERS
    if unknown:
        raise ValueError(f"not bundle members: {sorted(unknown)}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o600) << 16
            zf.writestr(info, data)
    return buffer.getvalue()


def write_bundle_file(
    path: Path, members: Mapping[str, bytes], *, envelope: Envelope = PLAIN
) -> int:
    """Write the bundle to ``path`` atomically (a temporary file, then a rename), so a
    full disk or a crash never leaves half a bundle under the real name. Returns its size.
    """
    data = envelope.seal(pack(members))
    path = path.expanduser().absolute()
    if not path.parent.is_dir():
        raise BundleError(f"The folder {path.parent} does not exist. {_NOTHING}")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = "the disk is full" if exc.errno == 28 else exc.strerror or str(exc)
        raise BundleError(f"Could not write {path}: {reason}.") from exc
    return len(data)


# --------------------------------------------------------------------------- reading


def read_bundle_file(
    path: Path, *, envelope: Envelope = PLAIN, limits: Limits = DEFAULT_LIMITS
) -> dict[str, bytes]:
    """The members of the bundle at ``path``, every check above passed."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise BundleError(f"There is no file {path}. {_NOTHING}") from exc
    except OSError as exc:
        raise BundleError(f"Cannot read {path}: {exc.strerror or exc}. {_NOTHING}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise BundleError(f"{path} is not a file. {_NOTHING}")
    if st.st_size > limits.max_file_bytes:
        raise BundleError(
            f"{path.name} is {st.st_size:,} bytes, more than a bundle may be "
            f"({limits.max_file_bytes:,}). It is not a bundle this app made. {_NOTHING}"
        )
    try:
        with path.open("rb") as f:
            data = f.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise BundleError(f"Cannot read {path}: {exc.strerror or exc}. {_NOTHING}") from exc
    if len(data) > limits.max_file_bytes:  # it grew while we looked
        raise BundleError(f"{path.name} is larger than a bundle may be. {_NOTHING}")
    return unpack(envelope.open(data), name=path.name, limits=limits)


def _damaged(name: str, why: str) -> BundleError:
    return BundleError(
        f"{name} is not a usable ssp-desktop bundle: {why}. Ask the sender to export it "
        f"again. {_NOTHING}"
    )


def _check_entry(info: zipfile.ZipInfo, name: str, limits: Limits) -> None:
    member = info.filename
    if member.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", member):
        raise _damaged(name, f"it contains a file with an absolute path ({member!r})")
    if ".." in re.split(r"[\\/]", member):
        raise _damaged(name, f"it contains a path that climbs out of the bundle ({member!r})")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise _damaged(name, f"it contains a link ({member!r})")
    kind = stat.S_IFMT(mode)  # 0 when the zip tool recorded no Unix file type
    if info.is_dir() or (kind and kind != stat.S_IFREG):
        raise _damaged(name, f"it contains something that is not a plain file ({member!r})")
    if member not in KNOWN_MEMBERS:
        raise _damaged(name, f"it contains an unexpected file ({member!r})")
    if info.flag_bits & 0x1:
        raise _damaged(name, f"{member} is encrypted in a way this app does not use")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _damaged(name, f"{member} is compressed in a way this app does not use")
    cap = limits.max_manifest_bytes if member == MANIFEST else limits.max_member_bytes
    if info.file_size > cap:
        raise _damaged(name, f"{member} would unpack to {info.file_size:,} bytes (too large)")


def unpack(
    data: bytes, *, name: str = "the bundle", limits: Limits = DEFAULT_LIMITS
) -> dict[str, bytes]:
    """The members of a bundle zip held in ``data`` (see the module docstring)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BundleError(
            f"{name} is not an ssp-desktop bundle (it is not a zip file, or it was cut "
            f"short while copying). {_NOTHING}"
        ) from exc
    except (OSError, ValueError, EOFError) as exc:
        raise _damaged(name, "its zip directory is broken") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise _damaged(name, f"it holds {len(infos)} files, more than a bundle has")
        seen: set[str] = set()
        for info in infos:
            _check_entry(info, name, limits)
            if info.filename in seen:
                raise _damaged(name, f"it contains {info.filename!r} twice")
            seen.add(info.filename)
        if MANIFEST not in seen:
            raise _damaged(name, "it has no manifest")
        out: dict[str, bytes] = {}
        total = 0
        for info in infos:
            cap = (
                limits.max_manifest_bytes if info.filename == MANIFEST else limits.max_member_bytes
            )
            content = _inflate(zf, info, name, min(cap, limits.max_total_bytes - total), limits)
            total += len(content)
            out[info.filename] = content
        return out


def _inflate(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, cap: int, limits: Limits
) -> bytes:
    parts: list[bytes] = []
    size = 0
    compressed = max(info.compress_size, 1)
    try:
        with zf.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > cap:
                    raise _damaged(name, f"{info.filename} unpacks to more than {cap:,} bytes")
                if size > limits.ratio_floor and size > compressed * limits.max_ratio:
                    raise _damaged(
                        name,
                        f"{info.filename} expands more than {limits.max_ratio} times "
                        "(a 'zip bomb')",
                    )
                parts.append(chunk)
    except BundleError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as exc:
        # BadZipFile covers a CRC mismatch and a member cut short.
        raise _damaged(name, f"{info.filename} is damaged ({exc})") from exc
    return b"".join(parts)


# --------------------------------------------------------------------------- strict JSON

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def _depth(data: bytes) -> int:
    depth = deepest = 0
    for m in _BRACKETS.finditer(_STRING.sub(b'""', data)):
        if m.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads_strict(data: bytes, *, what: str, max_bytes: int, max_depth: int) -> Any:
    """Parse one JSON document, refusing anything a bundle writer never produces."""
    if len(data) > max_bytes:
        raise BundleError(f"{what} is too large ({len(data):,} bytes). {_NOTHING}")
    if _depth(data) > max_depth:
        raise BundleError(f"{what} is nested more deeply than a bundle ever is. {_NOTHING}")
    try:
        text = data.decode("utf-8")
        value = json.loads(
            text, parse_constant=reject_constant, object_pairs_hook=reject_duplicate_keys
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BundleError(f"{what} is not valid bundle JSON ({exc}). {_NOTHING}") from exc
    if find_lone_surrogate(text, value):
        raise BundleError(
            f"{what} is not valid bundle JSON (it holds a lone surrogate, \\uD800 to "
            f"\\uDFFF, which is not a character). {_NOTHING}"
        )
    return value


def iter_jsonl(
    data: bytes, *, member: str, limits: Limits = DEFAULT_LIMITS
) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each line of a JSON Lines member."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        yield (
            number,
            loads_strict(
                line,
                what=f"Line {number} of {member}",
                max_bytes=limits.max_line_bytes,
                max_depth=limits.max_line_depth,
            ),
        )


def dumps(value: Any) -> bytes:
    """JSON as bundles write it: UTF-8, no NaN, keys sorted (stable bytes)."""
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def dump_lines(values: Iterator[Any] | list[Any]) -> bytes:
    return b"".join(dumps(v) + b"\n" for v in values)
