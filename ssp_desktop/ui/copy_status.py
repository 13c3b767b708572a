"""What the status bar says about this copy: master or lead (and what a lead copy
holds), and the conflicts waiting. Kept apart from ``sync_ui`` (bundles, the import
wizard, conflicts) so that the window's frame is built before the store, the ORM and
the sync code are imported, and the plan shows without loading the sharing dialogs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QPushButton, QWidget

if TYPE_CHECKING:
    from ssp_desktop.store.engine import Store


class ConflictBadge(QPushButton):
    """A status-bar button naming the waiting conflicts; hidden when there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Waiting conflicts")
        self.setFlat(True)
        self.count = 0
        self.hide()

    def refresh(self, store: Store | None) -> None:
        if store is None:
            self.count = 0
        else:
            from ssp_desktop.sync import state

            self.count = state.open_conflict_count(store)
        self.setText(f"⚠ {self.count} conflict{'s' if self.count != 1 else ''}")
        self.setToolTip("Differences between copies that wait for your decision")
        self.setVisible(self.count > 0)


def is_lead_copy(store: Store) -> bool:
    from ssp_desktop.domain.sync_records import ROLE_LEAD
    from ssp_desktop.sync import state

    with store.session() as s:
        return state.role(s) == ROLE_LEAD


def copy_role_text(store: Store) -> str:
    """ "master copy", or "lead copy" with what it holds, so an action lead whose copy
    also shows the themes and areas around their actions knows which are theirs."""
    from sqlalchemy import select

    from ssp_desktop.domain.records import Action, Priority
    from ssp_desktop.sync import state

    with store.session() as s:
        copy = state.lead_copy(s)
        if copy is None:
            return "master copy"
        codes = list(s.scalars(select(Priority.code).where(Priority.id.in_(copy.themes))))
        refs = list(s.scalars(select(Action.ref).where(Action.id.in_(copy.actions))))
    held = [f"themes {', '.join(sorted(codes))}"] if codes else []
    held += [f"actions {', '.join(sorted(refs))}"] if refs else []
    return f"lead copy: {'; '.join(held)}" if held else "lead copy"
