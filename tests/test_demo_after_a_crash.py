"""``demo`` killed mid-write leaves its temporary store; the next ``demo`` clears it
(benchmarks/crash_suite.py found 30 of 50 killed runs left one behind)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ssp_desktop.cli import EXIT_OK, EXIT_REFUSED, main
from ssp_desktop.store.engine import Store


def abandoned_partial(folder: Path, name: str) -> Path:
    """What a killed demo leaves: a half-made store with its journal and lock file."""
    partial = folder / f".sample.sqlite.{name}.partial"
    store = Store.open(partial, create=True)
    store.close()
    Path(f"{partial}-wal").write_bytes(b"")
    Path(f"{partial}.lock").write_text('{"pid": 1}', encoding="utf-8")
    return partial


def test_the_next_demo_clears_what_a_killed_one_left(tmp_path: Path) -> None:
    abandoned_partial(tmp_path, "k1ll3d")
    abandoned_partial(tmp_path, "0ther")
    target = tmp_path / "sample.sqlite"
    assert main(["demo", "--store", str(target)]) == EXIT_OK
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.sqlite"]


def test_a_demo_still_writing_is_left_alone(tmp_path: Path) -> None:
    busy = tmp_path / ".sample.sqlite.busy.partial"
    writing = Store.open(busy, create=True)  # another demo, mid-write: it holds the lock
    try:
        assert main(["demo", "--store", str(tmp_path / "sample.sqlite")]) == EXIT_OK
        assert busy.exists()
    finally:
        writing.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "sample.sqlite" in names and busy.name in names


def test_a_disk_that_fills_while_the_sample_is_folded_in_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last step, folding the journal into the finished sample, can meet a full disk
    too (crash_suite.py: a traceback and exit 1 with 2.8 to 4 MB free)."""
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        if not kwargs.get("uri"):  # the store itself always opens by URI; this is demo's
            raise sqlite3.OperationalError("database or disk is full")
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    target = tmp_path / "sample.sqlite"
    assert main(["demo", "--store", str(target)]) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "the disk is full. Nothing was changed." in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
