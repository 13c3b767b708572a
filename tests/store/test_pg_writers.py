"""Two real PostgreSQL connections racing: revisions in commit order, a lost update
refused, and a commit announced to the other connection (LISTEN/NOTIFY).

Each test opens two Stores on one server database, as two officers' apps do, and
interleaves their transactions with threads and events so the order is the test's,
not the scheduler's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ssp_desktop import services
from ssp_desktop.domain.errors import EditConflictError
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import Action, ChangeLog, Measure, MeasureValue
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan


@pytest.fixture
def officers(pg_store_url: str) -> Iterator[tuple[Store, Store, MiniPlan]]:
    first = Store.open(pg_store_url)
    plan = mini_plan(first)
    second = Store.open(pg_store_url)
    try:
        yield first, second, plan
    finally:
        second.close()
        first.close()


def test_the_later_started_transaction_committing_first_gets_the_lower_revision(
    officers: tuple[Store, Store, MiniPlan],
) -> None:
    first, second, plan = officers
    with first.transaction(actor="strategy") as tx:
        area = tx.get(type(plan.area), plan.area.id)
        assert area is not None
        other = services.add_action(tx, area, ref="PVP-02", title="Train GPs")
    other_id = other.id
    written = threading.Event()
    release = threading.Event()
    revisions: dict[str, int] = {}
    first.subscribe(lambda c: revisions.setdefault("early", c.revision))
    second.subscribe(lambda c: revisions.setdefault("late", c.revision))
    failures: list[BaseException] = []

    def early() -> None:
        try:
            with first.transaction(actor="A") as tx:
                action = tx.get(Action, plan.action.id)
                assert action is not None
                services.edit(tx, action, title="Started first")
                tx.flush()  # its change-log rows now hold the lower seq numbers
                written.set()
                assert release.wait(10)
        except BaseException as exc:
            failures.append(exc)
            written.set()

    worker = threading.Thread(target=early)
    worker.start()
    assert written.wait(10)
    with second.transaction(actor="B") as tx:
        action = tx.get(Action, other_id)
        assert action is not None
        services.edit(tx, action, title="Started later, committed first")
    release.set()
    worker.join(10)
    assert failures == []
    assert revisions["late"] < revisions["early"]
    with first.session() as s:
        rows = s.execute(
            select(ChangeLog.actor, ChangeLog.seq, ChangeLog.revision)
            .where(ChangeLog.actor.in_(["A", "B"]))
            .order_by(ChangeLog.revision)
        ).all()
    (b_actor, b_seq, b_rev), (a_actor, a_seq, a_rev) = rows
    # Row order by seq is start order; by revision, commit order.
    assert (b_actor, a_actor) == ("B", "A")
    assert a_seq < b_seq and b_rev < a_rev
    assert (b_rev, a_rev) == (revisions["late"], revisions["early"])
    assert first.revision() == second.revision() == a_rev
    # What the second officer's window would be told about the first's commit.
    told = second.changes_since(b_rev)
    assert told is not None and told.actor == "A"
    assert [r.record_id for r in told.records] == [plan.action.id]


def test_two_officers_racing_on_one_field_the_second_is_refused_not_lost(
    officers: tuple[Store, Store, MiniPlan],
) -> None:
    first, second, plan = officers
    read = "Fund IDVAs"  # what both officers' forms show
    locked = threading.Event()
    release = threading.Event()
    failures: list[BaseException] = []

    def first_officer() -> None:
        try:
            with first.transaction(actor="Jane First") as tx:
                action = tx.get(Action, plan.action.id)
                assert action is not None
                services.edit(tx, action, expected={"title": read}, title="First's title")
                locked.set()
                assert release.wait(10)
        except BaseException as exc:
            failures.append(exc)
            locked.set()

    worker = threading.Thread(target=first_officer)
    worker.start()
    assert locked.wait(10)
    # The second officer's check waits on the row the first has locked; let the first
    # commit while it waits.
    threading.Timer(0.5, release.set).start()
    with pytest.raises(EditConflictError) as refused:
        with second.transaction(actor="Sam Second") as tx:
            action = tx.get(Action, plan.action.id)
            assert action is not None
            services.edit(tx, action, expected={"title": read}, title="Second's title")
    worker.join(10)
    assert failures == []
    conflict = refused.value.conflict
    assert (conflict.theirs, conflict.yours) == ("First's title", "Second's title")
    assert "Jane First" in conflict.by
    with first.session() as s:
        action = s.get(Action, plan.action.id)
        assert action is not None and action.title == "First's title"
        titles = s.scalars(
            select(ChangeLog.new).where(
                ChangeLog.record_id == plan.action.id, ChangeLog.field == "title"
            )
        ).all()
    assert titles == ['"First\'s title"']


def test_two_officers_entering_one_empty_quarter_the_second_is_refused_not_lost(
    officers: tuple[Store, Store, MiniPlan],
) -> None:
    """Both grids showed the quarter empty; the value's id comes from the measure and
    quarter, so there is no row to lock yet: the measure's row makes them take turns,
    and the second reads the first's value and is refused (not a duplicate-key error,
    not an overwrite)."""
    first, second, plan = officers
    quarter = Quarter(2022, 1)
    locked = threading.Event()
    release = threading.Event()
    failures: list[BaseException] = []

    def first_officer() -> None:
        try:
            with first.transaction(actor="Jane First") as tx:
                measure = tx.get(Measure, plan.measure.id)
                assert measure is not None
                services.record_value(tx, measure, quarter, 71.0, expected={"value": None})
                locked.set()
                assert release.wait(10)
        except BaseException as exc:
            failures.append(exc)
            locked.set()

    worker = threading.Thread(target=first_officer)
    worker.start()
    assert locked.wait(10)
    threading.Timer(0.5, release.set).start()
    with pytest.raises(EditConflictError) as refused:
        with second.transaction(actor="Sam Second") as tx:
            measure = tx.get(Measure, plan.measure.id)
            assert measure is not None
            services.record_value(tx, measure, quarter, 64.0, expected={"value": None})
    worker.join(10)
    assert failures == []
    conflict = refused.value.conflict
    assert (conflict.theirs, conflict.yours) == (71.0, 64.0)
    assert "Jane First" in conflict.by
    with first.session() as s:
        value = s.get(MeasureValue, MeasureValue.make_id(plan.measure.id, quarter))
        assert value is not None and value.value == 71.0
