"""Sharing updates in the window: export dialog, import wizard, conflicts and badge."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QDialogButtonBox, QWizard
from pytestqt.qtbot import QtBot

from ssp_desktop import services
from ssp_desktop.app import configure_settings
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.records import Action
from ssp_desktop.store.engine import Store
from ssp_desktop.sync.bundle import read_bundle
from ssp_desktop.sync.conflicts import conflicts_for
from ssp_desktop.sync.export import export_snapshot
from ssp_desktop.sync.keys import this_install
from ssp_desktop.sync.seal import Opener, TrustAnyone
from ssp_desktop.ui.history import HistoryModel
from ssp_desktop.ui.main_window import MainWindow
from ssp_desktop.ui.sync_ui import ConflictsDialog, ExportBundleDialog, ImportBundleWizard
from tests.sync.helpers import (
    LEAD_A,
    LEAD_R,
    World,
    enrol_identity,
    lead_change,
    master_on_this_install,
    new_identity,
)

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The window runs as this install, so the world's master uses this install's keys."""
    w = master_on_this_install(tmp_path)
    yield w
    w.close()


@pytest.fixture
def window(qtbot: QtBot, world: World) -> Iterator[MainWindow]:
    """The master copy open in the window (the world hands its store over)."""
    configure_settings()
    path = world.master.path
    world.master.close()
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.open_store(path)
    assert w.store is not None
    world.master = w.store
    yield w
    w.close_store()
    world.master = Store.open(path)  # for the world fixture to close


def retitle(world: World, title: str) -> Callable[[Transaction], object]:
    """Work for ``document.edit``: the plan's action gets a new title."""

    def work(tx: Transaction) -> object:
        action = tx.get(Action, world.plan.action.id)
        assert action is not None
        return services.edit(tx, action, title=title)

    return work


def run_wizard(qtbot: QtBot, wizard: ImportBundleWizard, bundle: Path) -> None:
    wizard.file_page.path.setText(str(bundle))
    wizard.next()
    qtbot.waitUntil(
        lambda: wizard.preview_page.isComplete() or "not" in wizard.preview_page.text.toPlainText(),
        timeout=10000,
    )
    assert wizard.job is not None
    wizard.next()  # the commit button: Import
    qtbot.waitUntil(lambda: wizard.summary_page.isComplete(), timeout=10000)


def test_import_wizard_previews_applies_and_refreshes(
    qtbot: QtBot, window: MainWindow, world: World
) -> None:
    bundle = lead_change(world, "Title from the lead")
    old_workspace = window.workspace
    wizard = window.import_bundle()
    assert isinstance(wizard, ImportBundleWizard)
    wizard.file_page.path.setText(str(bundle))
    wizard.next()
    qtbot.waitUntil(wizard.preview_page.isComplete, timeout=10000)
    preview = wizard.preview_page.text.toPlainText()
    assert "1 updated" in preview
    # The table shows the field, the title here now and the lead's.
    table = wizard.preview_page.table.model
    lines = [table.line(r) for r in range(table.rowCount())]
    assert [(x.record, x.field, x.before, x.after, x.decision) for x in lines] == [
        ("action PVP-01", "title", "Fund IDVAs", "Title from the lead", "Update")
    ]
    with window.store.session() as s:  # type: ignore[union-attr]
        assert s.get(Action, world.plan.action.id).title == "Fund IDVAs"  # type: ignore[union-attr]
    wizard.next()
    qtbot.waitUntil(wizard.summary_page.isComplete, timeout=10000)
    summary = wizard.summary_page.text.toPlainText()
    # Where the backup is, and how much space the import backups take.
    (copy,) = world.folder.glob("master.backup-*-before-bundle-*.sqlite")
    assert f"A copy of the store from before the import: {copy}" in summary
    assert f"Import backups in {world.folder}: 1, using " in summary
    # Done: Finish only (there is nothing left to cancel or go back to).
    if wizard.isVisible():
        assert not wizard.button(QWizard.WizardButton.CancelButton).isVisible()
        assert not wizard.button(QWizard.WizardButton.BackButton).isVisible()
    assert wizard.testOption(QWizard.WizardOption.NoCancelButtonOnLastPage)
    with window.store.session() as s:  # type: ignore[union-attr]
        assert s.get(Action, world.plan.action.id).title == "Title from the lead"  # type: ignore[union-attr]
    # The views were rebuilt from the store, and undo cannot reach behind the import.
    assert window.workspace is not None and window.workspace is not old_workspace
    assert not window.undo_action.isEnabled()


