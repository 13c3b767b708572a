"""The change log and the record rules users rely on: tombstones, blocked deletes,
unique refs, append-only updates, one value per measure per quarter."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from ssp_desktop import services
from ssp_desktop.domain import changes
from ssp_desktop.domain.changes import history
from ssp_desktop.domain.enums import ActionStatus, Rag, UpdateState, ValueStatus
from ssp_desktop.domain.errors import (
    DeleteBlockedError,
    DomainError,
    ParentDeletedError,
)
from ssp_desktop.domain.events import merge_changes, record_changes
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionPartner,
    ActionUpdate,
    ChangeLog,
    Measure,
    MeasureValue,
    Organisation,
    PriorityArea,
)
from ssp_desktop.queries import plans as plan_queries
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q2 = Quarter(2023, 2)


@pytest.fixture
def plan(store: Store) -> MiniPlan:
    return mini_plan(store)


def test_create_update_delete_are_logged_with_who_what_where(store: Store, plan: MiniPlan) -> None:
    with store.transaction(actor="theme.lead@example", person_id=plan.person.id) as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Fund two more IDVAs", status=ActionStatus.IN_PROGRESS)
    with store.transaction(actor="strategy.team") as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.delete(tx, action)
    with store.session() as s:
        rows = history(s, plan.action.id)
    assert [(r.op, r.field) for r in rows] == [
        ("create", None),
        ("update", "status"),
        ("update", "title"),
        ("delete", None),
    ] or [(r.op, r.field) for r in rows] == [
        ("create", None),
        ("update", "title"),
        ("update", "status"),
        ("delete", None),
    ]
    created = json.loads(rows[0].new or "{}")
    assert created["ref"] == "PVP-01" and created["title"] == "Fund IDVAs"
    title = next(r for r in rows if r.field == "title")
    assert (json.loads(title.old or ""), json.loads(title.new or "")) == (
        "Fund IDVAs",
        "Fund two more IDVAs",
    )
    assert title.actor == "theme.lead@example" and title.person_id == plan.person.id
    assert title.site_id == store.site_id and title.entity == "action"
    assert rows[-1].actor == "strategy.team"
    assert rows[1].change_set == rows[2].change_set != rows[3].change_set


def test_setting_a_field_to_its_current_value_logs_nothing(store: Store, plan: MiniPlan) -> None:
    before = store.revision()
    with store.transaction() as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Fund IDVAs")
    assert store.revision() == before


def test_a_flush_logs_each_changed_field_once_from_stored_to_last_value(
    store: Store, plan: MiniPlan
) -> None:
    """Only the fields whose value differs from the stored one at the flush are logged,
    from the stored value to the last one set, in the record's column order."""
    with store.transaction() as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, title="Fund one IDVA")
        services.edit(tx, action, title="Fund three IDVAs", status=ActionStatus.IN_PROGRESS)
        services.edit(tx, action, status=ActionStatus.NOT_STARTED)  # back as stored
        tx.flush()
    with store.session() as s:
        rows = [r for r in history(s, plan.action.id) if r.op == "update"]
    assert [(r.field, r.old, r.new) for r in rows] == [
        ("title", json.dumps("Fund IDVAs"), json.dumps("Fund three IDVAs"))
    ]


def test_a_failed_transaction_logs_nothing_and_changes_nothing(
    store: Store, plan: MiniPlan
) -> None:
    before = store.revision()
    with pytest.raises(RuntimeError), store.transaction() as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.edit(tx, action, title="half-done")
        tx.flush()
        raise RuntimeError("crash mid-edit")
    assert store.revision() == before
    with store.session() as s:
        assert s.get(Action, plan.action.id).title == "Fund IDVAs"  # type: ignore[union-attr]


