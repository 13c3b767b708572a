"""Chart and dashboard benchmark: dashboard build time and 40-quarter chart redraws.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/chart_bench.py [--store PATH]

Uses the region store written by ``store_bench.py`` (default
``benchmarks/out/region.sqlite``: 10 plans, each 500 actions and 50 measures with 40
quarters of values and GM and England comparators) and, when present, the one-plan
store of ``ui_bench.py`` (``ui-one-plan.sqlite``: 5,000 actions, 500 measures). With no
store it says so and measures the chart alone. Prints, best and median of
``--repeats`` runs:

* dashboard, domain only: ``performance.scorecard`` + ``rag_by_priority`` for the
  plan's newest quarter with values;
* dashboard, built and shown: ``DashboardView`` made, shown and painted (counts,
  scorecard, the first measure's chart);
* dashboard, refresh after an edit (what a user waits for after saving a value);
* chart description: ``reports.chart.measure_chart`` of a 40-quarter measure;
* chart redraw: ``MeasureChartView.show_chart`` of a 40-quarter description (value,
  target steps, band, two comparators, baseline) and the paint that follows.

Nothing is asserted about timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REPEATS = 5


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def line(label: str, times: list[float], unit: str = "ms") -> None:
    scale = 1000 if unit == "ms" else 1
    print(
        f"{label + ':':<58} best {min(times) * scale:8.1f} {unit}, "
        f"median {statistics.median(times) * scale:8.1f} {unit}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / "benchmarks/out/region.sqlite")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    os.environ["SSP_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="ssp-chart-bench-")

    from PySide6.QtCore import QtMsgType, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication
    from sqlalchemy import func, select

    from ssp_desktop import services
    from ssp_desktop.domain.enums import Unit, ValueStatus
    from ssp_desktop.domain.periods import FinancialYear, Quarter
    from ssp_desktop.domain.records import Action, Measure, MeasureValue
    from ssp_desktop.queries.performance import rag_by_priority, scorecard
    from ssp_desktop.reports.chart import MeasureFacts, Point, build_chart, measure_chart
    from ssp_desktop.store.backup import sqlite_backup
    from ssp_desktop.store.engine import Store
    from ssp_desktop.ui.charts import MeasureChartView
    from ssp_desktop.ui.dashboard import DashboardView
    from ssp_desktop.ui.document import PlanDocument

    def quiet(_kind: QtMsgType, _context: object, message: str) -> None:
        # Showing windows on the offscreen platform logs this on every show.
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(quiet)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    print(f"{'qt platform:':<58} {os.environ['QT_QPA_PLATFORM']}")

    # -- the chart alone -------------------------------------------------------------
    first = Quarter.parse("2014/15 Q3")
    quarters = Quarter.range(first, first.shift(39))
    points = {
        q: Point(
            60 + 10 * ((i * 7) % 11) / 11,
            ValueStatus.PROVISIONAL if i == 39 else ValueStatus.FINAL,
            {"GM average": 62.0 + i % 5, "England": 64.0 - i % 3},
        )
        for i, q in enumerate(quarters)
    }
    targets = {FinancialYear(y): 62.0 + (y - 2014) for y in range(2014, 2025)}
    facts = MeasureFacts(
        name="Synthetic percentage",
        ref="M-40",
        unit=Unit.PERCENT,
        tolerance=2.0,
        comparator_names=["GM average", "England"],
        baseline_value=61.0,
        baseline_period="2013/14",
    )
    line(
        "chart description, 40 quarters (build_chart)",
        timed(lambda: build_chart(facts, points, targets), args.repeats * 10),
    )
    chart = build_chart(facts, points, targets)
    other = build_chart(facts, points, targets, last=39)
    view = MeasureChartView()
    view.resize(900, 520)
    view.show()
    view.show_chart(chart)
    app.processEvents()
    flip = [chart, other]

    def redraw() -> None:
        flip.reverse()
        view.show_chart(flip[0])
        view.repaint()
        app.processEvents()

    line("chart redraw, 40 quarters (show_chart + paint)", timed(redraw, args.repeats * 10))
    view.close()

    # -- the dashboard on the benchmark store ----------------------------------------
    stores = [args.store, args.store.with_name("ui-one-plan.sqlite")]

    def run(source: Path) -> None:
        if not source.exists():
            print(f"{source}: not found; run benchmarks/store_bench.py (and ui_bench.py) first")
            return
        work = Path(tempfile.mkdtemp(prefix="ssp-chart-bench-")) / source.name
        sqlite_backup(source, work)  # edits below must not change the shared store
        store = Store.open(work)
        with store.session() as s:
            plan_id, n_actions = s.execute(
                select(Action.plan_id, func.count())
                .where(Action.deleted_at.is_(None))
                .group_by(Action.plan_id)
                .order_by(func.count().desc())
            ).first() or (None, 0)
            assert isinstance(plan_id, uuid.UUID)
            n_measures = s.scalar(select(func.count()).where(Measure.plan_id == plan_id))
            quarter = s.scalar(
                select(func.max(MeasureValue.period))
                .join(Measure, Measure.id == MeasureValue.measure_id)
                .where(Measure.plan_id == plan_id)
            )
            measure_id = s.scalar(select(Measure.id).where(Measure.plan_id == plan_id))
        assert isinstance(quarter, Quarter) and measure_id is not None
        label = f"{source.stem} ({n_actions:,} actions, {n_measures:,} measures)"
        print(f"{'store:':<58} {label}, quarter {quarter}")

        def domain_only(plan: uuid.UUID = plan_id, q: Quarter = quarter) -> None:
            with store.session() as s:
                rows = scorecard(s, plan, q)
                rag_by_priority(s, plan, q, rows)

        line("  dashboard, domain only", timed(domain_only, args.repeats))
        document = PlanDocument(store)

        def build(plan: uuid.UUID = plan_id, q: Quarter = quarter) -> None:
            dash = DashboardView(document, plan, today=q.end_date)
            dash.resize(1400, 800)
            dash.show()
            app.processEvents()
            dash.close()
            dash.deleteLater()
            app.processEvents()

        line("  dashboard, built and shown", timed(build, args.repeats))

        dash = DashboardView(document, plan_id, today=quarter.end_date)
        dash.resize(1400, 800)
        dash.show()
        app.processEvents()
        value = [50.0]

        def edit_and_refresh(m: uuid.UUID = measure_id, q: Quarter = quarter) -> None:
            value[0] += 1

            def work(tx: object) -> None:
                measure = tx.get(Measure, m)  # type: ignore[attr-defined]
                services.record_value(tx, measure, q, value[0])  # type: ignore[arg-type]

            document.edit("bench", work)
            app.processEvents()  # the queued refresh, then the paint

        line("  dashboard, edit a value and refresh", timed(edit_and_refresh, args.repeats))
        dash.close()

        def describe(m: uuid.UUID = measure_id) -> None:
            with store.session() as s:
                measure_chart(s, m)

        line("  chart description from the store (measure_chart)", timed(describe, args.repeats))
        store.close()

    for source in stores:
        run(source)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