def test_history_shows_a_merged_change_as_the_leads_with_when_it_arrived(
    qtbot: QtBot, window: MainWindow, world: World
) -> None:
    bundle = lead_change(world, "Title from the lead")
    run_wizard(qtbot, window.import_bundle(), bundle)  # type: ignore[arg-type]
    assert window.document is not None
    model = HistoryModel(window.document)
    model.set_record(world.plan.action.id)
    who = model.index(0, 1).data()
    assert who.startswith(f"{world.plan.person.name} (received ") and "bundle:" not in who
    assert model.index(0, 2).data() == "Title"


def test_a_damaged_file_is_explained_in_the_wizard(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.sspbundle"
    bad.write_text("not a bundle")
    wizard = window.import_bundle()
    assert wizard is not None
    wizard.file_page.path.setText(str(bad))
    wizard.next()
    qtbot.waitUntil(
        lambda: "not an ssp-desktop bundle" in wizard.preview_page.text.toPlainText(), timeout=10000
    )
    assert not wizard.preview_page.isComplete()  # nothing to apply


def test_conflicts_badge_and_side_by_side_resolution(
    qtbot: QtBot, window: MainWindow, world: World
) -> None:
    bundle = lead_change(world, "Lead title")
    assert window.document is not None
    window.document.edit("rename", retitle(world, "Master title"))
    assert not window.conflict_badge.isVisible()
    wizard = window.import_bundle()
    assert wizard is not None
    run_wizard(qtbot, wizard, bundle)
    window.show()
    assert window.conflict_badge.isVisible() and window.conflict_badge.text() == "⚠ 1 conflict"
    dialog = window.show_conflicts()
    assert isinstance(dialog, ConflictsDialog)
    assert dialog.values["base"].toPlainText() == "Fund IDVAs"
    assert dialog.values["local"].toPlainText() == "Master title"
    assert dialog.values["incoming"].toPlainText() == "Lead title"
    assert "someone" in dialog.who.text() or dialog.who.text().startswith("Incoming value by")
    changed: list[object] = []
    window.document.changed.connect(lambda _e, rid: changed.append(rid))
    dialog.theirs.click()
    assert world.plan.action.id in changed  # open views are told
    assert dialog.list.count() == 0 and not dialog.theirs.isEnabled()
    assert not window.conflict_badge.isVisible()
    with window.store.session() as s:  # type: ignore[union-attr]
        assert s.get(Action, world.plan.action.id).title == "Lead title"  # type: ignore[union-attr]


def _title(window: MainWindow, world: World) -> str:
    with window.store.session() as s:  # type: ignore[union-attr]
        action = s.get(Action, world.plan.action.id)
        assert action is not None
        return action.title


def test_take_theirs_after_an_edit_then_undo_loses_nothing(
    qtbot: QtBot, window: MainWindow, world: World
) -> None:
    """The issue's scenario: a master copy with one title conflict; the title is edited,
    Take theirs chosen, then Edit > Undo."""
    bundle = lead_change(world, "Lead title")
    assert window.document is not None
    window.document.edit("rename", retitle(world, "Master title"))
    run_wizard(qtbot, window.import_bundle(), bundle)  # type: ignore[arg-type]
    dialog = window.show_conflicts()
    assert dialog is not None and dialog.list.count() == 1
    assert dialog.values["local"].toPlainText() == "Master title"
    # The title is edited while the dialog is open: "This copy" follows the record.
    assert window.document.edit("Change title", retitle(world, "Edited title"))
    assert window.undo_action.isEnabled()
    assert dialog.values["local"].toPlainText() == "Edited title"
    assert dialog.values["incoming"].toPlainText() == "Lead title"
    dialog.theirs.click()
    assert dialog.list.count() == 0 and _title(window, world) == "Lead title"
    # The decision ended the undo history by itself: undo cannot take the value back.
    assert not window.undo_action.isEnabled()
    window.undo_action.trigger()
    assert _title(window, world) == "Lead title"
    # Nothing is lost: the resolved conflict keeps the value it replaced.
    (decided,) = conflicts_for(window.store, world.plan.action.id)  # type: ignore[arg-type]
    assert (decided.local, decided.incoming, decided.resolution) == (
        "Edited title",
        "Lead title",
        "theirs",
    )


def test_the_conflicts_dialog_shows_this_copys_value_as_it_is_now(
    qtbot: QtBot, window: MainWindow, world: World
) -> None:
    bundle = lead_change(world, "Lead title")
    assert window.document is not None
    window.document.edit("rename", retitle(world, "Master title"))
    run_wizard(qtbot, window.import_bundle(), bundle)  # type: ignore[arg-type]
    window.document.edit("Change title", retitle(world, "Edited title"))
    dialog = window.show_conflicts()
    assert dialog is not None
    assert dialog.values["local"].toPlainText() == "Edited title"  # not the stale value
    dialog.mine.click()  # keeps the current value
    assert _title(window, world) == "Edited title"


def test_edit_resolution_writes_the_typed_value(
    qtbot: QtBot, window: MainWindow, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = lead_change(world, "Lead title")
    assert window.document is not None
    window.document.edit("rename", retitle(world, "Master title"))
    run_wizard(qtbot, window.import_bundle(), bundle)  # type: ignore[arg-type]
    dialog = window.show_conflicts()
    assert dialog is not None
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Agreed title", True))
    dialog.edit.click()
    with window.store.session() as s:  # type: ignore[union-attr]
        assert s.get(Action, world.plan.action.id).title == "Agreed title"  # type: ignore[union-attr]


def test_export_dialog_on_the_master_makes_a_starter_for_a_person(
    qtbot: QtBot, window: MainWindow, world: World, tmp_path: Path
) -> None:
    dialog = window.export_bundle()
    assert isinstance(dialog, ExportBundleDialog) and not dialog.lead
    index = dialog.person.findText("alice@example.org", Qt.MatchFlag.MatchContains)
    dialog.person.setCurrentIndex(index)
    assert "Not enrolled" in dialog.enrolment.text()
    world.enrol(LEAD_A)
    dialog.person.setCurrentIndex(-1)
    dialog.person.setCurrentIndex(index)
    assert world.keys[LEAD_A].fingerprint in dialog.enrolment.text()
    assert dialog.chosen_themes() == []  # she leads no theme yet: nothing ticked
    codes = [
        dialog.themes.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dialog.themes.count())
    ]
    assert codes == ["PVP", "RCH"]
    dialog.themes.item(0).setCheckState(Qt.CheckState.Checked)
    assert dialog.chosen_themes() == ["PVP"]
    out = tmp_path / "alice-starter.sspbundle"
    dialog.path.setText(str(out))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=10000)
    assert "records of PVP" in dialog.message.text()
    alice = Opener.for_identity(world.keys[LEAD_A], TrustAnyone())
    assert read_bundle(out, envelope=alice).manifest.scope.priority_codes == ("PVP",)


