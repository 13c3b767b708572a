"""Import benchmark: a lead's 10,000-change bundle into the region-scale master, beside
its floor.

Run from the project folder::

    python benchmarks/import_bench.py [--out DIR] [--scale 1.0] [--repeats 3] [--rebuild]

The first run builds the fixtures (about five minutes at full scale) in
``DIR/import_bench/`` and later runs reuse them: the master copy as it was before the
import (``synthetic.py``'s region, ten plans), a lead's bundle of about 10,000 changes
(made as ``sync_bench.py`` makes them: new titles and statuses, new quarterly updates,
new measure values) and the master's keys.

Then, ``--repeats`` times, alternating:

* **import**: a fresh copy of the master, ``import_bundle`` as the command line runs it
  (preview, backup, one transaction, integrity check), bundle already read;
* **floor**: a fresh copy of the master, and with plain ``sqlite3`` what no import can
  skip: the backup copy, the same change-log rows the import wrote, inserted in one
  transaction, then SQLite's integrity check and foreign-key check.

It prints min and median of each and their ratio, in wall-clock seconds and in CPU
seconds (the process's, every thread's), and the import's CPU seconds on its own thread:
the import runs SQLite's integrity check and its backup copy in a second thread while it
plans and applies, so on a busy machine (where wall time says little) the thread's figure
is the nearer to what a quiet machine's wall clock shows. ``--profile`` runs one more
import under cProfile and prints the top 45 functions by cumulative time. Nothing is
asserted; figures are written to ``DIR/import_bench.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import shutil
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from benchmarks.sync_bench import make_changes, remove
from benchmarks.synthetic import RegionWriter, Shape
from ssp_desktop import services
from ssp_desktop.domain.records import Person, Priority
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.export import export_changes, export_snapshot
from ssp_desktop.sync.importer import import_bundle, import_file, read_sealed
from ssp_desktop.sync.keys import Identity, JoinRequest
from ssp_desktop.sync.trust import enrol


def build_fixtures(folder: Path, scale: float, plans: int, changes: int) -> tuple[Identity, int]:
    """The master before the import (``master.sqlite``), the lead's bundle
    (``changes.sspbundle``) and the master's keys; returns those keys and the number of
    changes the lead made."""
    folder.mkdir(parents=True, exist_ok=True)
    master_keys = Identity.generate()
    lead_keys = Identity.generate()
    master_path = folder / "master.sqlite"
    lead_path = folder / "lead.sqlite"
    remove(master_path)
    remove(lead_path)
    start = time.perf_counter()
    with Store.open(master_path, create=True) as master:
        writer = RegionWriter(master, Shape.scaled(scale, plans=plans))
        writer.build()
        plan_id = writer.result.plan_ids[0]
        with master.session() as s:
            codes = list(s.scalars(select(Priority.code).where(Priority.plan_id == plan_id)))
            person = s.scalars(select(Person)).first()
            assert person is not None
            with master.transaction() as tx:
                p = tx.get(Person, person.id)
                assert p is not None
                services.edit(tx, p, email="bench.lead@example.org")
        enrol(
            master,
            JoinRequest("Bench lead", "bench.lead@example.org", lead_keys.public, ""),
            lead_keys.fingerprint,
        )
        starter = folder / "starter.sspbundle"
        export_snapshot(
            master,
            starter,
            person="bench.lead@example.org",
            themes=codes,
            plan=str(plan_id),
            identity=master_keys,
        )
    import_file(lead_path, starter, identity=lead_keys, master_fingerprint=master_keys.fingerprint)
    with Store.open(lead_path, all_partnerships=True) as lead:
        made = make_changes(lead, changes)
        export_changes(lead, folder / "changes.sspbundle", identity=lead_keys)
    (folder / "master_keys.json").write_text(json.dumps(master_keys.private_json()))
    remove(lead_path)
    print(f"fixtures built in {time.perf_counter() - start:.1f} s", flush=True)
    return master_keys, made


def fresh_copy(folder: Path, name: str) -> Path:
    work = folder / "work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    target = work / name
    shutil.copyfile(folder / "master.sqlite", target)
    return target


@dataclass
class Timing:
    """One run: wall-clock seconds, the process's CPU seconds (every thread), and the
    CPU seconds of the thread that ran it."""

    wall: float
    cpu: float
    thread: float


class _Clock:
    def __enter__(self) -> _Clock:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.thread = time.thread_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.timing = Timing(
            time.perf_counter() - self.wall,
            time.process_time() - self.cpu,
            time.thread_time() - self.thread,
        )


def run_import(folder: Path, keys: Identity, profile: bool = False) -> tuple[Timing, int]:
    """The time of one import into a fresh copy, and the change-log rows it wrote."""
    path = fresh_copy(folder, "master.sqlite")
    with Store.open(path, all_partnerships=True) as store:
        bundle = read_sealed(folder / "changes.sspbundle", store, keys)
        before = store.revision()
        profiler = cProfile.Profile() if profile else None
        with _Clock() as clock:
            if profiler is not None:
                profiler.enable()
            result = import_bundle(store, bundle)
            if profiler is not None:
                profiler.disable()
        assert result.applied, result.preview.status
        rows = store.revision() - before
    if profiler is not None:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
    return clock.timing, rows


def change_rows(folder: Path, keys: Identity) -> tuple[list[str], list[tuple[object, ...]]]:
    """The change-log rows an import writes (taken from one import, for the floor)."""
    path = fresh_copy(folder, "master.sqlite")
    with Store.open(path, all_partnerships=True) as store:
        bundle = read_sealed(folder / "changes.sspbundle", store, keys)
        before = store.revision()
        import_bundle(store, bundle)
    con = sqlite3.connect(path)
    try:
        cursor = con.execute("SELECT * FROM change_log WHERE seq > ? ORDER BY seq", (before,))
        columns = [d[0] for d in cursor.description]
        return columns, cursor.fetchall()
    finally:
        con.close()


def run_floor(folder: Path, columns: list[str], rows: list[tuple[object, ...]]) -> Timing:
    path = fresh_copy(folder, "floor.sqlite")
    with _Clock() as clock:
        _floor(path, columns, rows)
    return clock.timing


def _floor(path: Path, columns: list[str], rows: list[tuple[object, ...]]) -> None:
    sqlite_backup(path, path.with_name("floor.backup.sqlite"))
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute("PRAGMA journal_mode = WAL")
        con.execute("BEGIN IMMEDIATE")
        con.executemany(
            f"INSERT INTO change_log ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            rows,
        )
        con.execute("COMMIT")
        problems = con.execute("PRAGMA integrity_check").fetchall()
        assert problems == [("ok",)], problems
        con.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        con.close()


def _line(name: str, values: list[float]) -> str:
    return f"{name:<34}{min(values):9.3f}{statistics.median(values):9.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--plans", type=int, default=10)
    parser.add_argument("--changes", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    changes = args.changes or max(100, round(10_000 * min(1.0, args.scale)))
    folder: Path = args.out / f"import_bench-{args.scale:g}-{args.plans}"
    print(
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}",
        flush=True,
    )
    if args.rebuild or not (folder / "master_keys.json").exists():
        build_fixtures(folder, args.scale, args.plans, changes)
    keys = Identity.from_private_json(json.loads((folder / "master_keys.json").read_text()))
    size = (folder / "master.sqlite").stat().st_size
    print(f"master copy {size / 1e6:.1f} MB", flush=True)
    columns, rows = change_rows(folder, keys)
    print(f"the import writes {len(rows):,} change-log rows", flush=True)
    imports: list[Timing] = []
    floors: list[Timing] = []
    for _ in range(args.repeats):
        timing, written = run_import(folder, keys)
        assert written == len(rows), (written, len(rows))
        imports.append(timing)
        floors.append(run_floor(folder, columns, rows))
        print(
            f"  import {timing.wall:7.3f} s (CPU {timing.cpu:6.3f} s, its thread "
            f"{timing.thread:6.3f} s)   floor {floors[-1].wall:7.3f} s (CPU "
            f"{floors[-1].cpu:6.3f} s)",
            flush=True,
        )
    figures: dict[str, float] = {
        "scale": args.scale,
        "plans": args.plans,
        "change_log_rows": len(rows),
    }
    for name, runs in (("import", imports), ("floor", floors)):
        for what in ("wall", "cpu", "thread"):
            values = [getattr(t, what) for t in runs]
            key = name if what == "wall" else f"{name}_{what}"
            figures[f"{key}_min"] = round(min(values), 3)
            figures[f"{key}_median"] = round(statistics.median(values), 3)
    ratio = min(t.wall for t in imports) / min(t.wall for t in floors)
    cpu_ratio = min(t.cpu for t in imports) / min(t.cpu for t in floors)
    figures["ratio_of_mins"] = round(ratio, 2)
    figures["cpu_ratio_of_mins"] = round(cpu_ratio, 2)
    print(f"{'seconds':<34}{'min':>9}{'median':>9}")
    print(_line("bundle import", [t.wall for t in imports]))
    print(_line("  CPU, every thread", [t.cpu for t in imports]))
    print(_line("  CPU, the importing thread", [t.thread for t in imports]))
    print(_line("floor (backup, log, checks)", [t.wall for t in floors]))
    print(_line("  CPU", [t.cpu for t in floors]))
    print(f"ratio (min / min): {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU")
    (args.out / "import_bench.json").write_text(json.dumps(figures, indent=2))
    if args.profile:
        run_import(folder, keys, profile=True)
    shutil.rmtree(folder / "work", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
