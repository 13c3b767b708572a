"""Progress and cancellation for long work, without Qt.

Imports, exports and the board pack run in a worker thread; they report how far they
have got through a :class:`Progress` and stop at the next step once the user cancels.
The UI wraps one in ``ui/workers.py``; the command line uses :func:`terminal_progress`
(a bar on stderr when it is a terminal, nothing otherwise).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from ssp_desktop.domain.errors import SspError

ProgressCallback = Callable[[int, int, str], None]


class Cancelled(SspError):
    """The user cancelled; whatever the work had started was not saved."""

    def __init__(self, message: str = "Cancelled. Nothing was changed.") -> None:
        super().__init__(message)


class Progress:
    """How far a piece of work has got, and whether the user wants it stopped.

    ``step`` is called from the working thread; ``cancel`` from any thread. Work calls
    ``step`` (or ``check``) often enough that a cancel takes effect within a moment, and
    only commits after its last step, so a cancel never leaves half a change behind.
    """

    def __init__(self, callback: ProgressCallback | None = None) -> None:
        self._callback = callback
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        self._cancelled.set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the user has asked to stop."""
        if self._cancelled.is_set():
            raise Cancelled()

    def step(self, done: int, total: int, text: str = "") -> None:
        """Report ``done`` of ``total`` (total 0: unknown), then honour a cancel."""
        self.check()
        if self._callback is not None:
            self._callback(done, total, text)


@contextmanager
def terminal_progress(what: str, stream: TextIO | None = None) -> Iterator[Progress]:
    """A :class:`Progress` for the command line: a bar on ``stream`` (stderr) when it is
    a terminal, drawn by tqdm; silent when it is a file or a pipe, so scripts and CI
    logs get only the command's own output. stdout is never touched.

    ``what`` names the work until its first step names a stage. Stages may restart the
    count ("Reading the rows" 0..n, then "Writing" 0..m); a total of 0 shows elapsed time
    and a count instead of a bar. The bar is cleared when the work ends, so the
    terminal keeps only the command's summary.
    """
    out = sys.stderr if stream is None else stream
    isatty = getattr(out, "isatty", None)
    if not (callable(isatty) and isatty()):
        yield Progress()
        return
    from tqdm import tqdm  # only commands on a terminal pay for it

    counted = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}]"
    uncounted = "{desc} [{elapsed}]"  # no total known: what is happening, and for how long
    bar = tqdm(
        total=None, desc=what, file=out, leave=False, dynamic_ncols=True, bar_format=uncounted
    )
    stage: list[object] = [what, 0]

    def report(done: int, total: int, text: str) -> None:
        label = text.rstrip("…. ") or str(stage[0])
        if [label, total] != stage or done < bar.n:
            stage[:] = [label, total]
            bar.set_description_str(label, refresh=False)
            bar.bar_format = counted if total else uncounted
            bar.reset(total=total or None)
        if done > bar.n:
            bar.update(done - bar.n)

    try:
        yield Progress(report)
    finally:
        bar.close()
