"""Keys in the window: joining a partnership, enrolling a lead, this install's keys.

* :class:`JoinDialog` (a theme lead, before their starter bundle): name and email, then
  a join request file to send to the strategy team and the fingerprint to read to them.
* :class:`EnrolDialog` (the master): a join request (or the recovery key's public file)
  and its fingerprint, shown large to compare with what the person reads out; nothing is
  enrolled unless the fingerprint typed (or confirmed) matches.
* :class:`MasterFingerprintDialog` (a theme lead, importing their first starter
  bundle): the fingerprint of the master copy that signed it, shown large to compare with
  what the strategy team reads out; the import goes ahead only when it matches.
* :class:`KeysDialog` (Help > Your keys): this install's fingerprint, where its private
  keys are kept, the keys the open partnership trusts (and withdrawing that trust from a
  lead's or the recovery key), and rotating the keys.

Trust is per partnership: a store holding several is open for one, and both the list
of trusted keys and an enrolment are that partnership's (named in both dialogs).

Key work is fast (a few milliseconds), so it runs on the UI thread.
"""

from __future__ import annotations

import html
import uuid
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ssp_desktop.domain.errors import SspError
from ssp_desktop.domain.sync_records import ROLE_MASTER
from ssp_desktop.store.engine import Store
from ssp_desktop.sync import keys, trust
from ssp_desktop.sync.keys import JoinRequest, RecoveryPublic
from ssp_desktop.ui.dialogs import MessageLabel

JOIN_FILTER = "Join requests (*.sspjoin)"
ENROL_FILTER = "Join requests and recovery keys (*.sspjoin *.ssprecovery-public)"


def trusted_for(store: Store | None) -> str:
    """The partnership whose trust the dialogs show and change ("" when not known)."""
    if store is None or store.partnership is None:
        return ""
    return store.partnership.name


def fingerprint_label(text: str = "") -> QLabel:
    """A fingerprint in large fixed-width type, selectable, so it is easy to read aloud."""
    label = QLabel(text)
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(font.pointSizeF() * 1.5)
    font.setWeight(QFont.Weight.Bold)
    label.setFont(font)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName("Fingerprint")
    return label


def spoken(fingerprint: str) -> str:
    """The fingerprint as a screen reader should say it: group by group."""
    return ", ".join(" ".join(group) for group in fingerprint.split("-"))


class JoinDialog(QDialog):
    """Write a join request for the strategy team and show the fingerprint to read out."""

    written = Signal(object)  # the JoinRequest

    def __init__(self, parent: QWidget | None = None, *, first_run: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Join a partnership")
        self.setMinimumWidth(480)  # room for the fingerprint on one line
        self.request: JoinRequest | None = None
        intro = QLabel(
            "<p>Your copy of the plan is made from a <b>starter bundle</b> that the strategy "
            "team encrypts for this computer. To get one, send them a join request: it holds "
            "your name, your email and this computer's public keys, and nothing from any "
            "plan.</p><p>Then read them the fingerprint shown below, by phone or in person, "
            "so they know the request is yours.</p>"
        )
        intro.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setAccessibleName("Your name")
        self.email = QLineEdit()
        self.email.setAccessibleName("Your email address")
        form = QFormLayout()
        form.addRow("Your &name:", self.name)
        form.addRow("Your &email:", self.email)
        self.message = MessageLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Join request status")
        self.fingerprint = fingerprint_label()
        self.fingerprint.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.addButton(
            "&Save join request…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.save_button.setAccessibleName("Save the join request")
        self.save_button.clicked.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if first_run:
            welcome = QLabel(
                "<p><b>Welcome to ssp-desktop.</b> If you lead a theme of the plan, start "
                "here.</p><p>If you are the strategy team setting up the master copy, close "
                "this and start a new plan or open your store; Join stays on the start page "
                "and under Help &gt; Your keys.</p>"
            )
            welcome.setWordWrap(True)
            welcome.setAccessibleName("Welcome")
            layout.addWidget(welcome)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.fingerprint)
        layout.addWidget(self.buttons)

    def choose_path(self) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the join request", str(Path.home() / "join-request.sspjoin"), JOIN_FILTER
        )
        return Path(name) if name else None

    def save(self) -> None:
        path = self.choose_path()
        if path is None:
            return
        try:
            request = keys.write_join_request(
                path, name=self.name.text(), email=self.email.text(), identity=keys.this_install()
            )
        except (SspError, OSError) as exc:
            self.message.setText(f"Not saved: {exc}")
            return
        self.request = request
        self.message.setText(
            f"Saved {path.name}. Send it to the strategy team (email is fine: it holds no "
            "plan data), then read them this fingerprint:"
        )
        self.fingerprint.setText(request.fingerprint)
        self.fingerprint.setAccessibleDescription(spoken(request.fingerprint))
        self.fingerprint.show()
        self.written.emit(request)


