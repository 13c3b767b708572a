"""What the action and measure lists show, one row per record (Qt-free).

The UI's table models hold only an ordered list of ids (:func:`action_ids`,
:func:`measure_ids`: one query) and ask for the rows of a batch of ids when they come
into view (:func:`action_rows`, :func:`measure_rows`). Each of those is a fixed number
of queries per batch, whatever its size, so a 5,000-action list never runs a query per
action:

* actions: the actions with their priority, area, lead organisation and lead person
  (one joined query); the newest current update of each (one query); which have an
  update for the reporting quarter (one query);
* measures: the measures with priority and owner (one query); their values (one
  query); their targets (one query).

Sorting is done where it is cheapest: by SQL ``ORDER BY`` for a stored column (ref,
title, dates, status, RAG, ...), so the list can be reordered without reading a single
row; in Python, over rows fetched in batches, only for what the database does not hold
(an action's flags, a measure's RAG or direction). Blank values sort last either way,
and ties keep ref order, so the order is the same on SQLite and PostgreSQL.

Flags, RAG and direction come from :mod:`ssp_desktop.domain.rules`, so a list agrees
with the board pack. Flags are judged for a reporting quarter and a "today"
(:func:`reporting_quarter` gives the usual quarter).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

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
from ssp_desktop.domain.periods import FinancialYear, Quarter
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
    Direction,
    FlagKind,
    MeasureAssessment,
    Movement,
    Travel,
    action_flags,
    measure_rag,
    travel_for,
)
from ssp_desktop.domain.validation import MAX_DECIMALS
from ssp_desktop.queries.quarter_status import plan_quarters
from ssp_desktop.queries.quarter_status import reporting_quarter as lead_quarter

__all__ = [
    "EXCERPT_LENGTH",
    "ActionListRow",
    "ActionSort",
    "Choice",
    "MeasureListRow",
    "MeasureSort",
    "Touched",
    "action_ids",
    "action_rows",
    "actions_touched",
    "excerpt",
    "format_value",
    "lead_organisation_choices",
    "measure_ids",
    "measure_rows",
    "measures_touched",
    "owner_organisation_choices",
    "priority_choices",
    "reporting_quarter",
    "short_date",
]

# Long enough to say what happened, short enough that 5,000 cached rows stay small.
EXCERPT_LENGTH: Final = 120

# Ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits.
_CHUNK: Final = 500

_T = TypeVar("_T")
# What a list can be ordered by: a mapped column or an SQL expression over columns.
_Orderable = ColumnElement[Any] | InstrumentedAttribute[Any]
_R = TypeVar("_R")


# --------------------------------------------------------------------------- helpers


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """The start of ``text`` on one line, cut at a word and marked with "…" if cut."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    # Cutting at a word reads better, unless the only space is near the start.
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def short_date(d: dt.date | None) -> str:
    """A date as a list shows it: "30 Jun 2024" (blank for none)."""
    return "" if d is None else f"{d.day} {d:%b %Y}"


def format_value(value: float | None, unit: Unit, decimals: int) -> str:
    """A measure's value with its unit's decimals: "92.0%", "1,204", "3.4"; blank for none."""
    if value is None or math.isnan(value):
        return ""
    # Clamped to the domain's range: a store written before the rule may hold 400.
    places = min(max(0, decimals), MAX_DECIMALS)
    text = f"{value:,.{places}f}"
    return f"{text}%" if unit is Unit.PERCENT else text


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _label(short: str | None, name: str | None) -> str:
    return (short or name or "").strip()


def _nulls_last(expr: _Orderable) -> ColumnElement[int]:
    # Portable "NULLS LAST": SQLite and PostgreSQL disagree on where NULLs sort by default.
    return case((expr.is_(None), 1), else_=0)


def _ordered(
    stmt: Select[tuple[uuid.UUID]],
    expr: _Orderable,
    descending: bool,
    ref: InstrumentedAttribute[str],
    id_: InstrumentedAttribute[uuid.UUID],
) -> Select[tuple[uuid.UUID]]:
    """``stmt`` ordered by ``expr`` with blanks last, ties in ascending ref order."""
    if expr is ref:
        return stmt.order_by(ref.desc() if descending else ref, id_)
    return stmt.order_by(_nulls_last(expr), expr.desc() if descending else expr, ref, id_)


