"""Store benchmark: how ssp-desktop's SQLite store copes with a region's worth of plans.

Run from the project folder::

    python benchmarks/store_bench.py [--out DIR] [--scale 1.0] [--profile]

It builds a synthetic store the size of Greater Manchester's ten Community Safety
Partnerships (see ``benchmarks/synthetic.py``) through the real domain API, so the
change log is written as in real use, then measures:

* building it (seconds, records and change-log rows per second, file size),
* opening it (``Store.open`` of an existing, current store: header check, writer
  lock, schema check, store metadata),
* loading one plan's action tracker (``plan_queries.actions_with_latest_update``), best of 5,
* writing the sample plan (``sample.write_sample``) into a fresh store,
* memory: the process's peak resident set (``ru_maxrss``) and, in a separate pass
  with ``tracemalloc`` on (so that it does not slow the timed runs), the Python-side
  peak of building one plan, opening, loading and writing the sample.

Figures are printed as labelled lines and written to ``DIR/store_bench.json``.
Nothing is asserted about timings. ``--scale 0.05`` gives a quick run.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import importlib
import io
import json
import os
import platform
import pstats
import sqlite3
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Runnable as a plain script (python benchmarks/store_bench.py) from any folder.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from benchmarks.synthetic import Batching, BuildResult, RegionWriter, Shape  # noqa: E402
from ssp_desktop.domain.records import ChangeLog  # noqa: E402
from ssp_desktop.queries import plans as plan_queries  # noqa: E402
from ssp_desktop.store.engine import Store  # noqa: E402

REPEATS = 5
SAMPLE_MODULE = "ssp_desktop.sample.plan"


# --------------------------------------------------------------------------- reporting


class Report:
    """Prints each figure as a labelled line and keeps it for the JSON file."""

    def __init__(self) -> None:
        self.figures: dict[str, dict[str, Any]] = {}

    def section(self, title: str) -> None:
        print(f"\n== {title}", flush=True)

    def add(self, section: str, key: str, value: Any, label: str, unit: str = "") -> None:
        self.figures.setdefault(section, {})[key] = value
        shown = (
            f"{value:,.3f}"
            if isinstance(value, float)
            else f"{value:,}"
            if isinstance(value, int) and not isinstance(value, bool)
            else str(value)
        )
        print(f"{label + ':':<52} {shown}{' ' + unit if unit else ''}", flush=True)


def progress(message: str) -> None:
    print(f"   .. {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- helpers


def max_rss_mib() -> float | None:
    """The process's peak resident set size so far, in MiB (None where unknown)."""
    if sys.platform == "win32":
        return None
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def store_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("", "-wal", "-shm", ".lock")]


def remove_store(path: Path) -> None:
    for file in store_files(path):
        file.unlink(missing_ok=True)
    for backup in path.parent.glob(f"{path.stem}.backup-*"):
        backup.unlink()


def file_sizes(path: Path) -> dict[str, int]:
    return {f.name: f.stat().st_size for f in store_files(path)[:3] if f.exists()}


