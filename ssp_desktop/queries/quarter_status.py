"""One person's quarter: the actions they lead and the measures they own, and what is
still to do for a reporting quarter (the theme lead's "My quarter" view, DESIGN.md 1).

Everything here is plain values read in a handful of queries, so a screen can hold the
result after the session has closed and compare two results to see what changed. The
rules a lead's entries must meet (a number, a percentage within 0-100, a submitted
update needs a RAG and a narrative) live here too, so they read the same on screen, in
an import and in tests; figures are read by the shared rules of ``domain.validation``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.enums import (
    ActionStatus,
    Frequency,
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
    MeasureTarget,
    MeasureValue,
    Organisation,
    Person,
    Plan,
    Priority,
    PriorityArea,
)
from ssp_desktop.domain.rules import (
    ActionFlag,
    MeasureAssessment,
    action_flags,
    measure_rag,
    submission_problem,
)
from ssp_desktop.domain.validation import (
    ValidationError,
    check_figure,
    parse_optional_number,
)

__all__ = [
    "ActionItem",
    "MeasureItem",
    "PersonChoice",
    "QuarterStatus",
    "UpdateInfo",
    "ValueInfo",
    "parse_value",
    "people_with_work",
    "plan_quarters",
    "quarter_status",
    "reporting_quarter",
    "submission_problem",
]

_SUBMITTED_STATES = frozenset({UpdateState.SUBMITTED, UpdateState.ACCEPTED})
_CLOSED_STATUSES = tuple(s for s in ActionStatus if s.is_closed)


# --------------------------------------------------------------------------- periods


def plan_quarters(plan: Plan) -> list[Quarter]:
    """Every quarter of the plan's period, newest first (the order a lead picks from)."""
    first, last = plan.start_year.quarters()[0], plan.end_year.quarters()[-1]
    return list(reversed(Quarter.range(first, last)))


def reporting_quarter(today: dt.date, quarters: Sequence[Quarter] = ()) -> Quarter:
    """The quarter a lead reports on at ``today``: the last one to have ended.

    Updates for Q2 (July-September) are written in October and November, for the board
    meeting that follows, so on 21 November 2024 the quarter to report is 2024/25 Q2.
    Clamped to ``quarters`` (the plan's period) when given, so a plan that has ended
    opens on its last quarter and one not yet begun on its first.
    """
    quarter = Quarter.of(today).previous()
    if quarters:
        quarter = min(max(quarter, min(quarters)), max(quarters))
    return quarter


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class UpdateInfo:
    """An action's current update for the quarter, as plain values."""

    id: uuid.UUID
    rag: Rag | None
    narrative: str
    state: UpdateState
    written_on: dt.date
    author_person_id: uuid.UUID | None
    # The strategy team's reason, when it returned the update.
    review_note: str = ""

    @property
    def submitted(self) -> bool:
        """Submitted to the strategy team (or already accepted by it)."""
        return self.state in _SUBMITTED_STATES


@dataclass(frozen=True)
class ActionItem:
    """One of the person's actions, with its update for the quarter (None: missing)."""

    id: uuid.UUID
    ref: str
    title: str
    status: ActionStatus
    start_date: dt.date | None
    due_date: dt.date | None
    # The RAG the quarter shows: its update's, or the action's own when there is none.
    rag: Rag | None
    update: UpdateInfo | None
    flags: tuple[ActionFlag, ...]
    # Who owes the update, when it is not the person whose quarter this is (a theme
    # lead sees every action of their themes).
    lead: str = ""

    @property
    def updated(self) -> bool:
        return self.update is not None

    @property
    def submitted(self) -> bool:
        return self.update is not None and self.update.submitted

    @property
    def flag_words(self) -> str:
        """The flags as one line of words ("" when there are none)."""
        return "; ".join(flag.message for flag in self.flags)


@dataclass(frozen=True)
class ValueInfo:
    """A measure's value record for one quarter, as plain values."""

    id: uuid.UUID
    period: Quarter
    value: float | None
    # Pairs rather than a dict so the item stays hashable and comparable.
    comparators: tuple[tuple[str, float], ...]
    status: ValueStatus
    note: str
    significant: bool | None
    comparator_significant: bool | None
    state: UpdateState = UpdateState.ACCEPTED
    review_note: str = ""

    def comparator(self, name: str) -> float | None:
        return dict(self.comparators).get(name)


