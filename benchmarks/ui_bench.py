"""UI benchmark: the action list at region scale, with Qt on the offscreen platform.

Run from the project folder::

    python benchmarks/ui_bench.py [--out DIR] [--rebuild] [--repeats 5]

It uses two synthetic stores made by ``benchmarks/synthetic.py`` through the real
domain API, reusing them from ``DIR`` (default ``benchmarks/out/``) when present:

* ``region.sqlite``: the Greater Manchester region, 10 plans x 500 actions (the store
  ``store_bench.py`` builds; built here if missing);
* ``ui-one-plan.sqlite``: one plan with 5,000 actions (``Shape.scaled(10, plans=1)``:
  the same record counts as the region, in a single plan). The list shows one plan at
  a time, so 5,000 actions in one plan is how a list of 5,000 rows arises.

and measures, printing one labelled line per figure (JSON in ``DIR/ui_bench.json``):

* build and show: ``ActionListWidget(document, plan)`` made, shown and painted, for
  the region's biggest plan (500 actions) and for the 5,000-action plan; first run and
  median of ``--repeats`` fresh widgets;
* one filter keystroke on 5,000 actions: the search text set to one more character
  ("r", "re", ... "referral") and events run until the view has repainted (paints are
  counted). The first keystroke reads every row (a few queries); later ones read none.
  Median of the later keystrokes that changed the rows shown, over ``--repeats``
  rounds; those that left the same rows (no repaint needed) are given apart;
* sorting 5,000 actions by due date (ascending and descending in turn), without and
  with a filter, and by flags (the one column sorted in Python); median of runs;
* memory: peak RSS of the process, and the Python-side size of 5,000 cached rows
  (tracemalloc, in a separate pass so it does not slow the timed runs).

Nothing is asserted about timings.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Runnable as a plain script (python benchmarks/ui_bench.py) from any folder.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PySide6 import __version__ as pyside_version  # noqa: E402
from PySide6.QtCore import (  # noqa: E402
    QCoreApplication,
    QEvent,
    QObject,
    Qt,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtWidgets import QApplication  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from benchmarks.store_bench import Report, machine, max_rss_mib, progress, remove_store  # noqa: E402
from benchmarks.synthetic import RegionWriter, Shape  # noqa: E402
from ssp_desktop.domain.errors import SspError  # noqa: E402
from ssp_desktop.domain.records import Action  # noqa: E402
from ssp_desktop.store.engine import Store  # noqa: E402
from ssp_desktop.ui.document import PlanDocument  # noqa: E402
from ssp_desktop.ui.lists import ActionListWidget  # noqa: E402
from ssp_desktop.ui.tables import ACTION_COLUMNS  # noqa: E402

KEYSTROKES = "referral"  # "a referral pathway for": in about a tenth of the titles
DUE = next(i for i, c in enumerate(ACTION_COLUMNS) if c.title == "Due")
FLAGS = next(i for i, c in enumerate(ACTION_COLUMNS) if c.title == "Flags")
WINDOW = (1400, 800)


def _quiet_offscreen(kind: QtMsgType, _context: object, message: str) -> None:
    # The offscreen platform warns that it cannot size windows to their contents.
    if "propagateSizeHints" not in message:
        print(f"Qt: {message}", file=sys.stderr)


# --------------------------------------------------------------------------- stores


def _plans_and_actions(path: Path) -> list[tuple[uuid.UUID, int]] | None:
    """(plan id, live actions) biggest first, or None if the store cannot be read."""
    try:
        store = Store.open(path, readonly=True, all_partnerships=True)
    except SspError:
        return None
    try:
        with store.session() as s:
            rows = s.execute(
                select(Action.plan_id, func.count())
                .where(Action.deleted_at.is_(None))
                .group_by(Action.plan_id)
                .order_by(func.count().desc())
            ).all()
        return [(plan_id, int(n)) for plan_id, n in rows]
    finally:
        store.close()


def ensure_store(path: Path, shape: Shape, *, rebuild: bool) -> list[tuple[uuid.UUID, int]]:
    """Reuse the store at ``path`` if it has the shape's plans and actions, else build it."""
    found = None if rebuild or not path.exists() else _plans_and_actions(path)
    if (
        found is not None
        and len(found) == shape.plans
        and sum(n for _, n in found) == (shape.actions)
    ):
        progress(f"reusing {path.name}")
        return found
    progress(f"building {path.name} ({shape.plans} plans, {shape.actions:,} actions)")
    remove_store(path)
    store = Store.open(path, create=True)
    try:
        started = time.perf_counter()
        RegionWriter(store, shape).build()
        progress(f"built in {time.perf_counter() - started:.0f} s")
    finally:
        store.close()
    result = _plans_and_actions(path)
    assert result is not None
    return result