def _sort_in_python(
    items: Sequence[_R],
    key: Callable[[_R], Any],
    ref: Callable[[_R], str],
    descending: bool,
) -> list[_R]:
    """Sort by ``key`` (None last in both directions), ties in ascending ref order."""
    by_ref = sorted(items, key=ref)
    present = [r for r in by_ref if key(r) is not None]
    blank = [r for r in by_ref if key(r) is None]
    # Python's sort is stable with reverse=True too, so ties stay in ref order.
    present.sort(key=key, reverse=descending)
    return present + blank


def reporting_quarter(session: Session, plan_id: uuid.UUID, today: dt.date) -> Quarter:
    """The quarter a plan's lists judge flags against, as of ``today``.

    The same rule as My quarter and the editors (``quarter_status.reporting_quarter``):
    the last quarter to have ended, within the plan's period, so every screen agrees on
    which quarter's update is missing.
    """
    plan = session.get(Plan, plan_id)
    return lead_quarter(today, plan_quarters(plan) if plan is not None else ())


# --------------------------------------------------------------------------- choices


@dataclass(frozen=True, slots=True)
class Choice:
    """An option of a list's filter: a record id and the words shown for it."""

    id: uuid.UUID
    label: str


def priority_choices(session: Session, plan_id: uuid.UUID) -> list[Choice]:
    """The plan's priorities in plan order, as "PVP Protecting vulnerable people"."""
    rows = session.execute(
        select(Priority.id, Priority.code, Priority.title)
        .where(Priority.plan_id == plan_id, Priority.deleted_at.is_(None))
        .order_by(Priority.position, Priority.code)
    ).all()
    return [Choice(pid, f"{code} {title}") for pid, code, title in rows]


def _organisation_choices(
    session: Session, stmt: Select[tuple[uuid.UUID, str, str]]
) -> list[Choice]:
    rows = session.execute(stmt.distinct()).all()
    # The initials first, which the list's column shows and which tell apart names
    # that begin alike (a narrow combo cuts "Greater Manchester ..." off three times),
    # then the full name for a reader who does not know them: "GMP (Greater Manchester
    # Police)".
    choices = [
        Choice(
            oid,
            f"{short} ({name})" if short and not name.startswith(short) else name or short,
        )
        for oid, short, name in rows
    ]
    return sorted(choices, key=lambda c: c.label.casefold())


def lead_organisation_choices(session: Session, plan_id: uuid.UUID) -> list[Choice]:
    """Organisations that lead at least one live action of the plan, by name."""
    return _organisation_choices(
        session,
        select(Organisation.id, Organisation.short_name, Organisation.name)
        .join(Action, Action.lead_organisation_id == Organisation.id)
        .where(Action.plan_id == plan_id, Action.deleted_at.is_(None)),
    )


def owner_organisation_choices(session: Session, plan_id: uuid.UUID) -> list[Choice]:
    """Organisations whose people own at least one live measure of the plan, by name."""
    return _organisation_choices(
        session,
        select(Organisation.id, Organisation.short_name, Organisation.name)
        .join(Person, Person.organisation_id == Organisation.id)
        .join(Measure, Measure.owner_person_id == Person.id)
        .where(Measure.plan_id == plan_id, Measure.deleted_at.is_(None)),
    )


# --------------------------------------------------------------------------- actions


_STATUS_ORDER: Final = {s: i for i, s in enumerate(ActionStatus)}


@dataclass(frozen=True, slots=True)
class ActionListRow:
    """One action as the action list shows it."""

    id: uuid.UUID
    ref: str
    title: str
    priority_id: uuid.UUID
    priority_code: str
    area: str
    lead_organisation_id: uuid.UUID | None
    lead_organisation: str  # short name, e.g. "GMP"
    lead_person: str  # role title, e.g. "Domestic Abuse Lead"
    start: dt.date | None
    due: dt.date | None
    status: ActionStatus
    rag: Rag | None
    latest_quarter: Quarter | None
    latest_excerpt: str
    flags: tuple[ActionFlag, ...]
    # Ref, title and lead, case-folded: built once per fetched row, so each keystroke of
    # a search only scans strings.
    search_text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = " ".join((self.ref, self.title, self.lead_organisation, self.lead_person))
        object.__setattr__(self, "search_text", text.casefold())

    @property
    def overdue(self) -> bool:
        """Past its due date and not complete, judged as the board pack judges it."""
        return any(f.kind in (FlagKind.OVERDUE, FlagKind.PAST_DUE_GREEN) for f in self.flags)

    @property
    def flag_kinds(self) -> tuple[FlagKind, ...]:
        return tuple(f.kind for f in self.flags)

    def matches(self, terms: Sequence[str]) -> bool:
        """Whether every term (already case-folded) is in the ref, title or lead."""
        return all(term in self.search_text for term in terms)


