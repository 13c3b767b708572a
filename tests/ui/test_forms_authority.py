"""Editors on a lead copy and on an archived plan (issue 16): what only the master copy
sets is shown read-only with the reason; an archived plan is read-only with a banner
saying when and by whom, until the master reopens it with a reason."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ssp_desktop.domain.enums import PlanStatus
from ssp_desktop.domain.records import ChangeLog, Measure, Plan, StoreMeta
from ssp_desktop.domain.sync_records import ROLE_LEAD
from ssp_desktop.services import review
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import create_editor
from ssp_desktop.ui.forms.plan import PlanEditor
from ssp_desktop.ui.workspace import Workspace
from tests.ui.test_forms_helpers import TODAY, FormsPlan, make_template, store_copy


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FormsPlan]:
    return make_template(tmp_path_factory.mktemp("forms"))


@pytest.fixture
def fp(template: tuple[Path, FormsPlan]) -> FormsPlan:
    return template[1]


@pytest.fixture
def doc(template: tuple[Path, FormsPlan], tmp_path: Path, qtbot: QtBot) -> Iterator[PlanDocument]:
    with store_copy(template[0], tmp_path) as store:
        yield PlanDocument(store)


def _editor(qtbot: QtBot, doc: PlanDocument, entity: str, record_id: uuid.UUID) -> Any:
    widget = create_editor(doc, entity, record_id, today=TODAY)
    qtbot.addWidget(widget)
    return widget


def _lead_copy(doc: PlanDocument) -> None:
    with doc.store.transaction(keeps_history=True) as tx:
        tx.session.add(StoreMeta(key="sync_role", value=ROLE_LEAD))


def test_a_lead_copy_shows_master_owned_fields_read_only_with_the_reason(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    _lead_copy(doc)
    form = _editor(qtbot, doc, "measure", fp.mini.measure.id)
    tolerance = form.editors["tolerance"]
    assert not tolerance.input.isEnabled()
    assert tolerance.input.toolTip() == "Only the master copy sets tolerances"
    assert "Only the master copy sets tolerances" in tolerance.input.accessibleDescription()
    assert not form.lock_note.isHidden()
    assert form.lock_note.text() == (
        "Read-only here: only the master copy changes measure definitions, sets a "
        "measure's polarity, sets tolerances and sets thresholds. You can change: Owner."
    )
    assert form.editors["owner_person_id"].input.isEnabled()  # who owns it is the lead's
    assert not form.targets.isEnabled()  # only the master copy sets targets
    assert form.values.isEnabled()


def test_on_the_master_the_same_fields_are_editable(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    form = _editor(qtbot, doc, "measure", fp.mini.measure.id)
    assert form.editors["tolerance"].input.isEnabled()
    assert form.lock_note.isHidden()
    assert form.targets.isEnabled()


def test_an_archived_plan_is_read_only_with_a_banner_until_reopened(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    doc.edit(
        "Archive plan",
        lambda tx: review.archive_plan(tx, tx.get(Plan, fp.mini.plan.id)),
    )
    action = _editor(qtbot, doc, "action", fp.mini.action.id)
    assert not action.editors["title"].input.isEnabled()
    assert not action.banner.isHidden()
    assert "was archived on" in action.banner.text()
    workspace = Workspace(doc, TODAY, None)
    qtbot.addWidget(workspace)
    workspace.reload_plans(select=fp.mini.plan.id)
    assert not workspace.archived_banner.isHidden()
    assert "read-only" in workspace.archived_banner.text()

    plan_form = _editor(qtbot, doc, "plan", fp.mini.plan.id)
    assert isinstance(plan_form, PlanEditor)
    assert plan_form.reopen_button.isEnabled() and not plan_form.reopen_button.isHidden()
    plan_form.ask_reason = lambda: "The Board asked for a final update"
    qtbot.mouseClick(plan_form.reopen_button, Qt.MouseButton.LeftButton)
    with doc.read() as s:
        plan = s.get(Plan, fp.mini.plan.id)
        assert plan is not None and plan.status is PlanStatus.APPROVED
        reason = s.scalar(
            select(ChangeLog.new).where(
                ChangeLog.record_id == fp.mini.plan.id, ChangeLog.field == "status_reason"
            )
        )
    assert reason == '"The Board asked for a final update"'
    assert workspace.archived_banner.isHidden()
    assert action.editors["title"].input.isEnabled() and action.banner.isHidden()
    assert plan_form.reopen_button.isHidden()


def test_a_lead_copy_cannot_reopen_an_archived_plan(
    qtbot: QtBot, doc: PlanDocument, fp: FormsPlan
) -> None:
    doc.edit("Archive plan", lambda tx: review.archive_plan(tx, tx.get(Plan, fp.mini.plan.id)))
    _lead_copy(doc)
    plan_form = _editor(qtbot, doc, "plan", fp.mini.plan.id)
    assert plan_form.reopen_button.isHidden()
    with doc.read() as s:
        assert s.get(Measure, fp.mini.measure.id) is not None
