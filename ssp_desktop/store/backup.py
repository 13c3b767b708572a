"""Copies of a live store: taken before every schema upgrade and before every import.

The engine-specific copying lives in ``backend.py`` (``Backend.backup``: SQLite's
online backup API, consistent even while the store is open, WAL content included;
``pg_dump`` on a server); :func:`sqlite_backup` is kept here under its old name.
"""

from __future__ import annotations

from ssp_desktop.store.backend import sqlite_backup

__all__ = ["sqlite_backup"]
