"""The record editors on the sample Safer Stockport plan: every kind opens, shows what
is stored, passes the model tester, and saves and undoes an edit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    Measure,
    MeasureValue,
    PlanApproval,
    record_classes,
)
from ssp_desktop.domain.rules import fmt_number
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.sample.plan import SAMPLE_MEETING_DATE, write_sample
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.forms import EDITORS, create_editor
from ssp_desktop.ui.forms.grids import GridSection
from ssp_desktop.ui.forms.link_lists import LinkSection
from ssp_desktop.ui.forms.record_form import RecordForm
from tests.ui.test_forms_helpers import last_change, set_field, shown, store_copy, stored


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, uuid.UUID]:
    path = tmp_path_factory.mktemp("sample") / "sample.sqlite"
    store = Store.open(path, create=True)
    try:
        plan_id = write_sample(store).current_plan_id
    finally:
        store.close()
    return path, plan_id


@pytest.fixture
def doc(sample: tuple[Path, uuid.UUID], tmp_path: Path, qtbot: QtBot) -> Iterator[PlanDocument]:
    with store_copy(sample[0], tmp_path) as store:
        yield PlanDocument(store)


def editor(qtbot: QtBot, doc: PlanDocument, entity: str, record_id: uuid.UUID) -> Any:
    widget = create_editor(doc, entity, record_id, today=SAMPLE_MEETING_DATE)
    qtbot.addWidget(widget)
    return widget


def first_id(doc: PlanDocument, cls: type[Record], *where: Any) -> uuid.UUID:
    with doc.read() as session:
        found = session.scalar(
            select(cls.id).where(cls.deleted_at.is_(None), *where).order_by(cls.id).limit(1)
        )
    assert found is not None
    return found


def test_every_editor_opens_on_the_sample_and_its_models_pass(
    qtbot: QtBot, qtmodeltester: ModelTester, doc: PlanDocument
) -> None:
    for entity, form_class in EDITORS.items():
        cls = record_classes()[entity]
        form = editor(qtbot, doc, entity, first_id(doc, cls))
        assert isinstance(form, form_class)
        # The sample's 2018-21 plan is archived: its records say so, and nothing else does.
        assert form.banner.isHidden() or "2018-21 was archived" in form.banner.text(), entity
        for section in form.sections:
            if isinstance(section, GridSection | LinkSection):
                qtmodeltester.check(section.model)
        model = getattr(getattr(form, "updates", None), "model", None)
        if model is not None:
            qtmodeltester.check(model)


def test_an_action_of_the_sample_shows_its_updates_newest_first(
    qtbot: QtBot, doc: PlanDocument, sample: tuple[Path, uuid.UUID]
) -> None:
    with doc.read() as session:
        action_id, count = session.execute(
            select(ActionUpdate.action_id, func.count())
            .where(ActionUpdate.is_current.is_(True), ActionUpdate.deleted_at.is_(None))
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(Action.plan_id == sample[1])
            .group_by(ActionUpdate.action_id)
            .order_by(func.count().desc(), ActionUpdate.action_id)
            .limit(1)
        ).one()
    form = editor(qtbot, doc, "action", action_id)
    model = form.updates.model
    quarters = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert len(quarters) == count
    assert quarters == sorted(quarters, reverse=True)
    # The sample reports on 2024/25 Q2, so that is the quarter offered for a new update.
    assert form.updates.quarter.currentText() == "2024/25 Q2"


def test_a_sample_measures_values_grid_shows_its_series(
    qtbot: QtBot, doc: PlanDocument, sample: tuple[Path, uuid.UUID]
) -> None:
    with doc.read() as session:
        measure_id = session.scalar(
            select(Measure.id)
            .join(MeasureValue, MeasureValue.measure_id == Measure.id)
            .where(Measure.plan_id == sample[1], Measure.comparator_names != "[]")
            .order_by(Measure.ref)
            .limit(1)
        )
        assert measure_id is not None
        series = plan_queries.measure_series(session, measure_id)
        names = session.get(Measure, measure_id).comparator_names  # type: ignore[union-attr]
    form = editor(qtbot, doc, "measure", measure_id)
    model = form.values_model
    rows = {model.headerData(r, Qt.Orientation.Vertical): r for r in range(model.rowCount())}
    for value in series:
        if value.period.label not in rows or value.value is None:
            continue
        row = rows[value.period.label]
        assert model.index(row, 0).data() == fmt_number(value.value)
        for column, name in enumerate(names, 1):
            if name in value.comparator_values:
                assert model.index(row, column).data() == fmt_number(value.comparator_values[name])


def test_editing_the_sample_plan_and_undoing(
    qtbot: QtBot, doc: PlanDocument, sample: tuple[Path, uuid.UUID]
) -> None:
    action_id = first_id(doc, Action, Action.plan_id == sample[1])
    form = editor(qtbot, doc, "action", action_id)
    assert isinstance(form, RecordForm)
    before = stored(doc, Action, action_id, "title")
    set_field(qtbot, form, "title", "A clearer title")
    assert last_change(doc, action_id) == ("title", before, "A clearer title")
    doc.undo_stack.undo()
    assert shown(form, "title") == before
    plan = editor(qtbot, doc, "plan", sample[1])
    with doc.read() as session:
        approvals = session.scalar(
            select(func.count())
            .select_from(PlanApproval)
            .where(PlanApproval.plan_id == sample[1], PlanApproval.deleted_at.is_(None))
        )
    assert plan.approvals.rowCount() == approvals
