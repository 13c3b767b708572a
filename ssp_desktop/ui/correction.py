"""The dialog that asks why a published figure is being changed.

A published board pack locks its quarter's updates and values (``services/locks.py``).
When a form's edit is refused for that reason, :class:`~ssp_desktop.ui.document.PlanDocument`
asks here for the reason instead of failing; given one, the same edit is written again
as a correction (the change log keeps the reason; the next pack lists it as revised).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class CorrectionDialog(QDialog):
    """Shows why the figure is locked and takes the reason for the correction."""

    def __init__(self, what: str, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Correct a published figure")
        self.setAccessibleName("Correct a published figure")
        layout = QVBoxLayout(self)
        explanation = QLabel(
            f"{message}\n\nTo make this change ({what}), give the reason. It is kept in the "
            "change log and the next board pack lists the correction."
        )
        explanation.setWordWrap(True)
        explanation.setAccessibleName("Why the figure is locked")
        layout.addWidget(explanation)
        label = QLabel("&Reason for the correction")
        self.reason = QPlainTextEdit()
        self.reason.setTabChangesFocus(True)
        self.reason.setAccessibleName("Reason for the correction")
        label.setBuddy(self.reason)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.correct_button: QPushButton = self.buttons.addButton(
            "&Correct", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.correct_button.setAccessibleName("Make the correction with this reason")
        self.correct_button.setDefault(True)
        self.correct_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(
            lambda: self.correct_button.setEnabled(bool(self.reason_text()))
        )
        self.reason.setFocus()

    def reason_text(self) -> str:
        return " ".join(self.reason.toPlainText().split())


def ask_correction_reason(parent: QWidget | None, what: str, message: str) -> str | None:
    """The reason the user gives for correcting a locked figure, or None if they cancel."""
    dialog = CorrectionDialog(what, message, parent)
    try:
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.reason_text():
            return dialog.reason_text()
        return None
    finally:
        dialog.deleteLater()
