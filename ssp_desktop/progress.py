"""Progress and cancellation for long work, without Qt.

Imports, exports and the board pack run in a worker thread; they report how far they
have got through a :class:`Progress` and stop at the next step once the user cancels.
The UI wraps one in ``ui/workers.py``; the CLI passes a silent one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

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
