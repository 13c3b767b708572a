"""What the editors' pickers list (no Qt here, and nothing written).

Kept apart from the widgets so the queries can be read (and tested) as plain Python:
which organisations a picker offers, how a person is named in one. Every list holds
live records only, in the order people expect. What a new record is called (its next
free ref) is the services' business: :mod:`ssp_desktop.services.numbering`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Record
from ssp_desktop.domain.periods import FinancialYear, Quarter
from ssp_desktop.domain.records import (
    Action,
    FundingAward,
    FundingStream,
    Measure,
    Organisation,
    Outcome,
    OutcomeFramework,
    Person,
    Plan,
    Priority,
    PriorityArea,
)

Choice = tuple[str, Any]


@dataclass(frozen=True)
class Scope:
    """The partnership and (if any) plan a record belongs to: what its pickers may offer."""

    partnership_id: uuid.UUID | None
    plan_id: uuid.UUID | None


# Parent links to follow when a record names neither its plan nor its partnership.
_PARENTS: tuple[tuple[str, type[Record]], ...] = (
    ("priority_id", Priority),
    ("priority_area_id", PriorityArea),
    ("action_id", Action),
    ("measure_id", Measure),
    ("stream_id", FundingStream),
    ("award_id", FundingAward),
    ("framework_id", OutcomeFramework),
)


def scope_of(session: Session, record: Record | None) -> Scope:
    """Walk up from ``record`` to its plan and partnership."""
    if record is None:
        return Scope(None, None)
    if isinstance(record, Plan):
        return Scope(record.partnership_id, record.id)
    plan_id: uuid.UUID | None = getattr(record, "plan_id", None)
    if plan_id is not None:
        plan = session.get(Plan, plan_id)
        return Scope(plan.partnership_id if plan else None, plan_id)
    partnership_id: uuid.UUID | None = getattr(record, "partnership_id", None)
    if partnership_id is not None:
        return Scope(partnership_id, None)
    for attr, parent_cls in _PARENTS:
        parent_id = getattr(record, attr, None)
        if parent_id is not None:
            return scope_of(session, session.get(parent_cls, parent_id))
    return Scope(None, None)


def _live(cls: type[Record]) -> Any:
    return cls.deleted_at.is_(None)


# --------------------------------------------------------------------------- labels


def organisation_label(org: Organisation) -> str:
    if org.short_name and org.short_name != org.name:
        return f"{org.name} ({org.short_name})"
    return org.name


def person_label(person: Person, org: Organisation | None) -> str:
    """People are known by their role in a partnership: "Superintendent, Stockport (GMP)"."""
    label = person.role_title or person.name
    if person.role_title and person.name and person.name != person.role_title:
        label = f"{person.role_title}: {person.name}"
    if org is not None:
        label += f" ({org.short_name or org.name})"
    return label


# --------------------------------------------------------------------------- picker lists


def organisations(session: Session, scope: Scope) -> list[Choice]:
    if scope.partnership_id is None:
        return []
    orgs = session.scalars(
        select(Organisation)
        .where(Organisation.partnership_id == scope.partnership_id, _live(Organisation))
        .order_by(Organisation.name)
    )
    return [(organisation_label(o), o.id) for o in orgs]


def people(session: Session, scope: Scope) -> list[Choice]:
    if scope.partnership_id is None:
        return []
    orgs = {
        o.id: o
        for o in session.scalars(
            select(Organisation).where(Organisation.partnership_id == scope.partnership_id)
        )
    }
    rows = session.scalars(
        select(Person).where(Person.partnership_id == scope.partnership_id, _live(Person))
    )
    choices = [
        (person_label(p, orgs.get(p.organisation_id) if p.organisation_id else None), p.id)
        for p in rows
    ]
    return sorted(choices, key=lambda c: str(c[0]).casefold())


def priorities(session: Session, scope: Scope) -> list[Choice]:
    """The plan's priorities; for a record outside any plan (a funding award), those of
    every live plan of the partnership, each labelled with its plan's period."""
    if scope.plan_id is not None:
        rows = session.scalars(
            select(Priority)
            .where(Priority.plan_id == scope.plan_id, _live(Priority))
            .order_by(Priority.position, Priority.code)
        )
        return [(f"{p.code} {p.title}", p.id) for p in rows]
    if scope.partnership_id is None:
        return []
    out: list[Choice] = []
    for plan in session.scalars(
        select(Plan)
        .where(Plan.partnership_id == scope.partnership_id, _live(Plan))
        .order_by(Plan.start_year.desc())
    ):
        for p in session.scalars(
            select(Priority)
            .where(Priority.plan_id == plan.id, _live(Priority))
            .order_by(Priority.position, Priority.code)
        ):
            out.append((f"{p.code} {p.title} ({plan.period_label})", p.id))
    return out


def priority_areas(session: Session, scope: Scope) -> list[Choice]:
    if scope.plan_id is None:
        return []
    rows = session.execute(
        select(PriorityArea, Priority.code)
        .join(Priority, Priority.id == PriorityArea.priority_id)
        .where(Priority.plan_id == scope.plan_id, _live(PriorityArea), _live(Priority))
        .order_by(Priority.position, Priority.code, PriorityArea.position, PriorityArea.title)
    ).all()
    return [(f"{code}: {area.title}", area.id) for area, code in rows]


def measures(session: Session, scope: Scope) -> list[Choice]:
    if scope.plan_id is None:
        return []
    rows = session.scalars(
        select(Measure)
        .where(Measure.plan_id == scope.plan_id, _live(Measure))
        .order_by(Measure.position, Measure.ref)
    )
    return [(f"{m.ref} {m.name}", m.id) for m in rows]


def outcomes(session: Session, scope: Scope) -> list[Choice]:
    """Every live outcome of the partnership's frameworks, framework by framework."""
    if scope.partnership_id is None:
        return []
    rows = session.execute(
        select(Outcome, OutcomeFramework)
        .join(OutcomeFramework, OutcomeFramework.id == Outcome.framework_id)
        .where(
            OutcomeFramework.partnership_id == scope.partnership_id,
            _live(Outcome),
            _live(OutcomeFramework),
        )
        .order_by(OutcomeFramework.name, Outcome.position, Outcome.code)
    ).all()
    return [(f"{o.code} {o.title} ({fw.short_name or fw.name})", o.id) for o, fw in rows]


def frameworks(session: Session, scope: Scope) -> list[Choice]:
    if scope.partnership_id is None:
        return []
    rows = session.scalars(
        select(OutcomeFramework)
        .where(OutcomeFramework.partnership_id == scope.partnership_id, _live(OutcomeFramework))
        .order_by(OutcomeFramework.name)
    )
    return [(f.name, f.id) for f in rows]


def plan_years(session: Session, scope: Scope) -> list[FinancialYear]:
    plan = session.get(Plan, scope.plan_id) if scope.plan_id else None
    if plan is None:
        return []
    return [FinancialYear(y) for y in range(plan.start_year.start, plan.end_year.start + 1)]


def plan_quarters(session: Session, scope: Scope) -> list[Quarter]:
    years = plan_years(session, scope)
    if not years:
        return []
    return Quarter.range(years[0].quarters()[0], years[-1].quarters()[3])


def year_span(
    around: Iterable[FinancialYear], before: int = 5, after: int = 5
) -> list[FinancialYear]:
    """Financial years to offer in a picker: a few either side of those in use."""
    years = sorted(set(around))
    if not years:
        return []
    return [FinancialYear(y) for y in range(years[0].start - before, years[-1].start + after + 1)]