def test_records_are_tombstoned_not_removed(store: Store, plan: MiniPlan) -> None:
    with store.transaction() as tx:
        services.delete(tx, tx.get(Action, plan.action.id))  # type: ignore[arg-type]
    with store.session() as s:
        action = s.get(Action, plan.action.id)
        assert action is not None and action.is_deleted
    with pytest.raises(DomainError, match="never removed"), store.transaction() as tx:
        tx.session.delete(tx.get(Organisation, plan.org.id))
        tx.flush()


def test_a_parent_with_live_children_cannot_be_deleted(store: Store, plan: MiniPlan) -> None:
    with (
        pytest.raises(
            DeleteBlockedError,
            match=r"organisation Police: 1 action and 1 person \(.*\) still refer",
        ),
        store.transaction() as tx,
    ):
        services.delete(tx, tx.get(Organisation, plan.org.id))  # type: ignore[arg-type]
    with pytest.raises(DeleteBlockedError, match="action PVP-01"), store.transaction() as tx:
        services.delete(tx, tx.get(PriorityArea, plan.area.id))  # type: ignore[arg-type]
    with store.session() as s:
        assert not s.get(Organisation, plan.org.id).is_deleted  # type: ignore[union-attr]


def test_cascade_tombstones_what_a_record_owns_and_logs_each(store: Store, plan: MiniPlan) -> None:
    with store.transaction() as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.write_update(
            tx, action, Q2, rag=Rag.GREEN, narrative="On track", written_on=dt.date(2023, 10, 20)
        )
    with store.transaction() as tx:
        doomed = services.delete(tx, tx.get(PriorityArea, plan.area.id), cascade=True)  # type: ignore[arg-type]
    assert sorted(type(d).__name__ for d in doomed) == ["Action", "ActionUpdate", "PriorityArea"]
    with store.session() as s:
        deletes = s.scalars(select(ChangeLog.entity).where(ChangeLog.op == "delete")).all()
    assert sorted(deletes) == ["action", "action_update", "priority_area"]


def test_an_actions_partner_links_go_with_it(store: Store, plan: MiniPlan) -> None:
    with store.transaction() as tx:
        services.create(tx, ActionPartner(action_id=plan.action.id, organisation_id=plan.org.id))
    with pytest.raises(DeleteBlockedError), store.transaction() as tx:
        services.delete(tx, tx.get(Organisation, plan.org.id))  # type: ignore[arg-type]
    with store.transaction() as tx:
        doomed = services.delete(tx, tx.get(Action, plan.action.id))  # type: ignore[arg-type]
    assert {type(d).__name__ for d in doomed} == {"Action", "ActionPartner"}


def test_nothing_can_be_added_under_a_deleted_parent(store: Store, plan: MiniPlan) -> None:
    with store.transaction() as tx:
        services.delete(tx, tx.get(Action, plan.action.id))  # type: ignore[arg-type]
    with pytest.raises(ParentDeletedError, match="action PVP-01 has been deleted"):
        with store.transaction() as tx:
            services.create(
                tx,
                ActionUpdate(action_id=plan.action.id, quarter=Q2, written_on=dt.date(2023, 10, 1)),
            )
    with store.transaction() as tx:  # restoring the parent makes room again
        services.restore(tx, tx.get(Action, plan.action.id))  # type: ignore[arg-type]
        services.create(
            tx, ActionUpdate(action_id=plan.action.id, quarter=Q2, written_on=dt.date(2023, 10, 1))
        )
    with store.session() as s:
        ops = [r.op for r in history(s, plan.action.id)]
    assert ops == ["create", "delete", "restore"]


def test_refs_are_unique_within_a_plan_but_reusable_after_delete(
    store: Store, plan: MiniPlan
) -> None:
    with pytest.raises(DomainError, match="Another action already has this plan_id and ref|ref"):
        with store.transaction() as tx:
            area = tx.get(PriorityArea, plan.area.id)
            assert area is not None
            services.add_action(tx, area, ref="PVP-01", title="Duplicate")
    with store.transaction() as tx:
        services.delete(tx, tx.get(Action, plan.action.id))  # type: ignore[arg-type]
    with store.transaction() as tx:
        area = tx.get(PriorityArea, plan.area.id)
        assert area is not None
        services.add_action(tx, area, ref="PVP-01", title="Replacement")
    with store.session() as s:
        live = s.scalars(select(Action.title).where(Action.deleted_at.is_(None))).all()
    assert live == ["Replacement"]


