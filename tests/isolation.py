"""Tests never touch the real user's folders.

Before any test module is imported, :func:`redirect` points ``HOME``, the XDG folders and
``SSP_DESKTOP_HOME`` at a fresh folder, so settings, logs, keys, Qt's own ``QtProject``
settings and the sample store all land there, whatever runs first (a module-scoped
fixture included) and in every subprocess a test starts. :class:`WriteGuard`, a Python
audit hook, then records every write this process makes under the real folders; the
session fails if there was one (``conftest.py``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

XDG = {
    "XDG_DATA_HOME": ".local/share",
    "XDG_CONFIG_HOME": ".config",
    "XDG_CACHE_HOME": ".cache",
    "XDG_STATE_HOME": ".local/state",
}

# Audit events whose first argument is a path being created, changed or removed.
_WRITING_EVENTS = {
    "os.mkdir",
    "os.remove",
    "os.rmdir",
    "os.rename",
    "os.replace",
    "os.truncate",
    "os.symlink",
    "os.link",
    "os.chmod",
    "shutil.copyfile",
    "shutil.rmtree",
}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def real_user_folders(environ: dict[str, str] | os._Environ[str] = os.environ) -> list[Path]:
    """The folders a user's own data lives in: their home and any XDG folder set
    outside it."""
    home = Path(environ.get("HOME") or Path.home()).expanduser()
    folders = [home]
    for var in XDG:
        value = environ.get(var)
        if value:
            folders.append(Path(value).expanduser())
    return [f.resolve() for f in folders]


def redirect(sandbox: Path) -> None:
    """Point every per-user folder at ``sandbox``."""
    home = sandbox / "home"
    os.environ["HOME"] = str(home)
    for var, sub in XDG.items():
        os.environ[var] = str(home / sub)
        (home / sub).mkdir(parents=True, exist_ok=True)
    runtime = sandbox / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    os.environ["SSP_DESKTOP_HOME"] = str(sandbox / "ssp-desktop")


def _is_write(event: str, args: tuple[Any, ...]) -> bool:
    if event in _WRITING_EVENTS:
        return True
    if event == "open" and len(args) >= 3:
        mode, flags = args[1], args[2]
        if isinstance(mode, str):
            return any(c in mode for c in "wax+")
        return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)
    if event == "sqlite3.connect" and args:
        return "mode=ro" not in str(args[0])
    return False


class WriteGuard:
    """Records writes this process makes under ``forbidden`` folders (but not under
    ``allowed`` ones inside them, such as the temp folder)."""

    def __init__(self, forbidden: Iterable[Path], allowed: Iterable[Path]) -> None:
        self.forbidden = [str(p) for p in forbidden]
        self.allowed = [str(p) for p in allowed]
        self.writes: list[str] = []
        self.active = True

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or not args or not _is_write(event, args):
            return
        target = args[0]
        if isinstance(target, int) or target is None:
            return  # a descriptor: its path was judged when it was opened
        try:
            path = os.path.abspath(os.fsdecode(target))
        except (TypeError, ValueError):
            return
        if path.startswith("file:"):
            path = path.removeprefix("file:").split("?", 1)[0]
        if "__pycache__" in path:
            return  # the interpreter caching bytecode of an installed module
        if any(_under(path, a) for a in self.allowed):
            return
        if any(_under(path, f) for f in self.forbidden):
            self.writes.append(f"{event} {path}")

    def install(self) -> None:
        sys.addaudithook(self)


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def new_sandbox() -> Path:
    return Path(tempfile.mkdtemp(prefix="ssp-desktop-tests-"))
