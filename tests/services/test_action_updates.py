"""An action's quarterly update and the action's own RAG: the RAG follows the newest
quarter's update, and is logged as changed only when it does change, whether the writer
reads the current updates from the store or hands them in (an import)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.enums import Rag
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, ChangeLog
from ssp_desktop.services.actions import CurrentUpdates
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q2 = Quarter(2023, 2)


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


def _rag_log(store: Store, plan: MiniPlan) -> list[tuple[str | None, str | None]]:
    with store.session() as s:
        rows = s.scalars(
            select(ChangeLog)
            .where(ChangeLog.record_id == plan.action.id, ChangeLog.field == "rag")
            .order_by(ChangeLog.seq)
        ).all()
        return [(r.old, r.new) for r in rows]


@pytest.mark.parametrize("handed_in", [False, True], ids=["read", "handed-in"])
def test_the_actions_rag_is_logged_when_an_update_changes_it_and_only_then(
    store: Store, plan: MiniPlan, handed_in: bool
) -> None:
    written = []
    for quarter, rag in [(Q2, Rag.AMBER), (Q2.next(), Rag.AMBER), (Q2.next(), Rag.GREEN)]:
        with store.transaction() as tx:
            action = tx.get(Action, plan.action.id)
            assert action is not None
            current = CurrentUpdates.of_plan(tx.session, plan.plan.id) if handed_in else None
            services.write_update(
                tx,
                action,
                quarter,
                rag=rag,
                narrative=f"{quarter.label} {rag.word}",
                written_on=dt.date(2024, 1, 10),
                current=current,
            )
            written.append({(c.entity, c.fields) for c in tx.changes()})
    # The second update (a new quarter, the RAG the action already has) leaves the action
    # alone; the third (the same quarter again, GREEN) supersedes it and moves the RAG.
    assert ("action", frozenset({"rag"})) in written[0]
    assert {entity for entity, _fields in written[1]} == {"action_update"}
    assert ("action", frozenset({"rag"})) in written[2]
    assert [new for _old, new in _rag_log(store, plan)][-2:] == ['"amber"', '"green"']
    with store.session() as s:
        assert s.get(Action, plan.action.id).rag is Rag.GREEN  # type: ignore[union-attr]