# --------------------------------------------------------------------------- timing


class PaintCounter(QObject):
    """Counts the table's paints, to show that each timed step includes one."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def settle(widget: ActionListWidget) -> None:
    """Run pending events: the filter's or sort's layout change and the repaint it asks
    for, as the user would wait for them."""
    QCoreApplication.processEvents()


def build_and_show(
    document: PlanDocument, plan_id: uuid.UUID, counter: PaintCounter | None = None
) -> ActionListWidget:
    widget = ActionListWidget(document, plan_id)
    if counter is not None:
        widget.view.viewport().installEventFilter(counter)
    widget.resize(*WINDOW)
    widget.show()
    settle(widget)
    return widget


def close(widget: ActionListWidget) -> None:
    widget.close()
    widget.deleteLater()
    QCoreApplication.processEvents()


def bench_show(
    report: Report, key: str, label: str, document: PlanDocument, plan_id: uuid.UUID, repeats: int
) -> None:
    times = []
    counter = PaintCounter()
    for _ in range(repeats + 1):
        started = time.perf_counter()
        widget = build_and_show(document, plan_id, counter)
        times.append(time.perf_counter() - started)
        fetches = widget.model.fetch_count
        rows = widget.model.rowCount()
        cached = widget.model.cached_rows()
        close(widget)
    report.add("show", f"{key}_rows", rows, f"{label}: rows")
    report.add("show", f"{key}_first_seconds", times[0], f"{label}: build and show, first", "s")
    report.add(
        "show",
        f"{key}_median_seconds",
        statistics.median(times[1:]),
        f"{label}: build and show, median of {repeats}",
        "s",
    )
    report.add("show", f"{key}_row_queries", fetches, f"{label}: row batches fetched to paint")
    report.add("show", f"{key}_rows_cached", cached, f"{label}: rows read to paint")
    report.add(
        "show", f"{key}_paints", counter.paints, f"{label}: table paints in {repeats + 1} runs"
    )


def bench_keystrokes(report: Report, widget: ActionListWidget, repeats: int) -> None:
    total = widget.model.rowCount()
    counter = PaintCounter()
    widget.view.viewport().installEventFilter(counter)
    first: float | None = None
    changed: list[float] = []  # keystrokes that changed the rows shown (and so repaint)
    same: list[float] = []  # keystrokes that left the same rows (no repaint needed)
    shown: dict[str, int] = {}
    painted = 0
    for round_ in range(repeats):
        before = widget.proxy.rowCount()
        for n in range(1, len(KEYSTROKES) + 1):
            text = KEYSTROKES[:n]
            paints = counter.paints
            started = time.perf_counter()
            widget.search.setText(text)
            settle(widget)
            seconds = time.perf_counter() - started
            shown[text] = after = widget.proxy.rowCount()
            if first is None:
                first = seconds
            elif after != before:
                changed.append(seconds)
                painted += counter.paints > paints
            else:
                same.append(seconds)
            before = after
        widget.search.clear()
        settle(widget)
        progress(f"keystroke round {round_ + 1}/{repeats} done")
    assert first is not None
    report.add("filter", "rows", total, "rows in the list")
    report.add(
        "filter", "first_keystroke_seconds", first, 'first keystroke ("r"), reading every row', "s"
    )
    report.add(
        "filter",
        "keystroke_median_seconds",
        statistics.median(changed),
        f"one more character that changes the rows shown, median of {len(changed)}",
        "s",
    )
    report.add("filter", "keystroke_max_seconds", max(changed), "  the slowest of those", "s")
    if same:
        report.add(
            "filter",
            "keystroke_same_rows_median_seconds",
            statistics.median(same),
            f"one more character, same rows shown, median of {len(same)}",
            "s",
        )
    report.add("filter", "rows_shown", shown, "rows shown after each keystroke")
    report.add(
        "filter",
        "painted",
        f"{painted} of {len(changed)}",
        "keystrokes that changed the rows and repainted within the time",
    )


def bench_sort(report: Report, widget: ActionListWidget, repeats: int) -> None:
    def sort_runs(column: int, runs: int) -> list[float]:
        times = []
        for i in range(runs):
            order = Qt.SortOrder.DescendingOrder if i % 2 == 0 else Qt.SortOrder.AscendingOrder
            started = time.perf_counter()
            widget.view.sortByColumn(column, order)
            settle(widget)
            times.append(time.perf_counter() - started)
        return times

    plain = sort_runs(DUE, 2 * repeats)
    report.add("sort", "due_median_seconds", statistics.median(plain), "by due date, median", "s")
    report.add("sort", "due_max_seconds", max(plain), "by due date, slowest", "s")
    widget.search.setText("re")
    settle(widget)
    filtered = sort_runs(DUE, 2 * repeats)
    report.add(
        "sort",
        "due_filtered_median_seconds",
        statistics.median(filtered),
        f'by due date with "re" typed ({widget.proxy.rowCount():,} rows shown), median',
        "s",
    )
    widget.search.clear()
    settle(widget)
    flags = sort_runs(FLAGS, repeats)
    report.add(
        "sort",
        "flags_median_seconds",
        statistics.median(flags),
        "by flags (sorted in Python over all rows), median",
        "s",
    )
    widget.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    settle(widget)


def bench_memory(report: Report, document: PlanDocument, plan_id: uuid.UUID) -> None:
    """Python-side size of a 5,000-row list with every row cached (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        widget = build_and_show(document, plan_id)
        widget.search.setText("r")  # a filter reads and caches every row
        settle(widget)
        current, peak = tracemalloc.get_traced_memory()
        cached = widget.model.cached_rows()
        close(widget)
    finally:
        tracemalloc.stop()
    mib = 2**20
    report.add(
        "memory",
        "list_with_all_rows_mib",
        (current - before) / mib,
        f"Python memory held by the list with {cached:,} rows cached",
        "MiB",
    )
    report.add(
        "memory", "list_peak_mib", (peak - before) / mib, "tracemalloc peak while filling it", "MiB"
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "out",
        help="folder holding (or to hold) the synthetic stores, and the JSON figures",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the stores")
    parser.add_argument("--repeats", type=int, default=5, help="runs per median (default 5)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    repeats = max(2, args.repeats)

    qInstallMessageHandler(_quiet_offscreen)
    app = QApplication.instance() or QApplication([])
    report = Report()
    machine(report)
    report.add("machine", "pyside", pyside_version, "PySide6")
    report.add("machine", "qpa", os.environ.get("QT_QPA_PLATFORM", ""), "Qt platform")

    region_shape = Shape()
    one_plan_shape = Shape.scaled(10, plans=1)
    region_path = out / "region.sqlite"
    one_plan_path = out / "ui-one-plan.sqlite"
    region = ensure_store(region_path, region_shape, rebuild=args.rebuild)
    one_plan = ensure_store(one_plan_path, one_plan_shape, rebuild=args.rebuild)
    report.section("parameters")
    report.add("parameters", "region", dataclasses.asdict(region_shape), "region store shape")
    report.add("parameters", "one_plan", dataclasses.asdict(one_plan_shape), "one-plan store")
    report.add("parameters", "repeats", repeats, "runs per median")
    report.add("parameters", "window", f"{WINDOW[0]}x{WINDOW[1]}", "list window size")

    region_store = Store.open(region_path, readonly=True, all_partnerships=True)
    big_store = Store.open(one_plan_path, readonly=True, all_partnerships=True)
    try:
        region_doc = PlanDocument(region_store)
        big_doc = PlanDocument(big_store)
        biggest_plan, biggest_count = region[0]
        big_plan, big_count = one_plan[0]

        report.section("build and show the action list")
        bench_show(
            report,
            "region_plan",
            f"region plan ({biggest_count} actions)",
            region_doc,
            biggest_plan,
            repeats,
        )
        bench_show(
            report, "one_plan", f"one plan ({big_count:,} actions)", big_doc, big_plan, repeats
        )

        widget = build_and_show(big_doc, big_plan)
        report.section(f"one filter keystroke, {big_count:,} actions in one plan")
        bench_keystrokes(report, widget, repeats)
        report.section(f"sort {big_count:,} actions")
        bench_sort(report, widget, repeats)
        close(widget)

        report.section("memory")
        report.add("memory", "rss_mib", max_rss_mib(), "peak RSS of the timed runs", "MiB")
        if not args.no_memory:
            bench_memory(report, big_doc, big_plan)
    finally:
        region_store.close()
        big_store.close()
    del app

    json_path = out / "ui_bench.json"
    json_path.write_text(json.dumps(report.figures, indent=2, default=str) + "\n", "utf-8")
    print(f"\nfigures written to {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
