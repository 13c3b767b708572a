"""Undo and redo through the document: one stack, edits committed as they are made."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, PriorityArea
from ssp_desktop.spreadsheets.importing import ImportOptions, apply, prepare
from ssp_desktop.store.engine import Store
from ssp_desktop.ui.document import PlanDocument
from tests.factories import MiniPlan, mini_plan
from tests.spreadsheets.sheets import TRACKER_HEADINGS, write_csv


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


def test_a_spreadsheet_import_ends_the_undo_history_and_refreshes_views(
    doc: PlanDocument, plan: MiniPlan, store: Store, qtbot: QtBot, tmp_path: Path
) -> None:
    """The import never touches the undo stack itself; the store's commit event does."""
    assert doc.edit("Change title", _retitle(plan, "Fund three IDVAs"))
    assert doc.undo_stack.canUndo()
    path = write_csv(
        tmp_path / "tracker.csv",
        [
            TRACKER_HEADINGS,
            ["PVP-01", "Fund IDVAs for all", "PVP", "Domestic abuse", "Police",
             "Superintendent", None, None, None, "In progress", "Amber", "Two IDVAs in post"],
        ],
    )  # fmt: skip
    options = ImportOptions(quarter=Quarter(2022, 2), today=dt.date(2022, 10, 20))
    with qtbot.waitSignal(doc.committed) as heard:
        apply(store, prepare(path), options)
    assert heard.args[0].touches("action", plan.action.id)
    assert not doc.undo_stack.canUndo() and doc.undo_stack.count() == 0
    assert _title(doc, plan) == "Fund IDVAs for all"


def test_undo_refused_is_said_and_the_menu_has_nothing_left_to_undo(
    doc: PlanDocument, plan: MiniPlan, store: Store, qtbot: QtBot
) -> None:
    assert doc.edit("Change title", _retitle(plan, "Fund three IDVAs"))
    with store.transaction(actor="jane", keeps_history=True) as tx:
        _retitle(plan, "Jane's title")(tx)
    with qtbot.waitSignal(doc.failed) as blocker:
        doc.undo_stack.undo()
    assert blocker.args[0] == "Undo Change title"
    assert "the title of action PVP-01 has been changed since, by jane" in blocker.args[1]
    assert _title(doc, plan) == "Jane's title" and not doc.undo_stack.canUndo()