def _action_filter(plan_id: uuid.UUID, ids: Sequence[uuid.UUID] | None) -> list[Any]:
    where: list[Any] = [Action.plan_id == plan_id, Action.deleted_at.is_(None)]
    if ids is not None:
        where.append(Action.id.in_(ids))
    return where


def _current_updates(action_where: list[Any]) -> list[Any]:
    return [
        *action_where,
        ActionUpdate.is_current.is_(True),
        ActionUpdate.deleted_at.is_(None),
    ]


def _action_rows_chunk(
    session: Session,
    plan_id: uuid.UUID,
    ids: Sequence[uuid.UUID] | None,
    quarter: Quarter,
    today: dt.date,
) -> list[ActionListRow]:
    where = _action_filter(plan_id, ids)
    lead_org = aliased(Organisation)
    lead = aliased(Person)
    base = session.execute(
        select(
            Action.id,
            Action.ref,
            Action.title,
            Priority.id,
            Priority.code,
            PriorityArea.title,
            Action.lead_organisation_id,
            lead_org.short_name,
            lead_org.name,
            lead.role_title,
            lead.name,
            Action.start_date,
            Action.due_date,
            Action.status,
            Action.rag,
        )
        .join(PriorityArea, PriorityArea.id == Action.priority_area_id)
        .join(Priority, Priority.id == PriorityArea.priority_id)
        .outerjoin(lead_org, lead_org.id == Action.lead_organisation_id)
        .outerjoin(lead, lead.id == Action.lead_person_id)
        .where(*where)
        .order_by(Action.ref, Action.id)
    ).all()

    newest = (
        select(
            ActionUpdate.action_id.label("action_id"),
            func.max(ActionUpdate.quarter).label("quarter"),
        )
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(*_current_updates(where))
        .group_by(ActionUpdate.action_id)
        .subquery()
    )
    latest: dict[uuid.UUID, tuple[Quarter, str]] = {
        action_id: (q, narrative)
        for action_id, q, narrative in session.execute(
            select(ActionUpdate.action_id, ActionUpdate.quarter, ActionUpdate.narrative).join(
                newest,
                and_(
                    ActionUpdate.action_id == newest.c.action_id,
                    ActionUpdate.quarter == newest.c.quarter,
                    ActionUpdate.is_current.is_(True),
                    ActionUpdate.deleted_at.is_(None),
                ),
            )
        )
    }
    updated_for_quarter = set(
        session.scalars(
            select(ActionUpdate.action_id)
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(*_current_updates(where), ActionUpdate.quarter == quarter)
        )
    )

    rows = []
    for (
        action_id,
        ref,
        title,
        priority_id,
        code,
        area,
        org_id,
        org_short,
        org_name,
        role,
        person_name,
        start,
        due,
        status,
        rag,
    ) in base:
        newest_quarter, narrative = latest.get(action_id, (None, ""))
        flags = action_flags(
            status=status,
            rag=rag,
            due=due,
            has_update_for_quarter=action_id in updated_for_quarter,
            quarter=quarter,
            today=today,
            start=start,
        )
        rows.append(
            ActionListRow(
                id=action_id,
                ref=ref,
                title=title,
                priority_id=priority_id,
                priority_code=code,
                area=area,
                lead_organisation_id=org_id,
                lead_organisation=_label(org_short, org_name),
                lead_person=_label(role, person_name),
                start=start,
                due=due,
                status=status,
                rag=rag,
                latest_quarter=newest_quarter,
                latest_excerpt=excerpt(narrative),
                flags=tuple(flags),
            )
        )
    return rows


def _resolve_reference(
    session: Session, plan_id: uuid.UUID, quarter: Quarter | None, today: dt.date | None
) -> tuple[Quarter, dt.date]:
    day = today if today is not None else dt.date.today()
    return (quarter if quarter is not None else reporting_quarter(session, plan_id, day)), day


def action_rows(
    session: Session,
    plan_id: uuid.UUID,
    ids: Iterable[uuid.UUID] | None = None,
    *,
    quarter: Quarter | None = None,
    today: dt.date | None = None,
) -> list[ActionListRow]:
    """The list rows of a plan's live actions: all of them in ref order, or those of
    ``ids`` in the order given (ids of deleted actions or other plans are skipped).

    Flags are judged for ``quarter`` (default :func:`reporting_quarter`) as of
    ``today`` (default the system date). Three queries per 500 ids.
    """
    quarter, today = _resolve_reference(session, plan_id, quarter, today)
    if ids is None:
        return _action_rows_chunk(session, plan_id, None, quarter, today)
    wanted = list(dict.fromkeys(ids))
    found: dict[uuid.UUID, ActionListRow] = {}
    for chunk in _chunks(wanted):
        found.update((r.id, r) for r in _action_rows_chunk(session, plan_id, chunk, quarter, today))
    return [found[i] for i in wanted if i in found]


