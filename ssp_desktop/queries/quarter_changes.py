"""What changed since last quarter: the board pack's "what changed" page, without Qt.

Compares a plan as at a quarter with the same plan as at the quarter before, using the
same judgements as the scorecard and "at a glance" (:mod:`ssp_desktop.queries.performance`),
so the pages agree:

* **new reds**: actions and measures Red now that were not Red before;
* **improvements** and **deteriorations**: rated both times, and better (worse) now; a
  deterioration that ends in Red is a new red, not listed twice;
* **due dates moved later**: the change log's edits of an action's due date to a later
  date, made after the previous quarter ended (and, when given, on or before ``until``,
  so a pack rebuilt later says what the Board was told);
* **due dates missed**: open actions whose due date fell in the quarter;
* **missing updates**: open actions already started with no update for the quarter,
  and quarterly measures with no value for it.

Plain values throughout, read in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import Frequency
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    ChangeLog,
    Measure,
    MeasureValue,
    Priority,
    PriorityArea,
)
from ssp_desktop.queries.performance import (
    ScorecardRow,
    Standing,
    action_standings,
    quarter_updates,
    scorecard,
)

__all__ = [
    "ActionChange",
    "DueDateChange",
    "MeasureChange",
    "MissingValue",
    "QuarterChanges",
    "quarter_changes",
]


@dataclass(frozen=True)
class ActionChange:
    """An action whose standing moved between the two quarters (or that needs an update)."""

    action_id: uuid.UUID
    ref: str
    title: str
    priority_code: str
    before: Standing
    after: Standing
    narrative: str  # its update for the quarter, "" if none


@dataclass(frozen=True)
class DueDateChange:
    """An open action whose due date is later than it was, or has passed in the quarter."""

    action_id: uuid.UUID
    ref: str
    title: str
    priority_code: str
    old_due: dt.date | None
    new_due: dt.date | None
    changed_on: dt.date | None  # when the date was moved; None for a missed date


@dataclass(frozen=True)
class MeasureChange:
    measure_id: uuid.UUID
    ref: str
    name: str
    priority_code: str
    before: Standing
    after: Standing
    value_text: str
    reason: str


@dataclass(frozen=True)
class MissingValue:
    measure_id: uuid.UUID
    ref: str
    name: str
    priority_code: str
    last_period: Quarter | None  # the newest quarter it has a value for


@dataclass(frozen=True)
class QuarterChanges:
    quarter: Quarter
    previous: Quarter
    new_red_actions: tuple[ActionChange, ...]
    improved_actions: tuple[ActionChange, ...]
    worsened_actions: tuple[ActionChange, ...]
    new_red_measures: tuple[MeasureChange, ...]
    improved_measures: tuple[MeasureChange, ...]
    worsened_measures: tuple[MeasureChange, ...]
    moved_due_dates: tuple[DueDateChange, ...]
    missed_due_dates: tuple[DueDateChange, ...]
    missing_updates: tuple[ActionChange, ...]
    missing_values: tuple[MissingValue, ...]

    @property
    def nothing_changed(self) -> bool:
        return not any(
            (
                self.new_red_actions,
                self.improved_actions,
                self.worsened_actions,
                self.new_red_measures,
                self.improved_measures,
                self.worsened_measures,
                self.moved_due_dates,
                self.missed_due_dates,
                self.missing_updates,
                self.missing_values,
            )
        )


def _severity(standing: Standing) -> int | None:
    rag = standing.rag
    return rag.severity if rag is not None else None


def _compare(before: Standing, after: Standing) -> str | None:
    """ "new_red", "improved", "worsened" or None (no change worth telling)."""
    if after is Standing.RED and before is not Standing.RED:
        return "new_red"
    b, a = _severity(before), _severity(after)
    if a is None or b is None or a == b:
        return None
    return "improved" if a < b else "worsened"


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    value = json.loads(text)
    return dt.date.fromisoformat(value) if value else None


def quarter_changes(
    session: Session,
    plan_id: uuid.UUID,
    quarter: Quarter,
    *,
    until: dt.date | None = None,
    rows: list[ScorecardRow] | None = None,
) -> QuarterChanges:
    """What changed in ``plan_id`` between the quarter before ``quarter`` and ``quarter``.

    ``rows``: the quarter's scorecard, when the caller has it already."""
    previous = quarter.previous()
    now_actions = action_standings(session, plan_id, quarter)
    then_actions = action_standings(session, plan_id, previous)

    actions = {
        action_id: (ref, title, code, status, start, due)
        for action_id, ref, title, code, status, start, due in session.execute(
            select(
                Action.id,
                Action.ref,
                Action.title,
                Priority.code,
                Action.status,
                Action.start_date,
                Action.due_date,
            )
            .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
            .join(Priority, Priority.id == PriorityArea.priority_id)
            .where(Action.plan_id == plan_id, Action.deleted_at.is_(None))
            .order_by(Priority.position, Priority.code, Action.ref)
        )
    }
    narratives: dict[uuid.UUID, str] = dict(
        session.execute(
            quarter_updates(plan_id, quarter, ActionUpdate.action_id, ActionUpdate.narrative)
        )
        .tuples()
        .all()
    )

    found: dict[str, list[ActionChange]] = {"new_red": [], "improved": [], "worsened": []}
    missing_updates: list[ActionChange] = []
    missed: list[DueDateChange] = []
    for action_id, (ref, title, code, status, start, due) in actions.items():
        after = now_actions[action_id][1]
        before = then_actions[action_id][1]
        change = ActionChange(
            action_id, ref, title, code, before, after, narratives.get(action_id, "")
        )
        kind = _compare(before, after)
        if kind is not None:
            found[kind].append(change)
        started = start is None or start <= quarter.end_date
        if after is Standing.NO_UPDATE and started and not status.is_closed:
            missing_updates.append(change)
        if (
            due is not None
            and not status.is_closed
            and quarter.start_date <= due <= quarter.end_date
        ):
            missed.append(DueDateChange(action_id, ref, title, code, due, due, None))

    moved: dict[uuid.UUID, DueDateChange] = {}
    since = dt.datetime.combine(previous.end_date + dt.timedelta(days=1), dt.time(), dt.UTC)
    log = (
        select(ChangeLog.record_id, ChangeLog.old, ChangeLog.new, ChangeLog.at)
        .where(
            ChangeLog.entity == Action.__tablename__,
            ChangeLog.op == "update",
            ChangeLog.field == "due_date",
            ChangeLog.at >= since,
        )
        .order_by(ChangeLog.seq)
    )
    if until is not None:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC)
        log = log.where(ChangeLog.at < end)
    for record_id, old, new, at in session.execute(log):
        if record_id not in actions:
            continue
        ref, title, code, status, _start, due = actions[record_id]
        old_due, new_due = _date(old), _date(new)
        if status.is_closed or old_due is None or new_due is None or new_due <= old_due:
            continue
        first = moved.get(record_id)
        moved[record_id] = DueDateChange(
            record_id,
            ref,
            title,
            code,
            first.old_due if first is not None else old_due,
            new_due,
            at.date(),
        )
    order = {action_id: n for n, action_id in enumerate(actions)}
    moved_list = sorted(
        (
            c
            for c in moved.values()
            if c.old_due != c.new_due and c.new_due == actions[c.action_id][5]
        ),
        key=lambda c: order[c.action_id],
    )

    now_rows = rows if rows is not None else scorecard(session, plan_id, quarter)
    then_rows = {r.measure_id: r for r in scorecard(session, plan_id, previous)}
    measures: dict[str, list[MeasureChange]] = {"new_red": [], "improved": [], "worsened": []}
    for row in now_rows:
        then = then_rows.get(row.measure_id)
        before = then.standing if then is not None else Standing.NOT_RATED
        kind = _compare(before, row.standing)
        if kind is not None:
            measures[kind].append(
                MeasureChange(
                    row.measure_id,
                    row.ref,
                    row.name,
                    row.priority_code,
                    before,
                    row.standing,
                    row.value_text,
                    row.rag_reason,
                )
            )

    with_value = set(
        session.scalars(
            select(MeasureValue.measure_id)
            .join(Measure, Measure.id == MeasureValue.measure_id)
            .where(
                Measure.plan_id == plan_id,
                MeasureValue.period == quarter,
                MeasureValue.value.is_not(None),
                MeasureValue.deleted_at.is_(None),
            )
        )
    )
    quarterly = set(
        session.scalars(
            select(Measure.id).where(
                Measure.plan_id == plan_id,
                Measure.deleted_at.is_(None),
                Measure.frequency == Frequency.QUARTERLY,
            )
        )
    )
    missing_values = tuple(
        MissingValue(row.measure_id, row.ref, row.name, row.priority_code, row.period)
        for row in now_rows
        if row.measure_id in quarterly and row.measure_id not in with_value
    )
    return QuarterChanges(
        quarter=quarter,
        previous=previous,
        new_red_actions=tuple(found["new_red"]),
        improved_actions=tuple(found["improved"]),
        worsened_actions=tuple(found["worsened"]),
        new_red_measures=tuple(measures["new_red"]),
        improved_measures=tuple(measures["improved"]),
        worsened_measures=tuple(measures["worsened"]),
        moved_due_dates=tuple(moved_list),
        missed_due_dates=tuple(missed),
        missing_updates=tuple(missing_updates),
        missing_values=missing_values,
    )
