"""Start-up benchmark: from launching the program to its main window shown.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/startup_bench.py [--binary PATH]

Each figure is the wall-clock time of a fresh process, interpreter start included (what
a user waits for after double-clicking), best and median of ``--repeats``:

* a bare PySide6 window (``QApplication`` + an empty ``QMainWindow`` shown): the floor
  any Qt app in Python pays on this machine;
* ssp-desktop from source (``python -m ssp_desktop --sample`` with
  ``SSP_DESKTOP_SMOKE=1``: the window is shown with the sample plan open, then the
  process exits); the sample store is written once beforehand so its creation is not
  counted;
* the packaged app (``--binary``, default ``packaging/dist/ssp-desktop/ssp-desktop``
  when it exists) in the same way.

Also prints which heavy libraries the main window has imported (none should be).
Nothing is asserted about timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BARE = (
    "import time\n"
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "app = QApplication([])\n"
    "w = QMainWindow()\n"
    "w.resize(1200, 800)\n"
    "w.show()\n"
    "app.processEvents()\n"
    "print(f'main window painted at {time.time():.6f}', flush=True)\n"
)


def bytecode_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with Python's bytecode cache on: an installed app has its ``.pyc`` files,
    and compiling the package from source (PYTHONDONTWRITEBYTECODE, set in some shells
    and CI) would add half a second that no user waits for."""
    return {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}


def launch(cmd: list[str], env: dict[str, str]) -> tuple[float, float | None]:
    """One fresh process: seconds from launch to the window painted, and to the plan
    shown in it (None for the bare window), read from the times it prints in smoke
    mode (wall clock, so the interpreter's start is included as a user waits for it)."""
    start = time.time()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    stamps = {}
    for text in done.stdout.splitlines():
        if text.startswith("main window ") and " at " in text:
            what, _, when = text.removeprefix("main window ").partition(" at ")
            stamps[what] = float(when) - start
    if "painted" not in stamps:
        raise SystemExit(f"{' '.join(cmd)} printed no paint time:\n{done.stdout}")
    return stamps["painted"], stamps.get("usable")


def launch_figures(
    env: dict[str, str], repeats: int, app: list[str] | None = None
) -> dict[str, list[float]]:
    """Bare window painted; ssp-desktop painted and usable (sample plan): each
    ``repeats`` times, the two programs alternating so load on the machine falls on both."""
    app = app or [sys.executable, "-m", "ssp_desktop", "--sample"]
    env = bytecode_env({**env, "SSP_DESKTOP_SMOKE": "1"})
    # Writes the sample store and the bytecode caches, so no timed run makes them.
    subprocess.run(app, env=env, cwd=ROOT, capture_output=True, check=True)
    figures: dict[str, list[float]] = {"bare": [], "painted": [], "usable": []}
    for _ in range(repeats):
        figures["bare"].append(launch([sys.executable, "-c", BARE], env)[0])
        painted, usable = launch(app, env)
        figures["painted"].append(painted)
        figures["usable"].append(usable if usable is not None else painted)
    return figures


def run(cmd: list[str], env: dict[str, str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
        times.append(elapsed)
    return times


def line(label: str, times: list[float]) -> None:
    print(
        f"{label + ':':<46} best {min(times):6.3f} s, median {statistics.median(times):6.3f} s"
        f" (first {times[0]:.3f} s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--binary", type=Path, default=ROOT / "packaging/dist/ssp-desktop/ssp-desktop"
    )
    args = parser.parse_args(argv)
    home = tempfile.mkdtemp(prefix="ssp-startup-bench-")
    env = {
        **bytecode_env(dict(os.environ)),
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "SSP_DESKTOP_HOME": home,
        "SSP_DESKTOP_SMOKE": "1",
    }
    print(f"{'qt platform:':<46} {env['QT_QPA_PLATFORM']}")
    # Write the sample store once, so every timed run opens an existing store.
    run([sys.executable, "-m", "ssp_desktop", "--sample"], env, 1)

    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ssp_desktop.app, ssp_desktop.ui.main_window;"
            "print(','.join(m for m in ('pyqtgraph','reportlab','pandas','openpyxl',"
            "'pikepdf','keyring') if m in sys.modules) or 'none')",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    print(f"{'heavy libraries imported by the window:':<46} {heavy.stdout.strip()}")
    line("bare PySide6 window", run([sys.executable, "-c", BARE], env, args.repeats))
    line(
        "ssp-desktop from source, sample plan",
        run([sys.executable, "-m", "ssp_desktop", "--sample"], env, args.repeats),
    )
    if args.binary.exists():
        line(
            f"ssp-desktop packaged ({args.binary.name}), sample plan",
            run([str(args.binary), "--sample"], env, args.repeats),
        )
    else:
        print(f"packaged app: {args.binary} not built (packaging/build.sh)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