class ActionSort(enum.StrEnum):
    """What an action list can be ordered by: one per column."""

    REF = "ref"
    TITLE = "title"
    PRIORITY = "priority"
    AREA = "area"
    LEAD_ORGANISATION = "lead_organisation"
    LEAD_PERSON = "lead_person"
    START = "start"
    DUE = "due"
    STATUS = "status"
    RAG = "rag"
    LATEST_UPDATE = "latest_update"
    PROGRESS = "progress"
    FLAGS = "flags"


def _rag_rank(rag_column: Any) -> ColumnElement[Any]:
    return case(*((rag_column == r, r.severity) for r in Rag), else_=None)


def _action_sort_in_python(key: ActionSort) -> Callable[[ActionListRow], Any]:
    if key is ActionSort.PROGRESS:
        return lambda r: r.latest_excerpt.casefold() or None
    # Worst flag first when descending: then how many flags.
    return lambda r: (max(f.kind.severity for f in r.flags), len(r.flags)) if r.flags else None


def action_ids(
    session: Session,
    plan_id: uuid.UUID,
    order_by: ActionSort = ActionSort.REF,
    *,
    descending: bool = False,
    quarter: Quarter | None = None,
    today: dt.date | None = None,
) -> list[uuid.UUID]:
    """The ids of a plan's live actions in the order of ``order_by``.

    One query for every stored column. Progress and flags are not stored, so for those
    the rows are read (a few queries in all, see :func:`action_rows`) and sorted here;
    ``quarter`` and ``today`` are the flags' reference.
    """
    if order_by in (ActionSort.PROGRESS, ActionSort.FLAGS):
        rows = action_rows(session, plan_id, quarter=quarter, today=today)
        ordered = _sort_in_python(
            rows, _action_sort_in_python(order_by), lambda r: r.ref, descending
        )
        return [r.id for r in ordered]

    lead_org = aliased(Organisation)
    lead = aliased(Person)
    stmt = select(Action.id).where(*_action_filter(plan_id, None))
    expr: _Orderable
    if order_by is ActionSort.REF:
        expr = Action.ref
    elif order_by is ActionSort.TITLE:
        expr = func.lower(Action.title)
    elif order_by in (ActionSort.PRIORITY, ActionSort.AREA):
        stmt = stmt.join(PriorityArea, PriorityArea.id == Action.priority_area_id)
        if order_by is ActionSort.PRIORITY:
            stmt = stmt.join(Priority, Priority.id == PriorityArea.priority_id)
            expr = Priority.code
        else:
            expr = func.lower(PriorityArea.title)
    elif order_by is ActionSort.LEAD_ORGANISATION:
        stmt = stmt.outerjoin(lead_org, lead_org.id == Action.lead_organisation_id)
        expr = func.lower(func.coalesce(func.nullif(lead_org.short_name, ""), lead_org.name))
    elif order_by is ActionSort.LEAD_PERSON:
        stmt = stmt.outerjoin(lead, lead.id == Action.lead_person_id)
        expr = func.lower(func.coalesce(func.nullif(lead.role_title, ""), lead.name))
    elif order_by is ActionSort.START:
        expr = Action.start_date
    elif order_by is ActionSort.DUE:
        expr = Action.due_date
    elif order_by is ActionSort.STATUS:
        expr = case(*((Action.status == s, i) for s, i in _STATUS_ORDER.items()))
    elif order_by is ActionSort.RAG:
        expr = _rag_rank(Action.rag)
    else:  # LATEST_UPDATE
        newest = (
            select(
                ActionUpdate.action_id.label("action_id"),
                func.max(ActionUpdate.quarter).label("quarter"),
            )
            .join(Action, Action.id == ActionUpdate.action_id)
            .where(*_current_updates(_action_filter(plan_id, None)))
            .group_by(ActionUpdate.action_id)
            .subquery()
        )
        stmt = stmt.outerjoin(newest, newest.c.action_id == Action.id)
        expr = newest.c.quarter
    return list(session.scalars(_ordered(stmt, expr, descending, Action.ref, Action.id)))


# --------------------------------------------------------------------------- measures


