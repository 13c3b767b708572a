"""Undo and redo through the document: one stack, edits committed as they are made."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.records import Action, PriorityArea
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from tests.factories import MiniPlan, mini_plan


@pytest.fixture
def doc(store: Store, qtbot: QtBot) -> PlanDocument:
    return PlanDocument(store)


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


def _title(doc: PlanDocument, plan: MiniPlan) -> str:
    with doc.read() as s:
        action = s.get(Action, plan.action.id)
        assert action is not None
        return action.title


def _retitle(plan: MiniPlan, title: str):  # type: ignore[no-untyped-def]
    def work(tx: Transaction) -> None:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, title=title)

    return work


def test_an_edit_is_saved_at_once_and_undoes_and_redoes(
    doc: PlanDocument, plan: MiniPlan, qtbot: QtBot
) -> None:
    with qtbot.waitSignal(doc.changed) as blocker:
        assert doc.edit("Change title", _retitle(plan, "Fund three IDVAs"))
    assert blocker.args == ["action", plan.action.id]
    assert _title(doc, plan) == "Fund three IDVAs"
    assert doc.undo_stack.undoText() == "Change title"
    doc.undo_stack.undo()
    assert _title(doc, plan) == "Fund IDVAs"
    doc.undo_stack.redo()
    assert _title(doc, plan) == "Fund three IDVAs"


def test_a_refused_edit_says_why_and_is_not_on_the_stack(
    doc: PlanDocument, plan: MiniPlan, qtbot: QtBot
) -> None:
    def duplicate(tx: Transaction) -> None:
        area = tx.get(PriorityArea, plan.area.id)
        assert area is not None
        services.add_action(tx, area, ref="PVP-01", title="Duplicate ref")

    with qtbot.waitSignal(doc.failed) as blocker:
        assert not doc.edit("Add action", duplicate)
    assert blocker.args[0] == "Add action"
    assert blocker.args[1] == "Another action in this plan already has the ref PVP-01"
    assert doc.undo_stack.count() == 0


def test_an_edit_that_changes_nothing_is_not_an_undo_step(
    doc: PlanDocument, plan: MiniPlan
) -> None:
    assert doc.edit("Change title", _retitle(plan, "Fund IDVAs"))
    assert doc.undo_stack.count() == 0


def test_the_stack_is_clean_only_where_it_started(doc: PlanDocument, plan: MiniPlan) -> None:
    assert doc.undo_stack.isClean()
    doc.edit("Change title", _retitle(plan, "A"))
    doc.edit("Change title", _retitle(plan, "B"))
    assert not doc.undo_stack.isClean()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.undo_stack.isClean() and _title(doc, plan) == "Fund IDVAs"