@dataclass(frozen=True)
class MeasureItem:
    """One of the person's measures: its value for the quarter (None: none entered),
    the year's target, the previous period's value for reference, and its RAG."""

    id: uuid.UUID
    ref: str
    name: str
    unit: Unit
    rate_basis: str
    polarity: Polarity
    frequency: Frequency
    decimals: int
    tolerance: float
    tolerance_mode: ToleranceMode
    comparator_names: tuple[str, ...]
    # False for an annual measure outside Q4: nothing is asked of the lead this quarter.
    due: bool
    # The quarter a value for this measure is recorded against (Q4 for annual measures).
    period: Quarter
    target: float | None
    value: ValueInfo | None
    previous_period: Quarter
    previous: ValueInfo | None
    assessment: MeasureAssessment
    # Who owes the value, when it is not the person whose quarter this is.
    owner: str = ""

    @property
    def entered(self) -> bool:
        """A value has been entered (a record saying "no figure yet" does not count)."""
        return self.value is not None and self.value.value is not None

    @property
    def value_id(self) -> uuid.UUID:
        """The id the quarter's value has, or will have once entered."""
        return MeasureValue.make_id(self.id, self.period)

    @property
    def unit_words(self) -> str:
        if self.unit is Unit.RATE and self.rate_basis:
            return f"rate {self.rate_basis}"
        return {Unit.PERCENT: "percentage", Unit.COUNT: "count", Unit.RATE: "rate"}[self.unit]


@dataclass(frozen=True)
class QuarterStatus:
    """What one person has to report for one quarter, and how much of it is done."""

    plan_id: uuid.UUID
    person_id: uuid.UUID
    quarter: Quarter
    today: dt.date
    actions: tuple[ActionItem, ...]
    measures: tuple[MeasureItem, ...]

    @property
    def due_measures(self) -> tuple[MeasureItem, ...]:
        return tuple(m for m in self.measures if m.due)

    @property
    def actions_total(self) -> int:
        return len(self.actions)

    @property
    def actions_updated(self) -> int:
        return sum(a.updated for a in self.actions)

    @property
    def actions_submitted(self) -> int:
        return sum(a.submitted for a in self.actions)

    @property
    def measures_total(self) -> int:
        return len(self.due_measures)

    @property
    def measures_entered(self) -> int:
        return sum(m.entered for m in self.due_measures)

    @property
    def progress_text(self) -> str:
        """E.g. "3 of 5 actions updated · 1 of 2 measures entered · 2 submitted"."""
        actions = (
            f"{self.actions_updated} of {self.actions_total} actions updated"
            if self.actions_total
            else "no actions to update"
        )
        measures = (
            f"{self.measures_entered} of {self.measures_total} measures entered"
            if self.measures_total
            else "no measures due"
        )
        return f"{actions} \u00b7 {measures} \u00b7 {self.actions_submitted} submitted"

    @property
    def missing(self) -> tuple[str, ...]:
        """What is still to do, e.g. ("PVP-09 update", "PSP-M3 value")."""
        return tuple(f"{a.ref} update" for a in self.actions if not a.updated) + tuple(
            f"{m.ref} value" for m in self.due_measures if not m.entered
        )

    @property
    def missing_text(self) -> str:
        if not self.missing:
            return f"Nothing missing for {self.quarter.label}."
        return "Still missing: " + ", ".join(self.missing) + "."

    @property
    def record_ids(self) -> frozenset[uuid.UUID]:
        """Every record the status was read from, or would be if it were entered.

        A screen showing the status re-reads it when one of these changes; the ids of
        values not yet entered are included because they are derived from their key.
        """
        ids: set[uuid.UUID] = {self.person_id}
        for a in self.actions:
            ids.add(a.id)
            if a.update is not None:
                ids.add(a.update.id)
        for m in self.measures:
            ids.update(
                (
                    m.id,
                    m.value_id,
                    MeasureValue.make_id(m.id, m.previous_period),
                    MeasureTarget.make_id(m.id, m.period.fy),
                )
            )
        return frozenset(ids)


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class PersonChoice:
    """A person who has something to report in a plan, as the picker lists them."""

    id: uuid.UUID
    label: str
    name: str
    role_title: str
    organisation: str


