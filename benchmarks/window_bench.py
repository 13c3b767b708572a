"""Main-window benchmark: time to show the window with a store open, ready to use.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/window_bench.py [--store PATH]

First, from launch (a fresh process each time, alternating with a bare PySide6
``QMainWindow``): when the window is painted (its frame, menus and "Loading plan…")
and when it is usable (the sample plan shown in it), beside the bare window painted,
with the ratios. Then, in this process, best and median of several runs from creating
the window to the first processed paint with the store open (the Plan tab's navigator
and editor built; the other tabs are built when first shown): on the sample plan, and
on the region-scale store written by ``store_bench.py`` (default
``benchmarks/out/region.sqlite``; skipped with a note if it is missing). Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REPEATS = 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / "benchmarks/out/region.sqlite")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["SSP_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="ssp-window-bench-")

    from PySide6.QtWidgets import QApplication

    from ssp_desktop.app import configure_settings, ensure_sample_store
    from ssp_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_settings()

    def show(path: Path) -> float:
        start = time.perf_counter()
        window = MainWindow()
        assert window.open_store(path)
        window.show()
        app.processEvents()
        elapsed = time.perf_counter() - start
        window.close()
        app.processEvents()
        return elapsed

    def report(label: str, path: Path) -> None:
        times = [show(path) for _ in range(args.repeats)]
        print(f"{label + ', first:':<52} {times[0]:.3f} s")
        print(f"{label + ', best:':<52} {min(times):.3f} s")
        print(f"{label + ', median:':<52} {statistics.median(times):.3f} s")

    print(f"{'qt platform:':<52} {os.environ['QT_QPA_PLATFORM']}")
    from benchmarks.startup_bench import launch_figures

    launched = launch_figures(dict(os.environ), args.repeats)
    bare = statistics.median(launched["bare"])
    for key, label in (
        ("bare", "from launch: bare PySide6 window painted"),
        ("painted", "from launch: ssp-desktop window painted"),
        ("usable", "from launch: ssp-desktop usable (sample plan shown)"),
    ):
        times = launched[key]
        ratio = "" if key == "bare" else f"  ({statistics.median(times) / bare:.1f}x bare)"
        print(
            f"{label + ':':<52} best {min(times):.3f} s, median "
            f"{statistics.median(times):.3f} s{ratio}"
        )
    report("sample plan", ensure_sample_store())
    if args.store.exists():
        report(f"region store ({args.store.name}, 500-action plan)", args.store)
    else:
        print(f"region store: {args.store} not found; run benchmarks/store_bench.py first")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