def test_due_before_start_is_refused(store: Store, plan: MiniPlan) -> None:
    with pytest.raises(DomainError, match="due date is before the start date"):
        with store.transaction() as tx:
            action = tx.get(Action, plan.action.id)
            assert action is not None
            services.edit(tx, action, due_date=dt.date(2021, 1, 1))


def test_an_edited_update_supersedes_and_history_keeps_both(store: Store, plan: MiniPlan) -> None:
    with store.transaction() as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        first = services.write_update(
            tx, action, Q2, rag=Rag.AMBER, narrative="Recruiting", written_on=dt.date(2023, 10, 2)
        )
    with store.transaction() as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        second = services.write_update(
            tx,
            action,
            Q2,
            rag=Rag.GREEN,
            narrative="Two IDVAs in post",
            written_on=dt.date(2023, 10, 9),
            state=UpdateState.SUBMITTED,
        )
    with store.session() as s:
        updates = s.scalars(select(ActionUpdate).order_by(ActionUpdate.written_on)).all()
        assert [(u.narrative, u.is_current) for u in updates] == [
            ("Recruiting", False),
            ("Two IDVAs in post", True),
        ]
        assert updates[1].supersedes_id == first.id and second.id == updates[1].id
        assert s.get(Action, plan.action.id).rag is Rag.GREEN  # type: ignore[union-attr]
        rows = plan_queries.actions_with_latest_update(s, plan.plan.id)
    assert [r.latest.narrative if r.latest else None for r in rows] == ["Two IDVAs in post"]


def test_an_older_quarters_update_does_not_change_the_actions_rag(
    store: Store, plan: MiniPlan
) -> None:
    with store.transaction() as tx:
        action = tx.get(Action, plan.action.id)
        assert action is not None
        services.write_update(
            tx, action, Q2, rag=Rag.RED, narrative="x", written_on=dt.date.today()
        )
        services.write_update(
            tx, action, Q2.previous(), rag=Rag.GREEN, narrative="y", written_on=dt.date.today()
        )
    with store.session() as s:
        assert s.get(Action, plan.action.id).rag is Rag.RED  # type: ignore[union-attr]


def test_one_value_per_measure_per_quarter(store: Store, plan: MiniPlan) -> None:
    with store.transaction(actor="analyst.one") as tx:
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        services.record_value(tx, measure, Q2, 90.0, comparators={"GM average": 88.0})
    with store.transaction(actor="analyst.two") as tx:
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        value = services.record_value(
            tx, measure, Q2, 92.0, comparators={"GM average": 88.0}, status=ValueStatus.FINAL
        )
    assert value.id == MeasureValue.make_id(plan.measure.id, Q2)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(MeasureValue)) == 1
        assert [v.value for v in plan_queries.measure_series(s, plan.measure.id)] == [92.0]
        changed = [(r.field, r.actor) for r in history(s, value.id) if r.op == "update"]
    assert sorted(changed) == [("status", "analyst.two"), ("value", "analyst.two")]


def test_a_comparator_the_measure_does_not_have_is_refused(store: Store, plan: MiniPlan) -> None:
    with pytest.raises(DomainError, match="no comparator England; it has GM average"):
        with store.transaction() as tx:
            measure = tx.get(Measure, plan.measure.id)
            assert measure is not None
            services.record_value(tx, measure, Q2, 90.0, comparators={"England": 80.0})


