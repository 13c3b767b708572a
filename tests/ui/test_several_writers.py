"""Two writers on one store, seen from a form: another officer's change to the field
being edited is offered, never overwritten silently; other windows follow commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.enums import Rag
from ssp_desktop.domain.records import Action, ActionUpdate, ChangeLog
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import create_editor
from ssp_desktop.ui.forms.record_form import RecordForm
from tests.ui.test_forms_helpers import (
    TODAY,
    FormsPlan,
    log_count,
    make_template,
    shown,
    store_copy,
    stored,
    type_line,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FormsPlan]:
    return make_template(tmp_path_factory.mktemp("writers"))


@pytest.fixture
def fp(template: tuple[Path, FormsPlan]) -> FormsPlan:
    return template[1]


@pytest.fixture
def doc(template: tuple[Path, FormsPlan], tmp_path: Path, qtbot: QtBot) -> Iterator[PlanDocument]:
    with store_copy(template[0], tmp_path) as store:
        document = PlanDocument(store)
        yield document
        document.close()


@pytest.fixture
def other(doc: PlanDocument) -> Iterator[Store]:
    """A second officer's connection to the same store file."""
    second = doc.store.another_writer()
    yield second
    second.close()


def their_edit(store: Store, action_id: uuid.UUID, **fields: object) -> None:
    with store.transaction(actor="Jane Other") as tx:
        action = tx.get(Action, action_id)
        assert action is not None
        services.edit(tx, action, **fields)


def form_for(qtbot: QtBot, doc: PlanDocument, action_id: uuid.UUID) -> RecordForm:
    form = create_editor(doc, "action", action_id, today=TODAY)
    assert isinstance(form, RecordForm)
    qtbot.addWidget(form)
    return form


def title_rows(doc: PlanDocument, action_id: uuid.UUID) -> list[tuple[str, str | None]]:
    with doc.read() as s:
        rows = s.execute(
            select(ChangeLog.actor, ChangeLog.new)
            .where(ChangeLog.record_id == action_id, ChangeLog.field == "title")
            .order_by(ChangeLog.seq)
        ).all()
    return [(actor, new) for actor, new in rows]


