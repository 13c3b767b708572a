"""Importing the layers below ``ui/`` when a store is first opened, without PySide6's
per-module source scan.

Once ``PySide6.QtCore`` is imported, every ``import`` statement in the process goes
through PySide6's own ``__import__`` (it serves ``from __feature__ import snake_case``).
After each import it reads the whole source of every module it has not seen yet
(``inspect.getsource``) to note whether the text mentions PySide6. Opening the first store
imports several hundred modules that never touch Qt (SQLAlchemy, the records, the store,
the services, the queries), and reading them all was about a tenth of the time from the
painted frame to the plan shown.

What the scan notes only matters for a module that selects a ``__feature__``: PySide6
looks a module up when code in it uses a Qt class, and a module it has not noted is
treated as one it has noted as "not using PySide" (the same default). Nothing in this
app selects a feature, and nothing below ``ui/`` uses Qt (import-linter keeps it so), so
importing those modules with Python's own ``__import__`` changes nothing but the time.
"""

from __future__ import annotations

import builtins
import importlib
import sys
import threading
from collections.abc import Iterable

FIRST_VIEW = (
    "ssp_desktop.store.engine",
    "ssp_desktop.store.partnerships",
    "ssp_desktop.services",
    "ssp_desktop.services.history",
    "ssp_desktop.services.links",
    "ssp_desktop.services.outcomes",
    "ssp_desktop.queries.history",
    "ssp_desktop.queries.outline",
    "ssp_desktop.queries.plans",
    "ssp_desktop.queries.region",
    "ssp_desktop.queries.search",
    "ssp_desktop.queries.waiting",
    "ssp_desktop.sample.plan",
    "ssp_desktop.sync.state",
)
"""The Qt-free modules the window needs to show a plan (its first view, the status
bar's copy role and conflicts): imported together by :func:`import_qt_free`."""

_swap = threading.Lock()


def import_qt_free(names: Iterable[str] = FIRST_VIEW) -> None:
    """Import ``names`` (modules that never use Qt, nor import anything that does)
    with Python's own ``__import__`` in place of PySide6's; already imported ones cost
    nothing. Where PySide6 has not replaced ``__import__`` (not imported yet, or a
    version that no longer does), this is a plain import."""
    wanted = [name for name in names if name not in sys.modules]
    if not wanted:
        return
    original = getattr(builtins, "__orig_import__", None)
    with _swap:
        hooked = builtins.__import__
        if original is None or hooked is original:
            for name in wanted:
                importlib.import_module(name)
            return
        # Process-wide for the moment it takes; another thread importing meanwhile
        # skips the scan too, which (above) changes nothing for it either.
        builtins.__import__ = original
        try:
            for name in wanted:
                importlib.import_module(name)
        finally:
            builtins.__import__ = hooked
