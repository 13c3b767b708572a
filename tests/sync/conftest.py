"""Fixtures for sync tests: a master copy with two themes and lead copies on demand.

The master runs on both engines (``store_engine``, tests/conftest.py): a file, and a
PostgreSQL server store as a region's strategy team keeps it; leads' copies are files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.helpers import World, make_world


@pytest.fixture
def world(tmp_path: Path, store_engine: str, request: pytest.FixtureRequest) -> Iterator[World]:
    master_at = request.getfixturevalue("pg_store_url") if store_engine == "postgresql" else None
    w = make_world(tmp_path, master_at)
    yield w
    w.close()
