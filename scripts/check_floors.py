"""Check the floor constraints against pyproject.toml and against what is installed.

    python scripts/check_floors.py          constraints/floor.txt matches pyproject.toml
    FLOOR_PYTHON/bin/python scripts/check_floors.py --installed
                                            ... and this Python has exactly those versions

``constraints/floor.txt`` pins every runtime dependency at the lowest version
``pyproject.toml`` allows; CI installs it and runs the suite (``.ci/run``), so a floor in
pyproject.toml is a version the suite has passed on. Exit 1 with the differences.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
FLOOR_FILE = ROOT / "constraints" / "floor.txt"


def declared_floors() -> dict[str, str]:
    """Each runtime dependency's ``>=`` version, from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors: dict[str, str] = {}
    for text in project["dependencies"]:
        req = Requirement(text)
        lows = [s.version for s in req.specifier if s.operator == ">="]
        floors[canonicalize_name(req.name)] = lows[0] if lows else ""
    return floors


def pinned_floors(path: Path = FLOOR_FILE) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def _same(a: str, b: str) -> bool:
    """4 and 4.0.0 are the same floor."""
    from packaging.version import Version

    return Version(a) == Version(b)


def differences(installed: bool = False) -> list[str]:
    declared, pinned = declared_floors(), pinned_floors()
    out: list[str] = []
    for name, low in sorted(declared.items()):
        if not low:
            out.append(f"{name}: pyproject.toml gives no floor (>=)")
        elif name not in pinned:
            out.append(f"{name}: missing from constraints/floor.txt")
        elif not _same(low, pinned[name]):
            out.append(f"{name}: pyproject.toml says >={low}, floor.txt pins {pinned[name]}")
    for name in sorted(set(pinned) - set(declared)):
        out.append(f"{name}: in floor.txt but not a runtime dependency")
    if installed:
        for name, version in sorted(pinned.items()):
            try:
                have = metadata.version(name)
            except metadata.PackageNotFoundError:
                out.append(f"{name}: not installed")
                continue
            if not _same(have, version):
                out.append(f"{name}: {have} installed, not the floor {version}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--installed", action="store_true", help="check this Python too")
    args = parser.parse_args(argv)
    problems = differences(installed=args.installed)
    for problem in problems:
        print(f"floor: {problem}", file=sys.stderr)
    if not problems:
        where = f" and installed in {sys.prefix}" if args.installed else ""
        print(f"floors: {len(pinned_floors())} runtime dependencies pinned at their floor{where}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
