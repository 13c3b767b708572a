"""The navigator tree and the history panel follow the store and pass Qt's model checks."""

from __future__ import annotations

import pytest
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.records import Action, PriorityArea
from ssp_desktop.sample.plan import write_sample
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from ssp_desktop.ui.history import HistoryModel
from ssp_desktop.ui.navigator import ENTITY_ROLE, ID_ROLE, NavigatorModel
from tests.factories import MiniPlan, mini_plan


@pytest.fixture
def doc(store: Store, qtbot: QtBot) -> PlanDocument:
    return PlanDocument(store)


def _labels(model: NavigatorModel, parent=None) -> list[str]:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QModelIndex

    parent = parent or QModelIndex()
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]


def test_navigator_shows_the_sample_plan_and_passes_model_checks(
    store: Store, doc: PlanDocument, qtmodeltester: ModelTester
) -> None:
    summary = write_sample(store)
    model = NavigatorModel(doc)
    model.set_plan(summary.current_plan_id)
    qtmodeltester.check(model)
    [plan] = _labels(model)
    assert plan == "Safer Stockport Partnership Plan 2022-25 (2022-25)"
    plan_index = model.index(0, 0)
    assert _labels(model, plan_index) == [
        "Priorities",
        "Measures",
        "Funding",
        "Outcomes",
        "Partners and people",
    ]
    priorities = _labels(model, model.index(0, 0, plan_index))
    assert [p.split()[0] for p in priorities] == ["PVP", "PSP", "ROR"]
    pvp = model.index(0, 0, model.index(0, 0, plan_index))
    domestic_abuse = model.index(0, 0, pvp)
    first_action = model.index(0, 0, domestic_abuse)
    assert first_action.data(ENTITY_ROLE) == "action"
    assert model.index_of(first_action.data(ID_ROLE)) == first_action


def test_navigator_follows_an_added_action(store: Store, doc: PlanDocument, qtbot: QtBot) -> None:
    plan: MiniPlan = mini_plan(store)
    model = NavigatorModel(doc)
    model.set_plan(plan.plan.id)
    area_index = model.index_of(plan.area.id)
    assert model.rowCount(area_index) == 1

    def add(tx: Transaction) -> None:
        area = tx.get(PriorityArea, plan.area.id)
        assert area is not None
        services.add_action(tx, area, ref="PVP-02", title="Stalking clinic")

    with qtbot.waitSignal(model.modelReset):
        doc.edit("Add action", add)
    area_index = model.index_of(plan.area.id)
    assert _labels(model, area_index) == ["PVP-01 Fund IDVAs", "PVP-02 Stalking clinic"]
    with qtbot.waitSignal(model.modelReset):
        doc.undo_stack.undo()
    assert _labels(model, model.index_of(plan.area.id)) == ["PVP-01 Fund IDVAs"]


def test_history_shows_who_changed_what_newest_first(
    store: Store, doc: PlanDocument, qtmodeltester: ModelTester
) -> None:
    plan = mini_plan(store)
    model = HistoryModel(doc)
    model.set_record(plan.action.id)
    qtmodeltester.check(model)
    assert model.rowCount() == 1 and model.index(0, 2).data() == "Created"

    def retitle(tx: Transaction) -> None:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Fund three IDVAs", lead_organisation_id=None)

    doc.edit("Change title", retitle)  # the model follows the changed signal
    rows = [[model.index(r, c).data() for c in range(1, 5)] for r in range(model.rowCount())]
    assert sorted(rows[:2]) == [
        [rows[0][0], "Lead organisation", "organisation Police", "(empty)"],
        [rows[0][0], "Title", "Fund IDVAs", "Fund three IDVAs"],
    ]
    assert rows[-1][1] == "Created"
