"""The "To review" read model: what a lead submitted, by priority, beside what came before."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from ssp_desktop import services
from ssp_desktop.domain.changes import Attribution, attributed
from ssp_desktop.domain.enums import Polarity, Rag, Unit, UpdateState
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    Measure,
    Organisation,
    Person,
    Priority,
    PriorityArea,
)
from ssp_desktop.queries.review import NO_PRIORITY, ReviewKind, review_queue
from ssp_desktop.services import review
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q1, Q2 = Quarter(2023, 1), Quarter(2023, 2)


@pytest.fixture
def mini(store: Store) -> MiniPlan:
    return mini_plan(store)


def _write(store: Store, action_id: object, quarter: Quarter, state: UpdateState, **kw: object):
    with store.transaction() as tx:
        action = tx.get(Action, action_id)
        fields: dict = {
            "rag": Rag.AMBER,
            "narrative": f"{quarter.label} words",
            "written_on": dt.date(2023, 10, 2),
        }
        fields.update(kw)
        return services.write_update(tx, action, quarter, state=state, **fields)


def _value(
    store: Store,
    measure_id: object,
    quarter: Quarter,
    value: float | None,
    state: UpdateState,
    **kw: object,
):
    with store.transaction() as tx:
        measure = tx.get(Measure, measure_id)
        return services.record_value(tx, measure, quarter, value, state=state, **kw)


def _queue(store: Store, mini: MiniPlan):
    with store.session() as s:
        return review_queue(s, mini.plan.id)


def test_only_submitted_current_updates_are_listed_with_the_quarter_before(
    store: Store, mini: MiniPlan
) -> None:
    _write(store, mini.action.id, Quarter(2022, 3), UpdateState.ACCEPTED, narrative="Q3 words")
    _write(store, mini.action.id, Q1, UpdateState.ACCEPTED, rag=Rag.GREEN, narrative="Q1 words")
    first = _write(store, mini.action.id, Q2, UpdateState.SUBMITTED, narrative="First go")
    assert [i.id for i in _queue(store, mini).items] == [first.id]
    # The lead rewrote it: only the current version waits for review.
    second = _write(store, mini.action.id, Q2, UpdateState.SUBMITTED, narrative="IDVAs recruited")
    queue = _queue(store, mini)
    assert queue.count == 1
    (item,) = queue.items
    assert item.id == second.id and item.kind is ReviewKind.UPDATE
    assert (item.ref, item.title, item.quarter) == ("PVP-01", "Fund IDVAs", Q2)
    assert (item.lead, item.organisation) == ("Superintendent", "Police")
    assert item.update is not None and item.update.narrative == "IDVAs recruited"
    assert item.rag is Rag.AMBER
    previous = item.previous_update
    assert previous is not None
    assert (previous.quarter, previous.rag, previous.narrative, previous.state) == (
        Q1,
        Rag.GREEN,
        "Q1 words",
        UpdateState.ACCEPTED,
    )
    # Accepted, it leaves the list; so does a returned one.
    with store.transaction() as tx:
        review.accept(tx, tx.get(ActionUpdate, second.id))
    assert _queue(store, mini).count == 0
    _write(store, mini.action.id, Quarter(2023, 3), UpdateState.DRAFT)
    assert _queue(store, mini).count == 0


def test_returned_and_draft_updates_wait_for_the_lead_not_the_reviewer(
    store: Store, mini: MiniPlan
) -> None:
    update = _write(store, mini.action.id, Q2, UpdateState.SUBMITTED)
    with store.transaction() as tx:
        review.return_to_lead(tx, tx.get(ActionUpdate, update.id), "Say which posts.")
    assert _queue(store, mini).count == 0
    with store.transaction() as tx:  # resubmitted: back in the list
        review.submit(tx, tx.get(ActionUpdate, update.id))
    assert [i.id for i in _queue(store, mini).items] == [update.id]


def test_a_value_shows_its_figure_target_rag_and_the_figure_before(
    store: Store, mini: MiniPlan
) -> None:
    with store.transaction() as tx:
        services.set_target(tx, tx.get(Measure, mini.measure.id), FinancialYear(2023), 80.0)
    _value(store, mini.measure.id, Quarter(2022, 3), 75.0, UpdateState.ACCEPTED)  # no Q4
    value = _value(
        store,
        mini.measure.id,
        Q1,
        71.5,
        UpdateState.SUBMITTED,
        comparators={"GM average": 77.0},
        note="Survey wave 3",
    )
    (item,) = _queue(store, mini).items
    assert item.id == value.id and item.kind is ReviewKind.VALUE
    assert (item.ref, item.title, item.quarter, item.unit) == ("M01", "Feel safe", Q1, Unit.PERCENT)
    assert item.value is not None
    assert (item.value.value, item.value.comparators, item.value.note) == (
        71.5,
        (("GM average", 77.0),),
        "Survey wave 3",
    )
    assert item.target == 80.0
    assert item.rag is Rag.RED  # below target, no tolerance
    assert item.summary == "71.5% \u2014 Survey wave 3"
    # The latest earlier figure, named by its period, when the quarter before has none.
    assert item.previous_value is not None
    assert (item.previous_value.period, item.previous_value.value) == (Quarter(2022, 3), 75.0)
    # A measure without a priority is grouped last, under its own heading.
    (group,) = _queue(store, mini).groups
    assert (group.priority_id, group.heading) == (None, NO_PRIORITY)


def test_items_are_grouped_by_priority_in_the_plans_order(store: Store, mini: MiniPlan) -> None:
    with store.transaction() as tx:
        services.edit(tx, tx.get(Priority, mini.priority.id), position=5)
        first = services.create(
            tx, Priority(plan_id=mini.plan.id, code="AAA", title="First", position=0)
        )
        area = services.create(tx, PriorityArea(priority_id=first.id, title="Area"))
        other = services.add_action(tx, area, ref="AAA-01", title="Other action")
        services.edit(tx, tx.get(Measure, mini.measure.id), priority_id=mini.priority.id)
    _write(store, mini.action.id, Q2, UpdateState.SUBMITTED)
    _write(store, other.id, Q2, UpdateState.SUBMITTED)
    _value(store, mini.measure.id, Q2, 70.0, UpdateState.SUBMITTED)
    queue = _queue(store, mini)
    assert [(g.heading, [i.ref for i in g.items]) for g in queue.groups] == [
        ("AAA First", ["AAA-01"]),
        ("PVP Vulnerable people", ["PVP-01", "M01"]),
    ]
    # No lead on the action: the item says so with blanks, not someone else's name.
    assert (queue.items[0].lead, queue.items[0].organisation) == ("", "")


def test_when_and_by_whom_it_was_submitted_comes_from_the_change_log(
    store: Store, mini: MiniPlan
) -> None:
    update = _write(store, mini.action.id, Q2, UpdateState.DRAFT)
    with store.transaction(actor="Lead's laptop") as tx:
        found = tx.get(ActionUpdate, update.id)
        # As a merge logs it: the lead's person and the time on their laptop.
        lead_time = dt.datetime(2023, 10, 9, 16, 30, tzinfo=dt.UTC)
        by = Attribution(site_id=mini.plan.id, actor="lead", person_id=mini.person.id, at=lead_time)
        with attributed(tx.session, by):
            review.submit(tx, found)
    (item,) = _queue(store, mini).items
    assert (item.submitted_at, item.submitted_by) == (lead_time, "Superintendent")
    assert item.written_on == dt.date(2023, 10, 2)


def test_the_number_of_queries_does_not_grow_with_the_items(store: Store, mini: MiniPlan) -> None:
    def count() -> int:
        with store.session() as s:
            seen: list[str] = []
            engine = s.get_bind()
            listener = lambda *args: seen.append(args[2])  # noqa: E731
            event.listen(engine, "before_cursor_execute", listener)
            try:
                review_queue(s, mini.plan.id)
            finally:
                event.remove(engine, "before_cursor_execute", listener)
            return len(seen)

    _write(store, mini.action.id, Q2, UpdateState.SUBMITTED)
    _value(store, mini.measure.id, Q2, 70.0, UpdateState.SUBMITTED)
    few = count()
    with store.transaction() as tx:
        org = tx.get(Organisation, mini.org.id)
        area = tx.get(PriorityArea, mini.area.id)
        for n in range(2, 30):
            person = services.create(
                tx,
                Person(
                    partnership_id=mini.partnership.id, name=f"Lead {n}", organisation_id=org.id
                ),
            )
            action = services.add_action(
                tx, area, ref=f"PVP-{n:02}", title=f"Action {n}", lead_person_id=person.id
            )
            for quarter in (Q1, Q2):
                services.write_update(
                    tx,
                    action,
                    quarter,
                    rag=Rag.GREEN,
                    narrative="Done",
                    written_on=dt.date(2023, 10, 1),
                    state=UpdateState.SUBMITTED,
                )
            measure = services.create(
                tx,
                Measure(
                    plan_id=mini.plan.id, ref=f"M{n:02}", name=f"M {n}", polarity=Polarity.TRACKER
                ),
            )
            services.record_value(tx, measure, Q2, float(n), state=UpdateState.SUBMITTED)
    assert _queue(store, mini).count == 2 + 28 * 3
    assert count() == few
