"""Board pack export: time, pages per second, cost per page and memory, for the sample
plan and for one plan of the benchmark store (synthetic.py: 500 actions, 50 measures
with 40 quarters) at two sizes.

    .venv/bin/python benchmarks/pack_bench.py               # scales 1 and 2, a few minutes
    .venv/bin/python benchmarks/pack_bench.py --scale 0.2   # small run for CI

Each pack is exported end to end with the real exporter (``export_pack``: read the
store, assemble, draw, tag, write beside the target, record the export) ``--repeats``
times (min and median, and pages per second from each); assembly (reading the store and
building charts) and drawing are then timed apart, drawing both tagged (PDF/UA, the
default) and untagged (``render_pdf(..., tagged=False)``), alternately ``--repeats``
times, so the cost of tagging comes from one run. The benchmark plan is exported at
``--scale`` and at ``--large-scale`` (default twice as many actions and measures), and
the cost per page of the two is compared: it should stay flat as the pack grows.
Peak memory is the process's ``ru_maxrss`` and, in a separate pass so it does not slow
the timed runs, tracemalloc's Python-side peak during one export. Figures are printed,
one per line, and written to ``OUT/pack_bench.json``; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import reportlab  # noqa: E402
from sqlalchemy import select  # noqa: E402

from benchmarks.store_bench import max_rss_mib, remove_store  # noqa: E402
from benchmarks.synthetic import RegionWriter, Shape  # noqa: E402
from ssp_desktop.domain.periods import Quarter  # noqa: E402
from ssp_desktop.domain.records import BoardPack  # noqa: E402
from ssp_desktop.reports.export import export_pack, pack_document, prepare_pack  # noqa: E402
from ssp_desktop.reports.pack import assemble_pack  # noqa: E402
from ssp_desktop.reports.render import render_pdf  # noqa: E402
from ssp_desktop.sample.plan import write_sample  # noqa: E402
from ssp_desktop.store.engine import Store  # noqa: E402
from ssp_desktop.store.snapshot import memory_copy  # noqa: E402

REGION_QUARTER = Quarter(2024, 2)  # within the synthetic plans' 2023/24-2025/26


def line(label: str, value: Any, unit: str = "") -> None:
    text = (
        f"{value:,.2f}"
        if isinstance(value, float)
        else f"{value:,}"
        if isinstance(value, int)
        else str(value)
    )
    print(f"{label:<58} {text} {unit}".rstrip(), flush=True)


def measure_pack(
    store: Store, pack_id: uuid.UUID, out: Path, name: str, repeats: int = 1
) -> dict[str, Any]:
    exports: list[float] = []
    cpu: list[float] = []  # the process's CPU time: steadier than wall on a shared machine
    for _ in range(max(1, repeats)):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = export_pack(store, pack_id, out / f"{name}.pdf")
        exports.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    total, median = min(exports), statistics.median(exports)
    with store.session() as s:
        start = time.perf_counter()
        document = assemble_pack(s, pack_id, is_sample=store.is_sample)
        assemble = time.perf_counter() - start
    # The exporter reads a private copy of the store shaped for print (review states,
    # the plan as at a past quarter's end): its cost beyond reading the store directly.
    start = time.perf_counter()
    pack_document(store, pack_id)
    from_copy = time.perf_counter() - start
    copy_start = time.perf_counter()
    with memory_copy(store.engine):
        pass
    copy_only = time.perf_counter() - copy_start
    tagged_runs: list[float] = []
    untagged_runs: list[float] = []
    pages = 0
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        render_pdf(document, out / f"{name}-untagged.pdf", tagged=False)
        untagged_runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        pages = render_pdf(document, out / f"{name}-render.pdf")
        tagged_runs.append(time.perf_counter() - start)
    draw, untagged = min(tagged_runs), min(untagged_runs)
    figures = {
        "pages": result.pages,
        "bytes": result.size,
        "export_seconds": total,
        "export_seconds_median": median,
        "export_seconds_all": exports,
        "pages_per_second": result.pages / total,
        "pages_per_second_median": result.pages / median,
        "ms_per_page": 1000 * total / result.pages,
        "export_cpu_seconds": min(cpu),
        "export_cpu_seconds_median": statistics.median(cpu),
        "pages_per_second_cpu": result.pages / min(cpu),
        "cpu_ms_per_page": 1000 * min(cpu) / result.pages,
        "assemble_seconds": assemble,
        "assemble_from_copy_seconds": from_copy,
        "copy_store_seconds": copy_only,
        "draw_seconds": draw,
        "draw_untagged_seconds": untagged,
        "tagging_overhead_percent": 100 * (draw - untagged) / untagged,
        "draw_pages": pages,
    }
    line(f"{name}: pages", result.pages)
    line(f"{name}: file size", result.size / 1024, "KiB")
    line(
        f"{name}: export, end to end, min / median of {len(exports)}",
        f"{total:.2f} / {median:.2f} s",
    )
    line(
        f"{name}: pages per second, at min / median",
        f"{figures['pages_per_second']:.1f} / {figures['pages_per_second_median']:.1f}",
    )
    line(f"{name}: cost per page (export, min)", figures["ms_per_page"], "ms")
    line(
        f"{name}: export CPU time, min / median",
        f"{min(cpu):.2f} / {statistics.median(cpu):.2f} s "
        f"({figures['pages_per_second_cpu']:.1f} pages/s, "
        f"{figures['cpu_ms_per_page']:.2f} ms/page)",
    )
    line(f"{name}:   of which reading the store and charts", assemble, "s")
    line(f"{name}: the same from a private copy of the store", from_copy, "s")
    line(f"{name}:   of which copying the store into memory", copy_only, "s")
    line(f"{name}:   of which drawing the PDF (tagged)", draw, "s")
    line(f"{name}: drawing the PDF untagged", untagged, "s")
    line(f"{name}: tagging adds", figures["tagging_overhead_percent"], "%")
    return figures


def traced_peak(store: Store, pack_id: uuid.UUID, target: Path) -> float:
    tracemalloc.start()
    try:
        export_pack(store, pack_id, target)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / (1024 * 1024)


def measure_region(
    out: Path, key: str, name: str, scale: float, repeats: int, no_memory: bool
) -> dict[str, Any]:
    """Build one plan of the benchmark store at ``scale`` and measure its pack."""
    path = out / f"pack-{key.replace('_', '-')}.sqlite"
    remove_store(path)
    shape = Shape.scaled(scale, plans=1)
    with Store.open(path, create=True) as store:
        start = time.perf_counter()
        built = RegionWriter(store, shape).build()
        line(
            f"{name}: built ({shape.actions_per_plan} actions, {shape.measures_per_plan} measures)",
            time.perf_counter() - start,
            "s",
        )
        pack_id = prepare_pack(
            store, built.plan_ids[0], REGION_QUARTER, meeting_date=REGION_QUARTER.end_date
        )
        figures = measure_pack(store, pack_id, out, name, repeats)
        figures["scale"] = scale
        figures["actions"] = shape.actions_per_plan
        figures["measures"] = shape.measures_per_plan
        if not no_memory:
            figures["traced_peak_mib"] = peak = traced_peak(
                store, pack_id, out / f"{key}-traced.pdf"
            )
            line(f"{name}: Python memory peak (tracemalloc)", peak, "MiB")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies actions and measures")
    parser.add_argument(
        "--large-scale",
        type=float,
        default=None,
        help="the second, larger benchmark plan (default: twice --scale; 0 skips it)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="exports, and tagged and untagged draws, of each pack (min and median)",
    )
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"{platform.system()} {platform.release()} {platform.machine()}, "
        f"CPython {platform.python_version()}, ReportLab {reportlab.Version}, "
        f"scale {args.scale}",
        flush=True,
    )
    figures: dict[str, Any] = {"scale": args.scale}

    sample_path = out / "pack-sample.sqlite"
    remove_store(sample_path)
    with Store.open(sample_path, create=True) as store:
        write_sample(store)
        with store.session() as s:
            pack_id = s.scalars(select(BoardPack.id)).one()
        figures["sample"] = measure_pack(store, pack_id, out, "sample plan", args.repeats)
        if not args.no_memory:
            figures["sample"]["traced_peak_mib"] = peak = traced_peak(
                store, pack_id, out / "sample-traced.pdf"
            )
            line("sample plan: Python memory peak (tracemalloc)", peak, "MiB")

    large = 2 * args.scale if args.large_scale is None else args.large_scale
    sizes = [("region", "benchmark plan", args.scale)]
    if large > 0:
        sizes.append(("region_large", "larger benchmark plan", large))
    for key, name, scale in sizes:
        figures[key] = measure_region(out, key, name, scale, args.repeats, args.no_memory)
    if len(sizes) == 2:
        small, big = figures["region"], figures["region_large"]
        for label, key in (("wall", "ms_per_page"), ("CPU", "cpu_ms_per_page")):
            growth = 100 * (big[key] / small[key] - 1)
            figures[f"{key}_growth_percent"] = growth
            line(
                f"cost per page ({label}), {big['pages']} pages vs {small['pages']} pages",
                f"{growth:+.1f} % ({small[key]:.2f} -> {big[key]:.2f} ms)",
            )
    rss = max_rss_mib()
    if rss is not None:
        figures["max_rss_mib"] = rss
        line("process peak resident memory (ru_maxrss)", rss, "MiB")
    (out / "pack_bench.json").write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