def people_with_work(session: Session, plan_id: uuid.UUID) -> list[PersonChoice]:
    """People who lead a theme or a live action, or own a live measure, in the plan, by
    role title.

    The label is the role title (people may be named by role only); two people with
    the same title are told apart by organisation, then by name.
    """
    leads = select(Action.lead_person_id).where(
        Action.plan_id == plan_id, Action.deleted_at.is_(None)
    )
    owners = select(Measure.owner_person_id).where(
        Measure.plan_id == plan_id, Measure.deleted_at.is_(None)
    )
    theme_leads = select(Priority.lead_person_id).where(
        Priority.plan_id == plan_id, Priority.deleted_at.is_(None)
    )
    rows = session.execute(
        select(Person, Organisation.short_name, Organisation.name)
        .outerjoin(Organisation, Organisation.id == Person.organisation_id)
        .where(
            Person.deleted_at.is_(None),
            Person.id.in_(leads.union(owners, theme_leads).scalar_subquery()),
        )
    ).all()
    people = [(person, (short or org_name or "").strip()) for person, short, org_name in rows]
    titles = [(p.role_title or p.name).strip() for p, _ in people]
    choices: list[PersonChoice] = []
    for (person, org), title in zip(people, titles, strict=True):
        label = title
        if titles.count(title) > 1:
            same = [o for (_, o), t in zip(people, titles, strict=True) if t == title]
            extra = org if org and same.count(org) == 1 else person.name
            if extra and extra != title:
                label = f"{title} ({extra})"
        choices.append(PersonChoice(person.id, label, person.name, person.role_title, org))
    return sorted(choices, key=lambda c: (c.label.casefold(), str(c.id)))


def _update_info(u: ActionUpdate) -> UpdateInfo:
    return UpdateInfo(
        u.id, u.rag, u.narrative, u.state, u.written_on, u.author_person_id, u.review_note
    )


def _value_info(v: MeasureValue) -> ValueInfo:
    return ValueInfo(
        id=v.id,
        period=v.period,
        value=v.value,
        comparators=tuple(sorted((v.comparator_values or {}).items())),
        status=v.status,
        note=v.note,
        significant=v.significant,
        comparator_significant=v.comparator_significant,
        state=v.state,
        review_note=v.review_note,
    )


def _owed_by(who: uuid.UUID | None, person_id: uuid.UUID, names: dict[uuid.UUID, str]) -> str:
    if who == person_id:
        return ""
    return names.get(who, "") if who is not None else "No lead named"


