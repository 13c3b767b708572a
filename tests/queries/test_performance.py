"""The plan's standing as at a quarter: what the dashboard and the board pack count."""

from __future__ import annotations

import datetime as dt

from ssp_desktop import services
from ssp_desktop.domain.enums import ActionStatus, Frequency, Polarity, Rag, ValueStatus
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import Measure
from ssp_desktop.queries.performance import Standing, rag_by_priority, scorecard
from ssp_desktop.store.engine import Store
from tests.factories import mini_plan

Q1 = Quarter.parse("2023/24 Q1")
Q2 = Quarter.parse("2023/24 Q2")


def test_actions_stand_by_their_update_for_the_quarter(store: Store) -> None:
    mp = mini_plan(store)
    with store.transaction() as tx:
        area = tx.get(type(mp.area), mp.area.id)
        assert area is not None
        second = services.add_action(tx, area, ref="PVP-02", title="Train staff")
        third = services.add_action(tx, area, ref="PVP-03", title="Closed one")
        services.edit(tx, third, status=ActionStatus.COMPLETE)
        action = tx.get(type(mp.action), mp.action.id)
        assert action is not None
        services.write_update(
            tx, action, Q1, rag=Rag.GREEN, narrative="On track", written_on=dt.date(2023, 7, 1)
        )
        services.write_update(
            tx, action, Q2, rag=Rag.RED, narrative="Slipped", written_on=dt.date(2023, 10, 1)
        )
        services.write_update(
            tx, second, Q1, rag=Rag.AMBER, narrative="Late", written_on=dt.date(2023, 7, 1)
        )
    with store.session() as s:
        q2, _unprioritised = rag_by_priority(s, mp.plan.id, Q2)
        q1, _unprioritised = rag_by_priority(s, mp.plan.id, Q1)
    assert (
        q2.actions[Standing.RED],
        q2.actions[Standing.NO_UPDATE],
        q2.actions[Standing.CLOSED],
    ) == (1, 1, 1)
    assert (
        q1.actions[Standing.GREEN],
        q1.actions[Standing.AMBER],
        q1.actions[Standing.CLOSED],
    ) == (1, 1, 1)
    assert q2.actions.total == 3


def test_scorecard_judges_the_newest_value_at_or_before_the_quarter(store: Store) -> None:
    mp = mini_plan(store)
    with store.transaction() as tx:
        m = tx.get(Measure, mp.measure.id)
        assert m is not None
        services.edit(tx, m, tolerance=2.0)
        services.set_target(tx, m, FinancialYear(2023), 90.0)
        services.record_value(
            tx, m, Q1, 85.0, comparators={"GM average": 80.0}, status=ValueStatus.FINAL
        )
        services.record_value(tx, m, Q2, 89.0, comparators={"GM average": 88.0})
        services.record_value(tx, m, Q2.next(), 95.0)
    with store.session() as s:
        (at_q1,) = scorecard(s, mp.plan.id, Q1)
        (at_q2,) = scorecard(s, mp.plan.id, Q2)
        perf, outside = rag_by_priority(s, mp.plan.id, Q2)
    assert (at_q1.value, at_q1.standing, at_q1.provisional) == (85.0, Standing.RED, False)
    assert at_q2.value_text == "89.0% (provisional)"
    assert at_q2.target_text == "90.0%"
    assert at_q2.standing is Standing.AMBER and at_q2.standing.rag is Rag.AMBER
    assert at_q2.direction_text == "↑ Improving"
    assert at_q2.comparator_text == "GM average 88.0%"
    # Two years of sparkline ending at the quarter; a value after it is not shown.
    assert at_q2.spark[-2:] == (85.0, 89.0) and len(at_q2.spark) == 8
    assert at_q2.spark_quarters[-1] == Q2
    # Measures without a priority are counted apart from the priority's.
    assert perf.measures.total == 0
    assert outside.priority_id is None and outside.measures[Standing.AMBER] == 1


def test_measures_without_value_or_target_are_not_rated(store: Store) -> None:
    mp = mini_plan(store)
    with store.transaction() as tx:
        m = tx.get(Measure, mp.measure.id)
        assert m is not None
        services.edit(tx, m, priority_id=mp.priority.id)
        services.create(
            tx,
            Measure(
                plan_id=mp.plan.id,
                ref="M02",
                name="Tracker",
                polarity=Polarity.TRACKER,
                priority_id=mp.priority.id,
            ),
        )
    with store.session() as s:
        rows = scorecard(s, mp.plan.id, Q2)
        (perf,) = rag_by_priority(s, mp.plan.id, Q2, rows)
    assert [r.standing for r in rows] == [Standing.NOT_RATED, Standing.NOT_RATED]
    assert rows[0].value_text == "No value" and rows[0].direction_text == "– No comparison"
    assert perf.measures[Standing.NOT_RATED] == 2


def test_an_old_value_is_still_judged_with_its_own_direction(store: Store) -> None:
    mp = mini_plan(store)
    old, year_before = Quarter.parse("2019/20 Q4"), Quarter.parse("2018/19 Q4")
    with store.transaction() as tx:
        m = tx.get(Measure, mp.measure.id)
        assert m is not None
        services.edit(tx, m, frequency=Frequency.ANNUAL)
        services.record_value(tx, m, year_before, 70.0)
        services.record_value(tx, m, old, 80.0)
    with store.session() as s:
        (row,) = scorecard(s, mp.plan.id, Q2)
    # Four years before the quarter: read from outside the recent window, not lost.
    assert (row.period, row.value) == (old, 80.0)
    assert row.direction_text == "↑ Improving"
    assert all(v is None for v in row.spark)
