"""My quarter with a second writer on the store: an update or value another officer
saved after the card read it is offered in the card (Keep theirs / Write mine), never
overwritten silently. The lead types and presses the card's buttons by keyboard; the
second officer is another Store on the same file."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain.enums import Rag
from ssp_desktop.domain.records import Action, ActionUpdate, Measure, MeasureValue
from ssp_desktop.sample.plan import SAMPLE_MEETING_DATE, SAMPLE_QUARTER, write_sample
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.my_quarter import MyQuarterView

EDU = "Education Safeguarding Lead"  # leads PVP-09, which has no 2024/25 Q2 update
CI = "Chief Inspector, Neighbourhood Policing"  # owns PSP-M3, with no figure for 2024/25 Q2

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, uuid.UUID]:
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    with Store.open(path, create=True) as store:
        plan_id = write_sample(store).current_plan_id
    return path, plan_id


@pytest.fixture
def doc(sample_file: tuple[Path, uuid.UUID], tmp_path: Path) -> Iterator[PlanDocument]:
    path = tmp_path / "plan.sqlite"
    sqlite_backup(sample_file[0], path)
    store = Store.open(path)
    yield PlanDocument(store)
    store.close()


@pytest.fixture
def other(doc: PlanDocument) -> Iterator[Store]:
    second = doc.store.another_writer()
    yield second
    second.close()


@pytest.fixture
def view(doc: PlanDocument, sample_file: tuple[Path, uuid.UUID], qtbot: QtBot) -> MyQuarterView:
    widget = MyQuarterView(doc, sample_file[1], today=SAMPLE_MEETING_DATE)
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _pick(view: MyQuarterView, qtbot: QtBot, role: str) -> None:
    index = view.person_combo.findText(role)
    assert index >= 0, role
    with qtbot.waitSignal(view.refreshed):
        view.person_combo.setCurrentIndex(index)


def _press(qtbot: QtBot, button: object) -> None:
    button.setFocus()  # type: ignore[attr-defined]
    qtbot.keyClick(button, Qt.Key.Key_Space)  # type: ignore[arg-type]


def _current(doc: PlanDocument, ref: str) -> list[ActionUpdate]:
    with doc.read() as s:
        return list(
            s.scalars(
                select(ActionUpdate)
                .join(Action, Action.id == ActionUpdate.action_id)
                .where(
                    Action.ref == ref,
                    ActionUpdate.quarter == SAMPLE_QUARTER,
                    ActionUpdate.is_current.is_(True),
                    ActionUpdate.deleted_at.is_(None),
                )
            )
        )


def _their_update(store: Store, ref: str, rag: Rag, narrative: str) -> None:
    with store.transaction(actor="Jane Other") as tx:
        action = tx.session.scalar(select(Action).where(Action.ref == ref))
        assert action is not None
        services.write_update(
            tx,
            action,
            SAMPLE_QUARTER,
            rag=rag,
            narrative=narrative,
            written_on=dt.date(2024, 10, 1),
        )


def _rows(doc: PlanDocument) -> int:
    with doc.read() as s:
        return int(s.scalar(select(func.count()).select_from(ActionUpdate)) or 0)


def test_an_update_saved_meanwhile_by_someone_else_is_offered_in_the_card(
    view: MyQuarterView, doc: PlanDocument, other: Store, qtbot: QtBot
) -> None:
    _pick(view, qtbot, EDU)
    card = view.action_card("PVP-09")
    assert card.state_label.text() == "Update: Missing"
    _their_update(other, "PVP-09", Rag.AMBER, "Sessions booked for October.")
    rows = _rows(doc)

    card.rag_combo.setCurrentIndex(card.rag_combo.findData(Rag.GREEN.value))
    qtbot.keyClicks(card.narrative, "All schools trained.")
    _press(qtbot, card.save_button)

    panel = card.conflict_panel
    assert not panel.isHidden()
    words = panel.text.text()
    assert "Jane Other" in words
    assert "the RAG rating was changed by Jane Other" in words
    assert "Theirs: Amber\nYours: Green" in words
    assert _rows(doc) == rows
    assert [u.narrative for u in _current(doc, "PVP-09")] == ["Sessions booked for October."]
    assert card.typed_narrative() == "All schools trained."  # mine is not lost
    assert card.message.text() == ""

    # Keep theirs: the card shows their update, and nothing of mine is written.
    assert view.window().focusWidget() is panel.theirs_button
    qtbot.keyClick(panel.theirs_button, Qt.Key.Key_Space)
    card = view.action_card("PVP-09")
    assert card.conflict_panel.isHidden()
    assert card.typed_narrative() == "Sessions booked for October."
    assert card.chosen_rag() is Rag.AMBER
    assert _rows(doc) == rows


def test_write_mine_saves_the_cards_update_over_theirs(
    view: MyQuarterView, doc: PlanDocument, other: Store, qtbot: QtBot
) -> None:
    _pick(view, qtbot, EDU)
    card = view.action_card("PVP-09")
    _their_update(other, "PVP-09", Rag.AMBER, "Sessions booked for October.")
    card.rag_combo.setCurrentIndex(card.rag_combo.findData(Rag.AMBER.value))
    qtbot.keyClicks(card.narrative, "All schools trained.")
    _press(qtbot, card.save_button)
    panel = card.conflict_panel
    assert not panel.isHidden()
    # The RAG agrees (both Amber); the narrative is what differs.
    assert "Theirs: \u201cSessions booked for October.\u201d" in panel.text.text()
    _press(qtbot, panel.mine_button)
    current = _current(doc, "PVP-09")
    assert [(u.rag, u.narrative) for u in current] == [(Rag.AMBER, "All schools trained.")]
    # Theirs is kept in the history, superseded, as any replaced update is.
    assert current[0].supersedes_id is not None
    card = view.action_card("PVP-09")
    assert card.conflict_panel.isHidden()
    assert card.message.text() == "Update saved as a draft."


def test_a_value_entered_meanwhile_is_offered_in_the_measure_card(
    view: MyQuarterView, doc: PlanDocument, other: Store, qtbot: QtBot
) -> None:
    _pick(view, qtbot, CI)
    card = view.measure_card("PSP-M3")
    assert card.value_edit.text() == ""
    with other.transaction(actor="Jane Other") as tx:
        measure = tx.session.scalar(select(Measure).where(Measure.ref == "PSP-M3"))
        assert measure is not None
        measure_id = measure.id
        # The quarter holds a note and a comparator figure but no value yet; they keep
        # both and enter the value.
        held = tx.get(MeasureValue, MeasureValue.make_id(measure_id, SAMPLE_QUARTER))
        assert held is not None and held.value is None
        services.record_value(
            tx,
            measure,
            SAMPLE_QUARTER,
            1.52,
            comparators=held.comparator_values,
            note=held.note,
            status=held.status,
        )
    card.value_edit.setFocus()
    qtbot.keyClicks(card.value_edit, "1.48")
    qtbot.keyClick(card.value_edit, Qt.Key.Key_Return)
    panel = card.conflict_panel
    assert not panel.isHidden()
    assert "Theirs: 1.52" in panel.text.text() and "Yours: 1.48" in panel.text.text()

    def stored() -> float | None:
        with doc.read() as s:
            row = s.get(MeasureValue, MeasureValue.make_id(measure_id, SAMPLE_QUARTER))
            return None if row is None else row.value

    assert stored() == 1.52
    _press(qtbot, panel.mine_button)
    assert stored() == 1.48
    assert view.measure_card("PSP-M3").conflict_panel.isHidden()