def quarter_status(
    session: Session,
    plan_id: uuid.UUID,
    person_id: uuid.UUID,
    quarter: Quarter,
    today: dt.date,
) -> QuarterStatus:
    """What ``person_id`` has to report for ``quarter`` in the plan.

    Actions: those the person leads, and every action of the themes (priorities) they
    lead, that are live, not closed (complete or cancelled) and started by the
    quarter's end, each with its current update for the quarter and, when someone else
    leads it, who owes it. Measures: those the person owns and those of their themes,
    each with its value for the quarter; an annual measure is only due in Q4
    (survey-wave measures are treated as quarterly).

    Six queries whatever the number of actions and measures.
    """
    themes = select(Priority.id).where(
        Priority.plan_id == plan_id,
        Priority.lead_person_id == person_id,
        Priority.deleted_at.is_(None),
    )
    theme_areas = select(PriorityArea.id).where(PriorityArea.priority_id.in_(themes))
    actions = session.scalars(
        select(Action)
        .where(
            Action.plan_id == plan_id,
            (Action.lead_person_id == person_id) | Action.priority_area_id.in_(theme_areas),
            Action.deleted_at.is_(None),
            Action.status.not_in(_CLOSED_STATUSES),
            (Action.start_date.is_(None)) | (Action.start_date <= quarter.end_date),
        )
        .order_by(Action.ref)
    ).all()
    measures = session.scalars(
        select(Measure)
        .where(
            Measure.plan_id == plan_id,
            (Measure.owner_person_id == person_id) | Measure.priority_id.in_(themes),
            Measure.deleted_at.is_(None),
        )
        .order_by(Measure.position, Measure.ref)
    ).all()
    others = {a.lead_person_id for a in actions} | {m.owner_person_id for m in measures}
    others.discard(person_id)
    others.discard(None)
    names: dict[uuid.UUID, str] = {}
    if others:
        rows = session.execute(select(Person.id, Person.name).where(Person.id.in_(others)))
        names = {pid: name for pid, name in rows}
    action_ids = [a.id for a in actions]
    updates: dict[uuid.UUID, ActionUpdate] = {}
    if action_ids:
        updates = {
            u.action_id: u
            for u in session.scalars(
                select(ActionUpdate).where(
                    ActionUpdate.action_id.in_(action_ids),
                    ActionUpdate.quarter == quarter,
                    ActionUpdate.is_current.is_(True),
                    ActionUpdate.deleted_at.is_(None),
                )
            )
        }
    action_items = []
    for a in actions:
        update = updates.get(a.id)
        rag = update.rag if update is not None else a.rag
        flags = action_flags(
            status=a.status,
            rag=rag,
            due=a.due_date,
            has_update_for_quarter=update is not None,
            quarter=quarter,
            today=today,
            start=a.start_date,
        )
        action_items.append(
            ActionItem(
                id=a.id,
                ref=a.ref,
                title=a.title,
                status=a.status,
                start_date=a.start_date,
                due_date=a.due_date,
                rag=rag,
                update=_update_info(update) if update is not None else None,
                flags=tuple(flags),
                lead=_owed_by(a.lead_person_id, person_id, names),
            )
        )

    measure_items: list[MeasureItem] = []
    if measures:
        measure_ids = [m.id for m in measures]
        last_q4 = Quarter(quarter.year - 1, 4)
        periods = {quarter, quarter.previous(), quarter.fy.quarters()[-1], last_q4}
        values = {
            (v.measure_id, v.period): v
            for v in session.scalars(
                select(MeasureValue).where(
                    MeasureValue.measure_id.in_(measure_ids),
                    MeasureValue.period.in_(periods),
                    MeasureValue.deleted_at.is_(None),
                )
            )
        }
        targets = {
            t.measure_id: t.value
            for t in session.scalars(
                select(MeasureTarget).where(
                    MeasureTarget.measure_id.in_(measure_ids),
                    MeasureTarget.year == quarter.fy,
                    MeasureTarget.deleted_at.is_(None),
                )
            )
        }
        for m in measures:
            annual = m.frequency is Frequency.ANNUAL
            due = not annual or quarter.q == 4
            # An annual figure belongs to Q4; its reference point is the year before.
            period = quarter.fy.quarters()[-1] if annual else quarter
            previous_period = last_q4 if annual else quarter.previous()
            value = values.get((m.id, period)) if due else None
            target = targets.get(m.id)
            if due:
                assessment = measure_rag(
                    value.value if value is not None else None,
                    target,
                    m.polarity,
                    m.tolerance,
                    m.tolerance_mode,
                )
            else:
                assessment = MeasureAssessment(
                    None, f"Annual measure: its value is entered for {period.label}"
                )
            previous = values.get((m.id, previous_period))
            measure_items.append(
                MeasureItem(
                    id=m.id,
                    ref=m.ref,
                    name=m.name,
                    unit=m.unit,
                    rate_basis=m.rate_basis,
                    polarity=m.polarity,
                    frequency=m.frequency,
                    decimals=m.decimals,
                    tolerance=m.tolerance,
                    tolerance_mode=m.tolerance_mode,
                    comparator_names=tuple(m.comparator_names or ()),
                    due=due,
                    period=period,
                    target=target,
                    value=_value_info(value) if value is not None else None,
                    previous_period=previous_period,
                    previous=_value_info(previous) if previous is not None else None,
                    assessment=assessment,
                    owner=_owed_by(m.owner_person_id, person_id, names),
                )
            )
    return QuarterStatus(
        plan_id=plan_id,
        person_id=person_id,
        quarter=quarter,
        today=today,
        actions=tuple(action_items),
        measures=tuple(measure_items),
    )


# --------------------------------------------------------------------------- entry rules


def parse_value(text: str, unit: Unit, field: str | None = None) -> float | None:
    """Read a figure a lead typed for a measure of ``unit``; None when left blank.

    The number rules are the app's shared ones (``domain.validation``: "1,602", "85%"),
    so a figure reads the same here as in the full editor; on top, a percentage must
    be 0-100 and a count or rate cannot be negative. Raises
    :class:`~ssp_desktop.domain.validation.ValidationError`, its message prefixed with
    ``field`` when given (a card has several figures, so the message says which).
    """
    try:
        number = parse_optional_number(text, field or "The value")
        if number is not None:
            check_figure(unit, number)
    except ValidationError as exc:
        if field is None:
            raise
        raise ValidationError(f"{field}: {exc}") from None
    return number
