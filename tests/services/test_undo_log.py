"""Undoing and redoing a change set: the domain operations behind Edit > Undo and Redo."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain.changes import Transaction
from ssp_desktop.domain.enums import ActionStatus, Rag, ValueStatus
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import Action, ActionUpdate, Measure, MeasureValue
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.services.history import redo_change_set, undo_change_set
from ssp_desktop.store.engine import Store
from tests.factories import mini_plan

Q = Quarter(2023, 2)


def _edit(store: Store, work: object) -> uuid.UUID:
    with store.transaction() as tx:
        work(tx)  # type: ignore[operator]
        return tx.context.change_set


def _revert(store: Store, cs: uuid.UUID) -> None:
    with store.transaction() as tx:
        undo_change_set(tx, cs)


def _replay(store: Store, cs: uuid.UUID) -> None:
    with store.transaction() as tx:
        redo_change_set(tx, cs)


def test_field_edits_of_every_type_revert_and_replay(store: Store) -> None:
    plan = mini_plan(store)

    def edit(tx: Transaction) -> None:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(
            tx,
            action,
            title="New title",
            status=ActionStatus.COMPLETE,
            rag=Rag.GREEN,
            due_date=dt.date(2024, 3, 31),
            delivery_year=FinancialYear(2023),
            lead_person_id=None,
        )

    cs = _edit(store, edit)
    _revert(store, cs)
    with store.session() as s:
        a = s.get(Action, plan.action.id)
        assert a is not None
        assert (a.title, a.status, a.rag, a.due_date, a.delivery_year, a.lead_person_id) == (
            "Fund IDVAs",
            ActionStatus.NOT_STARTED,
            None,
            dt.date(2023, 3, 31),
            None,
            plan.person.id,
        )
    _replay(store, cs)
    with store.session() as s:
        a = s.get(Action, plan.action.id)
        assert a is not None
        assert (a.title, a.status, a.due_date, a.delivery_year, a.lead_person_id) == (
            "New title",
            ActionStatus.COMPLETE,
            dt.date(2024, 3, 31),
            FinancialYear(2023),
            None,
        )


def test_a_create_reverts_to_a_tombstone_and_replays_back(store: Store) -> None:
    plan = mini_plan(store)
    cs = _edit(
        store,
        lambda tx: services.record_value(
            tx, tx.get(Measure, plan.measure.id), Q, 91.5, comparators={"GM average": 88.0}
        ),
    )
    value_id = MeasureValue.make_id(plan.measure.id, Q)
    _revert(store, cs)
    with store.session() as s:
        assert plan_queries.measure_series(s, plan.measure.id) == []
        assert s.get(MeasureValue, value_id).is_deleted  # type: ignore[union-attr]
    _replay(store, cs)
    with store.session() as s:
        [v] = plan_queries.measure_series(s, plan.measure.id)
        assert (v.value, v.comparator_values, v.status) == (
            91.5,
            {"GM average": 88.0},
            ValueStatus.PROVISIONAL,
        )


def test_a_superseding_update_reverts_cleanly(store: Store) -> None:
    plan = mini_plan(store)

    def write(rag: Rag, text: str) -> uuid.UUID:
        def work(tx: Transaction) -> None:
            action = tx.get(Action, plan.action.id)
            assert action is not None
            services.write_update(
                tx, action, Q, rag=rag, narrative=text, written_on=dt.date.today()
            )

        return _edit(store, work)

    write(Rag.AMBER, "first")
    second = write(Rag.RED, "second")
    _revert(store, second)
    with store.session() as s:
        [row] = plan_queries.actions_with_latest_update(s, plan.plan.id)
        assert row.latest is not None and row.latest.narrative == "first"
        assert row.action.rag is Rag.AMBER
    _replay(store, second)
    with store.session() as s:
        [row] = plan_queries.actions_with_latest_update(s, plan.plan.id)
        assert row.latest is not None and row.latest.narrative == "second"
        live = s.scalar(
            select(func.count()).select_from(ActionUpdate).where(ActionUpdate.deleted_at.is_(None))
        )
        assert live == 2  # the superseded one is kept


def test_a_cascade_delete_reverts_to_the_whole_subtree(store: Store) -> None:
    plan = mini_plan(store)
    cs = _edit(store, lambda tx: services.delete(tx, tx.get(Action, plan.action.id), cascade=True))
    _revert(store, cs)
    with store.session() as s:
        assert not s.get(Action, plan.action.id).is_deleted  # type: ignore[union-attr]


def test_undoing_a_cascade_restores_parents_before_children(store: Store) -> None:
    """An action with partners and a superseded update: every record comes back."""
    from ssp_desktop.domain.records import ActionPartner

    plan = mini_plan(store)

    def build(tx: Transaction) -> None:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.create(tx, ActionPartner(action_id=action.id, organisation_id=plan.org.id))
        for text in ("first", "second", "third"):
            services.write_update(
                tx, action, Q, rag=Rag.AMBER, narrative=text, written_on=Q.end_date
            )

    _edit(store, build)
    # The session's order of the doomed records varies; the log's order must not matter.
    for _ in range(5):
        cs = _edit(
            store, lambda tx: services.delete(tx, tx.get(Action, plan.action.id), cascade=True)
        )
        _revert(store, cs)
        with store.session() as s:
            live = s.scalar(
                select(func.count())
                .select_from(ActionUpdate)
                .where(ActionUpdate.deleted_at.is_(None))
            )
            assert live == 3
            assert not s.get(Action, plan.action.id).is_deleted  # type: ignore[union-attr]
