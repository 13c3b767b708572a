"""A lead's scope: which records a lead copy holds, and which it may change.

A lead is given *themes* (priorities of one plan), *actions* (single actions of that
plan, for an action lead who needs no whole theme), or both (:class:`LeadScope`). Their
scope (records the lead may change, tombstones included) is, precisely:

=================== =====================================================
priority            a theme itself (its fields; no new priorities)
priority_area       areas for action under a theme
action              actions under those areas (and of the same plan), and
                    every action of the action set, in the area it sits in
action_update       quarterly updates of those actions
action_partner,     an action's partners, outcomes and measure links
action_outcome,
action_measure
priority_outcome    a theme's outcome links
measure             measures of the plan whose priority is a theme
measure_value,      values, targets and outcome links of those measures
measure_target,
measure_outcome
risk                risks of the plan whose priority is a theme
=================== =====================================================

Context travels with the scope, read-only, so the lead's copy has what its records
refer to: the partnership, the plan, every partner organisation, the outcome
frameworks and outcomes, the plan's framework links, and the people the travelling
records name (leads, authors, owners) plus the lead. For the action set, the area each
action sits in and that area's priority travel too (so the copy shows where the action
belongs), and so do the live measures the scoped actions link to (by a live link) whose
priority travels, so the links can travel; none of them is the lead's to change, and
the measures bring no values or targets. Nothing else ever travels to a lead: other
themes, actions outside the scope, plan-wide measures (no priority), funding, board
packs, other plans. A record travels only when everything it refers to travels too (an
action's link to a measure of another theme stays behind).

An action of the action set stays in scope when the master moves it to another area
(the new area and its priority travel as its context), but a lead cannot move it: the
area it sits in is the master's structure, so a lead's change of its area is rejected.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from ssp_desktop.domain.base import Base, Record
from ssp_desktop.domain.records import (
    Action,
    ActionMeasure,
    ActionOutcome,
    ActionPartner,
    ActionUpdate,
    Measure,
    MeasureOutcome,
    MeasureTarget,
    MeasureValue,
    Organisation,
    Outcome,
    OutcomeFramework,
    Partnership,
    Person,
    Plan,
    PlanFramework,
    Priority,
    PriorityArea,
    PriorityOutcome,
    Risk,
    record_classes,
)

# entity -> (the field that places it, the entity that field points to)
SCOPE_PARENT: Mapping[str, tuple[str, str]] = {
    "priority_area": ("priority_id", "priority"),
    "action": ("priority_area_id", "priority_area"),
    "action_update": ("action_id", "action"),
    "action_partner": ("action_id", "action"),
    "action_outcome": ("action_id", "action"),
    "action_measure": ("action_id", "action"),
    "priority_outcome": ("priority_id", "priority"),
    "measure": ("priority_id", "priority"),
    "measure_value": ("measure_id", "measure"),
    "measure_target": ("measure_id", "measure"),
    "measure_outcome": ("measure_id", "measure"),
    "risk": ("priority_id", "priority"),
}
WRITABLE = frozenset({"priority", *SCOPE_PARENT})

TABLE_RANK: Mapping[str, int] = {t.name: i for i, t in enumerate(Base.metadata.sorted_tables)}

# Fields naming the people a record needs in the copy (a lead, an author, an owner).
_PEOPLE = ("lead_person_id", "author_person_id", "owner_person_id")


@dataclass(frozen=True)
class LeadScope:
    """What one lead copy holds: themes (priority ids) and single actions (action ids)
    of one plan. Ids, not codes or refs, so renaming never moves a record in or out."""

    plan_id: uuid.UUID
    themes: tuple[uuid.UUID, ...] = ()
    actions: tuple[uuid.UUID, ...] = ()

    @classmethod
    def of(
        cls, plan_id: uuid.UUID, themes: Iterable[object] = (), actions: Iterable[object] = ()
    ) -> LeadScope:
        """A scope from ids or their text (as ``SyncLead`` and ``store_meta`` keep them)."""
        return cls(
            plan_id,
            tuple(t if isinstance(t, uuid.UUID) else uuid.UUID(str(t)) for t in themes),
            tuple(a if isinstance(a, uuid.UUID) else uuid.UUID(str(a)) for a in actions),
        )


class Writable(dict[str, set[uuid.UUID]]):
    """Per entity, the ids of every record (tombstones too) a lead may change.

    ``placed`` pins each action of the action set to the area it sits in on the master:
    the action is the lead's, the area it sits in is not.
    """

    def __init__(
        self, ids: Mapping[str, set[uuid.UUID]], placed: Mapping[uuid.UUID, uuid.UUID]
    ) -> None:
        super().__init__(ids)
        self.placed: dict[uuid.UUID, uuid.UUID] = dict(placed)


def _writable_queries(scope: LeadScope) -> dict[str, Select[Any]]:
    plan_id = scope.plan_id
    q: dict[str, Select[Any]] = {}
    q["priority"] = select(Priority.id).where(
        Priority.plan_id == plan_id, Priority.id.in_(list(scope.themes))
    )
    q["priority_area"] = select(PriorityArea.id).where(PriorityArea.priority_id.in_(q["priority"]))
    q["action"] = select(Action.id).where(
        Action.plan_id == plan_id,
        or_(Action.priority_area_id.in_(q["priority_area"]), Action.id.in_(list(scope.actions))),
    )
    for cls in (ActionUpdate, ActionPartner, ActionOutcome, ActionMeasure):
        q[cls.__tablename__] = select(cls.id).where(cls.action_id.in_(q["action"]))
    q["priority_outcome"] = select(PriorityOutcome.id).where(
        PriorityOutcome.priority_id.in_(q["priority"])
    )
    q["measure"] = select(Measure.id).where(
        Measure.plan_id == plan_id, Measure.priority_id.in_(q["priority"])
    )
    for m in (MeasureValue, MeasureTarget, MeasureOutcome):
        q[m.__tablename__] = select(m.id).where(m.measure_id.in_(q["measure"]))
    q["risk"] = select(Risk.id).where(Risk.plan_id == plan_id, Risk.priority_id.in_(q["priority"]))
    return q


def writable_ids(session: Session, scope: LeadScope) -> Writable:
    """Ids of every record (tombstones too) a lead with ``scope`` may change."""
    ids = {
        entity: set(session.scalars(query)) for entity, query in _writable_queries(scope).items()
    }
    placed = session.execute(
        select(Action.id, Action.priority_area_id).where(
            Action.plan_id == scope.plan_id, Action.id.in_(list(scope.actions))
        )
    )
    return Writable(ids, {action_id: area_id for action_id, area_id in placed})


def in_scope(
    entity: str,
    record_id: uuid.UUID,
    fields: Mapping[str, Any],
    plan_id: uuid.UUID,
    writable: Writable,
) -> bool:
    """Whether a record with these field values lies in the scope ``writable`` describes."""
    if entity == "priority":
        return record_id in writable["priority"] and fields.get("plan_id") == plan_id
    if entity not in SCOPE_PARENT:
        return False
    if "plan_id" in fields and fields["plan_id"] != plan_id:
        return False
    field, parent = SCOPE_PARENT[entity]
    if fields.get(field) not in writable[parent]:
        # An action of the action set, where the master has it (a lead does not move it).
        placed = writable.placed.get(record_id) if entity == "action" else None
        if placed is None or fields.get(field) != placed:
            return False
    # Every other reference into the scoped tables stays inside the scope too: a link
    # from the lead's own action to another theme's measure is outside it.
    for column, target in _scoped_references(entity):
        value = fields.get(column)
        if column != field and value is not None and value not in writable[target]:
            return False
    return True


def _scoped_references(entity: str) -> list[tuple[str, str]]:
    """(column, entity) of each reference from ``entity`` to a table a lead may change."""
    cls = record_classes()[entity]
    out: list[tuple[str, str]] = []
    for column in cls.__table__.columns:
        for fk in column.foreign_keys:
            target = fk.column.table.name
            if target in WRITABLE:
                out.append((column.key, target))
    return out


def _all(session: Session, cls: type[Record], query: Select[Any]) -> list[Record]:
    return list(session.scalars(select(cls).where(cls.id.in_(query)).order_by(cls.created_at)))


def snapshot_records(
    session: Session, scope: LeadScope, person_id: uuid.UUID | None
) -> list[Record]:
    """Every record that travels to a lead with ``scope``, parents first.

    Scoped records come with their tombstones, and so do the areas and priorities the
    scoped actions sit under (a deleted area's actions are deleted with it); other
    context records only live ones.
    """
    plan = session.get(Plan, scope.plan_id)
    if plan is None:
        return []
    queries = _writable_queries(scope)
    candidates: dict[str, list[Record]] = {
        entity: _all(session, record_classes()[entity], query) for entity, query in queries.items()
    }
    # Where the scoped actions sit: their areas and those areas' priorities, read-only.
    areas = select(Action.priority_area_id).where(Action.id.in_(queries["action"]))
    priorities = select(PriorityArea.priority_id).where(PriorityArea.id.in_(areas))
    for entity, query in (("priority_area", areas), ("priority", priorities)):
        have = {r.id for r in candidates[entity]}
        cls = record_classes()[entity]
        candidates[entity] += [r for r in _all(session, cls, query) if r.id not in have]
    # The measures the scoped actions link to, when their priority travels: the link
    # needs its measure. Plan-wide measures (no priority) never travel.
    travelling = {r.id for r in candidates["priority"]}
    linked = select(ActionMeasure.measure_id).where(
        ActionMeasure.id.in_(queries["action_measure"]), ActionMeasure.deleted_at.is_(None)
    )
    have = {r.id for r in candidates["measure"]}
    candidates["measure"] += [
        m
        for m in session.scalars(
            select(Measure)
            .where(
                Measure.id.in_(linked),
                Measure.plan_id == scope.plan_id,
                Measure.priority_id.in_(list(travelling)),
                Measure.deleted_at.is_(None),
            )
            .order_by(Measure.created_at)
        )
        if m.id not in have
    ]
    person_ids: set[uuid.UUID] = {person_id} if person_id else set()
    for records in candidates.values():
        for record in records:
            for key in _PEOPLE:
                value = getattr(record, key, None)
                if value is not None:
                    person_ids.add(value)
    partnership_id = plan.partnership_id
    frameworks = select(OutcomeFramework.id).where(
        OutcomeFramework.partnership_id == partnership_id
    )
    context: dict[str, Select[Any]] = {
        "partnership": select(Partnership).where(Partnership.id == partnership_id),
        "plan": select(Plan).where(Plan.id == scope.plan_id),
        "organisation": select(Organisation).where(Organisation.partnership_id == partnership_id),
        "person": select(Person).where(Person.id.in_(person_ids)),
        "outcome_framework": select(OutcomeFramework).where(OutcomeFramework.id.in_(frameworks)),
        "outcome": select(Outcome).where(Outcome.framework_id.in_(frameworks)),
        "plan_framework": select(PlanFramework).where(PlanFramework.plan_id == scope.plan_id),
    }
    for entity, query in context.items():
        cls = record_classes()[entity]
        candidates[entity] = list(
            session.scalars(query.where(cls.deleted_at.is_(None)).order_by(cls.created_at))
        )
    travelled: set[uuid.UUID] = set()
    out: list[Record] = []
    for entity in sorted(candidates, key=lambda e: TABLE_RANK[e]):
        own = {r.id for r in candidates[entity]}
        for record in candidates[entity]:
            if all(
                value is None or value in travelled or value in own
                for value in (
                    getattr(record, c.key) for c in type(record).__table__.columns if c.foreign_keys
                )
            ):
                travelled.add(record.id)
                out.append(record)
    return out