class EnrolDialog(QDialog):
    """On the master copy: enrol a lead's join request (or the recovery key)."""

    enrolled = Signal(object)  # trust.Enrolled

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.request: JoinRequest | None = None
        self.recovery: RecoveryPublic | None = None
        self.setWindowTitle("Enrol a lead")
        self.setMinimumWidth(520)  # the fingerprint and the hint in the box fit on one line
        partnership = trusted_for(store)
        where = (
            f"<p>They are enrolled for <b>{html.escape(partnership)}</b> only: its bundles "
            "are the ones their key will be trusted to send.</p>"
            if partnership
            else ""
        )
        intro = QLabel(
            f"{where}<p>Choose the join request the person sent you. Then ask them, by phone "
            "or in person, to read out the fingerprint their app shows (Help > Your keys). "
            "Enrol only if it is the one below, group for group.</p>"
        )
        intro.setWordWrap(True)
        self.choose_button = QPushButton("&Choose a join request…")
        self.choose_button.setAccessibleName("Choose a join request file")
        self.choose_button.clicked.connect(self.choose)
        self.who = QLabel()
        self.who.setWordWrap(True)
        self.who.setAccessibleName("Who the request is from")
        self.fingerprint = fingerprint_label()
        self.typed = QLineEdit()
        self.typed.setAccessibleName("Fingerprint they read out")
        self.typed.setPlaceholderText("Type it as they read it (optional if you tick below)")
        self.confirm = QCheckBox("They read me this fingerprint and it &matches")
        self.confirm.setAccessibleName("The fingerprint they read matches")
        form = QFormLayout()
        form.addRow("Fingerprint &they read:", self.typed)
        self.message = MessageLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Enrolment status")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.enrol_button = self.buttons.addButton("&Enrol", QDialogButtonBox.ButtonRole.ApplyRole)
        self.enrol_button.setAccessibleName("Enrol them")
        self.enrol_button.clicked.connect(self.enrol)
        self.buttons.rejected.connect(self.reject)
        self.typed.textChanged.connect(self._update)
        self.confirm.toggled.connect(self._update)
        row = QHBoxLayout()
        row.addWidget(self.choose_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.who)
        layout.addWidget(self.fingerprint)
        layout.addLayout(form)
        layout.addWidget(self.confirm)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._update()

    def choose_file(self) -> Path | None:
        name, _ = QFileDialog.getOpenFileName(self, "Choose a join request", "", ENROL_FILTER)
        return Path(name) if name else None

    def choose(self) -> None:
        path = self.choose_file()
        if path is not None:
            self.load(path)

    def load(self, path: Path) -> None:
        self.request, self.recovery = None, None
        try:
            if path.name.endswith(keys.RECOVERY_PUBLIC_EXTENSION):
                self.recovery = keys.read_recovery_public(path)
                expected = self.recovery.fingerprint
                self.who.setText(
                    "The <b>partnership recovery key</b>: once enrolled, every bundle is also "
                    "encrypted to it. Compare with the fingerprint written down when it was made."
                )
            else:
                self.request = keys.read_join_request(path)
                expected = self.request.fingerprint
                self.who.setText(
                    f"From <b>{html.escape(self.request.name)}</b> "
                    f"({html.escape(self.request.email)}), made {self.request.created_at[:10]}."
                )
        except SspError as exc:
            self.who.setText("")
            self.fingerprint.setText("")
            self.message.setText(str(exc))
            self._update()
            return
        self.fingerprint.setText(expected)
        self.fingerprint.setAccessibleDescription(spoken(expected))
        self.message.setText("")
        self._update()

    def _update(self) -> None:
        loaded = self.request is not None or self.recovery is not None
        self.enrol_button.setEnabled(
            loaded and (bool(self.typed.text().strip()) or self.confirm.isChecked())
        )

    def enrol(self) -> None:
        expected = self.fingerprint.text()
        typed = self.typed.text().strip() or (expected if self.confirm.isChecked() else "")
        try:
            if self.recovery is not None:
                result = trust.enrol_recovery(self.store, self.recovery, typed)
            elif self.request is not None:
                result = trust.enrol(self.store, self.request, typed)
            else:
                return
        except SspError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(result.describe() + " You can now export a bundle for them.")
        self.enrolled.emit(result)


