"""File > Open server store…: a master copy on the council's PostgreSQL server.

The dialog asks for the host, port, database and user. A password may be typed for
this session only: it is never saved (not in settings, not in the log); without one,
the server's password comes from the user's ``~/.pgpass`` (``pgpass.conf`` on Windows)
or libpq service file, or the operating system's keyring. Connecting and migrating run
on the thread pool (a slow or unreachable server must not freeze the window); a
failure is shown in the dialog in plain words and the fields stay as typed.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.progress import Cancelled, Progress
from ssp_desktop.store.backend import server_url
from ssp_desktop.store.engine import Store
from ssp_desktop.store.partnerships import PartnershipChoiceError
from ssp_desktop.ui.workers import Job

PASSWORD_NOTE = (
    "Leave the password empty to use the one in your .pgpass file (pgpass.conf on "
    "Windows), your PostgreSQL service file or your keyring. A password typed here is "
    "used for this session only and is never saved."
)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return ""


class ServerStoreDialog(QDialog):
    """Asks where the server store is and opens it in the background; ``opened(store)``
    is emitted (and the dialog accepted) once it is open."""

    opened = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        opener: Callable[..., Store] = Store.open,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open a server store")
        self.setAccessibleName("Open a server store")
        self._opener = opener
        self._job: Job | None = None
        self.host = QLineEdit()
        self.host.setAccessibleName("Server host")
        self.host.setPlaceholderText("e.g. plans-db.council.gov.uk")
        self.port = QSpinBox()
        self.port.setAccessibleName("Server port")
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.database = QLineEdit()
        self.database.setAccessibleName("Database name")
        self.database.setPlaceholderText("e.g. csp_plans")
        self.user = QLineEdit(_user())
        self.user.setAccessibleName("User name")
        self.password = QLineEdit()
        self.password.setAccessibleName("Password (optional, never saved)")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        note = QLabel(PASSWORD_NOTE)
        note.setWordWrap(True)
        note.setAccessibleName("About the password")
        self.status = QLabel()
        self.status.setObjectName("formError")
        self.status.setAccessibleName("Status")
        self.status.setWordWrap(True)
        self.status.hide()

        form = QFormLayout()
        form.addRow("&Host", self.host)
        form.addRow("P&ort", self.port)
        form.addRow("&Database", self.database)
        form.addRow("&User", self.user)
        form.addRow("Pass&word", self.password)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.open_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.open_button.setText("&Open")
        self.open_button.setAccessibleName("Open the server store")
        self.buttons.accepted.connect(self._open)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

    def location(self) -> str:
        """The store's URL as typed (never with the password)."""
        return server_url(
            host=self.host.text().strip(),
            port=self.port.value(),
            database=self.database.text().strip(),
            user=self.user.text().strip(),
        )

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    @Slot()
    def _open(self) -> None:
        if self._job is not None:
            return
        if not self.host.text().strip() or not self.database.text().strip():
            self._say("Give the server's host and the database name.")
            return
        location = self.location()
        password = self.password.text() or None
        opener = self._opener

        def work(progress: Progress) -> Store:
            try:
                store = opener(location, password=password)
            except PartnershipChoiceError:
                # Several partnerships and none named: the window asks which once the
                # store is open (MainWindow.adopt_store), on the UI thread.
                store = opener(location, password=password, all_partnerships=True)
            if progress.cancelled:  # closed while connecting: let the store go again
                store.close()
                raise Cancelled()
            return store

        self._say("Connecting to the server…")
        self._set_busy(True)
        job = Job(work, self)
        job.succeeded.connect(self._on_opened)
        job.failed.connect(self._on_failed)
        job.finished.connect(self._on_finished)
        self._job = job
        job.start()

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.host, self.port, self.database, self.user, self.password):
            widget.setEnabled(not busy)
        self.open_button.setEnabled(not busy)

    @Slot(object)
    def _on_opened(self, store: object) -> None:
        self._say("")
        self.opened.emit(store)
        self.accept()

    @Slot(str, str)
    def _on_failed(self, message: str, _details: str) -> None:
        self._say(f"Could not open the server store. {message}")

    @Slot()
    def _on_finished(self) -> None:
        if self._job is not None:
            self._job.deleteLater()
        self._job = None
        self._set_busy(False)

    def reject(self) -> None:
        if self._job is not None:
            self._job.cancel()  # a store that opens after all is closed again (work())
        super().reject()

    def wait(self, msecs: int = -1) -> bool:
        """Block until a connection attempt has finished (closing the window, tests)."""
        return self._job.wait(msecs) if self._job is not None else True