# Ascending is best first, as for RAG (Green first): descending puts the worst first.
_DIRECTION_RANK: Final = {
    Direction.IMPROVING: 0,
    Direction.INCREASED: 1,
    Direction.STABLE: 2,
    Direction.DECREASED: 3,
    Direction.WORSENING: 4,
}


@dataclass(frozen=True, slots=True)
class MeasureListRow:
    """One measure as the measure list shows it, at its latest value."""

    id: uuid.UUID
    ref: str
    name: str
    priority_id: uuid.UUID | None
    priority_code: str
    unit: Unit
    polarity: Polarity
    frequency: Frequency
    decimals: int
    owner: str  # role title
    owner_organisation_id: uuid.UUID | None
    owner_organisation: str
    latest_period: Quarter | None  # the newest period with a value
    latest_value: float | None
    latest_status: ValueStatus | None
    target: float | None  # for the latest period's financial year
    rag: Rag | None
    rag_reason: str
    travel: Travel  # against the previous quarter, or a year earlier for annual measures
    comparator_name: str
    comparator_value: float | None
    # No value yet for the period the reporting quarter expects (never for survey waves).
    value_overdue: bool
    search_text: str = field(init=False, repr=False, compare=False)  # ref, name, owner

    def __post_init__(self) -> None:
        text = " ".join((self.ref, self.name, self.owner, self.owner_organisation))
        object.__setattr__(self, "search_text", text.casefold())

    @property
    def value_text(self) -> str:
        return format_value(self.latest_value, self.unit, self.decimals)

    @property
    def target_text(self) -> str:
        return format_value(self.target, self.unit, self.decimals)

    @property
    def comparator_text(self) -> str:
        if self.comparator_value is None:
            return ""
        value = format_value(self.comparator_value, self.unit, self.decimals)
        return f"{self.comparator_name}: {value}"

    @property
    def direction_text(self) -> str:
        """Arrow and word, e.g. "↓ Improving" for a falling lower-is-better measure."""
        if self.travel.direction is Direction.NO_DATA:
            return f"{Movement.NONE.symbol} {Direction.NO_DATA.word}"
        return f"{self.travel.movement.symbol} {self.travel.direction.word}"

    def matches(self, terms: Sequence[str]) -> bool:
        """Whether every term (already case-folded) is in the ref, name or owner."""
        return all(term in self.search_text for term in terms)


def _expected_period(frequency: Frequency, quarter: Quarter) -> Quarter | None:
    """The newest period a measure should have a value for when ``quarter`` is reported."""
    if frequency is Frequency.QUARTERLY:
        return quarter
    if frequency is Frequency.ANNUAL:
        # Annual figures are entered against Q4 of the year they cover.
        return Quarter(quarter.year, 4) if quarter.q == 4 else Quarter(quarter.year - 1, 4)
    return None  # survey waves come when they come


def _measure_filter(plan_id: uuid.UUID, ids: Sequence[uuid.UUID] | None) -> list[Any]:
    where: list[Any] = [Measure.plan_id == plan_id, Measure.deleted_at.is_(None)]
    if ids is not None:
        where.append(Measure.id.in_(ids))
    return where


@dataclass
class MeasureSeries:
    """One measure's values by period, as the lists, dashboard and pack judge them."""

    values: dict[Quarter, float] = field(default_factory=dict)
    significance: dict[Quarter, bool | None] = field(default_factory=dict)
    status: dict[Quarter, ValueStatus] = field(default_factory=dict)
    comparators: dict[Quarter, dict[str, float]] = field(default_factory=dict)
    # Where each value stands in review (accepted, submitted, ...).
    review: dict[Quarter, UpdateState] = field(default_factory=dict)
    # Periods recorded without a usable value (blank, or withheld by the data owner),
    # with the reason given; judged as "not rated" when newer than every value.
    missing: dict[Quarter, str] = field(default_factory=dict)
    # Is the value significantly different from the first comparator (True), not
    # (False), or not stated (None)?
    comparator_significant: dict[Quarter, bool | None] = field(default_factory=dict)
    # "3rd of 10 in GM": the value's rank among its comparators, where stated.
    rank: dict[Quarter, str] = field(default_factory=dict)