def test_export_dialog_gives_an_action_lead_their_actions(
    qtbot: QtBot, window: MainWindow, world: World, tmp_path: Path
) -> None:
    world.enrol(LEAD_R)
    dialog = window.export_bundle()
    assert isinstance(dialog, ExportBundleDialog)
    alice = dialog.person.findText(LEAD_A, Qt.MatchFlag.MatchContains)
    dialog.person.setCurrentIndex(alice)
    # Alice leads action PVP-01 and no theme: a new copy of hers would hold PVP-01.
    assert (dialog.chosen_themes(), dialog.chosen_actions()) == ([], ["PVP-01"])
    dialog.person.setCurrentIndex(dialog.person.findText(LEAD_R, Qt.MatchFlag.MatchContains))
    assert (dialog.chosen_themes(), dialog.chosen_actions()) == ([], [])  # Rita leads nothing
    items = dialog.action_list
    refs = [items.item(i).data(Qt.ItemDataRole.UserRole) for i in range(items.count())]
    assert refs == ["PVP-01", "RCH-01"]
    # The strategy team gives Rita RCH-01 alone, from the keyboard.
    items.setFocus()
    qtbot.keyClicks(items, "RCH")  # typing a ref's start goes to it
    qtbot.keyClick(items, Qt.Key.Key_Space)
    assert dialog.chosen_actions() == ["RCH-01"]
    out = tmp_path / "rita-starter.sspbundle"
    dialog.path.setText(str(out))
    qtbot.mouseClick(
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=10000)
    assert "records of action RCH-01 for rita@example.org" in dialog.message.text()
    rita = Opener.for_identity(world.keys[LEAD_R], TrustAnyone())
    scope = read_bundle(out, envelope=rita).manifest.scope
    assert (scope.priority_codes, scope.action_refs) == ((), ("RCH-01",))
    dialog.close()
    # Next time the dialog ticks what her copy holds.
    again = window.export_bundle()
    assert again is not None
    again.person.setCurrentIndex(again.person.findText(LEAD_R, Qt.MatchFlag.MatchContains))
    assert (again.chosen_themes(), again.chosen_actions()) == ([], ["RCH-01"])
    again.close()


