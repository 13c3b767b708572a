"""Spreadsheet benchmark: importing a 5,000-row action tracker, exporting a plan's workbook.

Run from the project folder::

    python benchmarks/xlsx_bench.py [--out DIR] [--scale 1.0] [--repeats 3]

It builds one plan of the synthetic region (``benchmarks/synthetic.py``: 500 actions
with four updates each, 50 measures with 40 quarters of values, at ``--scale 1``)
through the domain API, then times:

* exporting that plan as a workbook (``workbook.export_workbook``);
* a generated tracker of 5,000 new actions (``--scale`` multiplies it) under that plan's
  priorities and areas, with leads, partners, dates, status, RAG and an update each:
  reading it (``importing.prepare``), the preview (``importing.preview``) and applying
  it (``importing.apply``, one transaction) into a fresh copy of the store: given the
  preview, as the wizard and the command line do (its plan is carried out), and
  without one (the rows are judged inside the transaction);
* importing the same tracker again, when every row is unchanged;
* re-importing the exported workbook's Actions and Values sheets (no change);
* importing new figures: every row of the Values sheet again, twenty years on (a new
  value record each, written by ``services.record_value``).

Figures are printed one per line and written to ``DIR/xlsx_bench.json``. Nothing is
asserted about timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from benchmarks.synthetic import RegionWriter, Shape  # noqa: E402
from ssp_desktop.domain.periods import Quarter  # noqa: E402
from ssp_desktop.domain.records import Organisation, Priority, PriorityArea  # noqa: E402
from ssp_desktop.store.engine import Store  # noqa: E402

T = TypeVar("T")
FIGURES: dict[str, Any] = {}


def figure(key: str, label: str, value: Any, unit: str = "") -> None:
    FIGURES[key] = value
    shown = f"{value:.3f}" if isinstance(value, float) else f"{value:,}"
    print(f"{label:<58} {shown} {unit}".rstrip())


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def store_files(path: Path) -> list[Path]:
    return [Path(f"{path}{s}") for s in ("", "-wal", "-shm", ".lock")]


def copy_store(source: Path, target: Path) -> None:
    for f in store_files(target):
        f.unlink(missing_ok=True)
    with Store.open(source) as s, s.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(source, target)


def write_tracker(store: Store, path: Path, rows: int) -> None:
    """A tracker of ``rows`` new actions under the store's plan, as a council writes one."""
    from openpyxl import Workbook

    with store.session() as s:
        priorities = {p.id: p.code for p in s.scalars(select(Priority))}
        areas = [(priorities[a.priority_id], a.title) for a in s.scalars(select(PriorityArea))]
        orgs = [o.name for o in s.scalars(select(Organisation))]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Action tracker")
    ws.append(["OFFICIAL-SENSITIVE"])
    ws.append(["Partnership action tracker 2024/25"])
    ws.append(
        ["Ref No.", "Action", "Theme", "Area for action", "Lead Agency", "Partners", "Start",
         "Due Date", "Status", "RAG Status", "Progress Update"]
    )  # fmt: skip
    statuses = ["Not started", "In progress", "In progress", "Complete"]
    rags = ["Green", "Amber", "Red", "Green"]
    for i in range(rows):
        code, area = areas[i % len(areas)]
        start = dt.datetime(2024, 4, 1) + dt.timedelta(days=i % 90)
        ws.append(
            [
                f"T{i:05d}",
                f"Tracker action {i}: work with partners on {area.lower()} in ward {i % 21}",
                code,
                area,
                orgs[i % len(orgs)],
                "; ".join(orgs[(i + k) % len(orgs)] for k in (1, 2)),
                start,
                start + dt.timedelta(days=180 + i % 200),
                statuses[i % 4],
                rags[i % 4],
                f"Quarter 2: action {i}; meetings held, referrals up, next steps agreed.",
            ]
        )
    wb.save(path)