def read_series(
    session: Session,
    where: Sequence[Any],
    series: dict[uuid.UUID, MeasureSeries],
    *,
    upto: Quarter | None = None,
    since: Quarter | None = None,
) -> None:
    """Add the live values of the measures matching ``where`` (optionally only periods
    from ``since`` to ``upto``) to ``series``, one query."""
    conditions = [*where, MeasureValue.deleted_at.is_(None)]
    if upto is not None:
        conditions.append(MeasureValue.period <= upto)
    if since is not None:
        conditions.append(MeasureValue.period >= since)
    for (
        measure_id,
        period,
        value,
        comparators,
        status,
        significant,
        state,
        note,
        comparator_significant,
        rank,
    ) in session.execute(
        select(
            MeasureValue.measure_id,
            MeasureValue.period,
            MeasureValue.value,
            MeasureValue.comparator_values,
            MeasureValue.status,
            MeasureValue.significant,
            MeasureValue.state,
            MeasureValue.note,
            MeasureValue.comparator_significant,
            MeasureValue.rank,
        )
        .join(Measure, Measure.id == MeasureValue.measure_id)
        .where(*conditions)
    ):
        s = series.setdefault(measure_id, MeasureSeries())
        if status is ValueStatus.WITHHELD or value is None or math.isnan(value):
            # A withheld figure is never judged or printed, even if one was recorded.
            s.missing[period] = (note or "").strip()
        else:
            s.values[period] = value
        s.comparator_significant[period] = comparator_significant
        if rank:
            s.rank[period] = rank
        s.significance[period] = significant
        s.status[period] = status
        s.comparators[period] = comparators or {}
        s.review[period] = state


def read_targets(
    session: Session, where: Sequence[Any]
) -> dict[tuple[uuid.UUID, FinancialYear], float]:
    """The live targets of the measures matching ``where``, by (measure, year)."""
    return {
        (measure_id, year): value
        for measure_id, year, value in session.execute(
            select(MeasureTarget.measure_id, MeasureTarget.year, MeasureTarget.value)
            .join(Measure, Measure.id == MeasureTarget.measure_id)
            .where(*where, MeasureTarget.deleted_at.is_(None))
        )
    }


@dataclass(frozen=True)
class Judgement:
    """A measure judged at its newest value: RAG, direction and first comparator."""

    latest: Quarter | None
    value: float | None
    status: ValueStatus | None
    target: float | None
    assessment: MeasureAssessment
    travel: Travel
    comparator_name: str
    comparator_value: float | None
    # The newest period was recorded without a value (blank or withheld): its reason.
    missing_reason: str = ""


def judge(
    s: MeasureSeries,
    targets: Mapping[tuple[uuid.UUID, FinancialYear], float],
    measure_id: uuid.UUID,
    *,
    polarity: Polarity,
    frequency: Frequency,
    tolerance: float | None,
    mode: ToleranceMode | None,
    threshold: float | None,
    comparator_names: Sequence[str] | None,
    missing_latest: bool = False,
) -> Judgement:
    """RAG against the year's target, direction of travel (a year back for annual
    measures) and the first comparator, all at the series' newest value.

    ``missing_latest``: a period newer than every value, recorded without one (withheld,
    or blank with a reason), is the one judged: "not rated", never an older value
    rated in its place (the scorecard, the dashboard and the board pack). The measure
    lists leave it out, so that such a measure still shows as overdue there."""
    latest = max(s.values) if s.values else None
    value = s.values[latest] if latest is not None else None
    target = targets.get((measure_id, latest.fy)) if latest is not None else None
    assessment = measure_rag(
        value, target, polarity, tolerance or 0.0, mode or ToleranceMode.ABSOLUTE
    )
    if latest is None:
        travel = Travel(Direction.NO_DATA, Movement.NONE, None, "")
    else:
        previous, year_ago = travel_for(
            s.values, latest, polarity, threshold=threshold, significance=s.significance
        )
        travel = year_ago if frequency is Frequency.ANNUAL else previous
    missing_reason = ""
    newest_gap = max(s.missing) if s.missing else None
    if missing_latest and newest_gap is not None and (latest is None or newest_gap > latest):
        # The newest period has no usable value: say so rather than rate an older one.
        latest, value = newest_gap, None
        target = targets.get((measure_id, latest.fy))
        missing_reason = s.missing[newest_gap]
        withheld = s.status.get(newest_gap) is ValueStatus.WITHHELD
        assessment = MeasureAssessment(
            None,
            "Not rated: latest value withheld"
            if withheld
            else "Not rated: latest value not available",
        )
        travel = Travel(Direction.NO_DATA, Movement.NONE, None, "")
    names = list(comparator_names or [])
    comparator_name = names[0] if names else ""
    comparator_value = (
        s.comparators.get(latest, {}).get(comparator_name)
        if latest is not None and comparator_name
        else None
    )
    return Judgement(
        latest,
        value,
        s.status.get(latest) if latest is not None else None,
        target,
        assessment,
        travel,
        comparator_name,
        comparator_value,
        missing_reason,
    )


