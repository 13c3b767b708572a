"""The "To review" tab's title, and the count it shows before its list is built.

The workspace builds each tab when it is first shown (see ``workspace.py``), but the
master copy's "To review" tab says how many items wait from the start, and keeps saying
it as leads' bundles arrive and items are decided, here or in another window. This
module counts them (two counting queries, ``queries.waiting``) without loading the
review list's view and the queries behind it.
"""

from __future__ import annotations

import uuid
from typing import Final

from PySide6.QtCore import QObject, QTimer, Signal

from ssp_desktop.domain.events import Committed
from ssp_desktop.queries.waiting import REVIEW_ENTITIES, review_count
from ssp_desktop.ui.document import PlanDocument

__all__ = ["TAB_TITLE", "WaitingCount", "may_change_queue", "tab_title"]

# Mnemonics: W for the tab, C, T and I for the buttons. The menus (F E H), the tab bar
# (P A M Q D) and the other tabs' controls (R V Y G U O ...) use none of them, so each
# reaches its control without Qt cycling between two.
TAB_TITLE: Final = "To revie&w"


def tab_title(count: int) -> str:
    """The tab's title with the number waiting: "To review (5)"."""
    return f"{TAB_TITLE} ({count})"


def may_change_queue(committed: Committed) -> bool:
    """Whether ``committed`` can add an item to the queue, take one off, or change one."""
    return bool(committed.entities & REVIEW_ENTITIES)


class WaitingCount(QObject):
    """How many items wait for review in a plan, kept current as the store commits
    (here or in another window), counted without reading the queue."""

    count_changed = Signal(int)

    def __init__(
        self, document: PlanDocument, plan_id: uuid.UUID, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._document = document
        self._plan_id = plan_id
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # one count per burst of commits
        self._timer.timeout.connect(self.refresh)
        document.committed.connect(self._on_committed)
        document.reloaded.connect(self._timer.start)
        self.count = self._read()

    def _read(self) -> int:
        with self._document.read() as session:
            return review_count(session, self._plan_id)

    def _on_committed(self, committed: Committed) -> None:
        if may_change_queue(committed):
            self._timer.start()

    def refresh(self) -> None:
        self._timer.stop()
        count = self._read()
        if count != self.count:
            self.count = count
            self.count_changed.emit(count)