def test_targets_are_one_per_year(store: Store, plan: MiniPlan) -> None:
    with store.transaction() as tx:
        measure = tx.get(Measure, plan.measure.id)
        assert measure is not None
        services.set_target(tx, measure, Q2.fy, 90.0)
        services.set_target(tx, measure, Q2.fy, 91.0)
    with store.session() as s:
        assert plan_queries.target_for(s, plan.measure.id, Q2.fy) == 91.0
        assert plan_queries.target_for(s, plan.measure.id, Q2.fy.next()) is None


def test_writes_outside_a_transaction_are_refused(store: Store, plan: MiniPlan) -> None:
    with store.session() as s:
        action = s.get(Action, plan.action.id)
        assert action is not None
        action.title = "sneaky"
        with pytest.raises(DomainError, match="inside Store.transaction"):
            s.commit()


def test_new_ids_are_random_version_4_uuids_as_uuid4_makes_them() -> None:
    """Record and change-log ids (domain/ids.py) are ordinary random UUIDs: version 4,
    RFC 4122's variant, equal and hashed as the same UUID read back from its text or
    bytes, pickled whole, and never the same twice."""
    import pickle
    import uuid

    from ssp_desktop.domain import ids

    made = [ids.new_id() for _ in range(200)] + ids.new_ids(200)
    assert len(set(made)) == 400
    assert ids.new_ids(0) == []
    for one in made:
        assert one.version == 4 and one.variant == uuid.RFC_4122
        for again in (
            uuid.UUID(str(one)),
            uuid.UUID(bytes=one.bytes),
            pickle.loads(pickle.dumps(one)),
        ):
            assert again == one and hash(again) == hash(one) and str(again) == str(one)
        assert one.is_safe is uuid.SafeUUID.unknown
    # Every one of the 122 random bits is used: across 400 ids each is seen set and clear.
    fixed = (0xF000 << 64) | (0xC000 << 48)
    seen_set = seen_clear = 0
    for one in made:
        seen_set |= one.int
        seen_clear |= ~one.int
    random_bits = ((1 << 128) - 1) & ~fixed
    assert seen_set & random_bits == random_bits
    assert seen_clear & random_bits == random_bits


_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["action", "action_update"]),
        st.sampled_from([uuid.UUID(int=n) for n in range(1, 6)]),
        st.sampled_from(["create", "update", "delete", "restore"]),
        st.sampled_from([None, "title", "rag", "narrative"]),
    ),
    max_size=30,
)


@given(rows=_ROWS, cuts=st.lists(st.integers(min_value=0, max_value=30), max_size=4))
def test_changes_folded_a_run_at_a_time_are_the_changes_folded_at_once(
    rows: list[tuple[str, uuid.UUID, str, str | None]], cuts: list[int]
) -> None:
    """What a bulk transaction's batches changed, each folded as it was written
    (``Transaction.changes(since=...)``), makes up what the whole transaction changed, as
    one fold of every change-log row says it: the listeners and the search index hear
    the same records, in the same order, with the same ops and fields."""
    marks = sorted({min(c, len(rows)) for c in cuts} | {0, len(rows)})
    runs = [record_changes(rows[a:b]) for a, b in itertools.pairwise(marks)]
    assert merge_changes(runs) == record_changes(rows)


_JSON_VALUES = st.none() | st.booleans() | st.integers() | st.floats() | st.text()


@given(st.dictionaries(st.text(), _JSON_VALUES, max_size=12))
def test_a_snapshot_is_logged_as_json_dumps_writes_it(snapshot: dict[str, object]) -> None:
    """A new record's snapshot is encoded by one C encoder made once
    (``changes._encode``): the same text as ``json.dumps`` with the log's settings, and
    the same refusal of a value JSON cannot hold."""
    try:
        expected = json.dumps(snapshot, sort_keys=True, allow_nan=False, ensure_ascii=False)
    except ValueError:
        with pytest.raises(ValueError):
            changes._encode(snapshot)
        return
    assert changes._encode(snapshot) == expected