def space_by_table(path: Path) -> dict[str, int] | None:
    """Bytes used by each table with its indexes, if SQLite has the dbstat table."""
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master").fetchall())
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    out: dict[str, int] = {}
    for name, size in rows:
        table = owner.get(name, name)
        out[table] = out.get(table, 0) + int(size)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def change_log_rows(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {
            str(op): int(n)
            for op, n in s.execute(
                select(ChangeLog.op, func.count()).group_by(ChangeLog.op).order_by(ChangeLog.op)
            )
        }


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed:`` ... ``elapsed()`` is the seconds taken."""
    start = time.perf_counter()
    end: float | None = None

    def elapsed() -> float:
        return (end if end is not None else time.perf_counter()) - start

    try:
        yield elapsed
    finally:
        end = time.perf_counter()


def machine(report: Report) -> None:
    report.section("machine")
    report.add("machine", "platform", platform.platform(), "platform")
    report.add("machine", "processor", platform.processor() or platform.machine(), "processor")
    report.add("machine", "cpu_count", os.cpu_count() or 0, "cpu count")
    impl = platform.python_implementation()
    report.add("machine", "python", f"{platform.python_version()} ({impl})", "python")
    report.add("machine", "sqlite", sqlite3.sqlite_version, "sqlite")
    report.add("machine", "sqlalchemy", sqlalchemy.__version__, "sqlalchemy")
    report.add("machine", "date", dt.date.today().isoformat(), "date")


def load_sample_writer() -> Callable[[Store], Any] | None:
    """``sample.write_sample`` if the module exists yet (it is written separately)."""
    try:
        module = importlib.import_module(SAMPLE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != SAMPLE_MODULE:
            raise
        return None
    writer: Callable[[Store], Any] = module.write_sample
    return writer


def describe(summary: Any) -> Any:
    if dataclasses.is_dataclass(summary) and not isinstance(summary, type):
        return dataclasses.asdict(summary)
    return repr(summary)


# --------------------------------------------------------------------------- phases


def bench_build(
    report: Report, path: Path, shape: Shape, batching: Batching, seed: int, profile_to: Path | None
) -> BuildResult:
    report.section("build")
    report.add("build", "plans", shape.plans, "plans (one partnership each)")
    report.add("build", "actions_target", shape.actions, "actions")
    report.add("build", "updates_target", shape.updates, "action updates")
    report.add("build", "measures_target", shape.measures, "measures")
    report.add("build", "values_target", shape.values, "measure values")
    remove_store(path)
    with stopwatch() as create_seconds:
        store = Store.open(path, create=True)
    report.add("build", "create_seconds", create_seconds(), "create empty store (migrations)", "s")

    rss_after_plan: list[float | None] = []

    def on_plan_done(index: int, result: BuildResult) -> None:
        rss = max_rss_mib()
        rss_after_plan.append(None if rss is None else round(rss, 1))
        progress(
            f"plan {index + 1}/{shape.plans} written, {result.seconds:.1f} s, "
            f"{result.total_records:,} records, peak RSS {rss_after_plan[-1] or 0:.0f} MiB"
        )

    writer = RegionWriter(store, shape, seed=seed, batching=batching)
    profiler = cProfile.Profile() if profile_to is not None else None
    if profiler is not None:
        profiler.enable()
    result = writer.build(on_plan_done)
    if profiler is not None:
        profiler.disable()
    log = change_log_rows(store)
    store.close()  # checkpoints the WAL into the main file

    log_rows = sum(log.values())
    records = result.total_records
    report.add("build", "profiled", profiler is not None, "run under cProfile (slower)")
    report.add("build", "seconds", result.seconds, "build time", "s")
    for phase, seconds in result.phase_seconds.items():
        report.add("build", f"{phase}_seconds", seconds, f"  of which {phase}", "s")
    report.add("build", "records", records, "records written (excluding change log)")
    report.add("build", "records_by_table", dict(result.records), "records by table")
    report.add("build", "change_log_rows", log_rows, "change-log rows written")
    report.add("build", "change_log_by_op", log, "change-log rows by op")
    report.add("build", "transactions", result.transactions, "transactions")
    report.add("build", "explicit_flushes", result.flushes, "explicit flushes")
    report.add("build", "records_per_second", records / result.seconds, "records/s", "/s")
    report.add(
        "build",
        "rows_per_second",
        (records + log_rows) / result.seconds,
        "rows/s including change log",
        "/s",
    )
    per_action = result.phase_seconds["actions"] / max(1, shape.actions) * 1000
    report.add(
        "build",
        "ms_per_action",
        per_action,
        f"per action with {shape.updates_per_action} updates and partners",
        "ms",
    )
    per_value = result.phase_seconds["values"] / max(1, shape.values) * 1000
    report.add("build", "ms_per_value", per_value, "per measure value", "ms")
    sizes = file_sizes(path)
    report.add("build", "file_bytes", sum(sizes.values()), "store file size", "bytes")
    report.add("build", "file_mib", sum(sizes.values()) / 2**20, "store file size (MiB)", "MiB")
    report.add("build", "files", sizes, "store files")
    space = space_by_table(path)
    if space is not None:
        log_bytes = space.get("change_log", 0)
        report.add(
            "build",
            "change_log_share",
            log_bytes / max(1, sum(space.values())),
            "share of the file that is change log (dbstat)",
        )
        report.add("build", "bytes_by_table", space, "bytes by table with its indexes")
    report.add("build", "rss_after_plan_mib", rss_after_plan, "peak RSS after each plan", "MiB")
    report.add("build", "rss_mib", max_rss_mib(), "peak RSS after build", "MiB")

    if profiler is not None and profile_to is not None:
        profiler.dump_stats(str(profile_to))
        for sort in ("cumulative", "tottime"):
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).strip_dirs().sort_stats(sort).print_stats(20)
            print(f"\n-- build profile, top 20 by {sort} (saved to {profile_to})")
            print(text.getvalue().strip())
    return result


def bench_open(report: Report, path: Path) -> None:
    report.section("open")
    times: list[float] = []
    for _ in range(REPEATS):
        with stopwatch() as elapsed:
            store = Store.open(path, all_partnerships=True)
        times.append(elapsed())
        store.close()
    report.add("open", "first_seconds", times[0], "Store.open, first", "s")
    report.add("open", "best_seconds", min(times), f"Store.open, best of {REPEATS}", "s")
    report.add("open", "median_seconds", statistics.median(times), "Store.open, median", "s")


def bench_load(report: Report, path: Path, plan_id: uuid.UUID) -> None:
    report.section("load one plan's actions with their latest update")
    times: list[float] = []
    rows = with_update = 0
    store = Store.open(path, all_partnerships=True)
    try:
        for _ in range(REPEATS):
            with store.session() as session, stopwatch() as elapsed:
                found = plan_queries.actions_with_latest_update(session, plan_id)
            times.append(elapsed())
            rows = len(found)
            with_update = sum(1 for r in found if r.latest is not None)
    finally:
        store.close()
    report.add("load", "actions", rows, "actions loaded")
    report.add("load", "with_latest_update", with_update, "of which with a latest update")
    report.add("load", "first_seconds", times[0], "actions_with_latest_update, first", "s")
    report.add("load", "best_seconds", min(times), f"best of {REPEATS}", "s")
    report.add("load", "median_seconds", statistics.median(times), "median", "s")


def bench_sample(report: Report, out: Path) -> None:
    report.section("sample plan")
    write_sample = load_sample_writer()
    if write_sample is None:
        report.add("sample", "available", False, f"{SAMPLE_MODULE} present")
        return
    path = out / "sample.sqlite"
    remove_store(path)
    store = Store.open(path, create=True)
    try:
        with stopwatch() as elapsed:
            summary = write_sample(store)
        seconds = elapsed()
        log = change_log_rows(store)
    except Exception as exc:  # the module is being written alongside this benchmark
        report.add("sample", "error", f"{type(exc).__name__}: {exc}", "write_sample failed")
        return
    finally:
        store.close()
    report.add("sample", "seconds", seconds, "write_sample into a fresh store", "s")
    report.add("sample", "change_log_rows", sum(log.values()), "change-log rows written")
    report.add("sample", "file_bytes", sum(file_sizes(path).values()), "sample store size", "bytes")
    report.add("sample", "summary", describe(summary), "summary")


def bench_memory(report: Report, out: Path, shape: Shape, batching: Batching, seed: int) -> None:
    """Python-side peaks with tracemalloc on (a separate, slower pass; not timed)."""
    report.section("memory")
    path = out / "tracemalloc.sqlite"
    remove_store(path)
    write_sample = load_sample_writer()
    tracemalloc.start()
    try:
        store = Store.open(path, create=True)
        tracemalloc.reset_peak()
        plan_id = RegionWriter(store, shape, seed=seed, batching=batching).write_plan(0)
        build_peak = tracemalloc.get_traced_memory()[1]
        store.close()

        tracemalloc.reset_peak()
        store = Store.open(path, all_partnerships=True)
        open_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        with store.session() as session:
            plan_queries.actions_with_latest_update(session, plan_id)
            load_peak = tracemalloc.get_traced_memory()[1]
        store.close()

        sample_peak: int | None = None
        if write_sample is not None:
            sample_path = out / "tracemalloc-sample.sqlite"
            remove_store(sample_path)
            store = Store.open(sample_path, create=True)
            tracemalloc.reset_peak()
            try:
                write_sample(store)
                sample_peak = tracemalloc.get_traced_memory()[1]
            except Exception:  # reported by bench_sample already
                sample_peak = None
            finally:
                store.close()
    finally:
        tracemalloc.stop()
    mib = 2**20
    report.add(
        "memory",
        "build_one_plan_peak_mib",
        build_peak / mib,
        "tracemalloc peak, building one plan",
        "MiB",
    )
    report.add("memory", "open_peak_mib", open_peak / mib, "tracemalloc peak, Store.open", "MiB")
    report.add(
        "memory",
        "load_peak_mib",
        load_peak / mib,
        "tracemalloc peak, loading one plan's actions",
        "MiB",
    )
    if sample_peak is not None:
        report.add(
            "memory", "sample_peak_mib", sample_peak / mib, "tracemalloc peak, write_sample", "MiB"
        )
    report.add("memory", "rss_mib", max_rss_mib(), "peak RSS of the whole run (ru_maxrss)", "MiB")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "out",
        help="folder for the stores, JSON figures and profile",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiplies the action and measure counts (0.05 for a quick run)",
    )
    parser.add_argument("--plans", type=int, default=10, help="number of plans (default 10)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--actions-per-transaction", type=int, default=100)
    parser.add_argument("--measures-per-transaction", type=int, default=10)
    parser.add_argument("--flush-every", type=int, default=250)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the build under cProfile and print the top 20 functions",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.plans < 1:
        parser.error("--scale must be positive and --plans at least 1")

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    shape = Shape.scaled(args.scale, plans=args.plans)
    batching = Batching(
        actions_per_transaction=args.actions_per_transaction,
        measures_per_transaction=args.measures_per_transaction,
        flush_every=args.flush_every,
    )
    report = Report()
    machine(report)
    report.section("parameters")
    report.add("parameters", "scale", args.scale, "scale")
    report.add("parameters", "seed", args.seed, "seed")
    report.add("parameters", "shape", dataclasses.asdict(shape), "shape")
    report.add("parameters", "batching", dataclasses.asdict(batching), "batching")

    path = out / "region.sqlite"
    profile_to = out / "build.prof" if args.profile else None
    result = bench_build(report, path, shape, batching, args.seed, profile_to)
    bench_open(report, path)
    bench_load(report, path, result.plan_ids[0])
    bench_sample(report, out)
    if not args.no_memory:
        bench_memory(report, out, shape, batching, args.seed)

    json_path = out / "store_bench.json"
    json_path.write_text(json.dumps(report.figures, indent=2, default=str) + "\n", "utf-8")
    print(f"\nfigures written to {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