def _measure_rows_chunk(
    session: Session,
    plan_id: uuid.UUID,
    ids: Sequence[uuid.UUID] | None,
    quarter: Quarter,
) -> list[MeasureListRow]:
    where = _measure_filter(plan_id, ids)
    owner = aliased(Person)
    owner_org = aliased(Organisation)
    base = session.execute(
        select(
            Measure.id,
            Measure.ref,
            Measure.name,
            Measure.priority_id,
            Priority.code,
            Measure.unit,
            Measure.polarity,
            Measure.frequency,
            Measure.decimals,
            Measure.tolerance,
            Measure.tolerance_mode,
            Measure.stable_threshold,
            Measure.comparator_names,
            owner.role_title,
            owner.name,
            owner.organisation_id,
            owner_org.short_name,
            owner_org.name,
        )
        .outerjoin(Priority, Priority.id == Measure.priority_id)
        .outerjoin(owner, owner.id == Measure.owner_person_id)
        .outerjoin(owner_org, owner_org.id == owner.organisation_id)
        .where(*where)
        .order_by(Measure.ref, Measure.id)
    ).all()

    series: dict[uuid.UUID, MeasureSeries] = {}
    read_series(session, where, series)
    targets = read_targets(session, where)

    rows = []
    for (
        measure_id,
        ref,
        name,
        priority_id,
        code,
        unit,
        polarity,
        frequency,
        decimals,
        tolerance,
        mode,
        threshold,
        comparator_names,
        role,
        person_name,
        org_id,
        org_short,
        org_name,
    ) in base:
        j = judge(
            series.get(measure_id, MeasureSeries()),
            targets,
            measure_id,
            polarity=polarity,
            frequency=frequency,
            tolerance=tolerance,
            mode=mode,
            threshold=threshold,
            comparator_names=comparator_names,
        )
        latest = j.latest
        expected = _expected_period(frequency, quarter)
        rows.append(
            MeasureListRow(
                id=measure_id,
                ref=ref,
                name=name,
                priority_id=priority_id,
                priority_code=code or "",
                unit=unit,
                polarity=polarity,
                frequency=frequency,
                decimals=decimals,
                owner=_label(role, person_name),
                owner_organisation_id=org_id,
                owner_organisation=_label(org_short, org_name),
                latest_period=latest,
                latest_value=j.value,
                latest_status=j.status,
                target=j.target,
                rag=j.assessment.rag,
                rag_reason=j.assessment.reason,
                travel=j.travel,
                comparator_name=j.comparator_name,
                comparator_value=j.comparator_value,
                value_overdue=expected is not None and (latest is None or latest < expected),
            )
        )
    return rows


def measure_rows(
    session: Session,
    plan_id: uuid.UUID,
    ids: Iterable[uuid.UUID] | None = None,
    *,
    quarter: Quarter | None = None,
    today: dt.date | None = None,
) -> list[MeasureListRow]:
    """The list rows of a plan's live measures: all in ref order, or those of ``ids`` in
    the order given. ``quarter`` (default :func:`reporting_quarter` as of ``today``) only
    decides whether a value is overdue. Three queries per 500 ids."""
    quarter, _today = _resolve_reference(session, plan_id, quarter, today)
    if ids is None:
        return _measure_rows_chunk(session, plan_id, None, quarter)
    wanted = list(dict.fromkeys(ids))
    found: dict[uuid.UUID, MeasureListRow] = {}
    for chunk in _chunks(wanted):
        found.update((r.id, r) for r in _measure_rows_chunk(session, plan_id, chunk, quarter))
    return [found[i] for i in wanted if i in found]


class MeasureSort(enum.StrEnum):
    """What a measure list can be ordered by: one per column."""

    REF = "ref"
    NAME = "name"
    PRIORITY = "priority"
    UNIT = "unit"
    POLARITY = "polarity"
    OWNER = "owner"
    PERIOD = "period"
    VALUE = "value"
    TARGET = "target"
    RAG = "rag"
    DIRECTION = "direction"
    COMPARATOR = "comparator"


_MEASURE_PYTHON_KEYS: Final[dict[MeasureSort, Callable[[MeasureListRow], Any]]] = {
    MeasureSort.PERIOD: lambda r: r.latest_period,
    MeasureSort.VALUE: lambda r: r.latest_value,
    MeasureSort.TARGET: lambda r: r.target,
    MeasureSort.RAG: lambda r: None if r.rag is None else r.rag.severity,
    MeasureSort.DIRECTION: lambda r: _DIRECTION_RANK.get(r.travel.direction),
    MeasureSort.COMPARATOR: lambda r: r.comparator_value,
}