class MasterFingerprintDialog(QDialog):
    """Before a lead's copy trusts the master copy that signed a starter bundle: the
    signer's fingerprint, large, and what the strategy team reads out (typed, or ticked
    as matching). ``confirmed(typed)`` carries what was typed (or the fingerprint shown,
    when ticked) once it matches; the importer checks it again before anything is made.
    """

    confirmed = Signal(str)

    def __init__(self, expected: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.expected = expected
        self.setWindowTitle("Check the strategy team's fingerprint")
        self.setAccessibleName("Check the strategy team's fingerprint")
        self.setMinimumWidth(520)
        intro = QLabel(
            "This starter bundle makes your copy of the plan trust the master copy that "
            "signed it. Phone the strategy team (or meet them) and ask them to read the "
            "fingerprint their app shows (Help > Your keys). Import only if it is the one "
            "below, group for group. If it differs, the bundle may not be from them."
        )
        intro.setWordWrap(True)
        self.fingerprint = fingerprint_label(expected)
        self.fingerprint.setAccessibleName("Fingerprint of the master copy that signed it")
        self.fingerprint.setAccessibleDescription(spoken(expected))
        self.typed = QLineEdit()
        self.typed.setAccessibleName("Fingerprint the strategy team read out")
        self.typed.setPlaceholderText("Type it as they read it (optional if you tick below)")
        self.confirm = QCheckBox("They read me this fingerprint and it &matches")
        self.confirm.setAccessibleName("The fingerprint they read matches")
        form = QFormLayout()
        form.addRow("Fingerprint &they read:", self.typed)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Fingerprint check")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "&Trust it and import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setAccessibleName("Trust the master copy and import the bundle")
        self.import_button.clicked.connect(self.check)
        self.buttons.rejected.connect(self.reject)
        self.typed.textChanged.connect(self._update)
        self.confirm.toggled.connect(self._update)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.fingerprint)
        layout.addLayout(form)
        layout.addWidget(self.confirm)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._update()

    def _update(self) -> None:
        self.import_button.setEnabled(bool(self.typed.text().strip()) or self.confirm.isChecked())
        self.message.setText("")

    def check(self) -> None:
        typed = self.typed.text().strip() or (self.expected if self.confirm.isChecked() else "")
        try:
            trust.check_master_fingerprint(self.expected, typed)
        except SspError as exc:
            self.message.setText(str(exc))
            self.adjustSize()  # the explanation is several lines: show all of it
            return
        self.confirmed.emit(typed)
        self.accept()


