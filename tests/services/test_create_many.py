"""``services.create_many`` judges a batch of new records as ``services.create`` judges
each in turn, and refuses exactly what it refuses: the same error, for the same record,
and then nothing of the batch is added (not to the session, not to the transaction's
lookups, not to the uniqueness index), so the store is as it was.

(That it writes the same rows and the same change log as ``create`` one by one is in
``tests/domain/test_bulk_writes.py``.)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain.base import Record
from ssp_desktop.domain.enums import Rag, UpdateState
from ssp_desktop.domain.errors import DomainError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionPartner,
    ActionUpdate,
    Plan,
    Priority,
    StoreMeta,
)
from ssp_desktop.domain.sync_records import ROLE_LEAD
from ssp_desktop.services import core, locks, review
from ssp_desktop.services.actions import FirstUpdate, NewAction, add_actions
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q2 = Quarter(2022, 2)


@pytest.fixture
def mini(store: Store) -> MiniPlan:
    return mini_plan(store)


def _action(mini: MiniPlan, ref: str, **fields: object) -> Action:
    values: dict[str, object] = {
        "plan_id": mini.plan.id,
        "priority_area_id": mini.area.id,
        "ref": ref,
        "title": f"Action {ref}",
        "start_date": dt.date(2022, 5, 1),
        "due_date": dt.date(2023, 1, 31),
    }
    values.update(fields)
    return Action(**values)


def _with_children(mini: MiniPlan, action: Action) -> list[Record]:
    return [
        action,
        ActionPartner(action_id=action.id, organisation_id=mini.org.id),
        ActionUpdate(
            action_id=action.id,
            quarter=Q2,
            rag=Rag.GREEN,
            narrative=f"Going well ({action.ref}).",
            written_on=dt.date(2022, 10, 1),
            state=UpdateState.SUBMITTED,
            is_current=True,
        ),
    ]


def _batch(mini: MiniPlan, bad: Callable[[MiniPlan], Record]) -> list[Record]:
    """Two good actions with their partner and update, the bad record, one more good."""
    return [
        *_with_children(mini, _action(mini, "NEW-1")),
        *_with_children(mini, _action(mini, "NEW-2")),
        bad(mini),
        *_with_children(mini, _action(mini, "NEW-3")),
    ]


def _fresh(records: list[Record]) -> list[Record]:
    """The same records made anew (with the same ids), for a second transaction."""
    return [
        type(r)(**{k: v for k, v in r.__dict__.items() if not k.startswith("_")}) for r in records
    ]


BAD: dict[str, Callable[[MiniPlan], Record]] = {
    "a ref the batch has already used": lambda mini: _action(mini, "new-1"),
    "a ref the store already holds": lambda mini: _action(mini, mini.action.ref),
    "a control character": lambda mini: _action(mini, "NEW-X", title="Bad\x07title"),
    "too long a title": lambda mini: _action(mini, "NEW-X", title="x" * 501),
    "a start after its due date": lambda mini: _action(
        mini, "NEW-X", start_date=dt.date(2023, 6, 1)
    ),
    "a date out of range": lambda mini: _action(mini, "NEW-X", due_date=dt.date(2150, 1, 1)),
    "a missing area": lambda mini: _action(mini, "NEW-X", priority_area_id=uuid.uuid4()),
    "an update's bad text": lambda mini: ActionUpdate(
        action_id=mini.action.id,
        quarter=Q2,
        narrative="Fine\u202eenif",
        written_on=dt.date(2022, 10, 1),
        is_current=True,
    ),
}


def _refusal(store: Store, run: Callable[[object], object]) -> tuple[type, str]:
    with pytest.raises(DomainError) as caught, store.transaction() as tx:
        run(tx)
    return type(caught.value), str(caught.value)


@pytest.mark.parametrize("case", list(BAD))
def test_a_batch_refuses_what_create_refuses_as_create_would(
    store: Store, mini: MiniPlan, case: str
) -> None:
    """The same error for the same record; it and those after it are not added, those
    before it are (as by the calls to create before it); the transaction rolls back, so
    nothing is written."""
    records = _batch(mini, BAD[case])
    revision = store.revision()
    held: dict[str, list[bool]] = {}
    caught: dict[str, tuple[type, str]] = {}
    for way in ("one by one", "batch"):
        batch = _fresh(records)
        with pytest.raises(DomainError) as error, store.transaction() as tx:
            try:
                if way == "batch":
                    core.create_many(tx, batch)
                else:
                    for record in batch:
                        services.create(tx, record)
            finally:
                held[way] = [record in tx.session for record in batch]
        caught[way] = (type(error.value), str(error.value))
        assert store.revision() == revision
    assert caught["batch"] == caught["one by one"]
    assert held["batch"] == held["one by one"] == [True] * 6 + [False] * 4


def test_a_batch_is_judged_in_order_with_the_records_before_it(
    store: Store, mini: MiniPlan
) -> None:
    """An update of an action made earlier in the same batch is judged with that action
    (its plan, its quarter's lock), as create judges it once the action is added."""
    with store.transaction() as tx:
        made = core.create_many(
            tx, [*_with_children(mini, _action(mini, "NEW-1")), _action(mini, "NEW-2")]
        )
    assert [type(r) for r in made] == [Action, ActionPartner, ActionUpdate, Action]
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(ActionUpdate)) == 1
        assert set(s.scalars(select(Action.ref))) == {mini.action.ref, "NEW-1", "NEW-2"}