def write_new_values(workbook: Path, path: Path, years: int) -> int:
    """The workbook's Values sheet as a CSV of new figures: each row ``years`` later."""
    import csv

    from openpyxl import load_workbook

    sheet = load_workbook(workbook, read_only=True)["Values"]
    rows = list(sheet.iter_rows(values_only=True))
    heading = next(i for i, row in enumerate(rows) if row and row[0] == "Measure ref")
    quarter = rows[heading].index("Quarter")
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(rows[heading])
        for row in rows[heading + 1 :]:
            moved = list(row)
            q = Quarter.parse(str(row[quarter]))
            moved[quarter] = Quarter(q.year + years, q.q).label
            out.writerow(["" if v is None else v for v in moved])
    return len(rows) - heading - 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiplies the plan and the tracker size"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of each timing (best kept)")
    args = parser.parse_args(argv)
    if args.scale <= 0 or args.repeats < 1:
        parser.error("--scale must be positive and --repeats at least 1")
    import openpyxl
    import pandas

    from ssp_desktop.spreadsheets import importing
    from ssp_desktop.spreadsheets.plan import Outcome
    from ssp_desktop.spreadsheets.workbook import export_workbook

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"pandas {pandas.__version__}, openpyxl {openpyxl.__version__}, scale {args.scale}"
    )
    base = out / "xlsx-plan.sqlite"
    for f in store_files(base):
        f.unlink(missing_ok=True)
    shape = Shape.scaled(args.scale, plans=1)
    with Store.open(base, create=True) as store:
        _result, seconds = timed(lambda: RegionWriter(store, shape).build())
        figure("build_plan_s", f"build one plan ({shape.actions_per_plan} actions)", seconds, "s")

        workbook = out / "plan.xlsx"
        times = []
        for _ in range(args.repeats):
            exported, seconds = timed(lambda: export_workbook(store, workbook))
            times.append(seconds)
        figure("export_s", "export the plan's workbook, best", min(times), "s")
        figure(
            "export_median_s", "export the plan's workbook, median", statistics.median(times), "s"
        )
        figure("export_rows", "  rows written (all sheets)", sum(n for _s, n in exported.sheets))
        figure("export_bytes", "  workbook size", workbook.stat().st_size, "bytes")

        rows = max(1, round(5000 * args.scale))
        tracker = out / "tracker.xlsx"
        write_tracker(store, tracker, rows)
        figure("tracker_rows", "tracker rows", rows)
        options = importing.ImportOptions(quarter=Quarter(2024, 2), today=dt.date(2024, 10, 20))
        reads, previews = [], []
        for _ in range(args.repeats):
            prepared, seconds = timed(lambda: importing.prepare(tracker))
            reads.append(seconds)
            plan, seconds = timed(lambda p=prepared: importing.preview(store, p, options))
            previews.append(seconds)
        assert plan.count(Outcome.CREATE) == rows, plan.summary()
        figure("tracker_read_s", "read the tracker (prepare), best", min(reads), "s")
        figure("tracker_preview_s", "preview (judge every row), best", min(previews), "s")

    applies, apply_cpu, unpreviewed, reimports = [], [], [], []
    target = out / "xlsx-import.sqlite"
    for _ in range(args.repeats):
        copy_store(base, target)
        with Store.open(target) as store:
            result, seconds = timed(lambda: importing.apply(store, prepared, options))
            unpreviewed.append(seconds)
            assert result.plan.count(Outcome.CREATE) == rows
        copy_store(base, target)
        with Store.open(target) as store:
            shown = importing.preview(store, prepared, options)
            cpu = time.process_time()
            result, seconds = timed(
                lambda s=store, p=shown: importing.apply(s, prepared, options, previewed=p)
            )
            apply_cpu.append(time.process_time() - cpu)
            applies.append(seconds)
            assert result.plan.count(Outcome.CREATE) == rows
            again, seconds = timed(lambda: importing.apply(store, prepared, options))
            reimports.append(seconds)
            assert again.plan.count(Outcome.UNCHANGED) == rows, again.plan.summary()
            revision = store.revision()
    figure("tracker_apply_s", "apply the preview (one transaction), best", min(applies), "s")
    figure("tracker_apply_median_s", "apply the preview, median", statistics.median(applies), "s")
    # This process's CPU time: on a shared machine it moves far less than the wall clock.
    figure("tracker_apply_cpu_s", "apply the preview, CPU time, best", min(apply_cpu), "s")
    figure(
        "tracker_apply_unpreviewed_s",
        "apply without a preview (rows judged inside), best",
        min(unpreviewed),
        "s",
    )
    figure("tracker_change_log_rows", "  change-log rows in the store after", revision)
    figure(
        "tracker_reimport_s", "import the same tracker again (all unchanged)", min(reimports), "s"
    )

    with Store.open(base) as store:
        comparators = importing.known_comparators(store)
        _r, seconds = timed(
            lambda: importing.apply(store, importing.prepare(workbook, kind="actions"))
        )
        figure("roundtrip_actions_s", "re-import the workbook's Actions sheet", seconds, "s")
        prepared_values = importing.prepare(workbook, kind="measures", comparators=comparators)
        before = store.revision()
        _r, seconds = timed(lambda: importing.apply(store, prepared_values))
        figure("roundtrip_values_s", "re-import the workbook's Values sheet", seconds, "s")
        figure("roundtrip_changes", "  changes made by the round trip", store.revision() - before)

        new_values = out / "new-values.csv"
        count = write_new_values(workbook, new_values, years=20)
        prepared_new = importing.prepare(new_values, kind="measures", comparators=comparators)
        made, seconds = timed(lambda: importing.apply(store, prepared_new))
        assert made.plan.count(Outcome.CREATE) == count, made.plan.summary()
        figure("new_values_s", "import new figures (a value record each)", seconds, "s")
        figure("new_values_rows", "  value rows", count)

    (out / "xlsx_bench.json").write_text(json.dumps(FIGURES, indent=2) + "\n", "utf-8")
    print(f"\nfigures written to {out / 'xlsx_bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
