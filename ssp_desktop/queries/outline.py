"""The plan as a tree of labelled nodes, for the navigator (Qt-free).

One query per kind of record, whatever the plan's size, so the navigator opens as
fast on a 5,000-action plan as on the sample.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

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

    priorities = plan_node.add(Node("Priorities"))
    priority_rows = session.scalars(
        select(Priority)
        .where(Priority.plan_id == plan_id, Priority.deleted_at.is_(None))
        .order_by(Priority.position, Priority.code)
    ).all()
    areas_by_priority: dict[uuid.UUID, list[PriorityArea]] = {}
    for area in session.scalars(
        select(PriorityArea)
        .join(Priority, Priority.id == PriorityArea.priority_id)
        .where(Priority.plan_id == plan_id, PriorityArea.deleted_at.is_(None))
        .order_by(PriorityArea.position, PriorityArea.title)
    ):
        areas_by_priority.setdefault(area.priority_id, []).append(area)
    actions_by_area: dict[uuid.UUID, list[Action]] = {}
    for action in session.scalars(
        select(Action)
        .where(Action.plan_id == plan_id, Action.deleted_at.is_(None))
        .order_by(Action.ref)
    ):
        actions_by_area.setdefault(action.priority_area_id, []).append(action)
    for priority in priority_rows:
        p_node = priorities.add(Node(f"{priority.code} {priority.title}", "priority", priority.id))
        for area in areas_by_priority.get(priority.id, []):
            a_node = p_node.add(Node(area.title, "priority_area", area.id))
            for action in actions_by_area.get(area.id, []):
                a_node.add(Node(f"{action.ref} {action.title}", "action", action.id))

    measures = plan_node.add(Node("Measures"))
    for measure in session.scalars(
        select(Measure)
        .where(Measure.plan_id == plan_id, Measure.deleted_at.is_(None))
        .order_by(Measure.position, Measure.ref)
    ):
        measures.add(Node(f"{measure.ref} {measure.name}", "measure", measure.id))

    partnership_id = plan.partnership_id
    funding = plan_node.add(Node("Funding"))
    awards_by_stream: dict[uuid.UUID, list[FundingAward]] = {}
    for award in session.scalars(
        select(FundingAward)
        .join(FundingStream, FundingStream.id == FundingAward.stream_id)
        .where(FundingStream.partnership_id == partnership_id, FundingAward.deleted_at.is_(None))
        .order_by(FundingAward.year.desc(), FundingAward.project)
    ):
        awards_by_stream.setdefault(award.stream_id, []).append(award)
    for stream in session.scalars(
        select(FundingStream)
        .where(FundingStream.partnership_id == partnership_id, FundingStream.deleted_at.is_(None))
        .order_by(FundingStream.name)
    ):
        s_node = funding.add(Node(stream.name, "funding_stream", stream.id))
        for award in awards_by_stream.get(stream.id, []):
            s_node.add(Node(f"{award.year} {award.project}", "funding_award", award.id))

    frameworks = plan_node.add(Node("Outcomes"))
    outcomes_by_framework: dict[uuid.UUID, list[Outcome]] = {}
    for outcome in session.scalars(
        select(Outcome)
        .join(OutcomeFramework, OutcomeFramework.id == Outcome.framework_id)
        .where(OutcomeFramework.partnership_id == partnership_id, Outcome.deleted_at.is_(None))
        .order_by(Outcome.position, Outcome.code)
    ):
        outcomes_by_framework.setdefault(outcome.framework_id, []).append(outcome)
    for framework in session.scalars(
        select(OutcomeFramework)
        .where(
            OutcomeFramework.partnership_id == partnership_id,
            OutcomeFramework.deleted_at.is_(None),
        )
        .order_by(OutcomeFramework.name)
    ):
        f_node = frameworks.add(
            Node(framework.short_name or framework.name, "outcome_framework", framework.id)
        )
        for outcome in outcomes_by_framework.get(framework.id, []):
            f_node.add(Node(f"{outcome.code} {outcome.title}", "outcome", outcome.id))

    partners = plan_node.add(Node("Partners and people"))
    orgs = partners.add(Node("Organisations"))
    for org in session.scalars(
        select(Organisation)
        .where(Organisation.partnership_id == partnership_id, Organisation.deleted_at.is_(None))
        .order_by(Organisation.name)
    ):
        label = f"{org.name} (responsible authority)" if org.responsible_authority else org.name
        orgs.add(Node(label, "organisation", org.id))
    people = partners.add(Node("People"))
    for person in session.scalars(
        select(Person)
        .where(Person.partnership_id == partnership_id, Person.deleted_at.is_(None))
        .order_by(Person.name)
    ):
        people.add(Node(person.name, "person", person.id))
    return root