def test_a_locked_quarter_is_refused_in_a_batch_as_by_create(
    store: Store, mini: MiniPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock (a rule of every field of an update, asked once per record) refuses the
    update of a published quarter with the same words, naming the action made in the
    same batch."""
    lock = locks.Lock(
        mini.plan.id,
        Q2,
        uuid.uuid4(),
        dt.datetime(2022, 11, 1, tzinfo=dt.UTC),
        "Chair",
        "Board, 1 November 2022",
    )
    monkeypatch.setattr(locks, "locks", lambda session: {(mini.plan.id, Q2): lock})
    records = _with_children(mini, _action(mini, "NEW-1"))

    def one_by_one(tx: object) -> None:
        for record in _fresh(records):
            services.create(tx, record)  # type: ignore[arg-type]

    expected = _refusal(store, one_by_one)
    assert expected[0] is locks.LockedError
    assert "NEW-1's update for" in expected[1] and "is locked" in expected[1]
    assert _refusal(store, lambda tx: core.create_many(tx, _fresh(records))) == expected


def test_an_archived_plan_refuses_a_batch_as_it_refuses_create(
    store: Store, mini: MiniPlan
) -> None:
    with store.transaction(actor="Strategy Officer") as tx:
        review.archive_plan(tx, tx.get(Plan, mini.plan.id))
    records = _with_children(mini, _action(mini, "NEW-1"))

    def one_by_one(tx: object) -> None:
        for record in _fresh(records):
            services.create(tx, record)  # type: ignore[arg-type]

    expected = _refusal(store, one_by_one)
    assert "archived" in expected[1]
    assert _refusal(store, lambda tx: core.create_many(tx, _fresh(records))) == expected


def test_a_lead_copy_refuses_in_a_batch_what_only_the_master_creates(
    store: Store, mini: MiniPlan
) -> None:
    with store.transaction(keeps_history=True) as tx:
        tx.session.add(StoreMeta(key="sync_role", value=ROLE_LEAD))
    records: list[Record] = [
        *_with_children(mini, _action(mini, "NEW-1")),
        Priority(plan_id=mini.plan.id, code="NEW", title="A new theme"),
    ]

    def one_by_one(tx: object) -> None:
        for record in _fresh(records):
            services.create(tx, record)  # type: ignore[arg-type]

    expected = _refusal(store, one_by_one)
    assert expected[1] == "Only the master copy changes the plan's structure"
    assert _refusal(store, lambda tx: core.create_many(tx, _fresh(records))) == expected


def test_add_actions_writes_an_action_its_partners_and_first_update(
    store: Store, mini: MiniPlan
) -> None:
    """services.add_actions: the records create and write_update would make, the
    action's RAG following its update's as write_update makes it."""
    new = [
        NewAction(
            {"plan_id": mini.plan.id, "priority_area_id": mini.area.id, "ref": "N1", "title": "A"},
            [mini.org.id],
            FirstUpdate(Q2, Rag.AMBER, "Started.", dt.date(2022, 10, 1)),
        ),
        NewAction(
            {"plan_id": mini.plan.id, "priority_area_id": mini.area.id, "ref": "N2", "title": "B"}
        ),
    ]
    with store.transaction() as tx:
        made = add_actions(tx, new)
    with store.session() as s:
        first, second = (s.get(Action, a.id) for a in made)
        assert first is not None and second is not None
        assert first.rag is Rag.AMBER and second.rag is None
        update = s.scalars(select(ActionUpdate).where(ActionUpdate.action_id == first.id)).one()
        assert (update.narrative, update.is_current, update.supersedes_id) == (
            "Started.",
            True,
            None,
        )
        partners = s.scalars(select(ActionPartner.organisation_id)).all()
        assert partners == [mini.org.id]


def test_add_actions_makes_an_action_follow_its_first_update_as_write_update_does(
    store: Store, mini: MiniPlan
) -> None:
    fields = {
        "plan_id": mini.plan.id,
        "priority_area_id": mini.area.id,
        "title": "Given a RAG",
        "rag": Rag.RED,
    }
    first = FirstUpdate(Q2, Rag.GREEN, "Better now.", dt.date(2022, 10, 1))
    with store.transaction() as tx:
        (batched,) = add_actions(tx, [NewAction({**fields, "ref": "N1"}, (), first)])
        one = services.create(tx, Action(**fields, ref="N2"))
        services.write_update(
            tx,
            one,
            first.quarter,
            rag=first.rag,
            narrative=first.narrative,
            written_on=first.written_on,
        )
    with store.session() as s:
        assert [s.get(Action, a.id).rag for a in (batched, one)] == [Rag.GREEN, Rag.GREEN]  # type: ignore[union-attr]