class KeysDialog(QDialog):
    """This install's fingerprint and keys, and the keys the open store trusts."""

    def __init__(self, store: Store | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Your keys")
        self.intro = QLabel(
            "This computer signs the bundles it writes with its own key, and bundles for it "
            "are encrypted to it. Read this fingerprint to the strategy team when you join."
        )
        self.intro.setWordWrap(True)
        self.fingerprint = fingerprint_label()
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setAccessibleName("Where the private keys are kept")
        partnership = trusted_for(store)
        trusted = f"Keys trusted for {partnership}" if partnership else "Keys the open store trusts"
        self.table = QTableWidget(0, 4)
        self.table.setAccessibleName(trusted)
        self.table.setHorizontalHeaderLabels(["Role", "Who", "Fingerprint", "Status"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self._update_withdraw)
        self.withdraw_button = QPushButton("&Stop trusting this key…")
        self.withdraw_button.setAccessibleName(
            f"Stop trusting the chosen key for {partnership}"
            if partnership
            else "Stop trusting the chosen key"
        )
        self.withdraw_button.clicked.connect(self.ask_withdraw)
        self.withdraw_button.setEnabled(False)  # until a key is chosen
        self.trust_message = MessageLabel()
        self.trust_message.setWordWrap(True)
        self.trust_message.setAccessibleName("Trust status")
        self.rotate_button = QPushButton("&Make new keys (rotate)…")
        self.rotate_button.setAccessibleName("Make new keys")
        self.rotate_button.clicked.connect(self.ask_rotate)
        self.join_button = QPushButton("&Join a partnership…")
        self.join_button.setAccessibleName("Make a join request")
        self.join_button.clicked.connect(lambda: JoinDialog(self).open())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.join_button)
        row.addWidget(self.rotate_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.fingerprint)
        layout.addWidget(self.where)
        self.trusted_label = QLabel(f"{trusted}:")
        self.trusted_label.setWordWrap(True)
        layout.addWidget(self.trusted_label)
        layout.addWidget(self.table, 1)
        trust_row = QHBoxLayout()
        trust_row.addWidget(self.withdraw_button)
        trust_row.addStretch(1)
        layout.addLayout(trust_row)
        layout.addWidget(self.trust_message)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        try:
            identity = keys.this_install()
        except SspError as exc:
            self.fingerprint.setText("")
            self.where.setText(str(exc))
            return
        self.fingerprint.setText(identity.fingerprint)
        self.fingerprint.setAccessibleDescription(spoken(identity.fingerprint))
        self.where.setText(f"Private keys kept in: {keys.key_location()}")
        self.table.setRowCount(0)
        if self.store is None:
            return
        with self.store.session() as s:
            rows = [
                (r.id, r.role, (r.role, r.name or r.email, r.fingerprint, r.status))
                for r in trust.enrolled_people(s)
            ]
        self.table.setRowCount(len(rows))
        for i, (key_id, role, values) in enumerate(rows):
            for j, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, (key_id, role))
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self._update_withdraw()

    def _chosen_key(self) -> tuple[uuid.UUID, str] | None:
        items = self.table.selectedItems()
        if not items:
            return None
        chosen: tuple[uuid.UUID, str] = items[0].data(Qt.ItemDataRole.UserRole)
        return chosen

    def _update_withdraw(self) -> None:
        chosen = self._chosen_key()
        # A lead copy's master key is how it knows its bundles' sender: not withdrawn.
        self.withdraw_button.setEnabled(chosen is not None and chosen[1] != ROLE_MASTER)

    def confirm_withdraw(self, who: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Stop trusting this key?",
            f"Stop trusting {who} for {trusted_for(self.store) or 'this store'}? Bundles "
            "it signs will be refused, and no bundle will be encrypted to it. To trust the "
            "person again, enrol a new join request from them.",
        )
        return answer == QMessageBox.StandardButton.Yes

    def ask_withdraw(self) -> None:
        chosen = self._chosen_key()
        if chosen is None or self.store is None:
            return
        row = self.table.currentRow()
        who_item = self.table.item(row, 1)
        who = who_item.text() if who_item is not None and who_item.text() else "this key"
        if not self.confirm_withdraw(who):
            return
        try:
            done = trust.withdraw(self.store, chosen[0])
        except SspError as exc:
            self.trust_message.setText(str(exc))
            return
        self.refresh()
        self.trust_message.setText(done)

    def confirm_rotate(self) -> bool:
        answer = QMessageBox.question(
            self,
            "Make new keys?",
            "New keys replace this computer's keys. Your next bundle tells the master copy, "
            "signed with your old key, so bundles keep flowing. Do this if you think your "
            "keys were exposed. Continue?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def ask_rotate(self) -> None:
        if not self.confirm_rotate():
            return
        try:
            keys.rotate_identity()
        except (SspError, OSError) as exc:
            QMessageBox.warning(self, "Keys not changed", str(exc))
            return
        self.refresh()
