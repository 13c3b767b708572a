"""The partnership the command line asked for (``--partnership``), kept for the process.

A light module of its own (no SQLAlchemy, no records): the command line sets it before
it knows whether it will start the window, and the window paints its frame before the
store and the ORM are imported (see ``ui/main_window.py``). ``store.partnerships``
re-exports both functions.
"""

from __future__ import annotations

# Every store the process opens without naming a partnership is opened for this one (a
# command may open its store more than once, and some open it deep inside, e.g. a
# bundle import).
_requested: str | None = None


def request(name: str | None) -> None:
    """Open every store this process opens, unless told otherwise, for ``name``."""
    global _requested
    _requested = name


def requested() -> str | None:
    return _requested
