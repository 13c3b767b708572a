"""``demo`` killed mid-write leaves its temporary store; the next ``demo`` clears it
(benchmarks/crash_suite.py found 30 of 50 killed runs left one behind)."""

from __future__ import annotations

from pathlib import Path

from ssp_desktop.cli import EXIT_OK, main
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