def test_an_edit_of_a_field_someone_changed_meanwhile_offers_keep_theirs(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    action_id = fp.mini.action.id
    form = form_for(qtbot, doc, action_id)
    assert shown(form, "title") == "Fund IDVAs"
    their_edit(other, action_id, title="Fund two IDVAs")
    before = log_count(doc)

    type_line(qtbot, form.editors["title"].edit, "Fund four IDVAs")

    panel = form.conflict_panel
    assert not panel.isHidden()
    words = panel.text.text()
    assert "Jane Other" in words
    assert "Theirs: \u201cFund two IDVAs\u201d" in words
    assert "Yours: \u201cFund four IDVAs\u201d" in words
    assert panel.theirs_button.accessibleName() == "Keep theirs: \u201cFund two IDVAs\u201d"
    assert panel.mine_button.accessibleName() == "Write mine: \u201cFund four IDVAs\u201d"
    # Nothing of either is lost yet: theirs is stored, mine is still in the field.
    assert stored(doc, Action, action_id, "title") == "Fund two IDVAs"
    assert shown(form, "title") == "Fund four IDVAs"
    assert log_count(doc) == before

    # Keyboard: the panel took focus on "Keep theirs"; Space presses it.
    assert panel.theirs_button.hasFocus() or form.focusWidget() is panel.theirs_button
    qtbot.keyClick(panel.theirs_button, Qt.Key.Key_Space)

    assert panel.isHidden()
    assert shown(form, "title") == "Fund two IDVAs"
    assert stored(doc, Action, action_id, "title") == "Fund two IDVAs"
    assert log_count(doc) == before


def test_write_mine_saves_over_theirs_and_the_log_keeps_both(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    action_id = fp.mini.action.id
    form = form_for(qtbot, doc, action_id)
    their_edit(other, action_id, title="Fund two IDVAs")
    type_line(qtbot, form.editors["title"].edit, "Fund four IDVAs")
    panel = form.conflict_panel
    assert not panel.isHidden()

    qtbot.mouseClick(panel.mine_button, Qt.MouseButton.LeftButton)

    assert panel.isHidden()
    assert stored(doc, Action, action_id, "title") == "Fund four IDVAs"
    assert shown(form, "title") == "Fund four IDVAs"
    rows = title_rows(doc, action_id)
    assert rows[-2] == ("Jane Other", '"Fund two IDVAs"')
    assert rows[-1][1] == '"Fund four IDVAs"' and rows[-1][0] != "Jane Other"
    # One undoable step: undo puts theirs back, not the value before theirs.
    assert doc.undo()
    assert stored(doc, Action, action_id, "title") == "Fund two IDVAs"


def test_another_writers_commit_shows_in_an_open_form(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    action_id = fp.mini.action.id
    form = form_for(qtbot, doc, action_id)
    doc.watch(interval_ms=50)
    their_edit(other, action_id, title="Fund two IDVAs")
    qtbot.waitUntil(lambda: shown(form, "title") == "Fund two IDVAs", timeout=5000)
    assert form.conflict_panel.isHidden()


def test_typing_is_kept_when_another_writer_changes_the_field(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    action_id = fp.mini.action.id
    form = form_for(qtbot, doc, action_id)
    doc.watch(interval_ms=50)
    changes: list[object] = []
    doc.changed.connect(lambda entity, rid: changes.append((entity, rid)))
    edit = form.editors["title"].edit
    edit.selectAll()
    qtbot.keyClicks(edit, "Fund IDVAs and ISVAs")
    their_edit(other, action_id, title="Fund two IDVAs")
    qtbot.waitUntil(lambda: ("action", action_id) in changes, timeout=5000)
    # The field being typed in is not clobbered by the refresh...
    assert shown(form, "title") == "Fund IDVAs and ISVAs"
    # ...and leaving it offers the choice rather than overwriting theirs.
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert not form.conflict_panel.isHidden()
    assert stored(doc, Action, action_id, "title") == "Fund two IDVAs"


def test_an_open_window_follows_another_writers_commit_within_seconds(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The window as opened (its own polling interval): another writer's change to the
    selected action shows in the navigator and the editor without any action here."""
    from ssp_desktop.app import configure_settings
    from ssp_desktop.ui.main_window import MainWindow
    from tests.factories import mini_plan

    path = tmp_path / "plan.sqlite"
    with Store.open(path, create=True) as s:
        plan = mini_plan(s)
    configure_settings()
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.open_store(path)
    assert window.workspace is not None and window.store is not None
    ws = window.workspace
    ws.select_record(plan.action.id)
    second = window.store.another_writer()
    try:
        their_edit(second, plan.action.id, title="Fund two IDVAs")
    finally:
        second.close()
    qtbot.waitUntil(
        lambda: ws.navigator.currentIndex().data() == "PVP-01 Fund two IDVAs", timeout=6000
    )
    form = ws.editor
    assert isinstance(form, RecordForm)
    assert shown(form, "title") == "Fund two IDVAs"
    window.close_store()


def test_a_server_store_announces_another_officers_commit_at_once(
    qtbot: QtBot, pg_store_url: str
) -> None:
    """PostgreSQL: the commit's NOTIFY wakes the window (the poll here is set far beyond
    the wait, so only the notification can bring the change in time)."""
    from tests.factories import mini_plan

    store = Store.open(pg_store_url)
    plan = mini_plan(store)
    document = PlanDocument(store)
    second = Store.open(pg_store_url)
    try:
        form = form_for(qtbot, document, plan.action.id)
        document.watch(interval_ms=600_000)
        their_edit(second, plan.action.id, title="Fund two IDVAs")
        qtbot.waitUntil(lambda: shown(form, "title") == "Fund two IDVAs", timeout=5000)
    finally:
        document.close()
        second.close()
        store.close()


def test_deleting_a_record_someone_changed_meanwhile_is_refused_with_who(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    action_id = fp.action2.id
    form = form_for(qtbot, doc, action_id)
    their_edit(other, action_id, title="Train GPs and practice nurses")
    before = log_count(doc)

    qtbot.mouseClick(form.delete_button, Qt.MouseButton.LeftButton)

    message = form.message.text()
    assert "was changed by Jane Other on " in message
    assert "its title is now \u201cTrain GPs and practice nurses\u201d" in message
    assert "Nothing was deleted" in message
    assert stored(doc, Action, action_id, "deleted_at") is None
    assert log_count(doc) == before
    # The form now shows what they wrote; deleting what is shown goes through.
    assert shown(form, "title") == "Train GPs and practice nurses"
    with qtbot.waitSignal(form.record_deleted):
        qtbot.mouseClick(form.delete_button, Qt.MouseButton.LeftButton)
    assert stored(doc, Action, action_id, "deleted_at") is not None


def test_an_update_saved_meanwhile_is_offered_in_the_action_forms_update_section(
    qtbot: QtBot, doc: PlanDocument, other: Store, fp: FormsPlan
) -> None:
    action_id = fp.mini.action.id
    form = form_for(qtbot, doc, action_id)
    section = form.updates
    quarter = section.selected_quarter()
    assert quarter is not None
    with other.transaction(actor="Jane Other") as tx:
        action = tx.get(Action, action_id)
        assert action is not None
        services.write_update(
            tx, action, quarter, rag=Rag.AMBER, narrative="Recruiting.", written_on=TODAY
        )
    before = log_count(doc)
    section.narrative.setFocus()
    qtbot.keyClicks(section.narrative, "Two IDVAs in post.")
    qtbot.mouseClick(section.save_button, Qt.MouseButton.LeftButton)
    panel = section.conflict_panel
    assert not panel.isHidden()
    assert "Jane Other" in panel.text.text()
    assert "Theirs: Amber" in panel.text.text()
    assert log_count(doc) == before
    # Write mine: the RAG (theirs Amber, mine none) is asked about first, then the
    # narrative; Write mine for each writes the form's update.
    qtbot.keyClick(panel.mine_button, Qt.Key.Key_Space)
    assert not panel.isHidden()
    assert "Theirs: \u201cRecruiting.\u201d" in panel.text.text()
    assert log_count(doc) == before
    qtbot.keyClick(panel.mine_button, Qt.Key.Key_Space)
    assert panel.isHidden()
    with doc.read() as s:
        narratives = s.scalars(
            select(ActionUpdate.narrative).where(
                ActionUpdate.action_id == action_id,
                ActionUpdate.quarter == quarter,
                ActionUpdate.is_current.is_(True),
            )
        ).all()
    assert narratives == ["Two IDVAs in post."]
