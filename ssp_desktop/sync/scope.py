"""A lead's scope: which records a lead copy holds, and which it may change.

A lead is given *themes*: priorities of one plan. Their scope (records the lead may
change, tombstones included) is, precisely:

=================== =====================================================
priority            the theme itself (its fields; no new priorities)
priority_area       areas for action under a theme
action              actions under those areas (and of the same plan)
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
frameworks and outcomes, the plan's framework links, and the people the scoped
records name (leads, authors, owners) plus the lead. Nothing else ever travels to a
lead: other themes, plan-wide measures (no priority), funding, board packs, other
plans. A record travels only when everything it refers to travels too (an action's
link to a measure of another theme stays behind).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, select
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


def _writable_queries(plan_id: uuid.UUID, themes: Iterable[uuid.UUID]) -> dict[str, Select[Any]]:
    themes = list(themes)
    q: dict[str, Select[Any]] = {}
    q["priority"] = select(Priority.id).where(Priority.plan_id == plan_id, Priority.id.in_(themes))
    q["priority_area"] = select(PriorityArea.id).where(PriorityArea.priority_id.in_(q["priority"]))
    q["action"] = select(Action.id).where(
        Action.plan_id == plan_id, Action.priority_area_id.in_(q["priority_area"])
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


def writable_ids(
    session: Session, plan_id: uuid.UUID, themes: Iterable[uuid.UUID]
) -> dict[str, set[uuid.UUID]]:
    """Ids of every record (tombstones too) a lead with ``themes`` may change."""
    return {
        entity: set(session.scalars(query))
        for entity, query in _writable_queries(plan_id, themes).items()
    }


def in_scope(
    entity: str,
    record_id: uuid.UUID,
    fields: Mapping[str, Any],
    plan_id: uuid.UUID,
    writable: Mapping[str, set[uuid.UUID]],
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


def snapshot_records(
    session: Session,
    plan_id: uuid.UUID,
    themes: Iterable[uuid.UUID],
    person_id: uuid.UUID | None,
) -> list[Record]:
    """Every record that travels to a lead with ``themes``, parents first.

    Scoped records come with their tombstones; context records only live ones.
    """
    themes = list(themes)
    plan = session.get(Plan, plan_id)
    if plan is None:
        return []
    candidates: dict[str, list[Record]] = {}
    for entity, query in _writable_queries(plan_id, themes).items():
        cls = record_classes()[entity]
        candidates[entity] = list(
            session.scalars(select(cls).where(cls.id.in_(query)).order_by(cls.created_at))
        )
    person_ids: set[uuid.UUID] = {person_id} if person_id else set()
    for records in candidates.values():
        for record in records:
            for key in ("lead_person_id", "author_person_id", "owner_person_id"):
                value = getattr(record, key, None)
                if value is not None:
                    person_ids.add(value)
    partnership_id = plan.partnership_id
    frameworks = select(OutcomeFramework.id).where(
        OutcomeFramework.partnership_id == partnership_id
    )
    context: dict[str, Select[Any]] = {
        "partnership": select(Partnership).where(Partnership.id == partnership_id),
        "plan": select(Plan).where(Plan.id == plan_id),
        "organisation": select(Organisation).where(Organisation.partnership_id == partnership_id),
        "person": select(Person).where(Person.id.in_(person_ids)),
        "outcome_framework": select(OutcomeFramework).where(OutcomeFramework.id.in_(frameworks)),
        "outcome": select(Outcome).where(Outcome.framework_id.in_(frameworks)),
        "plan_framework": select(PlanFramework).where(PlanFramework.plan_id == plan_id),
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
