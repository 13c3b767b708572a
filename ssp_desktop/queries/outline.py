"""The plan as a tree of labelled nodes, for the navigator (Qt-free).

One query per kind of record, whatever the plan's size, so the navigator opens as
fast on a 5,000-action plan as on the sample; each reads only the columns its labels
need, without loading records.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from ssp_desktop.domain.base import Record
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


def _cols(record: type[Record]) -> ReadOnlyColumnCollection[str, Any]:
    """The columns of ``record``'s table, for a select that loads no records."""
    return record.__table__.c


@dataclass
class Node:
    """A navigator entry: a record (entity + id) or a heading (entity "" and no id)."""

    label: str
    entity: str = ""
    record_id: uuid.UUID | None = None
    children: list[Node] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False, compare=False)

    def add(self, child: Node) -> Node:
        child.parent = self
        self.children.append(child)
        return child


def plan_tree(session: Session, plan_id: uuid.UUID) -> Node:
    """The navigator's tree for one plan: priorities, measures, funding, outcomes, partners."""
    plan = session.get(Plan, plan_id)
    if plan is None or plan.deleted_at is not None:
        return Node("No plan")
    root = Node("root")
    plan_node = root.add(Node(f"{plan.title} ({plan.period_label})", "plan", plan.id))
    # Only the columns each label needs, as plain (Core) selects of the tables: the
    # navigator is the first thing the window shows, and loading whole records (ten
    # ORM statements, each compiled on first use) was most of the time it took.
    priority, area, action = _cols(Priority), _cols(PriorityArea), _cols(Action)

    priorities = plan_node.add(Node("Priorities"))
    priority_rows = session.execute(
        select(priority.id, priority.code, priority.title)
        .where(priority.plan_id == plan_id, priority.deleted_at.is_(None))
        .order_by(priority.position, priority.code)
    ).all()
    areas_by_priority: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    for area_id, priority_id, title in session.execute(
        select(area.id, area.priority_id, area.title)
        .join(Priority.__table__, priority.id == area.priority_id)
        .where(priority.plan_id == plan_id, area.deleted_at.is_(None))
        .order_by(area.position, area.title)
    ):
        areas_by_priority.setdefault(priority_id, []).append((area_id, title))
    actions_by_area: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    for action_id, area_id, ref, title in session.execute(
        select(action.id, action.priority_area_id, action.ref, action.title)
        .where(action.plan_id == plan_id, action.deleted_at.is_(None))
        .order_by(action.ref)
    ):
        actions_by_area.setdefault(area_id, []).append((action_id, f"{ref} {title}"))
    for priority_id, code, title in priority_rows:
        p_node = priorities.add(Node(f"{code} {title}", "priority", priority_id))
        for area_id, area_title in areas_by_priority.get(priority_id, []):
            a_node = p_node.add(Node(area_title, "priority_area", area_id))
            for action_id, label in actions_by_area.get(area_id, []):
                a_node.add(Node(label, "action", action_id))

    measures = plan_node.add(Node("Measures"))
    measure = _cols(Measure)
    for measure_id, ref, name in session.execute(
        select(measure.id, measure.ref, measure.name)
        .where(measure.plan_id == plan_id, measure.deleted_at.is_(None))
        .order_by(measure.position, measure.ref)
    ):
        measures.add(Node(f"{ref} {name}", "measure", measure_id))

    partnership_id = plan.partnership_id
    funding = plan_node.add(Node("Funding"))
    award, stream = _cols(FundingAward), _cols(FundingStream)
    awards_by_stream: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    for award_id, stream_id, year, project in session.execute(
        select(award.id, award.stream_id, award.year, award.project)
        .join(FundingStream.__table__, stream.id == award.stream_id)
        .where(stream.partnership_id == partnership_id, award.deleted_at.is_(None))
        .order_by(award.year.desc(), award.project)
    ):
        awards_by_stream.setdefault(stream_id, []).append((award_id, f"{year} {project}"))
    for stream_id, name in session.execute(
        select(stream.id, stream.name)
        .where(stream.partnership_id == partnership_id, stream.deleted_at.is_(None))
        .order_by(stream.name)
    ):
        s_node = funding.add(Node(name, "funding_stream", stream_id))
        for award_id, label in awards_by_stream.get(stream_id, []):
            s_node.add(Node(label, "funding_award", award_id))

    frameworks = plan_node.add(Node("Outcomes"))
    outcome, framework = _cols(Outcome), _cols(OutcomeFramework)
    outcomes_by_framework: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {}
    for outcome_id, framework_id, code, title in session.execute(
        select(outcome.id, outcome.framework_id, outcome.code, outcome.title)
        .join(OutcomeFramework.__table__, framework.id == outcome.framework_id)
        .where(framework.partnership_id == partnership_id, outcome.deleted_at.is_(None))
        .order_by(outcome.position, outcome.code)
    ):
        outcomes_by_framework.setdefault(framework_id, []).append((outcome_id, f"{code} {title}"))
    for framework_id, short_name, name in session.execute(
        select(framework.id, framework.short_name, framework.name)
        .where(framework.partnership_id == partnership_id, framework.deleted_at.is_(None))
        .order_by(framework.name)
    ):
        f_node = frameworks.add(Node(short_name or name, "outcome_framework", framework_id))
        for outcome_id, label in outcomes_by_framework.get(framework_id, []):
            f_node.add(Node(label, "outcome", outcome_id))

    partners = plan_node.add(Node("Partners and people"))
    orgs = partners.add(Node("Organisations"))
    org = _cols(Organisation)
    for org_id, name, responsible in session.execute(
        select(org.id, org.name, org.responsible_authority)
        .where(org.partnership_id == partnership_id, org.deleted_at.is_(None))
        .order_by(org.name)
    ):
        label = f"{name} (responsible authority)" if responsible else name
        orgs.add(Node(label, "organisation", org_id))
    people = partners.add(Node("People"))
    person = _cols(Person)
    for person_id, name in session.execute(
        select(person.id, person.name)
        .where(person.partnership_id == partnership_id, person.deleted_at.is_(None))
        .order_by(person.name)
    ):
        people.add(Node(name, "person", person_id))
    return root
