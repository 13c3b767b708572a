"""What a new record is called and where it goes: the next free code, a name not yet
taken, the next position in its list.

The "Add ..." operations of the aggregate modules use these, so a priority added from
the plan editor gets P3 after P1 and P2 wherever it is added from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session


def next_code(existing: Iterable[str], prefix: str, width: int = 2) -> str:
    """The next free code after the highest numbered one: PVP-01, PVP-02 -> PVP-03."""
    codes = list(existing)
    taken = {e.strip().casefold() for e in codes}
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$", re.IGNORECASE)
    numbers = [int(m.group(1)) for e in codes if (m := pattern.match(e.strip()))]
    n = max(numbers, default=0) + 1
    while f"{prefix}{n:0{width}d}".casefold() in taken:  # pragma: no cover - defensive
        n += 1
    return f"{prefix}{n:0{width}d}"


def unique_text(existing: Iterable[str], base: str) -> str:
    """``base``, or "base 2", "base 3"... whichever is not already used."""
    taken = {e.strip().casefold() for e in existing}
    if base.casefold() not in taken:
        return base
    n = 2
    while f"{base} {n}".casefold() in taken:
        n += 1
    return f"{base} {n}"


def live_values(session: Session, column: Any, *where: Any) -> list[Any]:
    """Values of ``column`` over live rows of its table matching ``where``."""
    table_cls = column.class_
    return list(session.scalars(select(column).where(table_cls.deleted_at.is_(None), *where)))


def next_position(session: Session, column: Any, *where: Any) -> int:
    """One after the highest position in use among the live rows matching ``where``."""
    positions = live_values(session, column, *where)
    return max(positions, default=-1) + 1


def free_code(session: Session, column: Any, prefix: str, *where: Any, width: int = 2) -> str:
    """The next free code in ``column`` among the live rows matching ``where``."""
    return next_code(live_values(session, column, *where), prefix, width)


def free_name(session: Session, column: Any, base: str, *where: Any) -> str:
    """``base`` or "base 2", ..., whichever no live row matching ``where`` has in ``column``."""
    return unique_text(live_values(session, column, *where), base)
