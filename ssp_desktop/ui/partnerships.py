"""Choosing the partnership a store of several is opened for, and the region summary.

The choice is remembered per store in the settings (by the store's path or server
address, never with a password), so the next open goes straight to it; File > Open
for another partnership asks again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.queries.region import RAG_ORDER, PartnershipSummary, summary_table
from ssp_desktop.sample.plan import SAMPLE_BANNER

_GROUP = "partnership_by_store"


def _key(where: str) -> str:
    # A hash: QSettings keys cannot hold a path's slashes, and the file names no place.
    return f"{_GROUP}/{hashlib.sha256(where.encode()).hexdigest()[:32]}"


def remembered(where: str) -> str | None:
    """The partnership last chosen for the store at ``where`` (path or address)."""
    value = QSettings().value(_key(where))
    return str(value) if value else None


def remember(where: str, name: str | None) -> None:
    settings = QSettings()
    if name:
        settings.setValue(_key(where), name)
    else:
        settings.remove(_key(where))


class PartnershipDialog(QDialog):
    """Asks which of a store's partnerships to open it for. Arrow keys choose, Enter
    opens; the last choice for this store is selected to begin with."""

    def __init__(
        self,
        store_name: str,
        names: Sequence[str],
        current: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose the partnership")
        self.setAccessibleName("Choose the partnership")
        intro = QLabel(
            f"{store_name} holds the plans of {len(names)} partnerships. Choose the one "
            "to work on: everything you see and export will be that partnership's."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Partnerships in this store")
        self.list.setAccessibleDescription("Choose one and press Enter to open it")
        intro.setBuddy(self.list)
        for name in names:
            self.list.addItem(QListWidgetItem(name))
        start = list(names).index(current) if current is not None and current in names else 0
        self.list.setCurrentRow(start)
        self.list.itemActivated.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Open).setAccessibleName(
            "Open for this partnership"
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list)
        layout.addWidget(buttons)
        self.setMinimumWidth(440)
        self.list.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.text() if item is not None else None


class RegionSummaryDialog(QDialog):
    """Each partnership's action RAG counts per priority, as a table: RAG in words and
    shapes in the headings, counts in the cells (never colour alone)."""

    def __init__(
        self, summaries: list[PartnershipSummary], sample: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Region summary")
        self.setAccessibleName("Region summary")
        rows = summary_table(summaries)
        heading, body = rows[0], rows[1:]
        intro = QLabel(
            f"{len(summaries)} partnerships: the actions of each one's current plan by RAG "
            "rating, per priority."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(len(body), len(heading))
        self.table.setAccessibleName("Region summary table")
        self.table.setAccessibleDescription(
            "One row per partnership and priority, with a total row for each partnership"
        )
        self.table.setHorizontalHeaderLabels(heading)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        numbers = range(2, 2 + len(RAG_ORDER) + 1)
        for r, row in enumerate(body):
            total = row[1] == "All priorities"
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c in numbers:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if total:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if sample:
            banner = QLabel(SAMPLE_BANNER)
            banner.setAccessibleName("Sample data banner")
            layout.addWidget(banner)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(900, 480)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)


__all__ = ["PartnershipDialog", "RegionSummaryDialog", "remember", "remembered"]
