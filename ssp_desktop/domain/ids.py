"""Record ids: random (version 4) UUIDs, as ``uuid.uuid4`` makes them, made faster.

Every record's id, and every change-log row's, is a random UUID made where it is
created (DESIGN.md section 2: never from a clock or a counter). An import makes tens of
thousands at a time, and ``uuid.uuid4`` spent most of its time in ``UUID``'s
constructor checking its argument (a tenth of a second for a 5,000-row tracker's
40,000 ids). The ids here are the same: 122 random bits from ``os.urandom``, the version
and variant bits set as ``UUID(bytes=..., version=4)`` sets them; only the checks on a
value we made ourselves are left out, and :func:`new_ids` asks the operating system for
a whole batch's bytes at once.
"""

from __future__ import annotations

import os
import uuid
from typing import Final

__all__ = ["new_id", "new_ids"]

# What UUID(..., version=4) does to the 128-bit number: clears the variant's two bits and
# the version's four, then sets variant 10 (RFC 4122) and version 4.
_KEEP: Final = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_SET: Final = (0x8000 << 48) | (4 << 76)

_new = object.__new__
_set = object.__setattr__  # UUID refuses its own __setattr__: it is immutable
_from_bytes = int.from_bytes
_UNKNOWN: Final = uuid.SafeUUID.unknown


def _made(number: int) -> uuid.UUID:
    """A UUID holding ``number`` (already a valid version-4 value), as the constructor
    leaves one: its ``int``, and ``is_safe`` unknown."""
    made = _new(uuid.UUID)
    _set(made, "int", number)
    _set(made, "is_safe", _UNKNOWN)
    return made


def new_id() -> uuid.UUID:
    """A new random id: what ``uuid.uuid4()`` returns."""
    return _made((_from_bytes(os.urandom(16), "big") & _KEEP) | _SET)


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` new random ids, their bytes read from the operating system at once."""
    if count <= 0:
        return []
    data = os.urandom(16 * count)
    keep, set_, from_bytes, made = _KEEP, _SET, _from_bytes, _made
    return [
        made((from_bytes(data[at : at + 16], "big") & keep) | set_)
        for at in range(0, 16 * count, 16)
    ]
