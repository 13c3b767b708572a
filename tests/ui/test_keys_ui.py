"""Joining, enrolling and this install's keys in the window (issue 7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.app import configure_settings
from ssp_desktop.domain.sync_records import SyncKey
from ssp_desktop.store.engine import Store
from ssp_desktop.sync import keys
from ssp_desktop.ui.keys_ui import EnrolDialog, JoinDialog, KeysDialog
from ssp_desktop.ui.main_window import MainWindow
from tests.factories import MiniPlan, mini_plan

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

EMAIL = "alice@example.org"


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    plan = mini_plan(store)
    with store.transaction() as tx:
        person = tx.get(type(plan.person), plan.person.id)
        assert person is not None
        services.edit(tx, person, email=EMAIL)
    return plan


def _join_request(qtbot: QtBot, tmp_path: Path) -> tuple[JoinDialog, Path]:
    dialog = JoinDialog()
    qtbot.addWidget(dialog)
    path = tmp_path / "alice.sspjoin"
    dialog.choose_path = lambda: path  # type: ignore[method-assign]
    qtbot.keyClicks(dialog.name, "Alice")
    qtbot.keyClicks(dialog.email, EMAIL)
    dialog.save_button.click()
    return dialog, path


def test_the_join_dialog_writes_a_request_and_shows_the_fingerprint(
    qtbot: QtBot, tmp_path: Path
) -> None:
    dialog = JoinDialog()
    qtbot.addWidget(dialog)
    dialog.choose_path = lambda: tmp_path / "x.sspjoin"  # type: ignore[method-assign]
    qtbot.keyClicks(dialog.name, "Alice")
    qtbot.keyClicks(dialog.email, "not an email")
    dialog.save_button.click()
    assert "Not saved" in dialog.message.text() and not (tmp_path / "x.sspjoin").exists()

    dialog, path = _join_request(qtbot, tmp_path)
    assert path.exists()
    assert dialog.fingerprint.text() == keys.this_install().fingerprint
    assert not dialog.fingerprint.isHidden()
    assert "Send it to the strategy team" in dialog.message.text()
    assert dialog.fingerprint.accessibleDescription().count(",") == 7  # read group by group
    assert keys.read_join_request(path).email == EMAIL


def _enrolled(store: Store) -> list[str]:
    with store.session() as s:
        return [k.email for k in s.scalars(select(SyncKey))]


def test_the_enrol_dialog_enrols_only_a_matching_fingerprint(
    qtbot: QtBot, store: Store, plan: MiniPlan, tmp_path: Path
) -> None:
    join, path = _join_request(qtbot, tmp_path)
    dialog = EnrolDialog(store)
    qtbot.addWidget(dialog)
    assert not dialog.enrol_button.isEnabled()  # nothing chosen yet
    dialog.choose_file = lambda: path  # type: ignore[method-assign]
    dialog.choose_button.click()
    assert dialog.fingerprint.text() == join.fingerprint.text()  # shown to compare
    assert "Alice" in dialog.who.text()
    assert not dialog.enrol_button.isEnabled()  # not typed, not confirmed

    qtbot.keyClicks(dialog.typed, keys.Identity.generate().fingerprint)  # misheard
    assert dialog.enrol_button.isEnabled()
    with qtbot.assertNotEmitted(dialog.enrolled):
        dialog.enrol_button.click()
    assert "does not match" in dialog.message.text()
    assert _enrolled(store) == []

    dialog.typed.clear()
    qtbot.keyClicks(dialog.typed, join.fingerprint.text().lower().replace("-", " "))
    with qtbot.waitSignal(dialog.enrolled):
        dialog.enrol_button.click()
    assert "Enrolled" in dialog.message.text()
    assert _enrolled(store) == [EMAIL]


def test_confirming_the_fingerprint_by_ticking_enrols(
    qtbot: QtBot, store: Store, plan: MiniPlan, tmp_path: Path
) -> None:
    _, path = _join_request(qtbot, tmp_path)
    dialog = EnrolDialog(store)
    qtbot.addWidget(dialog)
    dialog.load(path)
    dialog.confirm.click()
    assert dialog.enrol_button.isEnabled()
    dialog.enrol_button.click()
    assert _enrolled(store) == [EMAIL]


def test_a_damaged_join_request_is_explained(qtbot: QtBot, store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.sspjoin"
    path.write_text("{}")
    dialog = EnrolDialog(store)
    qtbot.addWidget(dialog)
    dialog.load(path)
    assert "not an ssp-desktop join request" in dialog.message.text()
    assert not dialog.enrol_button.isEnabled()


def test_the_keys_dialog_shows_the_fingerprint_and_rotates(
    qtbot: QtBot, store: Store, plan: MiniPlan, tmp_path: Path
) -> None:
    _, path = _join_request(qtbot, tmp_path)
    from ssp_desktop.sync import trust

    request = keys.read_join_request(path)
    trust.enrol(store, request, request.fingerprint)
    dialog = KeysDialog(store)
    qtbot.addWidget(dialog)
    before = dialog.fingerprint.text()
    assert before == keys.this_install().fingerprint
    assert "private.json" in dialog.where.text()
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 2).text() == before
    dialog.confirm_rotate = lambda: True  # type: ignore[method-assign]
    dialog.rotate_button.click()
    assert dialog.fingerprint.text() not in ("", before)
    assert keys.this_install().fingerprint == dialog.fingerprint.text()


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    configure_settings()
    w = MainWindow()
    qtbot.addWidget(w)
    yield w
    w.close_store()


def test_a_first_run_lead_is_asked_to_join_before_importing(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert "no keys yet" in window.about_text()
    dialog = window.import_starter()  # the welcome page's Import a bundle
    assert isinstance(dialog, JoinDialog)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Close).click()
    fingerprint = keys.this_install().fingerprint
    assert fingerprint in window.about_text()


def test_enrol_is_offered_once_a_master_store_is_open(
    qtbot: QtBot, window: MainWindow, store_path: Path
) -> None:
    assert not window.enrol_action.isEnabled()
    with Store.open(store_path, create=True) as s:
        mini_plan(s)
    assert window.open_store(store_path)
    assert window.enrol_action.isEnabled()
    assert isinstance(window.enrol(), EnrolDialog)
    assert isinstance(window.show_keys(), KeysDialog)


def test_the_first_start_without_keys_offers_the_join_dialog_once(qtbot: QtBot) -> None:
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    dialog = window.offer_join_on_first_run()
    assert isinstance(dialog, JoinDialog) and dialog.isVisible()
    assert any("strategy team" in label.text() for label in dialog.findChildren(QLabel))
    dialog.reject()
    # Closed once (the strategy team setting up the master): never offered again.
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.offer_join_on_first_run() is None


def test_the_join_dialog_is_not_offered_once_this_computer_has_keys(qtbot: QtBot) -> None:
    configure_settings()
    keys.this_install()
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.offer_join_on_first_run() is None


def test_the_keys_dialog_shows_and_withdraws_the_open_partnerships_trust(
    qtbot: QtBot, store_path: Path, tmp_path: Path
) -> None:
    import uuid

    from PySide6.QtCore import Qt

    from ssp_desktop.domain.records import Partnership, Person
    from ssp_desktop.sync import trust
    from ssp_desktop.sync.keys import Identity, JoinRequest, make_recovery_key

    with Store.open(store_path, create=True) as s:
        plan = mini_plan(s)
        with s.transaction() as tx:
            person = tx.get(Person, plan.person.id)
            assert person is not None
            services.edit(tx, person, email=EMAIL)
            other = services.create(tx, Partnership(name="Other CSP", area="Elsewhere"))
            services.create(
                tx, Person(id=uuid.uuid4(), partnership_id=other.id, name="Al", email=EMAIL)
            )
    ours, theirs = Identity.generate(), Identity.generate()
    with Store.open(store_path, partnership="Other CSP") as s:
        trust.enrol(s, JoinRequest("Al", EMAIL, theirs.public, ""), theirs.fingerprint)
    with Store.open(store_path, partnership="Test CSP") as s:
        trust.enrol(s, JoinRequest("Alice", EMAIL, ours.public, ""), ours.fingerprint)
        key = make_recovery_key(tmp_path / "r.ssprecovery-public", tmp_path / "r.ssprecovery")
        trust.enrol_recovery(s, key, key.fingerprint)
        dialog = KeysDialog(s)
        qtbot.addWidget(dialog)
        assert dialog.trusted_label.text() == "Keys trusted for Test CSP:"
        shown = {dialog.table.item(i, 2).text() for i in range(dialog.table.rowCount())}
        assert shown == {ours.fingerprint, key.fingerprint}  # not Other CSP's
        assert not dialog.withdraw_button.isEnabled()
        row = next(
            i
            for i in range(dialog.table.rowCount())
            if dialog.table.item(i, 2).text() == ours.fingerprint
        )
        rect = dialog.table.visualItemRect(dialog.table.item(row, 0))
        qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert dialog.withdraw_button.isEnabled()
        dialog.confirm_withdraw = lambda who: who == "Alice"  # type: ignore[method-assign]
        qtbot.mouseClick(dialog.withdraw_button, Qt.MouseButton.LeftButton)
        assert "no longer trusted for Test CSP" in dialog.trust_message.text()
        shown = {dialog.table.item(i, 2).text() for i in range(dialog.table.rowCount())}
        assert shown == {key.fingerprint}
    with Store.open(store_path, partnership="Other CSP") as s, s.session() as session:
        assert [k.fingerprint for k in trust.enrolled_people(session)] == [theirs.fingerprint]
