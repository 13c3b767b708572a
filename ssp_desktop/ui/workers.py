"""Long work off the UI thread: a job on the thread pool, with progress and cancel.

A :class:`Job` runs ``fn(progress)`` on ``QThreadPool`` and reports back through Qt
signals, which arrive on the UI thread. ``fn`` must not touch widgets, and no ORM object
or Session crosses threads: the function opens its own session or transaction from the
store and returns plain values. :class:`JobDialog` is the progress bar with a Cancel
button that imports and exports show.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QProgressDialog, QWidget

from ssp_desktop.domain.errors import SspError
from ssp_desktop.progress import Cancelled, Progress

log = logging.getLogger(__name__)

UNEXPECTED = (
    "Something went wrong that the app did not expect. Nothing was saved by this step; "
    "your plan is as it was. The details below help the developers put it right."
)


class _Relay(QObject):
    """Lives on the UI thread; the worker thread emits through it (queued delivery)."""

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[Progress], Any], progress: Progress, relay: _Relay):
        super().__init__()
        # The Job keeps this object alive; Qt must not delete it behind Python's back.
        self.setAutoDelete(False)
        self._fn = fn
        self._progress = progress
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn(self._progress)
        except Cancelled:
            self._relay.cancelled.emit()
        except SspError as exc:
            self._relay.failed.emit(str(exc), "")
        except Exception as exc:
            log.exception("background job failed")
            details = "".join(traceback.format_exception(exc))
            self._relay.failed.emit(UNEXPECTED, details)
        else:
            self._relay.succeeded.emit(result)


class Job(QObject):
    """``fn(progress)`` run once on the thread pool.

    Exactly one of ``succeeded(result)``, ``failed(message, details)`` or ``cancelled``
    is emitted, then ``finished``. ``details`` is a traceback for unexpected errors and
    empty for the errors the app explains (:class:`SspError`).
    """

    progress = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()
    finished = Signal()

    def __init__(
        self,
        fn: Callable[[Progress], Any],
        parent: QObject | None = None,
        pool: QThreadPool | None = None,
    ) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._relay = _Relay(self)
        self._progress = Progress(self._relay.progress.emit)
        self._runnable = _Runnable(fn, self._progress, self._relay)
        self._running = False
        self._relay.progress.connect(self.progress)
        self._relay.succeeded.connect(self._on_succeeded)
        self._relay.failed.connect(self._on_failed)
        self._relay.cancelled.connect(self._on_cancelled)

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        if self._running:
            raise RuntimeError("This job is already running.")
        self._running = True
        self._pool.start(self._runnable)

    def cancel(self) -> None:
        """Ask the work to stop at its next step; ``cancelled`` follows when it has."""
        self._progress.cancel()

    def wait(self, msecs: int = -1) -> bool:
        """Block until the pool is idle (for closing the window, and for tests)."""
        return bool(self._pool.waitForDone(msecs))

    def _done(self) -> None:
        self._running = False
        self.finished.emit()

    @Slot(object)
    def _on_succeeded(self, result: object) -> None:
        self.succeeded.emit(result)
        self._done()

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self.failed.emit(message, details)
        self._done()

    @Slot()
    def _on_cancelled(self) -> None:
        self.cancelled.emit()
        self._done()


class JobDialog(QProgressDialog):
    """A modal progress bar with Cancel for one :class:`Job`; closes when it finishes."""

    def __init__(self, job: Job, title: str, label: str, parent: QWidget | None = None):
        super().__init__(label, "Cancel", 0, 0, parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        # Shown at once: a dialog that appears late makes quick jobs flicker less, but
        # the user should see that their click did something.
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self._job = job
        self._label = label
        self.canceled.connect(self._cancel)
        job.progress.connect(self._on_progress)
        job.finished.connect(self.close)

    @Slot()
    def _cancel(self) -> None:
        self.setLabelText("Cancelling…")
        self._job.cancel()

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.setMaximum(total)
            self.setValue(min(done, total))
        if text:
            self.setLabelText(text)


def run_job(
    parent: QWidget,
    fn: Callable[[Progress], Any],
    *,
    title: str,
    label: str,
) -> tuple[Job, JobDialog]:
    """Start ``fn`` in the background behind a progress dialog; connect to the job."""
    job = Job(fn, parent)
    dialog = JobDialog(job, title, label, parent)
    job.finished.connect(job.deleteLater)
    job.finished.connect(dialog.deleteLater)
    dialog.show()
    job.start()
    return job, dialog
