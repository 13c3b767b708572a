"""An unexpected error: say so plainly, keep the details, never vanish silently.

:func:`install_crash_handler` makes ``sys.excepthook`` (which PySide6 calls for an
exception escaping a slot) log the error with its traceback and show a
:class:`CrashDialog`: what happened, that saved work is safe, where the log is, and a
"Copy details" button for the report to IT. The app keeps running: every change is
written in one transaction that either completed before the error or was rolled back,
so the store is consistent whatever the error interrupted.
"""

from __future__ import annotations

import html
import logging
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QThread, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop import __version__

log = logging.getLogger(__name__)

SAFE_TEXT = (
    "Your plan is safe. Every change is saved as you make it, and a change that was "
    "being saved when this happened was not saved at all, so nothing is half-written."
)


def crash_details(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> str:
    """The text "Copy details" puts on the clipboard: versions and the traceback."""
    from PySide6 import __version__ as pyside_version

    lines = [
        f"ssp-desktop {__version__}",
        f"Python {platform.python_version()}, PySide6 {pyside_version}, "
        f"{platform.platform(terse=True)}",
        "",
        *traceback.format_exception(exc_type, exc, tb),
    ]
    return "\n".join(line.rstrip("\n") for line in lines)


class CrashDialog(QDialog):
    """What happened, that nothing was lost, where the log is, and the details."""

    def __init__(
        self, summary: str, details: str, log_path: Path | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("ssp-desktop hit a problem")
        self.setAccessibleName("ssp-desktop hit a problem")
        self.details_text = details
        self.log_path = log_path

        heading = QLabel(
            "<b>Something went wrong that ssp-desktop did not expect:</b> " + html.escape(summary)
        )
        heading.setObjectName("crashSummary")
        heading.setWordWrap(True)
        safe = QLabel(SAFE_TEXT)
        safe.setWordWrap(True)
        where = QLabel(
            f"The details are in the log file {log_path}. If it happens again, send the "
            "details to whoever supports the app."
            if log_path is not None
            else "The log could not be written on this computer; copy the details instead."
        )
        where.setWordWrap(True)
        where.setObjectName("crashLogLocation")

        self.details = QPlainTextEdit(details)
        self.details.setObjectName("crashDetails")
        self.details.setAccessibleName("Error details")
        self.details.setReadOnly(True)
        self.details.setVisible(False)

        buttons = QDialogButtonBox()
        self.show_button = QPushButton("Show &details")
        self.show_button.setCheckable(True)
        self.show_button.toggled.connect(self.details.setVisible)
        self.copy_button = QPushButton("&Copy details")
        self.copy_button.setObjectName("copyDetailsButton")
        self.copy_button.clicked.connect(self.copy_details)
        self.folder_button = QPushButton("Open log &folder")
        self.folder_button.setEnabled(log_path is not None)
        self.folder_button.clicked.connect(self.open_log_folder)
        close = buttons.addButton("C&ontinue", QDialogButtonBox.ButtonRole.AcceptRole)
        close.setDefault(True)
        for button in (self.show_button, self.copy_button, self.folder_button):
            button.setAccessibleName(button.text().replace("&", ""))
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)

        layout = QVBoxLayout(self)
        for widget in (heading, safe, where, self.details):
            layout.addWidget(widget)
        layout.addWidget(buttons)
        self.resize(560, 240)

    def copy_details(self) -> None:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(self.details_text)
        self.copy_button.setText("Copied")

    def open_log_folder(self) -> None:
        if self.log_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_path.parent)))


ShowDialog = Callable[[CrashDialog], object]


def install_crash_handler(
    log_path: Path | None,
    parent: Callable[[], QWidget | None] = lambda: None,
    show: ShowDialog = lambda dialog: dialog.exec(),
) -> None:
    """Route uncaught exceptions (UI thread and others) to the log and the dialog.

    ``parent`` gives the window to centre on; ``show`` runs the dialog (tests replace it
    to avoid a modal loop).
    """
    showing = threading.Lock()

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("unexpected error", exc_info=(exc_type, exc, tb))
        app = QApplication.instance()
        on_ui_thread = app is not None and QThread.currentThread() is app.thread()
        if not on_ui_thread or not showing.acquire(blocking=False):
            # Another thread, or an error while the dialog is up: the log has it.
            return
        try:
            summary = f"{exc_type.__name__}: {exc}" if str(exc) else exc_type.__name__
            dialog = CrashDialog(summary, crash_details(exc_type, exc, tb), log_path, parent())
            show(dialog)
            dialog.deleteLater()
        finally:
            showing.release()

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        log.critical(
            "unexpected error in thread %s",
            args.thread.name if args.thread else "?",
            exc_info=(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback),
        )

    sys.excepthook = hook
    threading.excepthook = thread_hook
