"""A plan's performance as at one quarter: RAG counts per priority and the scorecard.

The dashboard and the board pack's "at a glance" and scorecard pages read these, so the
screen and the paper agree. Everything is judged *as at* the quarter asked for, so an
old quarter's pack can be rebuilt later:

* an action's RAG is that of its current update for the quarter; an open action with no
  update for the quarter counts as "no update", a complete or cancelled one as "closed";
* a measure is judged on its newest value at or before the quarter, against the target
  for that value's financial year (:func:`~ssp_desktop.domain.rules.measure_rag`), and
  its direction of travel against the previous quarter (a year earlier for annual
  measures).

A fixed number of queries whatever the plan's size.
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import (
    Polarity,
    Rag,
    ToleranceMode,
    Unit,
    UpdateState,
    ValueStatus,
)
from ssp_desktop.domain.periods import Quarter
from ssp_desktop.domain.records import (
    Action,
    ActionUpdate,
    Measure,
    Priority,
    PriorityArea,
)
from ssp_desktop.domain.rules import Direction, Movement, Travel
from ssp_desktop.queries.lists import (
    MeasureSeries,
    format_value,
    judge,
    read_series,
    read_targets,
)

SPARK_QUARTERS = 8
"""How many quarters a scorecard sparkline covers (two years, as the board pack shows)."""


class Standing(enum.StrEnum):
    """Where a record stands for the quarter: a RAG, or why it has none."""

    RED = "red"
    AMBER = "amber"
    GREEN = "green"
    NO_UPDATE = "no_update"  # an open, started action without an update for the quarter
    NOT_STARTED = "not_started"  # no update, and its start date is after the quarter
    CLOSED = "closed"  # a complete or cancelled action
    NOT_RATED = "not_rated"  # a tracker measure, or no value or no target yet

    @classmethod
    def of(cls, rag: Rag | None, fallback: Standing) -> Standing:
        return cls(rag.value) if rag is not None else fallback

    @property
    def rag(self) -> Rag | None:
        return Rag(self.value) if self in _RATED else None

    @property
    def word(self) -> str:
        return {
            Standing.RED: "Red",
            Standing.AMBER: "Amber",
            Standing.GREEN: "Green",
            Standing.NO_UPDATE: "No update",
            Standing.NOT_STARTED: "Not started",
            Standing.CLOSED: "Closed",
            Standing.NOT_RATED: "Not rated",
        }[self]


_RATED = frozenset({Standing.RED, Standing.AMBER, Standing.GREEN})

ACTION_STANDINGS = (
    Standing.RED,
    Standing.AMBER,
    Standing.GREEN,
    Standing.NO_UPDATE,
    Standing.NOT_STARTED,
    Standing.CLOSED,
)
MEASURE_STANDINGS = (Standing.RED, Standing.AMBER, Standing.GREEN, Standing.NOT_RATED)


@dataclass
class Counts:
    """How many records stand where; missing keys are zero."""

    by_standing: dict[Standing, int] = field(default_factory=dict)

    def __getitem__(self, standing: Standing) -> int:
        return self.by_standing.get(standing, 0)

    def add(self, standing: Standing) -> None:
        self.by_standing[standing] = self.by_standing.get(standing, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.by_standing.values())


@dataclass(frozen=True)
class PriorityPerformance:
    """One priority's actions and measures by where they stand. ``priority_id`` is None
    for the row of measures that belong to no priority."""

    priority_id: uuid.UUID | None
    code: str
    title: str
    actions: Counts
    measures: Counts


@dataclass(frozen=True)
class ScorecardRow:
    """One measure as the scorecard shows it for a quarter."""

    measure_id: uuid.UUID
    ref: str
    name: str
    priority_id: uuid.UUID | None
    priority_code: str
    unit: Unit
    decimals: int
    polarity: Polarity
    period: Quarter | None  # of the value judged: the newest at or before the quarter
    value: float | None
    provisional: bool
    target: float | None
    standing: Standing
    rag_reason: str
    travel: Travel
    comparator_name: str
    comparator_value: float | None
    # The last SPARK_QUARTERS quarters up to the quarter, oldest first; None: no value.
    spark: tuple[float | None, ...]
    spark_quarters: tuple[Quarter, ...]
    # The value judged was submitted and not yet accepted (a pack shows such values
    # only when its builder asks, and marks them).
    awaiting_review: bool = False
    # The period judged was recorded without a usable value: withheld by its owner, or
    # blank; ``missing_reason`` is the reason given (the value's note).
    withheld: bool = False
    missing_reason: str = ""
    # Every comparator of the period judged, in the measure's order: (name, value).
    comparators: tuple[tuple[str, float], ...] = ()
    # Significantly different from the first comparator (True) or not (False), where
    # the source says.
    comparator_significant: bool | None = None
    rank: str = ""  # "3rd of 10 in GM", as the source states it
    rate_basis: str = ""  # "per 1,000 households" for a rate
    tolerance: float = 0.0
    tolerance_mode: ToleranceMode = ToleranceMode.ABSOLUTE

    def fmt(self, value: float | None) -> str:
        return format_value(value, self.unit, self.decimals)

    @property
    def missing(self) -> bool:
        """The period judged has no value to print (withheld or not available)."""
        return self.period is not None and self.value is None

    @property
    def missing_text(self) -> str:
        """Why the latest value is missing, in words: "Withheld: ..." or
        "Not available: ..." (the reason as given when it already says so)."""
        reason = " ".join(self.missing_reason.split()).rstrip(".")
        word = "Withheld" if self.withheld else "Not available"
        if not reason:
            return word
        lower = reason.lower()
        if lower.startswith(("withheld", "not available", "not yet available")):
            return reason
        return f"{word}: {reason}"

    @property
    def value_text(self) -> str:
        if self.missing:
            return self.missing_text
        text = self.fmt(self.value)
        if text and self.provisional:
            text = f"{text} (provisional)"
        if text and self.awaiting_review:
            text = f"{text} (awaiting review)"
        return text or "No value"

    @property
    def target_text(self) -> str:
        return self.fmt(self.target) or (
            "No target" if self.polarity is not Polarity.TRACKER else ""
        )

    @property
    def direction_text(self) -> str:
        """Arrow and word, e.g. "↑ Improving"."""
        if self.travel.direction is Direction.NO_DATA:
            return f"{Movement.NONE.symbol} {Direction.NO_DATA.word}"
        return f"{self.travel.movement.symbol} {self.travel.direction.word}"

    @property
    def comparator_text(self) -> str:
        """Every comparator, "GM average 2.26; England 2.10" (the first alone if the
        row was made without the full list)."""
        pairs = self.comparators or (
            ((self.comparator_name, self.comparator_value),)
            if self.comparator_value is not None
            else ()
        )
        return "; ".join(f"{name} {self.fmt(value)}" for name, value in pairs)


def _priorities(session: Session, plan_id: uuid.UUID) -> list[tuple[uuid.UUID, str, str]]:
    return [
        (pid, code, title)
        for pid, code, title in session.execute(
            select(Priority.id, Priority.code, Priority.title)
            .where(Priority.plan_id == plan_id, Priority.deleted_at.is_(None))
            .order_by(Priority.position, Priority.code)
        )
    ]


def quarter_updates(plan_id: uuid.UUID, quarter: Quarter, *columns: Any) -> Select[Any]:
    """``columns`` of the plan's action updates for ``quarter``: the current version of
    each (an edited update leaves its old version behind, not current), none deleted."""
    return (
        select(*columns)
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(
            Action.plan_id == plan_id,
            ActionUpdate.quarter == quarter,
            ActionUpdate.is_current.is_(True),
            ActionUpdate.deleted_at.is_(None),
        )
    )


def action_standings(
    session: Session, plan_id: uuid.UUID, quarter: Quarter
) -> dict[uuid.UUID, tuple[uuid.UUID, Standing]]:
    """Each live action of the plan: (its priority id, where it stands for ``quarter``)."""
    rag_for_quarter: dict[uuid.UUID, Rag | None] = dict(
        session.execute(quarter_updates(plan_id, quarter, ActionUpdate.action_id, ActionUpdate.rag))
        .tuples()
        .all()
    )
    result: dict[uuid.UUID, tuple[uuid.UUID, Standing]] = {}
    for action_id, priority_id, status, start in session.execute(
        select(Action.id, PriorityArea.priority_id, Action.status, Action.start_date)
        .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
        .where(Action.plan_id == plan_id, Action.deleted_at.is_(None))
    ):
        not_started = start is not None and start > quarter.end_date
        if action_id in rag_for_quarter and (rag_for_quarter[action_id] or not not_started):
            standing = Standing.of(rag_for_quarter[action_id], Standing.NO_UPDATE)
        elif status.is_closed:
            standing = Standing.CLOSED
        elif not_started:
            # Not due to start yet: not a missing update (the pack's own definition).
            standing = Standing.NOT_STARTED
        else:
            standing = Standing.NO_UPDATE
        result[action_id] = (priority_id, standing)
    return result


def scorecard(
    session: Session,
    plan_id: uuid.UUID,
    quarter: Quarter,
    measure_ids: Iterable[uuid.UUID] | None = None,
) -> list[ScorecardRow]:
    """The plan's live measures (or those of ``measure_ids``) judged as at ``quarter``,
    in priority order then ref order. Three queries, and one more per 500 measures
    whose newest value is more than two years old."""
    where = [Measure.plan_id == plan_id, Measure.deleted_at.is_(None)]
    if measure_ids is not None:
        where.append(Measure.id.in_(list(measure_ids)))
    measures = session.execute(
        select(
            Measure.id,
            Measure.ref,
            Measure.name,
            Measure.priority_id,
            Priority.code,
            Measure.unit,
            Measure.decimals,
            Measure.polarity,
            Measure.frequency,
            Measure.tolerance,
            Measure.tolerance_mode,
            Measure.stable_threshold,
            Measure.comparator_names,
            Measure.rate_basis,
        )
        .outerjoin(Priority, Priority.id == Measure.priority_id)
        .where(*where)
        .order_by(Priority.position.is_(None), Priority.position, Measure.position, Measure.ref)
    ).all()

    # Values from the last three years up to the quarter: enough for the sparkline and
    # both directions of travel of any measure with a recent value. Measures whose
    # newest value is older than that (annual figures, a stalled return) are read whole
    # in a second query, so a long history is never scanned for every measure.
    window_start = quarter.shift(-(SPARK_QUARTERS + 3))
    series: dict[uuid.UUID, MeasureSeries] = {}
    read_series(session, where, series, upto=quarter, since=window_start)
    stale = [
        measure_id
        for measure_id, *_rest in measures
        if not (s := series.get(measure_id))
        or not s.values
        or max(s.values) < window_start.shift(4)
    ]
    for start in range(0, len(stale), 500):
        chunk = stale[start : start + 500]
        for measure_id in chunk:
            series.pop(measure_id, None)
        read_series(session, [*where, Measure.id.in_(chunk)], series, upto=quarter)
    targets = read_targets(session, where)

    spark_quarters = tuple(Quarter.range(quarter.shift(1 - SPARK_QUARTERS), quarter))
    rows = []
    for (
        measure_id,
        ref,
        name,
        priority_id,
        code,
        unit,
        decimals,
        polarity,
        frequency,
        tolerance,
        mode,
        threshold,
        comparator_names,
        rate_basis,
    ) in measures:
        s = series.get(measure_id, MeasureSeries())
        j = judge(
            s,
            targets,
            measure_id,
            polarity=polarity,
            frequency=frequency,
            tolerance=tolerance,
            mode=mode,
            threshold=threshold,
            comparator_names=comparator_names,
            missing_latest=True,
        )
        latest = j.latest
        rows.append(
            ScorecardRow(
                measure_id=measure_id,
                ref=ref,
                name=name,
                priority_id=priority_id,
                priority_code=code or "",
                unit=unit,
                decimals=decimals,
                polarity=polarity,
                period=latest,
                value=j.value,
                provisional=j.status is ValueStatus.PROVISIONAL,
                target=j.target,
                standing=Standing.of(j.assessment.rag, Standing.NOT_RATED),
                rag_reason=j.assessment.reason,
                travel=j.travel,
                comparator_name=j.comparator_name,
                comparator_value=j.comparator_value,
                spark=tuple(s.values.get(q) for q in spark_quarters),
                spark_quarters=spark_quarters,
                awaiting_review=latest is not None
                and s.review.get(latest) is UpdateState.SUBMITTED,
                withheld=latest is not None and j.status is ValueStatus.WITHHELD,
                missing_reason=j.missing_reason,
                comparators=tuple(
                    (name, float(comps[name]))
                    for comps in [s.comparators.get(latest, {}) if latest else {}]
                    for name in (comparator_names or [])
                    if comps.get(name) is not None
                ),
                comparator_significant=s.comparator_significant.get(latest)
                if latest is not None
                else None,
                rank=s.rank.get(latest, "") if latest is not None else "",
                rate_basis=rate_basis if unit is Unit.RATE else "",
                tolerance=tolerance or 0.0,
                tolerance_mode=mode or ToleranceMode.ABSOLUTE,
            )
        )
    return rows


def rag_by_priority(
    session: Session,
    plan_id: uuid.UUID,
    quarter: Quarter,
    rows: Iterable[ScorecardRow] | None = None,
) -> list[PriorityPerformance]:
    """Actions and measures by where they stand, one entry per priority in plan order,
    then one for measures outside any priority (only if there are some).

    ``rows``: the quarter's scorecard when the caller has it already (saves a query)."""
    actions: dict[uuid.UUID, Counts] = defaultdict(Counts)
    for priority_id, standing in action_standings(session, plan_id, quarter).values():
        actions[priority_id].add(standing)
    measures: dict[uuid.UUID | None, Counts] = defaultdict(Counts)
    for row in rows if rows is not None else scorecard(session, plan_id, quarter):
        measures[row.priority_id].add(row.standing)
    result = [
        PriorityPerformance(pid, code, title, actions[pid], measures[pid])
        for pid, code, title in _priorities(session, plan_id)
    ]
    if measures.get(None):
        result.append(
            PriorityPerformance(None, "", "Not under a priority", Counts(), measures[None])
        )
    return result
