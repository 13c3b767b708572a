"""Smoke test of the packaged app: build the one-folder app, then run the built binary.

    .venv/bin/python packaging/smoke.py [--no-build]

Runs, offscreen and in throw-away SSP_DESKTOP_HOME folders: ``--version`` (must match
the package), ``demo`` (writes the sample store), ``check`` on it, ``pack`` (the board
pack from the frozen ReportLab and fonts), a GUI start in smoke mode (the main window
is shown with the sample plan, then the program exits), and the bundle round between
two installs: join, enrol, a sealed starter bundle, a lead copy made from it, a bundle
of the lead's changes, and the app started on the master with that file (the import
wizard reads and previews it). Also checks that the installer script and the AppStream
file carry the package's version. Exit 0 when all pass.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINARY = (
    ROOT
    / "packaging/dist/ssp-desktop"
    / ("ssp-desktop.exe" if sys.platform == "win32" else "ssp-desktop")
)


def version() -> str:
    text = (ROOT / "ssp_desktop/__init__.py").read_text(encoding="utf-8")
    found = re.search(r'__version__ = "([^"]+)"', text)
    assert found is not None
    return found.group(1)


def step(label: str, cmd: list[str], env: dict[str, str], expect: str = "") -> str:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - start
    if done.returncode != 0 or expect not in done.stdout:
        print(f"FAIL {label} ({took:.1f} s): exit {done.returncode}")
        print(done.stdout[-2000:], done.stderr[-4000:], sep="\n")
        raise SystemExit(1)
    print(f"ok   {label} ({took:.1f} s)")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="test the existing build")
    args = parser.parse_args(argv)
    expected = version()
    for path, pattern in (
        (ROOT / "packaging/windows/ssp-desktop.iss", r'#define AppVersion "([^"]+)"'),
        (
            ROOT / "packaging/linux/uk.org.saferstockport.ssp_desktop.metainfo.xml",
            r'<release version="([^"]+)"',
        ),
    ):
        found = re.search(pattern, path.read_text(encoding="utf-8"))
        if found is None or found.group(1) != expected:
            print(f"FAIL {path.name} names version {found and found.group(1)}, not {expected}")
            return 1
    if not args.no_build:
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "PyInstaller",
                "--noconfirm",
                "--clean",
                "--log-level",
                "WARN",
                "--distpath",
                "packaging/dist",
                "--workpath",
                "packaging/build",
                "packaging/ssp-desktop.spec",
            ],
            cwd=ROOT,
            check=True,
        )
        print(f"ok   build ({time.perf_counter() - start:.0f} s)")
    if not BINARY.exists():
        print(f"FAIL no build at {BINARY}; run without --no-build")
        return 1
    home = Path(tempfile.mkdtemp(prefix="ssp-smoke-"))
    env = {
        **os.environ,
        "SSP_DESKTOP_HOME": str(home / "home"),
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
    }
    exe = str(BINARY)
    store = home / "sample.sqlite"
    step("--version", [exe, "--version"], env, expect=expected)
    step("demo", [exe, "demo", "--store", str(store)], env, expect="Wrote the sample plan")
    step("check", [exe, "check", "--store", str(store)], env, expect="no problems found")
    pack = home / "pack.pdf"
    step(
        "pack",
        [exe, "pack", "--store", str(store), "--quarter", "2024/25 Q2", "--out", str(pack)],
        env,
    )
    if not pack.is_file() or pack.read_bytes()[:5] != b"%PDF-":
        print(f"FAIL pack wrote no PDF at {pack}")
        return 1
    step(
        "GUI start (main window shown, then exit)",
        [exe, "--sample"],
        {**env, "SSP_DESKTOP_SMOKE": "1"},
        expect="main window shown",
    )
    # The bundle round on two installs (two homes, as two laptops): the lead joins, the
    # master enrols the request with the fingerprint, writes the sealed starter, the lead
    # makes its copy and sends a bundle back, and the app is started on the master with
    # that file, as a double-click does: the import wizard opens and previews it.
    lead_env = {**env, "SSP_DESKTOP_HOME": str(home / "lead-home")}
    request, starter = home / "dcs.sspjoin", home / "starter.sspbundle"
    lead, changes = home / "lead.sqlite", home / "lead.sspbundle"
    email = "dcs@stockport.example"
    out = step(
        "join (lead's install: keys and a join request)",
        [exe, "join", "--out", str(request), "--name", "Lead", "--email", email],
        lead_env,
        expect="fingerprint",
    )
    fingerprint = out.strip().splitlines()[-1].strip()
    step(
        "enrol (master: the request, with the fingerprint read out)",
        [exe, "enrol", "--store", str(store), str(request), "--fingerprint", fingerprint],
        env,
    )
    step(
        "bundle export (sealed starter)",
        [exe, "bundle", "export", "--store", str(store), "--out", str(starter), "--for", email],
        env,
    )
    keys_out = step("keys (master: the fingerprint read out to the lead)", [exe, "keys"], env)
    master_fp = keys_out.split("This install's fingerprint:", 1)[1].split()[0]
    check_master = ["--master-fingerprint", master_fp]
    step(
        "bundle import (lead copy, checking the master's fingerprint)",
        [exe, "bundle", "import", "--store", str(lead), str(starter), *check_master],
        lead_env,
    )
    step(
        "bundle export (lead)",
        [exe, "bundle", "export", "--store", str(lead), "--out", str(changes)],
        lead_env,
    )
    step(
        "GUI start with a bundle (import wizard shown and previewing)",
        [exe, "--store", str(store), str(changes)],
        {**env, "SSP_DESKTOP_SMOKE": "1"},
        expect="import wizard shown: Bundle",
    )
    print(f"all smoke steps passed on {BINARY}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
