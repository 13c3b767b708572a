"""What changed since last quarter: the board pack's page of movers, slips and gaps."""

from __future__ import annotations

import datetime as dt

from ssp_desktop import services
from ssp_desktop.domain.enums import ActionStatus, Rag
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import Action, Measure
from ssp_desktop.queries.performance import Standing
from ssp_desktop.queries.quarter_changes import quarter_changes
from ssp_desktop.store.engine import Store
from tests.factories import MiniPlan, mini_plan

Q1 = Quarter.parse("2023/24 Q1")
Q2 = Quarter.parse("2023/24 Q2")
ON = dt.date(2023, 10, 15)


def _plan_with_three_actions(store: Store) -> tuple[MiniPlan, list[Action]]:
    mp = mini_plan(store)
    with store.transaction() as tx:
        area = tx.get(type(mp.area), mp.area.id)
        assert area is not None
        actions = [tx.get(Action, mp.action.id)]
        for n in (2, 3, 4):
            actions.append(
                services.add_action(
                    tx, area, ref=f"PVP-0{n}", title=f"Action {n}", due_date=dt.date(2025, 3, 31)
                )
            )
        a1, a2, a3, _a4 = actions
        assert a1 is not None
        services.edit(tx, a1, due_date=dt.date(2025, 3, 31))
        for action, before, after in ((a1, Rag.GREEN, Rag.RED), (a2, Rag.AMBER, Rag.GREEN)):
            assert action is not None
            services.write_update(tx, action, Q1, rag=before, narrative="Q1", written_on=ON)
            services.write_update(
                tx, action, Q2, rag=after, narrative=f"Now {after}", written_on=ON
            )
        assert a3 is not None
        services.write_update(tx, a3, Q1, rag=Rag.GREEN, narrative="Q1", written_on=ON)
        # a4: no updates at all; it has started (no start date), so it is missing.
    return mp, [a for a in actions if a is not None]


def test_new_reds_improvements_and_missing_updates(store: Store) -> None:
    mp, (a1, a2, a3, a4) = _plan_with_three_actions(store)
    with store.session() as s:
        changes = quarter_changes(s, mp.plan.id, Q2)
    assert changes.previous == Q1
    assert [(c.ref, c.before, c.after, c.narrative) for c in changes.new_red_actions] == [
        (a1.ref, Standing.GREEN, Standing.RED, "Now red")
    ]
    assert [(c.ref, c.before, c.after) for c in changes.improved_actions] == [
        (a2.ref, Standing.AMBER, Standing.GREEN)
    ]
    assert [c.ref for c in changes.missing_updates] == [a3.ref, a4.ref]
    assert not changes.worsened_actions
    assert not changes.nothing_changed


def test_a_due_date_moved_later_is_a_slip_and_one_moved_earlier_is_not(store: Store) -> None:
    mp, (a1, a2, *_rest) = _plan_with_three_actions(store)
    with store.transaction() as tx:
        first = tx.get(Action, a1.id)
        second = tx.get(Action, a2.id)
        assert first is not None and second is not None
        services.edit(tx, first, due_date=dt.date(2025, 9, 30))
        services.edit(tx, second, due_date=dt.date(2024, 12, 31))
    with store.session() as s:
        moved = quarter_changes(s, mp.plan.id, Q2).moved_due_dates
        # A pack made for a meeting before the change was made does not show it.
        before = quarter_changes(s, mp.plan.id, Q2, until=dt.date(2023, 11, 1)).moved_due_dates
    # Two moves since the quarter before (the set-up's and this one) read as one slip.
    assert [(c.ref, c.old_due, c.new_due) for c in moved] == [
        (a1.ref, dt.date(2023, 3, 31), dt.date(2025, 9, 30))
    ]
    assert moved[0].changed_on == dt.datetime.now(dt.UTC).date()
    assert before == ()


def test_a_due_date_passed_in_the_quarter_is_missed_unless_closed(store: Store) -> None:
    mp, (a1, a2, *_rest) = _plan_with_three_actions(store)
    with store.transaction() as tx:
        first = tx.get(Action, a1.id)
        second = tx.get(Action, a2.id)
        assert first is not None and second is not None
        services.edit(tx, first, due_date=dt.date(2023, 8, 31))
        services.edit(tx, second, due_date=dt.date(2023, 9, 1))
        services.edit(tx, second, status=ActionStatus.COMPLETE)
    with store.session() as s:
        missed = quarter_changes(s, mp.plan.id, Q2).missed_due_dates
    assert [(c.ref, c.new_due, c.changed_on) for c in missed] == [
        (a1.ref, dt.date(2023, 8, 31), None)
    ]


def test_measures_newly_red_and_quarterly_values_missing(store: Store) -> None:
    mp = mini_plan(store)
    with store.transaction() as tx:
        measure = tx.get(Measure, mp.measure.id)
        assert measure is not None
        services.set_target(tx, measure, FinancialYear(2023), 90.0)
        services.record_value(tx, measure, Q1, 95.0)
        services.record_value(tx, measure, Q2, 70.0)
    with store.session() as s:
        changes = quarter_changes(s, mp.plan.id, Q2)
        later = quarter_changes(s, mp.plan.id, Q2.next())
    assert [(c.ref, c.before, c.after) for c in changes.new_red_measures] == [
        ("M01", Standing.GREEN, Standing.RED)
    ]
    assert changes.missing_values == ()
    assert [(m.ref, m.last_period) for m in later.missing_values] == [("M01", Q2)]
    # Judged on the newest value, the measure has not moved since Q2: no change to report.
    assert later.new_red_measures == ()
