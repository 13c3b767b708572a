"""Small dialogs of the main window: starting a new plan."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.domain.periods import FinancialYear
from ssp_desktop.ui.style import required


class MessageLabel(QLabel):
    """A dialog's message (a refusal, a result) that the dialog grows to show whole.

    A word-wrapped label gets the height its first text needed; a longer message set
    later (a refusal can run to three lines) was cut off at the dialog's bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:
        super().setText(text)
        QTimer.singleShot(0, self, self._fit)  # not after the label is gone

    def _fit(self) -> None:
        window = self.window()
        layout = window.layout()
        if layout is None or window is self:
            return
        layout.activate()
        needed = (
            layout.totalHeightForWidth(window.width())
            if layout.hasHeightForWidth()
            else layout.totalSizeHint().height()
        )
        if needed > window.height():
            window.resize(window.width(), needed)


class NewPlanDialog(QDialog):
    """Asks for what a new plan needs: its partnership (if the store has none), title and
    financial years. Refuses OK until the required fields are filled."""

    def __init__(
        self, partnership: str | None, today: dt.date | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start a new plan")
        this_year = FinancialYear.of(today or dt.date.today())
        self.partnership = QLineEdit(partnership or "")
        self.partnership.setAccessibleName("Partnership name")
        self.partnership.setPlaceholderText("e.g. Safer Stockport Partnership")
        self.partnership.setReadOnly(partnership is not None)
        self.area = QLineEdit()
        self.area.setAccessibleName("Area covered")
        self.area.setPlaceholderText("e.g. Stockport")
        self.area.setEnabled(partnership is None)
        self.title = QLineEdit()
        self.title.setAccessibleName("Plan title")
        self.title.setPlaceholderText("e.g. Community Safety Plan 2025-28")
        years = [FinancialYear(this_year.start + n) for n in range(-3, 6)]
        self.first = QComboBox()
        self.first.setAccessibleName("First financial year")
        self.last = QComboBox()
        self.last.setAccessibleName("Last financial year")
        for year in years:
            self.first.addItem(year.label, year)
            self.last.addItem(year.label, year)
        self.first.setCurrentIndex(3)
        self.last.setCurrentIndex(5)  # CSP plans usually run three years
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setAccessibleName("Error")
        self.error.setWordWrap(True)
        self.error.hide()

        form = QFormLayout()
        form.addRow(required("&Partnership"), self.partnership)
        form.addRow("&Area", self.area)
        form.addRow(required("Plan &title"), self.title)
        form.addRow(required("&First year"), self.first)
        form.addRow(required("&Last year"), self.last)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start plan")
        self.buttons.accepted.connect(self._check)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Fields marked * are required."))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def values(self) -> tuple[str, str, str, FinancialYear, FinancialYear]:
        return (
            self.partnership.text(),
            self.area.text(),
            self.title.text(),
            self.first.currentData(),
            self.last.currentData(),
        )

    def _check(self) -> None:
        partnership, _area, title, first, last = self.values()
        problem = ""
        if not partnership.strip():
            problem = "Error: the partnership needs a name."
        elif not title.strip():
            problem = "Error: the plan needs a title."
        elif last < first:
            problem = "Error: the last year is before the first year."
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        self.accept()