def test_export_dialog_on_a_lead_copy_writes_its_changes(
    qtbot: QtBot, world: World, tmp_path: Path
) -> None:
    out = tmp_path / "starter.sspbundle"
    world.master_keys = new_identity()  # the master is another install; this one is Alice's
    enrol_identity(world.master, LEAD_A, this_install())
    export_snapshot(world.master, out, person=LEAD_A, themes=["PVP"], identity=world.master_keys)
    from ssp_desktop.sync.importer import import_file

    lead_path = tmp_path / "lead.sqlite"
    import_file(lead_path, out, master_fingerprint=world.master_keys.fingerprint)
    configure_settings()
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.open_store(lead_path)
    assert "lead copy" in w.store_label.text()
    dialog = w.export_bundle()
    assert dialog is not None and dialog.lead
    dialog.path.setText(str(tmp_path / "mine.sspbundle"))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=10000)
    assert "0 changes for the master copy" in dialog.message.text()
    w.close_store()
    assert QWizard  # the wizard class is the import route tested above


def test_an_action_leads_copy_shows_their_actions_where_they_sit(
    qtbot: QtBot, world: World, tmp_path: Path
) -> None:
    out = tmp_path / "starter.sspbundle"
    world.master_keys = new_identity()  # the master is another install; this one is Alice's
    enrol_identity(world.master, LEAD_A, this_install())
    export_snapshot(
        world.master, out, person=LEAD_A, actions=["RCH-01"], identity=world.master_keys
    )
    from ssp_desktop.sync.importer import import_file

    lead_path = tmp_path / "lead.sqlite"
    import_file(lead_path, out, master_fingerprint=world.master_keys.fingerprint)
    configure_settings()
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.open_store(lead_path)
    assert w.store_label.text().endswith("lead copy: actions RCH-01")
    ws = w.workspace
    assert ws is not None
    model = ws.navigator_model

    def tree(index: QModelIndex) -> list[object]:
        out: list[object] = []
        for row in range(model.rowCount(index)):
            child = model.index(row, 0, index)
            label = model.data(child)
            out.append((label, tree(child)) if model.rowCount(child) else label)
        return out

    plan = model.index(0, 0)
    priorities = model.index(0, 0, plan)
    assert model.data(priorities) == "Priorities"
    # Only the theme and area her action sits in, and only her action in them.
    assert tree(priorities) == [("RCH Reducing crime", [("Burglary", ["RCH-01 Target hardening"])])]
    w.close_store()


def test_a_mass_deletion_waits_in_the_wizard_until_it_is_confirmed(
    qtbot: QtBot, window: MainWindow, world: World
) -> None:
    """Issue 22: one lead bundle tombstoned 311 records of a theme, silently."""
    from ssp_desktop.domain.records import PriorityArea
    from ssp_desktop.sync.merge_changes import MASS_DELETION

    assert window.store is not None
    with window.store.transaction() as tx:
        area = tx.get(PriorityArea, world.plan.area.id)
        assert area is not None
        for n in range(MASS_DELETION + 1):
            services.add_action(tx, area, ref=f"PVP-{n + 10}", title=f"Action {n}")
    lead = world.starter(LEAD_A, ["PVP"])
    with lead.transaction() as tx:
        for action in tx.session.query(Action).filter(Action.deleted_at.is_(None)).all():
            services.delete(tx, action, cascade=True)
    bundle = world.export(LEAD_A)
    wizard = window.import_bundle()
    assert isinstance(wizard, ImportBundleWizard)
    wizard.file_page.path.setText(str(bundle))
    wizard.next()
    page = wizard.preview_page
    qtbot.waitUntil(lambda: "Held:" in page.text.toPlainText(), timeout=10000)
    assert page.confirm_deletions.isVisible() and not page.isComplete()
    assert not wizard.button(QWizard.WizardButton.CommitButton).isEnabled()
    page.confirm_deletions.setFocus()
    qtbot.keyClick(page.confirm_deletions, Qt.Key.Key_Space)
    assert page.isComplete()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CommitButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(wizard.summary_page.isComplete, timeout=10000)
    with window.store.session() as s:
        live = s.query(Action).filter(Action.deleted_at.is_(None)).count()
        assert live == 1  # RCH-01, in the other theme
