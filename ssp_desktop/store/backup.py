"""Copies of a live store: taken before every schema upgrade and before every import.

A copy made with SQLite's online backup API is consistent even while the store is open
(WAL content included), unlike copying the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["sqlite_backup"]


def sqlite_backup(source: Path, target: Path) -> None:
    """A consistent copy of a live store (WAL content included)."""
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
