"""My quarter in the sign-off cycle (issue 16): a lead copy opens on its owner and
cannot be switched to someone else; a theme lead sees their whole theme with who owes
what; a returned update shows the strategy team's reason; a lead submits a value."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop.domain.enums import UpdateState
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    MeasureValue,
    Person,
    Priority,
    StoreMeta,
)
from ssp_desktop.domain.sync_records import ROLE_LEAD
from ssp_desktop.sample.plan import SAMPLE_MEETING_DATE, SAMPLE_QUARTER, write_sample
from ssp_desktop.services import review
from ssp_desktop.store.backup import sqlite_backup
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.my_quarter import MyQuarterView

SUPT = "Superintendent, Stockport District"  # leads the PSP theme, no action of their own
CI = "Chief Inspector, Neighbourhood Policing"  # owns PSP-M2, entered for 2024/25 Q2


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, uuid.UUID]:
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    with Store.open(path, create=True) as store:
        plan_id = write_sample(store).current_plan_id
    return path, plan_id


@pytest.fixture
def store(sample_file: tuple[Path, uuid.UUID], tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "plan.sqlite"
    sqlite_backup(sample_file[0], path)
    with Store.open(path) as opened:
        yield opened


def _person(store: Store, role: str) -> uuid.UUID:
    with store.session() as s:
        found = s.scalar(select(Person.id).where(Person.role_title == role))
        assert found is not None
        return found


def _make_lead_copy(store: Store, plan_id: uuid.UUID, role: str) -> uuid.UUID:
    """Mark the store as ``role``'s lead copy, as a starter bundle leaves it."""
    person = _person(store, role)
    with store.session() as s:
        themes = [
            str(t) for t in s.scalars(select(Priority.id).where(Priority.lead_person_id == person))
        ]
    meta = {
        "sync_role": ROLE_LEAD,
        "sync_plan_id": str(plan_id),
        "sync_lead_id": str(uuid.uuid4()),
        "sync_person_id": str(person),
        "sync_themes": json.dumps(themes),
        "sync_master_store_id": str(uuid.uuid4()),
        "sync_master_site_id": str(uuid.uuid4()),
    }
    with store.transaction(keeps_history=True) as tx:
        for key, value in meta.items():
            tx.session.add(StoreMeta(key=key, value=value))
    return person


def _view(store: Store, plan_id: uuid.UUID, qtbot: QtBot) -> MyQuarterView:
    widget = MyQuarterView(PlanDocument(store), plan_id, today=SAMPLE_MEETING_DATE)
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    return widget


def test_a_lead_copy_opens_on_its_owner_who_sees_their_theme(
    store: Store, sample_file: tuple[Path, uuid.UUID], qtbot: QtBot
) -> None:
    plan_id = sample_file[1]
    person = _make_lead_copy(store, plan_id, SUPT)
    view = _view(store, plan_id, qtbot)
    assert view.person_id() == person
    assert not view.person_combo.isEnabled()  # nobody else's quarter on this copy
    assert view.owner_label.isVisibleTo(view)
    assert "This copy is" in view.owner_label.text()
    status = view.status
    assert status is not None and len(status.actions) == 10
    # Who owes what, in words on each card.
    assert "Lead: Trading Standards Manager" in view.action_card("PSP-05").details_label.text()
    assert "Owner: Chief Inspector" in view.measure_card("PSP-M2").details_label.text()


def test_on_the_master_anyone_can_be_looked_at(
    store: Store, sample_file: tuple[Path, uuid.UUID], qtbot: QtBot
) -> None:
    view = _view(store, sample_file[1], qtbot)
    assert view.person_combo.isEnabled() and not view.owner_label.isVisibleTo(view)
    assert view.person_combo.findText(SUPT) >= 0  # a theme lead is listed


def test_a_returned_update_shows_the_reason(
    store: Store, sample_file: tuple[Path, uuid.UUID], qtbot: QtBot
) -> None:
    with store.transaction() as tx:
        update = tx.session.scalar(
            select(ActionUpdate)
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(
                Action.ref == "PSP-05",
                ActionUpdate.quarter == SAMPLE_QUARTER,
                ActionUpdate.is_current.is_(True),
            )
        )
        assert update is not None
        review.return_to_lead(tx, update, "Say how many test purchases were made.")
    view = _view(store, sample_file[1], qtbot)
    with qtbot.waitSignal(view.refreshed):
        view.person_combo.setCurrentIndex(view.person_combo.findText("Trading Standards Manager"))
    card = view.action_card("PSP-05")
    assert card.state_label.text() == "Update: Returned"
    assert card.review_label.isVisibleTo(view)
    assert card.review_label.text().startswith(
        "Returned by the strategy team: Say how many test purchases were made."
    )


def test_a_lead_enters_and_submits_a_value(
    store: Store, sample_file: tuple[Path, uuid.UUID], qtbot: QtBot
) -> None:
    plan_id = sample_file[1]
    _make_lead_copy(store, plan_id, CI)
    view = _view(store, plan_id, qtbot)
    card = view.measure_card("PSP-M2")
    assert not card.submit_button.isVisibleTo(view)  # accepted by the master already
    card.value_edit.setFocus()
    card.value_edit.selectAll()
    qtbot.keyClicks(card.value_edit, "6.1")
    with qtbot.waitSignal(view.refreshed):
        qtbot.keyClick(card.value_edit, Qt.Key.Key_Return)
    card = view.measure_card("PSP-M2")
    assert "Draft" in card.state_label.text()  # a lead's change waits to be submitted
    assert card.submit_button.isVisibleTo(view)
    with qtbot.waitSignal(view.refreshed):
        qtbot.mouseClick(card.submit_button, Qt.MouseButton.LeftButton)
    card = view.measure_card("PSP-M2")
    assert "Submitted" in card.state_label.text()
    assert not card.submit_button.isVisibleTo(view)
    with store.session() as s:
        value = s.scalar(
            select(MeasureValue).where(
                MeasureValue.id == MeasureValue.make_id(card.item.id, SAMPLE_QUARTER)
            )
        )
        assert value is not None
        assert (value.value, value.state) == (6.1, UpdateState.SUBMITTED)
