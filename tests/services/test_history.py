"""The domain's undo history: compare-and-set undo and redo, and the history ending by
itself after any write it did not make (issue 15)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.errors import UndoRefusedError
from ssp_desktop.domain.events import Committed
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, ChangeLog, StoreMeta
from ssp_desktop.services.history import UndoHistory
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


@pytest.fixture
def history(store: Store) -> Iterator[UndoHistory]:
    h = UndoHistory(store)
    yield h
    h.close()


def _retitle(plan: MiniPlan, title: str) -> object:
    def work(tx: Transaction) -> None:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, title=title)

    return work


def _title(store: Store, plan: MiniPlan) -> str:
    with store.session() as s:
        action = s.get(Action, plan.action.id)
        assert action is not None
        return action.title


def test_an_edit_returns_what_changed_and_undo_redo_put_it_back(
    store: Store, plan: MiniPlan, history: UndoHistory
) -> None:
    before = _title(store, plan)
    result = history.perform("Change title", _retitle(plan, "Commission IDVAs"))  # type: ignore[arg-type]
    assert isinstance(result, Committed)
    assert [(r.entity, r.record_id, r.fields) for r in result.records] == [
        ("action", plan.action.id, frozenset({"title"}))
    ]
    assert result.revision == store.revision()
    assert history.can_undo and history.undo_text == "Change title"
    history.undo()
    assert _title(store, plan) == before and history.can_redo and not history.can_undo
    history.redo()
    assert _title(store, plan) == "Commission IDVAs"


def test_an_edit_that_changes_nothing_is_no_step(
    store: Store, plan: MiniPlan, history: UndoHistory
) -> None:
    assert history.perform("Change title", _retitle(plan, _title(store, plan))) is None  # type: ignore[arg-type]
    assert not history.can_undo


def test_a_refused_edit_writes_nothing_and_adds_no_step(
    store: Store, plan: MiniPlan, history: UndoHistory
) -> None:
    def clash(tx: Transaction) -> None:
        area = tx.get(type(plan.area), plan.area.id)
        assert area is not None
        services.add_action(tx, area, ref="pvp-01", title="Same ref, other case")

    revision = store.revision()
    with pytest.raises(Exception, match="Another action in this plan already has the ref pvp-01"):
        history.perform("Add action", clash)
    assert store.revision() == revision and not history.can_undo


@pytest.mark.parametrize("source", ["import:tracker.xlsx", "bundle:1234", "conflict"])
def test_any_write_outside_the_history_ends_it(
    store: Store, plan: MiniPlan, history: UndoHistory, source: str
) -> None:
    history.perform("Change title", _retitle(plan, "Commission IDVAs"))  # type: ignore[arg-type]
    assert history.can_undo
    with store.transaction(source=source) as tx:
        _retitle(plan, "Incoming title")(tx)  # type: ignore[operator]
    assert not history.can_undo and not history.can_redo
    assert _title(store, plan) == "Incoming title"


def test_a_write_that_changes_nothing_leaves_the_history(
    store: Store, plan: MiniPlan, history: UndoHistory
) -> None:
    history.perform("Change title", _retitle(plan, "Commission IDVAs"))  # type: ignore[arg-type]
    with store.transaction(source="import:empty.xlsx"):
        pass
    assert history.can_undo


def test_undo_is_refused_when_someone_else_changed_the_field_and_names_them(
    store: Store, plan: MiniPlan, history: UndoHistory
) -> None:
    history.perform("Change title", _retitle(plan, "Commission IDVAs"))  # type: ignore[arg-type]
    # A write that keeps the history (as a pack export's record does) but, here,
    # changes the same field: compare-and-set must still protect it.
    with store.transaction(actor="jane", source="local", keeps_history=True) as tx:
        _retitle(plan, "Jane's title")(tx)  # type: ignore[operator]
    assert history.can_undo
    revision = store.revision()
    with pytest.raises(UndoRefusedError) as refused:
        history.undo()
    message = str(refused.value)
    assert "the title of action PVP-01 has been changed since" in message
    assert "by jane on" in message and "Nothing was changed" in message
    assert _title(store, plan) == "Jane's title" and store.revision() == revision
    assert not history.can_undo  # the history has ended


def test_redo_is_refused_when_the_field_changed_after_the_undo(
    store: Store, plan: MiniPlan, history: UndoHistory
) -> None:
    history.perform("Change title", _retitle(plan, "Commission IDVAs"))  # type: ignore[arg-type]
    history.undo()
    with store.transaction(actor="sam", keeps_history=True) as tx:
        _retitle(plan, "Sam's title")(tx)  # type: ignore[operator]
    with pytest.raises(UndoRefusedError, match="by sam on"):
        history.redo()
    assert _title(store, plan) == "Sam's title"


def test_undo_of_a_new_record_is_refused_while_someone_added_under_it(
    store: Store, plan: MiniPlan, history: UndoHistory
) -> None:
    made: list[uuid.UUID] = []

    def add(tx: Transaction) -> None:
        area = tx.get(type(plan.area), plan.area.id)
        assert area is not None
        made.append(services.add_action(tx, area, ref="PVP-02", title="New").id)

    history.perform("Add action", add)
    with store.transaction(keeps_history=True) as tx:
        action = tx.get(Action, made[0])
        assert action is not None
        services.write_update(
            tx,
            action,
            Quarter(2022, 1),
            rag=None,
            narrative="x",
            written_on=dt.date(2023, 5, 1),
        )
    with pytest.raises(UndoRefusedError, match="Cannot undo: Cannot delete action PVP-02"):
        history.undo()
    with store.session() as s:
        assert s.get(Action, made[0]).deleted_at is None  # type: ignore[union-attr]


def test_undo_obeys_the_rules_too(store: Store, plan: MiniPlan, history: UndoHistory) -> None:
    """Undoing a ref change cannot give back a ref another action has taken since."""

    def reref(tx: Transaction) -> None:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, ref="PVP-09")

    history.perform("Change ref", reref)
    with store.transaction(keeps_history=True) as tx:
        area = tx.get(type(plan.area), plan.area.id)
        assert area is not None
        services.add_action(tx, area, ref="PVP-01", title="Took the old ref")
    with pytest.raises(Exception, match="Another action in this plan already has the ref PVP-01"):
        history.undo()


def test_undo_and_redo_are_logged_as_such(
    store: Store, plan: MiniPlan, history: UndoHistory
) -> None:
    history.perform("Change title", _retitle(plan, "Commission IDVAs"))  # type: ignore[arg-type]
    history.undo()
    history.redo()
    with store.session() as s:
        sources = s.scalars(
            select(ChangeLog.source)
            .where(ChangeLog.record_id == plan.action.id, ChangeLog.field == "title")
            .order_by(ChangeLog.seq)
        ).all()
    assert sources == ["local", "undo", "redo"]


def test_a_new_edit_drops_what_could_be_redone(
    store: Store, plan: MiniPlan, history: UndoHistory
) -> None:
    history.perform("First", _retitle(plan, "One"))  # type: ignore[arg-type]
    history.perform("Second", _retitle(plan, "Two"))  # type: ignore[arg-type]
    history.undo()
    history.perform("Third", _retitle(plan, "Three"))  # type: ignore[arg-type]
    assert not history.can_redo and [s.text for s in history.steps] == ["First", "Third"]
    history.undo()
    assert _title(store, plan) == "One"
    history.undo()
    assert _title(store, plan) == "Fund IDVAs" and not history.can_undo


def test_a_write_of_bookkeeping_only_ends_it_unless_it_says_it_keeps_it(
    store: Store, plan: MiniPlan, history: UndoHistory
) -> None:
    """Keeping this copy's value in a conflict changes no plan record, yet it is a
    decision undo must not reach back across; a bundle's sequence number is not."""
    history.perform("Change title", _retitle(plan, "Commission IDVAs"))  # type: ignore[arg-type]
    with store.transaction(source="sync", keeps_history=True) as tx:
        tx.session.add(StoreMeta(key="test_counter", value="1"))
    assert history.can_undo
    with store.transaction(source="conflict") as tx:
        tx.session.add(StoreMeta(key="test_decision", value="kept"))
    assert not history.can_undo
