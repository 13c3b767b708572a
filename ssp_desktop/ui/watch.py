"""Other writers' commits, brought to an open window: the revision watcher.

Several officers (or two windows) may write to one store. Each commit raises the
store's revision (``store.engine.raise_revision``). This watcher notices a newer
revision and hands :meth:`PlanDocument.remote` what the other writers changed, read
from the change log (``Store.changes_since``), so the window's views redraw as they do
for a local commit.

How it notices: on SQLite it polls the revision (one row, every two seconds); on
PostgreSQL a listener thread waits for the NOTIFY each commit sends
(``REVISION_CHANNEL``) and wakes the poll at once, the timer staying as the fallback
if the server connection drops. The listener's thread reaches the window only through
a queued Qt signal.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from sqlalchemy import exc as sa_exc

from ssp_desktop.domain.errors import SspError
from ssp_desktop.store.engine import REVISION_CHANNEL, Store

if TYPE_CHECKING:
    from ssp_desktop.ui.document import PlanDocument

log = logging.getLogger(__name__)

# How often the revision is read when nothing announces it.
POLL_MS = 2000


class RevisionWatcher(QObject):
    """Polls (and on PostgreSQL listens) for commits other writers made."""

    # From the listener thread: a commit was announced; poll now.
    _announced = Signal()

    def __init__(self, document: PlanDocument, *, interval_ms: int = POLL_MS) -> None:
        super().__init__(document)
        self.setObjectName("revisionWatcher")
        self._document = document
        self._store: Store = document.store
        self.seen = self._store.revision()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)
        self._announced.connect(self.poll)
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        if self._store.engine.dialect.name == "postgresql":
            self._listener = threading.Thread(
                target=self._listen, name="ssp-revision-listener", daemon=True
            )
            self._listener.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._stop.set()
        if self._listener is not None:
            self._listener.join(timeout=3)
            self._listener = None

    def poll(self) -> None:
        """Read the revision; if other writers have committed, announce what they did."""
        try:
            if self._store.revision() <= self.seen:
                return
            committed = self._store.changes_since(self.seen)
        except (SspError, sa_exc.SQLAlchemyError) as exc:
            # A server gone for a moment: the next poll tries again.
            log.info("could not read the store's revision: %s", type(exc).__name__)
            return
        if committed is None:
            return
        self.seen = committed.revision
        if committed.records:
            self._document.remote(committed)

    def _listen(self) -> None:
        """PostgreSQL: LISTEN on the revision channel with a connection of its own and
        wake the poll for each notification (the payload is only a hint)."""
        while not self._stop.is_set():
            try:
                raw = self._store.engine.raw_connection()
            except sa_exc.SQLAlchemyError as exc:
                log.info("revision listener could not connect: %s", type(exc).__name__)
                self._stop.wait(POLL_MS / 1000)
                continue
            try:
                conn = raw.driver_connection
                assert conn is not None
                conn.autocommit = True
                conn.execute(f"LISTEN {REVISION_CHANNEL}")
                while not self._stop.is_set():
                    for _note in conn.notifies(timeout=0.5, stop_after=1):
                        self._announced.emit()
            except Exception as exc:  # a dropped server connection: reconnect
                log.info("revision listener stopped: %s", type(exc).__name__)
                self._stop.wait(POLL_MS / 1000)
            finally:
                try:
                    raw.invalidate()
                except Exception:
                    log.debug("revision listener's connection was already gone")