def measure_ids(
    session: Session,
    plan_id: uuid.UUID,
    order_by: MeasureSort = MeasureSort.REF,
    *,
    descending: bool = False,
    quarter: Quarter | None = None,
    today: dt.date | None = None,
) -> list[uuid.UUID]:
    """The ids of a plan's live measures in the order of ``order_by``: one query for a
    stored column; the latest value, target, RAG, direction and comparator are worked
    out from the values, so those read the rows (three queries) and sort here."""
    python_key = _MEASURE_PYTHON_KEYS.get(order_by)
    if python_key is not None:
        rows = measure_rows(session, plan_id, quarter=quarter, today=today)
        return [r.id for r in _sort_in_python(rows, python_key, lambda r: r.ref, descending)]

    stmt = select(Measure.id).where(*_measure_filter(plan_id, None))
    expr: _Orderable
    if order_by is MeasureSort.REF:
        expr = Measure.ref
    elif order_by is MeasureSort.NAME:
        expr = func.lower(Measure.name)
    elif order_by is MeasureSort.PRIORITY:
        stmt = stmt.outerjoin(Priority, Priority.id == Measure.priority_id)
        expr = Priority.code
    elif order_by is MeasureSort.UNIT:
        expr = case(*((Measure.unit == u, i) for i, u in enumerate(Unit)))
    elif order_by is MeasureSort.POLARITY:
        expr = case(*((Measure.polarity == p, i) for i, p in enumerate(Polarity)))
    else:  # OWNER
        owner = aliased(Person)
        stmt = stmt.outerjoin(owner, owner.id == Measure.owner_person_id)
        expr = func.lower(func.coalesce(func.nullif(owner.role_title, ""), owner.name))
    return list(session.scalars(_ordered(stmt, expr, descending, Measure.ref, Measure.id)))


# --------------------------------------------------------------------------- changes


@dataclass(frozen=True)
class Touched:
    """Which list rows a batch of changes affects: some ids, or every row (a renamed
    organisation, person or priority shows on many rows)."""

    ids: frozenset[uuid.UUID] = frozenset()
    every_row: bool = False

    def __bool__(self) -> bool:
        return self.every_row or bool(self.ids)


def _owners(
    session: Session, column: Any, id_column: Any, child_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    owners: set[uuid.UUID] = set()
    for chunk in _chunks(child_ids):
        # Deleted and superseded children included: their removal changes the row too.
        owners.update(session.scalars(select(column).where(id_column.in_(chunk))))
    return owners


def _touched(
    session: Session,
    changes: Iterable[tuple[str, uuid.UUID]],
    own: str,
    children: dict[str, tuple[Any, Any]],
    shown_on_rows: frozenset[str],
) -> Touched:
    ids: set[uuid.UUID] = set()
    by_child: dict[str, list[uuid.UUID]] = {}
    every_row = False
    for entity, record_id in changes:
        if entity == own:
            ids.add(record_id)
        elif entity in children:
            by_child.setdefault(entity, []).append(record_id)
        elif entity in shown_on_rows:
            every_row = True
    for entity, child_ids in by_child.items():
        owner_column, id_column = children[entity]
        ids |= _owners(session, owner_column, id_column, child_ids)
    return Touched(frozenset(ids), every_row)


def actions_touched(session: Session, changes: Iterable[tuple[str, uuid.UUID]]) -> Touched:
    """The actions whose list rows ``changes`` (entity, record id) affect: the actions
    themselves and the actions of changed updates; every row for a changed priority,
    area, organisation or person, whose names the rows show."""
    return _touched(
        session,
        changes,
        "action",
        {"action_update": (ActionUpdate.action_id, ActionUpdate.id)},
        frozenset({"priority", "priority_area", "organisation", "person"}),
    )


def measures_touched(session: Session, changes: Iterable[tuple[str, uuid.UUID]]) -> Touched:
    """The measures whose list rows ``changes`` affect: the measures, those of changed
    values and targets; every row for a changed priority, organisation or person."""
    return _touched(
        session,
        changes,
        "measure",
        {
            "measure_value": (MeasureValue.measure_id, MeasureValue.id),
            "measure_target": (MeasureTarget.measure_id, MeasureTarget.id),
        },
        frozenset({"priority", "organisation", "person"}),
    )
